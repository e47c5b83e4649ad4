// Live progress of a run (SPEC §9): on a terminal one line redrawn in place at most 4 times a
// second, cut to the terminal's width (app/progress_line.h); a line per finished mailbox, with
// its final state, on a terminal or not.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "app/commands.h"
#include "app/progress_line.h"
#include "app/report.h"
#include "mailstore/copy_engine.h"

namespace cm {

// Thread-safe: every worker of a run reports to one.
class RunProgress {
 public:
  using Clock = std::chrono::steady_clock;

  RunProgress(Console console, size_t total, uint64_t known_bytes, size_t known);
  // A mailbox whose size the snapshot just learnt: the ETA counts it.
  void Sized(uint64_t bytes);
  void Copied(const std::string& mailbox, const CopyProgress& p);
  // The copy of a mailbox's pass ended: it is no longer active; a next pass counts from 0.
  void PassEnded(const std::string& mailbox);
  // This run's move of a mailbox (up to its cleanup) ended; its finished line follows its sweep.
  void Moved();
  void MailboxDone(const std::string& mailbox, const std::string& outcome, uint64_t messages,
                   uint64_t bytes);
  void Finished();
  const std::vector<ThroughputSample>& samples() const { return samples_; }
  double elapsed() const;

 private:
  void Redraw(Clock::time_point now);
  static size_t TerminalWidth();

  Console console_;
  size_t total_, done_ = 0, moved_ = 0;
  uint64_t known_bytes_;
  size_t known_;
  bool tty_;
  uint64_t messages_ = 0, bytes_ = 0, messages_at_last_ = 0, bytes_at_last_ = 0;
  std::map<std::string, CopyProgress> active_;
  SmoothedRate msg_rate_, byte_rate_;
  Clock::time_point start_ = Clock::now(), last_{};
  std::vector<ThroughputSample> samples_{{0, 0}};
  std::mutex mu_;
};

}  // namespace cm
