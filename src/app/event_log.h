// The JSON-lines event log (SPEC §9): every directory change with the values before and after,
// every folder copied with counts, bytes and seconds, every state change. Append-only, one
// flushed line per event, so `tail -f` follows a run. Secrets never reach it: no code path
// hands it a credential.
#pragma once

#include <cstdio>
#include <memory>
#include <mutex>
#include <string>

#include "core/directory_op.h"
#include "core/entry.h"
#include "core/status.h"
#include "mailstore/copy_engine.h"

namespace cm {

struct DeltaStats;  // mailstore/delta_sync.h

class EventLog {
 public:
  static Result<std::unique_ptr<EventLog>> Open(const std::string& path, int64_t run_id);
  ~EventLog();

  // One line per changed attribute; `before` / `after` are the object around the change (null:
  // absent).
  void DirectoryChange(const std::string& mailbox, const DirectoryOp& op, const Entry* before,
                       const Entry* after);
  void FolderCopied(const std::string& mailbox, const FolderStats& folder);
  // What a delta pass carried besides new mail (flags, expunges, moves, renames, deletions).
  void DeltaCarried(const std::string& mailbox, const DeltaStats& delta);
  void StateChange(const std::string& mailbox, std::string_view state,
                   const std::string& detail = "");
  // A second landing of one of our copies that verification removed from the target.
  void DuplicateRemoved(const std::string& mailbox, const std::string& folder,
                        const std::string& source_key, const std::string& target_key);

 private:
  EventLog() = default;
  void Write(const std::string& json_line);
  FILE* file_ = nullptr;
  int64_t run_id_ = 0;
  std::mutex mu_;
};

}  // namespace cm
