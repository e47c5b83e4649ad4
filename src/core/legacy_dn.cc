#include "core/legacy_dn.h"

#include <fmt/format.h>

#include "core/strings.h"

namespace cm {

std::string BuildLegacyExchangeDn(std::string_view org, std::string_view alias) {
  return fmt::format("/o={}/ou={}/cn=Recipients/cn={}", org, kAdminGroup, alias);
}

std::string UniqueName(std::string_view base, size_t max_chars,
                       const std::function<bool(std::string_view)>& taken) {
  std::string first = Utf8Prefix(base, max_chars);
  if (!taken(first)) return first;
  for (unsigned n = 1;; ++n) {
    std::string suffix = std::to_string(n);
    std::string candidate =
        Utf8Prefix(base, max_chars > suffix.size() ? max_chars - suffix.size() : 0) + suffix;
    if (!taken(candidate)) return candidate;
  }
}

namespace {
int Hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

Result<std::string> DecodeImceaex(std::string_view address) {
  if (!IStartsWith(address, "IMCEAEX-")) {
    return Status::InvalidInput(fmt::format("'{}' is not an IMCEAEX address", address));
  }
  std::string_view body = address.substr(8);
  size_t at = body.rfind('@');
  if (at != std::string_view::npos) body = body.substr(0, at);
  std::string out;
  for (size_t i = 0; i < body.size(); ++i) {
    char c = body[i];
    if (c == '_') {
      out += '/';
    } else if (c == '+') {
      if (i + 2 >= body.size()) {
        return Status::InvalidInput(
            fmt::format("IMCEAEX address '{}': truncated '+' escape", address));
      }
      int h1 = Hex(body[i + 1]), h2 = Hex(body[i + 2]);
      if (h1 < 0 || h2 < 0)
        return Status::InvalidInput(fmt::format("IMCEAEX address '{}': bad '+' escape", address));
      out += static_cast<char>(h1 * 16 + h2);
      i += 2;
    } else {
      out += c;
    }
  }
  if (!out.starts_with('/')) {
    return Status::InvalidInput(
        fmt::format("IMCEAEX address '{}' does not encode a /o=... DN", address));
  }
  return out;
}

std::string EncodeImceaex(std::string_view legacy_dn, std::string_view domain) {
  std::string out = "IMCEAEX-";
  for (char c : legacy_dn) {
    auto u = static_cast<unsigned char>(c);
    if (c == '/') {
      out += '_';
    } else if (isalnum(u) && u < 0x80) {
      out += c;
    } else if (c == '=' || c == '-' || c == '.') {
      out += c;
    } else {
      out += fmt::format("+{:02X}", u);
    }
  }
  return out + "@" + std::string(domain);
}

}  // namespace cm
