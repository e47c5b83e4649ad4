#include "app/progress_line.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "core/strings.h"

namespace cm {

namespace {

// Terminal columns of UTF-8 text: one per code point (continuation bytes take none).
size_t Columns(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// The longest prefix of `s` that fits `width` columns, on a code point boundary.
std::string CutTo(const std::string& s, size_t width) {
  if (Columns(s) <= width) return s;
  if (width == 0) return "";
  size_t cols = 0, i = 0;
  for (; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
      if (cols == width - 1) break;
      ++cols;
    }
  }
  return s.substr(0, i) + "…";
}

}  // namespace

std::string FormatDuration(double seconds) {
  long s = std::lround(std::max(0.0, seconds));
  if (s < 60) return fmt::format("{}s", s);
  if (s < 3600) return fmt::format("{}m{:02}s", s / 60, s % 60);
  return fmt::format("{}h{:02}m", s / 3600, (s % 3600) / 60);
}

std::string FormatProgressLine(const ProgressFigures& f, size_t width) {
  std::string active;
  if (f.active.empty()) {
    active = "0 active";
  } else {
    std::vector<std::string> shown(
        f.active.begin(),
        f.active.begin() + static_cast<long>(std::min<size_t>(2, f.active.size())));
    active = fmt::format("{} active: {}", f.active.size(), Join(shown, ", "));
    if (f.active.size() > shown.size())
      active += fmt::format(" +{}", f.active.size() - shown.size());
  }
  // What matters most comes first, so a narrow terminal cuts the names, not the ETA.
  std::string line = fmt::format(
      "{}/{} moved | ETA {} | {:.0f} msg/s {:.1f} MB/s | {} msgs {:.1f} MB | {}", f.done, f.total,
      f.eta_seconds < 0 ? std::string("?") : FormatDuration(f.eta_seconds), f.message_rate,
      f.byte_rate / 1e6, f.messages, static_cast<double>(f.bytes) / 1e6, active);
  return CutTo(line, width);
}

double EstimateSecondsLeft(uint64_t copied_bytes, uint64_t known_bytes, size_t known, size_t total,
                           double byte_rate) {
  if (byte_rate <= 0 || known == 0) return -1;
  double average = static_cast<double>(known_bytes) / static_cast<double>(known);
  double expected = static_cast<double>(known_bytes) +
                    average * static_cast<double>(total > known ? total - known : 0);
  double left = std::max(0.0, expected - static_cast<double>(copied_bytes));
  return left / byte_rate;
}

void SmoothedRate::Add(double amount, double seconds) {
  if (seconds <= 0) return;
  double sample = amount / seconds;
  if (!seeded_) {
    rate_ = sample;
    seeded_ = true;
    return;
  }
  // A time constant of about 5 s: recent throughput counts, one slow second does not rule.
  double weight = 1 - std::exp(-seconds / 5.0);
  rate_ += weight * (sample - rate_);
}

}  // namespace cm
