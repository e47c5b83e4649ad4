#include "journal/run_lock.h"

#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <thread>

#include "core/strings.h"
#include "io/file.h"

namespace cm {

std::string HostName() {
  char h[256] = "localhost";
  ::gethostname(h, sizeof(h) - 1);
  return h;
}

std::string UtcNow() {
  auto t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string Holder::Describe() const {
  return fmt::format("{} (pid {} on {}) since {}",
                     run ? fmt::format("run {}", run) : std::string("a run starting up"), pid, host,
                     since);
}

Holder Holder::Me(int64_t run) { return {run, ::getpid(), HostName(), UtcNow()}; }

bool Holder::Gone() const {
  return host == HostName() && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
}

namespace {

std::string LockPath(const std::string& journal_path) { return journal_path + ".lock"; }

// The lock file holds "run=N pid=P host=H since=T" (one line, written by the holder).
std::string Serialize(const Holder& h) {
  return fmt::format("run={} pid={} host={} since={}\n", h.run, h.pid, h.host, h.since);
}

std::string DescribeFile(const std::string& lock_path) {
  // The holder writes its line right after taking the lock: a reader that comes in between
  // sees an empty file and looks again briefly.
  for (int attempt = 0; attempt < 20; ++attempt) {
    auto text = ReadWholeFile(lock_path);
    if (text.ok() && !text->empty()) {
      Holder h;
      for (const auto& field : Split(Trim(*text), ' ')) {
        size_t eq = field.find('=');
        if (eq == std::string::npos) continue;
        std::string key = field.substr(0, eq), value = field.substr(eq + 1);
        if (key == "run") h.run = std::atoll(value.c_str());
        if (key == "pid") h.pid = std::atoll(value.c_str());
        if (key == "host") h.host = value;
        if (key == "since") h.since = value;
      }
      return h.Describe();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return "another run (it has not said which yet)";
}

}  // namespace

Result<RunLock> RunLock::Acquire(const std::string& journal_path, bool wait,
                                 const std::function<void(const std::string&)>& waiting) {
  std::string path = LockPath(journal_path);
  auto lock = FileLock::Acquire(path, /*wait=*/false);
  if (!lock.ok() && lock.status().code() == Status::Code::kUnavailable) {
    std::string holder = DescribeFile(path);
    if (!wait) {
      return Status::Unavailable(
          fmt::format("the journal {} is in use by {}", journal_path, holder));
    }
    if (waiting) waiting(holder);
    lock = FileLock::Acquire(path, /*wait=*/true);
  }
  if (!lock.ok()) return lock.status();
  RunLock run_lock(std::move(*lock), Holder::Me(0));
  CM_RETURN_IF_ERROR(run_lock.lock_.Describe(Serialize(run_lock.me_)));
  return run_lock;
}

Status RunLock::SetRun(int64_t run_id) {
  me_.run = run_id;
  return lock_.Describe(Serialize(me_));
}

RunLock::~RunLock() {
  if (lock_.held()) (void)lock_.Describe("");
}

std::string RunLock::HolderOf(const std::string& journal_path) {
  std::string path = LockPath(journal_path);
  return FileLock::IsHeld(path) ? DescribeFile(path) : "";
}

}  // namespace cm
