#include "core/smtp.h"

#include <fmt/format.h>

#include <cstring>

#include "core/strings.h"

namespace cm {

namespace {

bool IsAtext(char c) {
  if (isalnum(static_cast<unsigned char>(c)) && static_cast<unsigned char>(c) < 0x80) return true;
  return c != '\0' && std::strchr("!#$%&'*+-/=?^_`{|}~", c) != nullptr;
}

Status ValidateDotAtom(std::string_view s, std::string_view what, std::string_view whole) {
  if (s.empty()) return Status::InvalidInput(fmt::format("{} '{}' is empty", what, whole));
  if (s.front() == '.' || s.back() == '.') {
    return Status::InvalidInput(fmt::format("{} '{}' starts or ends with a period", what, whole));
  }
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '.') {
      if (s[i + 1] == '.')
        return Status::InvalidInput(fmt::format("{} '{}' has two periods in a row", what, whole));
      continue;
    }
    if (!IsAtext(s[i])) {
      auto u = static_cast<unsigned char>(s[i]);
      // Show the whole character (a name's 'é'), not its first byte.
      size_t len = u >= 0xF0 ? 4 : u >= 0xE0 ? 3 : u >= 0xC0 ? 2 : 1;
      std::string shown =
          u < 0x20 || u == 0x7f ? fmt::format("\\x{:02x}", u) : std::string(s.substr(i, len));
      return Status::InvalidInput(fmt::format(
          "{} '{}' contains the character '{}', which is not allowed", what, whole, shown));
    }
  }
  return Status::Ok();
}

}  // namespace

Status ValidateDomain(std::string_view domain) {
  if (domain.empty()) return Status::InvalidInput("domain is empty");
  if (domain.size() > 255)
    return Status::InvalidInput(fmt::format("domain '{}' is longer than 255 characters", domain));
  auto labels = Split(domain, '.');
  if (labels.size() < 2)
    return Status::InvalidInput(fmt::format("domain '{}' needs at least two labels", domain));
  for (const auto& label : labels) {
    if (label.empty())
      return Status::InvalidInput(fmt::format("domain '{}' has an empty label", domain));
    if (label.size() > 63)
      return Status::InvalidInput(
          fmt::format("domain '{}' has a label longer than 63 characters", domain));
    if (label.front() == '-' || label.back() == '-') {
      return Status::InvalidInput(
          fmt::format("domain '{}': label '{}' starts or ends with '-'", domain, label));
    }
    for (char c : label) {
      if (!(isalnum(static_cast<unsigned char>(c)) && static_cast<unsigned char>(c) < 0x80) &&
          c != '-') {
        return Status::InvalidInput(
            fmt::format("domain '{}' contains '{}' (use the punycode form for IDNs)", domain, c));
      }
    }
  }
  return Status::Ok();
}

Status ValidateSmtpAddress(std::string_view address) {
  size_t at = address.rfind('@');
  if (at == std::string_view::npos)
    return Status::InvalidInput(fmt::format("address '{}' has no '@'", address));
  if (address.size() > 320)
    return Status::InvalidInput(fmt::format("address '{}' is longer than 320 characters", address));
  std::string_view local = address.substr(0, at);
  if (local.size() > 64)
    return Status::InvalidInput(
        fmt::format("address '{}': local part longer than 64 characters", address));
  CM_RETURN_IF_ERROR(ValidateDotAtom(local, "address", address));
  return ValidateDomain(address.substr(at + 1)).Annotate(fmt::format("address '{}'", address));
}

Status ValidateAlias(std::string_view alias) {
  if (alias.empty()) return Status::InvalidInput("alias is empty");
  if (Utf8Length(alias) > kMaxAliasLength) {
    return Status::InvalidInput(fmt::format("alias '{}' is {} characters long (at most {})", alias,
                                            Utf8Length(alias), kMaxAliasLength));
  }
  return ValidateDotAtom(alias, "alias", alias);
}

std::string DomainOf(std::string_view address) {
  size_t at = address.rfind('@');
  return at == std::string_view::npos ? std::string() : AsciiLower(address.substr(at + 1));
}

namespace {
// ASCII forms of the accented Latin letters that appear in names; others are dropped.
const char* Fold(char32_t cp) {
  static const struct {
    char32_t cp;
    const char* ascii;
  } kTable[] = {
      {U'à', "a"}, {U'á', "a"},  {U'â', "a"}, {U'ã', "a"}, {U'ä', "a"}, {U'å', "a"},  {U'æ', "ae"},
      {U'ç', "c"}, {U'è', "e"},  {U'é', "e"}, {U'ê', "e"}, {U'ë', "e"}, {U'ì', "i"},  {U'í', "i"},
      {U'î', "i"}, {U'ï', "i"},  {U'ñ', "n"}, {U'ò', "o"}, {U'ó', "o"}, {U'ô', "o"},  {U'õ', "o"},
      {U'ö', "o"}, {U'ø', "o"},  {U'ù', "u"}, {U'ú', "u"}, {U'û', "u"}, {U'ü', "u"},  {U'ý', "y"},
      {U'ÿ', "y"}, {U'ß', "ss"}, {U'À', "A"}, {U'Á', "A"}, {U'Â', "A"}, {U'Ã', "A"},  {U'Ä', "A"},
      {U'Å', "A"}, {U'Æ', "AE"}, {U'Ç', "C"}, {U'È', "E"}, {U'É', "E"}, {U'Ê', "E"},  {U'Ë', "E"},
      {U'Ì', "I"}, {U'Í', "I"},  {U'Î', "I"}, {U'Ï', "I"}, {U'Ñ', "N"}, {U'Ò', "O"},  {U'Ó', "O"},
      {U'Ô', "O"}, {U'Õ', "O"},  {U'Ö', "O"}, {U'Ø', "O"}, {U'Ù', "U"}, {U'Ú', "U"},  {U'Û', "U"},
      {U'Ü', "U"}, {U'Ý', "Y"},  {U'ł', "l"}, {U'Ł', "L"}, {U'ś', "s"}, {U'Ś', "S"},  {U'ż', "z"},
      {U'Ż', "Z"}, {U'ź', "z"},  {U'Ź', "Z"}, {U'ć', "c"}, {U'Ć', "C"}, {U'ń', "n"},  {U'Ń', "N"},
      {U'ę', "e"}, {U'Ę', "E"},  {U'ą', "a"}, {U'Ą', "A"}, {U'š', "s"}, {U'Š', "S"},  {U'ž', "z"},
      {U'Ž', "Z"}, {U'č', "c"},  {U'Č', "C"}, {U'ř', "r"}, {U'Ř', "R"}, {U'ě', "e"},  {U'Ě', "E"},
      {U'ő', "o"}, {U'Ő', "O"},  {U'ű', "u"}, {U'Ű', "U"}, {U'ğ', "g"}, {U'Ğ', "G"},  {U'ı', "i"},
      {U'İ', "I"}, {U'ş', "s"},  {U'Ş', "S"}, {U'đ', "d"}, {U'Đ', "D"}, {U'þ', "th"}, {U'Þ', "TH"},
  };
  for (const auto& e : kTable) {
    if (e.cp == cp) return e.ascii;
  }
  return "";
}
}  // namespace

std::string AliasCharactersOf(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size();) {
    auto b = static_cast<unsigned char>(text[i]);
    if (b < 0x80) {
      if (IsAtext(text[i]) || text[i] == '.') out += text[i];
      ++i;
      continue;
    }
    // Decode one multi-byte sequence (input is valid UTF-8 by this point).
    size_t len = (b & 0xE0) == 0xC0 ? 2 : (b & 0xF0) == 0xE0 ? 3 : (b & 0xF8) == 0xF0 ? 4 : 1;
    char32_t cp = len == 2 ? b & 0x1F : len == 3 ? b & 0x0F : b & 0x07;
    for (size_t k = 1; k < len && i + k < text.size(); ++k) cp = (cp << 6) | (text[i + k] & 0x3F);
    out += Fold(cp);
    i += len;
  }
  return CollapsePeriods(out);
}

std::string CollapsePeriods(std::string_view text) {
  std::string cleaned;
  for (char c : text) {
    if (c == '.' && (cleaned.empty() || cleaned.back() == '.')) continue;
    cleaned += c;
  }
  while (!cleaned.empty() && cleaned.back() == '.') cleaned.pop_back();
  return cleaned;
}

}  // namespace cm
