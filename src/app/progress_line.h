// The live progress line of `run` (SPEC §9), as a pure function so its cutting and its ETA are
// tested without a terminal.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cm {

struct ProgressFigures {
  std::vector<std::string> active;         // mailboxes moving now
  size_t done = 0, total = 0;              // mailboxes finished / in the run
  uint64_t messages = 0, bytes = 0;        // copied by this run so far
  double message_rate = 0, byte_rate = 0;  // smoothed, per second
  double eta_seconds = -1;                 // for the whole run; < 0: not known yet
};

// "12/200 moved | ETA 2m05s | 812 msg/s 6.3 MB/s | 5120 msgs 40.1 MB | 3 active: alice, bob +1",
// cut to `width` terminal columns (UTF-8 aware; a cut ends in "…"), so a redraw in place never
// wraps and leaves no fragments.
std::string FormatProgressLine(const ProgressFigures& figures, size_t width);

// Seconds as "45s", "2m05s", "1h02m".
std::string FormatDuration(double seconds);

// Estimated seconds left for the run: bytes left over the smoothed byte rate. `known_bytes` is
// the size of the mailboxes whose size is known (snapshotted), `known` how many they are; the
// others are estimated at their average. < 0 when there is no rate or size yet.
double EstimateSecondsLeft(uint64_t copied_bytes, uint64_t known_bytes, size_t known, size_t total,
                           double byte_rate);

// An exponentially smoothed rate: each new sample of `seconds` weighs by how long it covers,
// so a burst does not swing the ETA.
class SmoothedRate {
 public:
  void Add(double amount, double seconds);
  double value() const { return rate_; }

 private:
  double rate_ = 0;
  bool seeded_ = false;
};

}  // namespace cm
