// SIGINT / SIGTERM during `run` (issue 12): workers stop at the next safe point (between steps,
// mailboxes, or messages of a copy), the report is written and the run exits 5. A second signal
// ends the process at once (SA_RESETHAND); the journal makes that as safe as kill -9.
#pragma once

#include <atomic>

namespace cm {

// Installs the safe-stop handler for SIGINT and SIGTERM while it lives (and clears an earlier
// request); the handlers before it come back when it ends.
class StopSignals {
 public:
  StopSignals();
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;
};

// Whether a signal asked the run to stop.
bool StopRequested();
// The flag itself, for the copy engine (CopyOptions::stop), which checks it between messages.
const std::atomic<bool>* StopFlag();
// The signal that asked (SIGINT or SIGTERM); 0 when none did.
int StopSignalNumber();

}  // namespace cm
