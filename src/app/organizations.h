// Both organizations' directories opened from the config, with their secrets loaded.
#pragma once

#include <memory>
#include <string>

#include "core/problem.h"
#include "directory/directory.h"
#include "input/config.h"

namespace cm {

struct Organizations {
  std::unique_ptr<Directory> source;
  std::unique_ptr<Directory> target;
  std::string source_base;  // search base in use
  std::string target_base;
};

// Opens source.gc and target.gc. Bad parameters (missing URL, credential file mode) are
// appended to `problems`; a directory that cannot be reached returns kUnavailable.
Result<Organizations> OpenOrganizations(const Config& config, bool read_only, Problems& problems);

}  // namespace cm
