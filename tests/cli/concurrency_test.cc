// One writer at a time, everywhere (SPEC §5 "Concurrency"), with real processes: several
// `crossmove run`s at once on one journal (the others wait with --wait, or are refused at once
// naming the holder and write nothing) and on separate journals over the same directories (two
// or three operators splitting a batch). Every end state must be one uninterrupted run's: the
// directories compared entry by entry (the LDIF files through an independent reader,
// ldif_entries.py), the mail file by file, and verify must find every old address forwarded.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "cli/org.h"
#include "journal/run_lock.h"

namespace cm {
namespace {

using testing::Org;
using testing::RunResult;
using testing::Started;
using Clock = std::chrono::steady_clock;

constexpr int kMailboxes = 60;
constexpr int kMessages = 120;

using testing::Entries;
using testing::Lines;

struct EndState {
  std::string source, target;
  std::map<std::string, int> mail;
};

EndState StateOf(const Org& org) {
  return {Entries(org, "source"), Entries(org, "target"), org.TargetMail()};
}

void ExpectEndState(const Org& org, const EndState& expected) {
  EndState got = StateOf(org);
  EXPECT_TRUE(got.source == expected.source)
      << "source directory (got left, one uninterrupted run right):\n"
      << testing::Difference(Lines(got.source), Lines(expected.source));
  EXPECT_TRUE(got.target == expected.target)
      << "target directory (got left, one uninterrupted run right):\n"
      << testing::Difference(Lines(got.target), Lines(expected.target));
  EXPECT_TRUE(got.mail == expected.mail) << "mail (got left, one uninterrupted run right):\n"
                                         << testing::Difference(got.mail, expected.mail);
  EXPECT_EQ(testing::Total(got.mail), kMessages);
}

// verify on one journal: every old address lands where the cleanup option says.
void ExpectVerified(const Org& org, const std::vector<std::string>& args, size_t mailboxes) {
  std::vector<std::string> argv = {"verify", "--json"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = org.Run(argv);
  EXPECT_EQ(r.exit_code, 0) << r.err << r.out.substr(0, 2000);
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.out << r.err;
  EXPECT_EQ(j["unexpected"], 0);
  EXPECT_EQ(j["mailboxes"].size(), mailboxes);
}

// The pristine organization and the end state of one uninterrupted run of the whole batch.
class Concurrent : public ::testing::Test {
 protected:
  void SetUp() override {
    pristine_ = std::make_unique<Org>(kMailboxes, kMessages, "CreateSourceContact");
    CM_ASSERT_ORG(*pristine_);
    Org baseline(*pristine_);
    CM_ASSERT_ORG(baseline);
    auto r = baseline.Run({"run"});
    ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
    expected_ = StateOf(baseline);
    ASSERT_EQ(testing::Total(expected_.mail), kMessages);
  }
  std::unique_ptr<Org> pristine_;
  EndState expected_;
};

std::string Summary(int moved, int of) {
  return fmt::format("{} of {} mailboxes moved and verified, 0 failed;", moved, of);
}

// Two operators (or three) split one batch into disjoint users files, each with its own
// journal, and start at the same moment over the same directories.
class Operators : public Concurrent, public ::testing::WithParamInterface<int> {};

TEST_P(Operators, SplittingABatchEndsAsOneRunOfTheWholeBatch) {
  const int parts = GetParam();
  Org org(*pristine_);
  CM_ASSERT_ORG(org);
  // users.csv: "#TYPE ..." and the header, then one mailbox a line; row i goes to part i % parts.
  std::vector<std::string> lines = Split(org.Read("users.csv"), '\n');
  ASSERT_GT(lines.size(), static_cast<size_t>(kMailboxes + 1));
  std::vector<std::string> files(static_cast<size_t>(parts), lines[0] + "\n" + lines[1] + "\n");
  std::vector<int> rows(static_cast<size_t>(parts), 0);
  for (size_t i = 2, n = 0; i < lines.size(); ++i) {
    if (lines[i].empty() || lines[i] == "\r") continue;
    files[n % static_cast<size_t>(parts)] += lines[i] + "\n";
    ++rows[n++ % static_cast<size_t>(parts)];
  }
  std::vector<Started> runs;
  for (int k = 0; k < parts; ++k) {
    testing::Spit(org.dir() / fmt::format("users-{}.csv", k), files[static_cast<size_t>(k)]);
    runs.push_back(testing::StartCrossmove(
        {"run", "--users-file", fmt::format("users-{}.csv", k), "--journal",
         fmt::format("operator-{}.journal", k), "--report", fmt::format("report-{}", k)},
        org.dir(), {}, fmt::format("operator-{}", k)));
  }
  for (int k = 0; k < parts; ++k) {
    RunResult r = testing::Finish(runs[static_cast<size_t>(k)]);
    int n = rows[static_cast<size_t>(k)];
    EXPECT_EQ(r.exit_code, 0) << "operator " << k << ":\n" << r.err << r.out;
    EXPECT_NE(r.out.find(Summary(n, n)), std::string::npos) << "operator " << k << ": " << r.out;
    EXPECT_EQ(r.out.find("skipped"), std::string::npos) << r.out;
    EXPECT_EQ(r.err.find("FAILED"), std::string::npos) << r.err;
  }
  int total = 0;
  for (int n : rows) total += n;
  EXPECT_EQ(total, kMailboxes);
  ExpectEndState(org, expected_);
  for (int k = 0; k < parts; ++k) {
    ExpectVerified(org,
                   {"--users-file", fmt::format("users-{}.csv", k), "--journal",
                    fmt::format("operator-{}.journal", k)},
                   static_cast<size_t>(rows[static_cast<size_t>(k)]));
  }
}

INSTANTIATE_TEST_SUITE_P(Cli, Operators, ::testing::Values(2, 3),
                         [](const auto& info) { return fmt::format("{}Operators", info.param); });

// Three runs of the same batch on the same journal with --wait: one moves everything, the
// others wait for it and then find nothing left to do.
TEST_F(Concurrent, RunsOnOneJournalWithWaitTakeTurns) {
  Org org(*pristine_);
  CM_ASSERT_ORG(org);
  std::vector<Started> runs;
  for (int k = 0; k < 3; ++k) {
    runs.push_back(
        testing::StartCrossmove({"run", "--wait"}, org.dir(), {}, fmt::format("w{}", k)));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  int moved_everything = 0, found_nothing = 0, waited = 0;
  for (auto& started : runs) {
    RunResult r = testing::Finish(started);
    EXPECT_EQ(r.exit_code, 0) << r.err << r.out;
    EXPECT_NE(r.out.find(Summary(kMailboxes, kMailboxes)), std::string::npos) << r.out;
    moved_everything += r.out.find(fmt::format("; {} messages", kMessages)) != std::string::npos;
    found_nothing += r.out.find("; 0 messages") != std::string::npos;
    waited += r.err.find("crossmove: waiting for ") != std::string::npos;
  }
  EXPECT_EQ(moved_everything, 1);
  EXPECT_EQ(found_nothing, 2);
  EXPECT_EQ(waited, 2);
  ExpectEndState(org, expected_);
  ExpectVerified(org, {}, kMailboxes);
}

std::string Sql(const Org& org, const std::string& db, const std::string& statement) {
  auto r = testing::RunProgram(
      {"python3", "-c",
       "import sqlite3, sys\n"
       "c = sqlite3.connect(sys.argv[1])\n"
       "for row in c.execute(sys.argv[2]): print('|'.join(str(v) for v in row))\n"
       "c.commit()\n",
       (org.dir() / db).string(), statement},
      org.dir());
  return r.exit_code == 0 ? r.out : "sql failed: " + r.err;
}

// Whether a started process has not ended yet (without reaping it: Finish does that).
bool Running(pid_t pid) {
  siginfo_t info{};
  return waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
         info.si_pid == 0;
}

// Without --wait, runs (and a rollback) started while one holds the journal are refused at
// once, name it, and write nothing; status and verify are answered meanwhile.
TEST_F(Concurrent, ASecondRunOnOneJournalIsRefusedAtOnceNamingTheHolder) {
  Org org(*pristine_);
  CM_ASSERT_ORG(org);
  // Paused after every step: the first run stays in the middle of the batch long enough.
  Started first = testing::StartCrossmove({"run"}, org.dir(), {"CROSSMOVE_PAUSE_MS=40"}, "first");
  // status is never blocked by the run: it says which run is in progress once it has an id.
  std::string running;
  for (auto deadline = Clock::now() + std::chrono::seconds(60);
       Clock::now() < deadline && running.find("run ") != 0;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto status = org.Run({"status", "--json"});
    auto j = nlohmann::json::parse(status.out, nullptr, false);
    if (status.exit_code == 0 && !j.is_discarded() && j["running"].is_string())
      running = j["running"].get<std::string>();
  }
  std::string holder = fmt::format("(pid {} on {}) since ", first.pid, HostName());
  ASSERT_NE(running.find(holder), std::string::npos) << running;
  ASSERT_TRUE(Running(first.pid));

  auto started = Clock::now();
  std::vector<Started> refused = {testing::StartCrossmove({"run"}, org.dir(), {}, "second"),
                                  testing::StartCrossmove({"run"}, org.dir(), {}, "third")};
  std::vector<pid_t> refused_pids;
  for (auto& s : refused) {
    refused_pids.push_back(s.pid);
    RunResult r = testing::Finish(s);
    EXPECT_EQ(r.exit_code, 4) << r.err << r.out;
    EXPECT_NE(r.err.find("the journal crossmove.journal is in use by run "), std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find(holder), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("nothing was done"), std::string::npos) << r.err;
    EXPECT_EQ(r.out, "");
  }
  EXPECT_LT(Clock::now() - started, std::chrono::seconds(20)) << "refused, but not at once";
  // rollback writes the directories and the journal too: the same lock, the same refusal.
  auto rollback = org.Run({"rollback", "--all"});
  EXPECT_EQ(rollback.exit_code, 4) << rollback.err << rollback.out;
  EXPECT_NE(rollback.err.find(holder), std::string::npos) << rollback.err;
  // verify reads while the run writes; it is answered, not blocked (its verdict mid-run is not
  // the point: mailboxes are between steps).
  auto verify = org.Run({"verify", "--json"});
  EXPECT_TRUE(verify.exit_code == 0 || verify.exit_code == 1) << verify.err;
  EXPECT_TRUE(Running(first.pid)) << "the first run ended before the checks: make it slower";

  RunResult r = testing::Finish(first);
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_NE(r.out.find(Summary(kMailboxes, kMailboxes)), std::string::npos) << r.out;
  // The refused runs never registered in the journal.
  std::string pids = Sql(org, "crossmove.journal", "SELECT pid FROM runs");
  for (pid_t pid : refused_pids) {
    for (const auto& line : Split(pids, '\n'))
      EXPECT_NE(line, std::to_string(pid)) << "a refused run opened the journal: " << pids;
  }
  EXPECT_EQ(RunLock::HolderOf((org.dir() / "crossmove.journal").string()), "");
  ExpectEndState(org, expected_);
  ExpectVerified(org, {}, kMailboxes);
}

// A mailbox another live run holds is skipped: not a failure in the exit code, the summary or
// the report, which say by whom it is held; a later run moves it.
TEST(Skipped, AMailboxHeldByAnotherLiveRunIsSkippedNotFailed) {
  Org org(6, 60, "CreateSourceContact");
  CM_ASSERT_ORG(org);
  // Every mailbox is registered before the first step: stop right after it.
  ASSERT_EQ(org.Run({"run", "--parallel", "1"}, {"CROSSMOVE_CRASH_AFTER_STEP=1"}).exit_code, 137);
  // Mailbox 3 is held by run 999 in this (live) test process on this host, as a worker of
  // another run would hold it.
  std::string identity = Split(Sql(org, "crossmove.journal",
                                   fmt::format("UPDATE mailboxes SET holder_run=999, "
                                               "holder_pid={}, holder_host='{}', "
                                               "holder_since='2026-01-01T00:00:00Z' WHERE id=3 "
                                               "RETURNING identity",
                                               getpid(), HostName())),
                               '\n')[0];
  ASSERT_NE(identity.find('='), std::string::npos) << identity;
  std::string held_by = fmt::format("held by run 999 (pid {} on {}) since 2026-01-01T00:00:00Z",
                                    getpid(), HostName());
  auto r = org.Run({"run"});
  EXPECT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_NE(
      r.out.find("5 of 6 mailboxes moved and verified, 0 failed, 1 skipped (" + held_by + ");"),
      std::string::npos)
      << r.out;
  EXPECT_EQ(r.err.find("FAILED"), std::string::npos) << r.err;
  std::string csv = org.Read("crossmove-report.csv");
  size_t row = csv.find("\"" + identity + "\"");
  ASSERT_NE(row, std::string::npos) << csv;
  std::string line = csv.substr(row, csv.find('\n', row) - row);
  EXPECT_NE(line.find(",\"\",0,"), std::string::npos) << "a failure was recorded: " << line;
  EXPECT_NE(line.find("\"" + held_by + "\""), std::string::npos) << line;
  EXPECT_NE(org.Read("crossmove-report.html").find("6 mailboxes, 0 failed, 1 skipped"),
            std::string::npos);
  auto status = nlohmann::json::parse(org.Run({"status", "--json"}).out);
  EXPECT_EQ(status["counts"]["routing-verified"], 5);
  EXPECT_EQ(status["failed"], 0);
  // The same for programs: a rerun while it is still held skips it again.
  auto json = org.Run({"run", "--json"});
  EXPECT_EQ(json.exit_code, 0) << json.err;
  auto summary = nlohmann::json::parse(json.out, nullptr, false);
  ASSERT_FALSE(summary.is_discarded()) << json.out;
  EXPECT_EQ(summary["failed"], 0);
  EXPECT_EQ(summary["skipped"], 1);
  ASSERT_EQ(summary["skipped_mailboxes"].size(), 1u);
  EXPECT_EQ(summary["skipped_mailboxes"][0]["identity"], identity);
  EXPECT_EQ(summary["skipped_mailboxes"][0]["reason"], held_by);

  // Once the other run lets go, the next run moves it.
  Sql(org, "crossmove.journal", "UPDATE mailboxes SET holder_run=NULL WHERE id=3");
  auto again = org.Run({"run"});
  EXPECT_EQ(again.exit_code, 0) << again.err << again.out;
  EXPECT_NE(again.out.find(Summary(6, 6)), std::string::npos) << again.out;
  EXPECT_EQ(org.Run({"verify"}).exit_code, 0);
}

}  // namespace
}  // namespace cm
