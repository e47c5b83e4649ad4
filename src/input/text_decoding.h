// Turns the bytes of a text file into UTF-8, the way files reach us from Windows: UTF-8 with or
// without a BOM, or UTF-16 with a BOM (PowerShell's `-Encoding Unicode`). Anything else that
// is not valid UTF-8 (a Windows-1252 export, a binary file) is refused with the line it fails on.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace cm {

enum class TextEncoding { kUtf8, kUtf8Bom, kUtf16Le, kUtf16Be };

struct DecodedText {
  std::string utf8;
  TextEncoding encoding;
};

Result<DecodedText> DecodeText(std::string_view bytes, std::string_view file_name);

}  // namespace cm
