// Whole-file reads and crash-safe whole-file writes, shared by every layer that touches files.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace cm {

// kNotFound when the file does not exist, kIOError otherwise.
Result<std::string> ReadWholeFile(const std::string& path);
// Writes PATH.tmp, fsyncs it and renames it over PATH: a crash leaves the old or the new file,
// never half of one. The file is created with `mode` (0600: plans and directories hold PII).
Status WriteFileAtomically(const std::string& path, std::string_view data, unsigned mode = 0600);

}  // namespace cm
