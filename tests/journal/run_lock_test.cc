// One run per journal: a second is refused naming the first, or waits for it; a holder that
// dies (kill -9 included) blocks nobody.
#include "journal/run_lock.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>

#include "journal/test_journal.h"

namespace cm {
namespace {

using testing::TestJournal;

// A child process that takes the lock as run `run`, says so on a pipe, then waits to be
// killed or sleeps `hold_ms` and exits.
pid_t HoldInChild(const JournalLocation& journal, int64_t run, int hold_ms) {
  int ready[2];
  if (pipe(ready) != 0) return -1;
  pid_t pid = fork();
  if (pid == 0) {
    close(ready[0]);
    auto lock = RunLock::Acquire(journal, false, {});
    if (!lock.ok() || !lock->SetRun(run).ok()) _exit(2);
    if (write(ready[1], "x", 1) != 1) _exit(3);
    if (hold_ms < 0) {
      pause();
    } else {
      usleep(static_cast<useconds_t>(hold_ms) * 1000);
    }
    _exit(0);
  }
  close(ready[1]);
  char c;
  bool ok = read(ready[0], &c, 1) == 1;
  close(ready[0]);
  return ok ? pid : -1;
}

TEST(RunLock, ASecondRunIsRefusedAtOnceNamingTheHolder) {
  TestJournal t;
  ASSERT_EQ(t.error(), "");
  const JournalLocation& journal = t.where();
  EXPECT_EQ(RunLock::HolderOf(journal), "");
  auto first = RunLock::Acquire(journal, false, {});
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_TRUE(first->SetRun(7).ok());
  auto started = std::chrono::steady_clock::now();
  auto second = RunLock::Acquire(journal, false, {});
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(1));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), Status::Code::kUnavailable);
  std::string me = fmt::format("run 7 (pid {} on {}) since ", getpid(), HostName());
  EXPECT_NE(second.status().message().find(me), std::string::npos) << second.status().message();
  EXPECT_NE(RunLock::HolderOf(journal).find(me), std::string::npos) << RunLock::HolderOf(journal);
  { RunLock ended = std::move(*first); }
  EXPECT_EQ(RunLock::HolderOf(journal), "");
  EXPECT_TRUE(RunLock::Acquire(journal, false, {}).ok());
}

TEST(RunLock, WaitBlocksUntilTheHolderEnds) {
  TestJournal t;
  ASSERT_EQ(t.error(), "");
  const JournalLocation& journal = t.where();
  pid_t holder = HoldInChild(journal, 5, 400);
  ASSERT_GT(holder, 0);
  std::string told;
  auto started = std::chrono::steady_clock::now();
  auto lock = RunLock::Acquire(journal, true, [&](const std::string& h) { told = h; });
  auto waited = std::chrono::steady_clock::now() - started;
  ASSERT_TRUE(lock.ok()) << lock.status().ToString();
  EXPECT_NE(told.find(fmt::format("run 5 (pid {} on", holder)), std::string::npos) << told;
  EXPECT_GE(waited, std::chrono::milliseconds(200));
  int status = 0;
  waitpid(holder, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

TEST(RunLock, AHolderKilledHardBlocksNobody) {
  TestJournal t;
  ASSERT_EQ(t.error(), "");
  const JournalLocation& journal = t.where();
  pid_t holder = HoldInChild(journal, 9, -1);
  ASSERT_GT(holder, 0);
  EXPECT_EQ(RunLock::Acquire(journal, false, {}).status().code(), Status::Code::kUnavailable);
  kill(holder, SIGKILL);
  waitpid(holder, nullptr, 0);
  // A file lock is gone with its process; a PostgreSQL server drops the session's lock as soon
  // as it sees the connection closed, which it does at once but not within the kill.
  for (int i = 0; i < 100 && !RunLock::HolderOf(journal).empty(); ++i) usleep(50 * 1000);
  EXPECT_EQ(RunLock::HolderOf(journal), "");
  auto lock = RunLock::Acquire(journal, false, {});
  ASSERT_TRUE(lock.ok()) << lock.status().ToString();
  // The dead run's description is replaced by this one's.
  ASSERT_TRUE(lock->SetRun(10).ok());
  auto refused = RunLock::Acquire(journal, false, {});
  EXPECT_NE(refused.status().message().find("run 10 "), std::string::npos)
      << refused.status().message();
}

}  // namespace
}  // namespace cm
