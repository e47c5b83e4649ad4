// The work of `run` (SPEC §5, issue 13), below the commands that start it (`run`, `complete`):
// validates as `plan` does, registers the new rows, takes each mailbox through what is due of
// its lifecycle (app/lifecycle.h), `parallel` at once, sweeps and proves routing for every
// cleaned one, and writes the migration's report. With `watch`, passes follow one another,
// sleeping until the next due time, until nothing is left to do.
#pragma once

#include <cstdint>
#include <vector>

#include "app/commands.h"
#include "input/config.h"

namespace cm {

struct PassOptions {
  bool json = false;
  bool wait = false;   // wait for the run holding the journal instead of refusing
  bool watch = false;  // pass after pass until no mailbox has anything due (run --watch)
  // Only these journaled mailboxes (`complete`); empty: every row of the users file.
  std::vector<int64_t> only;
  bool approve_deletions = false;  // complete --approve-deletions: past the deletions guard
};

// Takes the journal's run lock for its whole life. Returns the exit code of the last pass, or
// kExitInterrupted when a signal ends a watch.
int Migrate(const Config& config, const PassOptions& options, Console console);

}  // namespace cm
