// A scratch directory removed at the end of a test.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <string>

namespace cm::testing {

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/crossmove-t-XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace cm::testing
