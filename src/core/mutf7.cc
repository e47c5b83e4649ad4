#include "core/mutf7.h"

#include <fmt/format.h>

#include <vector>

#include "core/strings.h"

namespace cm {

namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

int Sextet(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == ',') return 63;
  return -1;
}

void FlushShift(std::string& out, std::vector<char16_t>& units) {
  if (units.empty()) return;
  out += '&';
  uint32_t bits = 0;
  int nbits = 0;
  for (char16_t u : units) {
    bits = (bits << 16) | u;
    nbits += 16;
    while (nbits >= 6) {
      nbits -= 6;
      out += kAlphabet[(bits >> nbits) & 0x3F];
    }
  }
  if (nbits > 0) out += kAlphabet[(bits << (6 - nbits)) & 0x3F];
  out += '-';
  units.clear();
}

}  // namespace

Result<std::string> EncodeMutf7(std::string_view utf8) {
  if (!IsValidUtf8(utf8)) return Status::InvalidInput("folder name is not valid UTF-8");
  std::string out;
  std::vector<char16_t> units;
  for (size_t i = 0; i < utf8.size();) {
    auto b = static_cast<unsigned char>(utf8[i]);
    if (b >= 0x20 && b <= 0x7e) {
      FlushShift(out, units);
      out += b == '&' ? "&-" : std::string(1, static_cast<char>(b));
      ++i;
      continue;
    }
    size_t len = b < 0x80 ? 1 : (b & 0xE0) == 0xC0 ? 2 : (b & 0xF0) == 0xE0 ? 3 : 4;
    char32_t cp = len == 1 ? b : len == 2 ? b & 0x1F : len == 3 ? b & 0x0F : b & 0x07;
    for (size_t k = 1; k < len; ++k) cp = (cp << 6) | (utf8[i + k] & 0x3F);
    i += len;
    if (cp >= 0x10000) {
      cp -= 0x10000;
      units.push_back(static_cast<char16_t>(0xD800 + (cp >> 10)));
      units.push_back(static_cast<char16_t>(0xDC00 + (cp & 0x3FF)));
    } else {
      units.push_back(static_cast<char16_t>(cp));
    }
  }
  FlushShift(out, units);
  return out;
}

Result<std::string> DecodeMutf7(std::string_view s) {
  std::string out;
  bool previous_was_shift = false;
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c > 0x7e) {
      return Status::InvalidInput(
          fmt::format("'{}' is not modified UTF-7: byte 0x{:02x} must be encoded", s, c));
    }
    if (c != '&') {
      out += static_cast<char>(c);
      ++i;
      previous_was_shift = false;
      continue;
    }
    size_t end = s.find('-', i + 1);
    if (end == std::string_view::npos)
      return Status::InvalidInput(fmt::format("'{}': unterminated '&' shift", s));
    if (end == i + 1) {
      out += '&';
      i = end + 1;
      previous_was_shift = false;
      continue;
    }
    if (previous_was_shift)
      return Status::InvalidInput(fmt::format("'{}': two encoded runs in a row", s));
    uint32_t bits = 0;
    int nbits = 0;
    std::vector<char16_t> units;
    for (size_t k = i + 1; k < end; ++k) {
      int v = Sextet(s[k]);
      if (v < 0)
        return Status::InvalidInput(fmt::format("'{}': '{}' is not modified base64", s, s[k]));
      bits = (bits << 6) | static_cast<uint32_t>(v);
      nbits += 6;
      if (nbits >= 16) {
        nbits -= 16;
        units.push_back(static_cast<char16_t>((bits >> nbits) & 0xFFFF));
      }
    }
    if (nbits >= 6 || (bits & ((1u << nbits) - 1)) != 0) {
      return Status::InvalidInput(fmt::format("'{}': bad padding in an encoded run", s));
    }
    for (size_t k = 0; k < units.size(); ++k) {
      char32_t u = units[k];
      if (u >= 0x20 && u <= 0x7e) {
        return Status::InvalidInput(fmt::format("'{}': printable ASCII must not be encoded", s));
      }
      if (u >= 0xD800 && u <= 0xDBFF) {
        if (k + 1 >= units.size() || units[k + 1] < 0xDC00 || units[k + 1] > 0xDFFF) {
          return Status::InvalidInput(fmt::format("'{}': unpaired surrogate", s));
        }
        u = 0x10000 + ((u - 0xD800) << 10) + (units[k + 1] - 0xDC00);
        ++k;
      } else if (u >= 0xDC00 && u <= 0xDFFF) {
        return Status::InvalidInput(fmt::format("'{}': unpaired surrogate", s));
      }
      AppendUtf8(out, u);
    }
    i = end + 1;
    previous_was_shift = true;
  }
  return out;
}

}  // namespace cm
