// Whole-file reads and crash-safe whole-file writes, shared by every layer that touches files.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace cm {

// Which version of a file a reader holds: a file replaced by WriteFileAtomically is a new inode,
// and a file changed in place has a new size or modification time. Comparing versions costs one
// stat(), so a reader can check before every operation whether another process wrote.
struct FileVersion {
  dev_t device = 0;
  ino_t inode = 0;
  int64_t size = -1;
  int64_t modified_ns = 0;
  int64_t changed_ns = 0;  // ctime: set by the rename that installs a replacement
  bool operator==(const FileVersion&) const = default;
};

// kNotFound when the file does not exist, kIOError otherwise.
Result<std::string> ReadWholeFile(const std::string& path);
// As above, and the version of the file the bytes came from (read from one open file, so the
// two always agree even when the file is replaced meanwhile).
Result<std::string> ReadWholeFile(const std::string& path, FileVersion& version);
// The version of PATH now; kNotFound when it does not exist.
Result<FileVersion> VersionOf(const std::string& path);
// Writes a temporary file beside PATH and renames it over PATH: a crash leaves the old or the
// new file, never half of one. The temporary name is unique per process and call
// (PATH.tmp.PID.XXXXXX), so two processes replacing the same file never take each other's
// temporary file away. With `durable` the data is fsynced first (a power cut keeps it too);
// callers that sync a whole tree at a step boundary (the Maildir store) pass false. Created with
// `mode` (0600: plans and directories hold personal data).
Status WriteFileAtomically(const std::string& path, std::string_view data, unsigned mode = 0600,
                           bool durable = true);

// Makes PATH a private file (mode 0600 when created; group and other bits removed from one that
// exists): for files that hold every directory value, such as the journal and the event log.
Status MakePrivateFile(const std::string& path);
// Removes the group and other bits of PATH if it exists (SQLite's -wal / -shm of an old run).
Status TightenIfExists(const std::string& path);

}  // namespace cm
