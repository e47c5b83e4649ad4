// Delta passes (issue 13): after the first copy, each pass reproduces the source's state on the
// target for every message the journal says we appended: new messages are copied, flag and
// keyword changes applied, expunged messages expunged, moved messages moved (never copied
// again), renamed folders renamed, deleted folders deleted when they hold only our messages.
// Messages that were in the target before us, or were claimed by fingerprint (perhaps the
// user's own), are never touched. Change detection is change_detection.h; this applies it.
//
// Crash safety: every change is recorded in the map as it is made (a move's intent before the
// move, its new key after), so a pass killed at any point and run again ends in the state an
// uninterrupted pass leaves, with no message twice and none lost.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "mailstore/copy_engine.h"

namespace cm {

struct DeltaOptions {
  CopyOptions copy;  // for the new messages: bad-item-limit, progress, stop, retries
  // A pass that would remove more than this share (percent) of the mailbox's copies of ours
  // changes nothing and says so (DeltaStats::held), until approved.
  double max_deletions = 20;
  bool approve_deletions = false;
};

// Why a pass stopped before changing anything: the deletions guard.
struct DeletionsHeld {
  uint64_t removals = 0;  // copies the pass would remove (expunged, or in deleted folders)
  uint64_t copies = 0;    // copies of ours the mailbox holds
  double max_deletions = 0;
  std::string Describe() const;  // for status, the report and the error line
};

struct DeltaStats {
  uint64_t new_messages = 0;   // appended (stats.copy has the detail)
  uint64_t flags_changed = 0;  // target messages whose flags or keywords were set
  uint64_t expunged = 0;
  uint64_t moved = 0;  // moved between target folders
  uint64_t renamed_folders = 0;
  uint64_t deleted_folders = 0;
  std::vector<std::string> renamed;  // "old -> new" (target names)
  // Source folders deleted whose target folder was kept: "folder: why" (it holds messages we
  // did not copy, or the server would not delete it).
  std::vector<std::string> kept_folders;
  CopyStats copy;  // the copy of the new messages
  // Set when the deletions guard stopped the pass: nothing was changed, not even new mail
  // copied. Ask the administrator, then run again with approve_deletions.
  std::optional<DeletionsHeld> held;
};

// One delta pass over a mailbox; safe to run at any time after (or instead of) CopyMailbox,
// and again after any failure or crash.
Result<DeltaStats> SyncMailbox(MailStore& source, MailStore& target, MessageMap& map,
                               const DeltaOptions& options, const MailStoreOptions& target_names);

}  // namespace cm
