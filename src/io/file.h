// Whole-file reads and crash-safe whole-file writes, shared by every layer that touches files.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace cm {

// kNotFound when the file does not exist, kIOError otherwise.
Result<std::string> ReadWholeFile(const std::string& path);
// Writes PATH.tmp and renames it over PATH: a crash leaves the old or the new file, never half
// of one. With `durable` the data is fsynced first (a power cut keeps it too); callers that sync
// a whole tree at a step boundary (the Maildir store) pass false. Created with `mode` (0600:
// plans and directories hold personal data).
Status WriteFileAtomically(const std::string& path, std::string_view data, unsigned mode = 0600,
                           bool durable = true);

// Makes PATH a private file (mode 0600 when created; group and other bits removed from one that
// exists): for files that hold every directory value, such as the journal and the event log.
Status MakePrivateFile(const std::string& path);
// Removes the group and other bits of PATH if it exists (SQLite's -wal / -shm of an old run).
Status TightenIfExists(const std::string& path);

}  // namespace cm
