// Untrusted CSV never crashes the reader (SPEC §10).
#include <cstdint>

#include "input/users_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cm::Problems problems;
  auto file = cm::ParseUsersFile(std::string_view(reinterpret_cast<const char*>(data), size),
                                 "fuzz.csv", cm::kDetectDelimiter, problems);
  (void)file;
  return 0;
}
