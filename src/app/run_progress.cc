#include "app/run_progress.h"

#include <fmt/format.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>

namespace cm {

RunProgress::RunProgress(Console console, size_t total, uint64_t known_bytes, size_t known)
    : console_(console),
      total_(total),
      known_bytes_(known_bytes),
      known_(known),
      tty_(::isatty(STDERR_FILENO)) {}

void RunProgress::Sized(uint64_t bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  known_bytes_ += bytes;
  ++known_;
}

void RunProgress::Copied(const std::string& mailbox, const CopyProgress& p) {
  std::lock_guard<std::mutex> lock(mu_);
  CopyProgress& before = active_[mailbox];
  messages_ += p.messages - std::min(p.messages, before.messages);
  bytes_ += p.bytes - std::min(p.bytes, before.bytes);
  before = p;
  if (!tty_) return;
  auto now = Clock::now();
  if (now - last_ < std::chrono::milliseconds(250)) return;
  Redraw(now);
}

void RunProgress::PassEnded(const std::string& mailbox) {
  std::lock_guard<std::mutex> lock(mu_);
  active_.erase(mailbox);
}

void RunProgress::Moved() {
  std::lock_guard<std::mutex> lock(mu_);
  ++moved_;
}

void RunProgress::MailboxDone(const std::string& mailbox, const std::string& outcome,
                              uint64_t messages, uint64_t bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  active_.erase(mailbox);
  ++done_;
  if (tty_) console_.err << "\r\033[K";
  console_.err << fmt::format("[{}/{}] {}: {} ({} messages, {:.1f} MB)\n", done_, total_, mailbox,
                              outcome, messages, static_cast<double>(bytes) / 1e6);
  samples_.push_back({elapsed(), messages_});
  if (tty_) Redraw(Clock::now());
}

void RunProgress::Finished() {
  std::lock_guard<std::mutex> lock(mu_);
  if (tty_) console_.err << "\r\033[K" << std::flush;
}

double RunProgress::elapsed() const {
  return std::chrono::duration<double>(Clock::now() - start_).count();
}

void RunProgress::Redraw(Clock::time_point now) {
  double span =
      std::chrono::duration<double>(now - (last_ == Clock::time_point{} ? start_ : last_)).count();
  msg_rate_.Add(static_cast<double>(messages_ - messages_at_last_), span);
  byte_rate_.Add(static_cast<double>(bytes_ - bytes_at_last_), span);
  messages_at_last_ = messages_;
  bytes_at_last_ = bytes_;
  last_ = now;
  ProgressFigures f;
  for (const auto& [name, p] : active_) f.active.push_back(name);
  f.done = std::max(moved_, done_);
  f.total = total_;
  f.messages = messages_;
  f.bytes = bytes_;
  f.message_rate = msg_rate_.value();
  f.byte_rate = byte_rate_.value();
  f.eta_seconds = EstimateSecondsLeft(bytes_, known_bytes_, known_, total_, f.byte_rate);
  console_.err << "\r\033[K" << FormatProgressLine(f, TerminalWidth()) << std::flush;
}

size_t RunProgress::TerminalWidth() {
  struct winsize ws {};
  if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1) return ws.ws_col - 1;
  return 79;
}

}  // namespace cm
