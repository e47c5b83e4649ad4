#include "input/text_decoding.h"

#include <fmt/format.h>

#include "core/strings.h"

namespace cm {

namespace {

Result<std::string> FromUtf16(std::string_view bytes, bool little_endian, std::string_view file) {
  if (bytes.size() % 2 != 0) {
    return Status::InvalidInput(
        fmt::format("{}: UTF-16 file has an odd number of bytes (truncated?)", file));
  }
  std::string out;
  out.reserve(bytes.size() / 2);
  unsigned long line = 1;
  auto unit = [&](size_t i) -> char16_t {
    auto a = static_cast<unsigned char>(bytes[i]), b = static_cast<unsigned char>(bytes[i + 1]);
    return static_cast<char16_t>(little_endian ? (a | (b << 8)) : ((a << 8) | b));
  };
  for (size_t i = 0; i < bytes.size(); i += 2) {
    char32_t cp = unit(i);
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      if (i + 2 >= bytes.size() || unit(i + 2) < 0xDC00 || unit(i + 2) > 0xDFFF) {
        return Status::InvalidInput(
            fmt::format("{}:{}: not valid UTF-16 (unpaired surrogate)", file, line));
      }
      cp = 0x10000 + ((cp - 0xD800) << 10) + (unit(i + 2) - 0xDC00);
      i += 2;
    } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
      return Status::InvalidInput(
          fmt::format("{}:{}: not valid UTF-16 (unpaired surrogate)", file, line));
    }
    if (cp == '\n') ++line;
    AppendUtf8(out, cp);
  }
  return out;
}

}  // namespace

Result<DecodedText> DecodeText(std::string_view bytes, std::string_view file) {
  if (bytes.starts_with("\xEF\xBB\xBF")) {
    bytes.remove_prefix(3);
    if (!IsValidUtf8(bytes)) {
      // fall through to the line-finding error below
    } else {
      return DecodedText{std::string(bytes), TextEncoding::kUtf8Bom};
    }
  } else if (bytes.starts_with("\xFF\xFE")) {
    auto text = FromUtf16(bytes.substr(2), true, file);
    if (!text.ok()) return text.status();
    return DecodedText{std::move(*text), TextEncoding::kUtf16Le};
  } else if (bytes.starts_with("\xFE\xFF")) {
    auto text = FromUtf16(bytes.substr(2), false, file);
    if (!text.ok()) return text.status();
    return DecodedText{std::move(*text), TextEncoding::kUtf16Be};
  } else if (IsValidUtf8(bytes)) {
    if (bytes.size() >= 2 && (bytes[0] == '\0' || bytes[1] == '\0')) {
      return Status::InvalidInput(
          fmt::format("{}: looks like UTF-16 without a byte-order mark; save it as UTF-8 or as "
                      "UTF-16 with a BOM",
                      file));
    }
    return DecodedText{std::string(bytes), TextEncoding::kUtf8};
  }
  // Not valid UTF-8: name the first bad line so the administrator can find it.
  unsigned long line = 1;
  size_t line_start = 0;
  for (size_t i = 0; i <= bytes.size(); ++i) {
    if (i == bytes.size() || bytes[i] == '\n') {
      if (!IsValidUtf8(bytes.substr(line_start, i - line_start))) break;
      ++line;
      line_start = i + 1;
    }
  }
  return Status::InvalidInput(
      fmt::format("{}:{}: not valid UTF-8 (a Windows-1252/ANSI export?); export with -Encoding "
                  "UTF8 or -Encoding Unicode",
                  file, line));
}

}  // namespace cm
