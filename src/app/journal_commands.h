// The commands over the journal: `run`, `status`, `verify`, `rollback` and `forget` (SPEC §5-§8),
// one file each (app/*_command.cc), over what they share (app/lifecycle.h, app/migration_context.h,
// app/journal_access.h, app/continuity.h); no command file includes another.
#pragma once

#include <string>
#include <vector>

#include "app/commands.h"
#include "input/config.h"

namespace cm {

struct RunOptions {
  bool json = false;
  bool all = false;                     // rollback: every mailbox in the journal
  std::vector<std::string> identities;  // rollback / status: these mailboxes
  std::string mta;                      // verify: smtp://HOST:PORT to ask about every address
  bool wait = false;     // run / rollback: wait for the run holding the journal instead of refusing
  bool dry_run = false;  // rollback: print what would be written, write nothing
  bool watch = false;    // run: pass after pass, sleeping until the next due time, until done
  bool approve_skipped = false;    // complete: a mailbox graded Investigate may complete
  bool approve_deletions = false;  // complete: a delta pass may remove past max-deletions
};

int RunMigration(const Config& config, const RunOptions& options, Console console);
int RunStatus(const Config& config, const RunOptions& options, Console console);
int RunVerify(const Config& config, const RunOptions& options, Console console);
int RunRollback(const Config& config, const RunOptions& options, Console console);
// `forget`: removes mailboxes from the journal (SPEC §8) so the next `run` moves them again.
// Only one the source still holds as it was: rolled back, never started, or failed before any
// directory write; a mailbox whose source was cleaned up (or whose target was provisioned) and
// not rolled back is refused, saying why.
int RunForget(const Config& config, const RunOptions& options, Console console);
// `complete` (issue 13): records that the chosen synced mailboxes are to complete (and with
// --approve-skipped, that Investigate may), then completes them now: the final delta pass, the
// cleanup and the routing proof. While another run holds the journal the request is recorded
// and that run (a `run --watch`) completes them.
int RunComplete(const Config& config, const RunOptions& options, Console console);
// `suspend` / `resume` (issue 13): a suspended mailbox is left alone by every run until resumed.
int RunSuspend(const Config& config, const RunOptions& options, Console console);
int RunResume(const Config& config, const RunOptions& options, Console console);

}  // namespace cm
