// An exclusive advisory lock on a lock file (flock(2)), shared by every layer that needs one
// writer at a time across processes: the ldif: directory around each read-modify-write, the
// journal around a whole run. The kernel drops the lock when its holder exits, kill -9
// included, so a crashed process never leaves it held and no liveness check is needed.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include "core/status.h"

namespace cm {

class FileLock {
 public:
  FileLock() = default;  // holds nothing
  FileLock(FileLock&& other) noexcept;
  FileLock& operator=(FileLock&& other) noexcept;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock();

  // Takes the lock on PATH, creating the file (0600) when it is missing. With `wait` it blocks
  // until the holder lets go; without, another holder is kUnavailable at once.
  static Result<FileLock> Acquire(const std::string& path, bool wait);
  // Whether another process holds the lock on PATH now, without taking it or creating the file
  // (read-only commands write nothing).
  static bool IsHeld(const std::string& path);

  bool held() const { return fd_ >= 0; }
  // Replaces the lock file's content: who holds it, for those refused to read.
  Status Describe(std::string_view text);

 private:
  explicit FileLock(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_ = -1;
  std::string path_;
};

}  // namespace cm
