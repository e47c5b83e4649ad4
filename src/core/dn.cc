#include "core/dn.h"

#include <fmt/format.h>

#include "core/strings.h"

namespace cm {

std::string EscapeDnValue(std::string_view value) {
  std::string out;
  out.reserve(value.size() + 8);
  for (size_t i = 0; i < value.size(); ++i) {
    char c = value[i];
    bool first = i == 0, last = i + 1 == value.size();
    if (c == '\0') {
      out += "\\00";
    } else if (c == ',' || c == '+' || c == '"' || c == '\\' || c == '<' || c == '>' || c == ';' ||
               c == '=' || (first && (c == '#' || c == ' ')) || (last && c == ' ')) {
      out += '\\';
      out += c;
    } else {
      out += c;
    }
  }
  return out;
}

std::string MakeRdn(std::string_view type, std::string_view value) {
  return fmt::format("{}={}", type, EscapeDnValue(value));
}

std::string MakeDn(std::string_view type, std::string_view value, std::string_view parent) {
  std::string rdn = MakeRdn(type, value);
  if (parent.empty()) return rdn;
  return rdn + "," + std::string(parent);
}

namespace {
int HexVal(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

Result<std::vector<Rdn>> ParseDn(std::string_view dn) {
  std::vector<Rdn> rdns;
  if (Trim(dn).empty()) return rdns;
  size_t i = 0;
  const size_t n = dn.size();
  auto skip_spaces = [&] {
    while (i < n && dn[i] == ' ') ++i;
  };
  Rdn current;
  while (true) {
    skip_spaces();
    size_t t0 = i;
    while (i < n && dn[i] != '=' && dn[i] != ',' && dn[i] != '+') ++i;
    if (i >= n || dn[i] != '=') {
      return Status::InvalidInput(
          fmt::format("malformed DN '{}': expected '=' after attribute type", dn));
    }
    std::string type(Trim(dn.substr(t0, i - t0)));
    if (type.empty())
      return Status::InvalidInput(fmt::format("malformed DN '{}': empty attribute type", dn));
    for (char c : type) {
      if (!(isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == ';')) {
        return Status::InvalidInput(
            fmt::format("malformed DN '{}': bad attribute type '{}'", dn, type));
      }
    }
    ++i;  // '='
    skip_spaces();
    std::string value;
    size_t trailing_unescaped_spaces = 0;
    if (i < n && dn[i] == '#') {  // BER-encoded value: keep verbatim
      size_t v0 = i;
      while (i < n && dn[i] != ',' && dn[i] != '+') ++i;
      value = std::string(Trim(dn.substr(v0, i - v0)));
    } else if (i < n && dn[i] == '"') {  // RFC 2253 quoted value, accepted for reading
      ++i;
      while (i < n && dn[i] != '"') {
        if (dn[i] == '\\' && i + 1 < n) ++i;
        value += dn[i++];
      }
      if (i >= n)
        return Status::InvalidInput(fmt::format("malformed DN '{}': unterminated quote", dn));
      ++i;
      skip_spaces();
    } else {
      while (i < n && dn[i] != ',' && dn[i] != '+' && dn[i] != ';') {
        char c = dn[i];
        if (c == '\\') {
          if (i + 1 >= n)
            return Status::InvalidInput(fmt::format("malformed DN '{}': trailing backslash", dn));
          int h1 = HexVal(dn[i + 1]);
          int h2 = i + 2 < n ? HexVal(dn[i + 2]) : -1;
          if (h1 >= 0 && h2 >= 0) {
            value += static_cast<char>(h1 * 16 + h2);
            i += 3;
          } else {
            value += dn[i + 1];
            i += 2;
          }
          trailing_unescaped_spaces = 0;
        } else {
          value += c;
          trailing_unescaped_spaces = c == ' ' ? trailing_unescaped_spaces + 1 : 0;
          ++i;
        }
      }
      value.resize(value.size() - trailing_unescaped_spaces);
    }
    current.push_back({std::move(type), std::move(value)});
    if (i >= n) break;
    char sep = dn[i++];
    if (sep == '+') continue;
    rdns.push_back(std::move(current));
    current.clear();
  }
  rdns.push_back(std::move(current));
  return rdns;
}

namespace {
std::string FormatRdns(const std::vector<Rdn>& rdns, size_t from, bool lower) {
  std::string out;
  for (size_t r = from; r < rdns.size(); ++r) {
    if (r > from) out += ',';
    for (size_t a = 0; a < rdns[r].size(); ++a) {
      if (a) out += '+';
      const Ava& ava = rdns[r][a];
      out += lower ? AsciiLower(ava.type) : ava.type;
      out += '=';
      out += ava.value.starts_with('#') ? ava.value
                                        : EscapeDnValue(lower ? AsciiLower(ava.value) : ava.value);
    }
  }
  return out;
}
}  // namespace

std::string NormalizeDn(std::string_view dn) {
  auto parsed = ParseDn(dn);
  if (!parsed.ok()) return AsciiLower(dn);
  return FormatRdns(*parsed, 0, true);
}

bool DnEquals(std::string_view a, std::string_view b) { return NormalizeDn(a) == NormalizeDn(b); }

bool DnIsUnder(std::string_view dn, std::string_view base) {
  std::string d = NormalizeDn(dn), b = NormalizeDn(base);
  if (b.empty()) return true;
  if (d == b) return true;
  return d.size() > b.size() && d.ends_with(b) && d[d.size() - b.size() - 1] == ',';
}

std::string ParentDn(std::string_view dn) {
  auto parsed = ParseDn(dn);
  if (!parsed.ok() || parsed->size() <= 1) return "";
  return FormatRdns(*parsed, 1, false);
}

Result<Ava> LeadingAva(std::string_view dn) {
  auto parsed = ParseDn(dn);
  if (!parsed.ok()) return parsed.status();
  if (parsed->empty()) return Status::InvalidInput("empty DN");
  return parsed->front().front();
}

namespace {

// The canonical name's parts of a parsed DN: domain, then containers from the top, then the name.
std::vector<std::string> CanonicalParts(const std::vector<Rdn>& rdns) {
  std::vector<std::string> domain, path;
  for (const Rdn& rdn : rdns) {
    if (IEquals(rdn.front().type, "dc")) {
      domain.push_back(rdn.front().value);
    } else {
      path.insert(path.begin(), rdn.front().value);
    }
  }
  std::vector<std::string> parts = {Join(domain, ".")};
  parts.insert(parts.end(), path.begin(), path.end());
  return parts;
}

bool IsDnsName(std::string_view s) {
  if (s.empty() || s.front() == '.' || s.back() == '.' || s.front() == '-') return false;
  for (char c : s) {
    if (!isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.') return false;
  }
  return true;
}

}  // namespace

std::string CanonicalName(std::string_view dn) {
  auto parsed = ParseDn(dn);
  if (!parsed.ok()) return std::string(dn);
  std::vector<std::string> parts = CanonicalParts(*parsed);
  std::string out = parts.front();
  for (size_t i = 1; i < parts.size(); ++i) {
    out += '/';
    for (char c : parts[i]) {
      if (c == '/') out += '\\';
      out += c;
    }
  }
  return out;
}

Result<std::vector<std::string>> ParseCanonicalName(std::string_view text) {
  std::vector<std::string> parts(1);
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 1 < text.size() && text[i + 1] == '/' && parts.size() > 1) {
      parts.back() += '/';
      ++i;
    } else if (text[i] == '/') {
      parts.emplace_back();
    } else {
      parts.back() += text[i];
    }
  }
  if (parts.size() < 2 || !IsDnsName(parts.front()) || parts.front().find('.') == std::string::npos)
    return Status::InvalidInput(fmt::format("'{}' is not a canonical name", text));
  for (size_t i = 1; i < parts.size(); ++i) {
    if (parts[i].empty())
      return Status::InvalidInput(
          fmt::format("'{}' is not a canonical name: part {} is empty", text, i + 1));
  }
  return parts;
}

bool CanonicalNameIs(std::string_view dn, const std::vector<std::string>& parts) {
  auto parsed = ParseDn(dn);
  if (!parsed.ok()) return false;
  std::vector<std::string> mine = CanonicalParts(*parsed);
  if (mine.size() != parts.size()) return false;
  for (size_t i = 0; i < mine.size(); ++i) {
    if (!TextEquals(mine[i], parts[i])) return false;
  }
  return true;
}

}  // namespace cm
