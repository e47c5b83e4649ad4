// Workers (issue 14): several `crossmove run` processes share one migration through a PostgreSQL
// journal. Each claims mailboxes under a lease it renews; one killed with -9 mid-copy loses its
// leases when they run out, and the others finish its mailboxes from their journaled steps.
// The end state must be one uninterrupted run's (directories by an independent LDIF reader, the
// mail over IMAP by Python's imaplib), every message once, and the journal's history, read with
// psql, must show no mailbox worked on by two runs at any moment.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <regex>
#include <set>
#include <thread>

#include "cli/org.h"

namespace cm {
namespace {

using testing::Org;
using testing::RunResult;
using testing::Started;

constexpr int kMailboxes = 30;
constexpr int kMessages = 600;

// Whether workers can run as separate hosts here: in a UTS namespace of their own (root), each
// with its own host name, so that a dead one is known only by its lease running out.
bool SeparateHosts() { return geteuid() == 0 && access("/usr/bin/unshare", X_OK) == 0; }

// Starts `crossmove run` as worker `name`: on a host of that name where the machine allows.
Started StartWorker(const Org& org, const std::string& name, const std::vector<std::string>& env) {
  std::vector<std::string> run = {"run", "--parallel", "2"};
  if (!SeparateHosts()) return testing::StartCrossmove(run, org.dir(), env, name);
  std::vector<std::string> argv = {
      "/usr/bin/unshare", "--uts", "--", "/bin/sh", "-c", "hostname \"$0\" && exec \"$@\"", name,
      CROSSMOVE_BINARY};
  argv.insert(argv.end(), run.begin(), run.end());
  return testing::Start(argv, org.dir(), &env, name);
}

std::string JournalQuery(const Org& org, const std::string& sql) {
  auto r = org.journal_server()->Psql(sql, org.journal_database());
  return r.exit_code == 0 ? r.out : "psql failed: " + r.err;
}

TEST(Workers, ThreeWorkersShareABatchAndFinishTheMailboxesOfOneKilledMidCopy) {
  Org pristine(kMailboxes, kMessages, "CreateSourceContact");
  CM_ASSERT_ORG(pristine);
  Org baseline(pristine);
  CM_ASSERT_ORG(baseline);
  ASSERT_EQ(baseline.Run({"run"}).exit_code, 0);
  std::string source = testing::Entries(baseline, "source");
  std::string target = testing::Entries(baseline, "target");
  auto mail = baseline.TargetMail();
  ASSERT_EQ(testing::Total(mail), kMessages);

  Org org(pristine);
  CM_ASSERT_ORG(org);
  // Short leases, so that the test waits seconds, not the default minute; the killed worker
  // dies as the 100th message it copies is recorded, appends in flight.
  std::vector<std::string> lease = {"CROSSMOVE_WORKER_LEASE=3s"};
  std::vector<std::string> doomed = {"CROSSMOVE_WORKER_LEASE=3s",
                                     "CROSSMOVE_CRASH_AFTER_MESSAGES=100"};
  std::vector<Started> workers;
  workers.push_back(StartWorker(org, "worker1", doomed));
  for (const char* name : {"worker2", "worker3"}) workers.push_back(StartWorker(org, name, lease));
  std::vector<RunResult> ended;
  for (const auto& w : workers) ended.push_back(testing::Finish(w));
  EXPECT_EQ(ended[0].exit_code, 137)
      << "the first worker was to be killed mid-copy: " << ended[0].err << ended[0].out;
  for (size_t i = 1; i < ended.size(); ++i) {
    EXPECT_EQ(ended[i].exit_code, 0) << "worker " << i + 1 << ": " << ended[i].err << ended[i].out;
  }

  // One uninterrupted run's end state, every message once.
  EXPECT_TRUE(testing::Entries(org, "source") == source) << testing::Difference(
      testing::Lines(testing::Entries(org, "source")), testing::Lines(source));
  EXPECT_TRUE(testing::Entries(org, "target") == target) << testing::Difference(
      testing::Lines(testing::Entries(org, "target")), testing::Lines(target));
  auto got = org.TargetMail();
  EXPECT_TRUE(got == mail) << testing::Difference(got, mail);
  EXPECT_EQ(JournalQuery(org, "SELECT state || ' ' || count(*) FROM mailboxes GROUP BY state"),
            fmt::format("routing-verified {}\n", kMailboxes));

  // The killed worker held mailboxes mid-copy, which the others took over: the journal has
  // steps of more than one run on some mailbox, in turn.
  std::string runs = JournalQuery(org, "SELECT count(DISTINCT run) FROM steps");
  EXPECT_EQ(runs, "3\n") << "every worker took part";
  std::string taken_over =
      JournalQuery(org,
                   "SELECT count(*) FROM (SELECT mailbox FROM steps GROUP BY mailbox "
                   "HAVING count(DISTINCT run) > 1) m");
  EXPECT_NE(taken_over, "0\n") << "no mailbox of the killed worker was taken over";
  // No mailbox held by two runs at once: in the journal's history of claims, one run's hold
  // on a mailbox (claimed to released, or to its takeover when the lease ran out) never
  // overlaps another's; and every step a run took on a mailbox lies within one of its holds.
  std::string overlaps = JournalQuery(
      org,
      "SELECT x.mailbox || ': runs ' || x.run || ' and ' || y.run FROM claims x JOIN claims y ON "
      "x.mailbox = y.mailbox AND x.id < y.id AND x.run <> y.run AND x.claimed < "
      "coalesce(y.released, 'z') AND y.claimed < coalesce(x.released, 'z')");
  std::string outside = JournalQuery(
      org,
      "SELECT s.mailbox || ' ' || s.step || ' by run ' || s.run FROM steps s WHERE NOT EXISTS "
      "(SELECT 1 FROM claims c WHERE c.mailbox = s.mailbox AND c.run = s.run AND c.claimed <= "
      "s.at AND s.at <= coalesce(c.released, 'z'))");
  EXPECT_EQ(outside, "") << "steps taken without holding the mailbox";
  std::string expired =
      JournalQuery(org, "SELECT count(*) FROM claims WHERE how = 'lease expired'");
  EXPECT_NE(expired, "0\n") << "no claim of the killed worker ran out and was taken over";
  EXPECT_EQ(overlaps, "") << "mailboxes worked on by two runs at once";

  // And verify agrees: every old address lands in its new mailbox.
  auto verify = org.Run({"verify"});
  EXPECT_EQ(verify.exit_code, 0) << verify.err << verify.out.substr(0, 2000);
}

// A second worker does not wait for the first, and neither moves a mailbox the other holds:
// between them, each mailbox is moved once.
TEST(Workers, TwoWorkersStartedTogetherEachMoveSomeAndTogetherAll) {
  Org org(kMailboxes, kMessages / 3, "MailEnableSourceAccount");
  CM_ASSERT_ORG(org);
  std::vector<Started> workers;
  for (const char* tag : {"w1", "w2"})
    workers.push_back(testing::StartCrossmove({"run", "--parallel", "2"}, org.dir(), {}, tag));
  for (const auto& w : workers) {
    RunResult r = testing::Finish(w);
    EXPECT_EQ(r.exit_code, 0) << r.err << r.out;
  }
  EXPECT_EQ(JournalQuery(org, "SELECT state || ' ' || count(*) FROM mailboxes GROUP BY state"),
            fmt::format("routing-verified {}\n", kMailboxes));
  EXPECT_EQ(JournalQuery(org,
                         "SELECT count(*) FROM (SELECT mailbox FROM steps WHERE step='copy' AND "
                         "phase='intent' GROUP BY mailbox HAVING count(*) > 1) m"),
            "0\n")
      << "a mailbox was copied twice";
  EXPECT_EQ(testing::Total(org.TargetMail()), kMessages / 3);
}

// max-moves-per-target-database holds across workers: with 4 workers of 2 threads each and a
// cap of 2, the journal's history of claims never has more than 2 moves into the target
// database at once, and does have 2 (the cap is a limit, not a serialization).
TEST(Workers, ACapOnMovesPerTargetDatabaseHoldsAcrossWorkers) {
  Org org(12, 120, "CreateSourceContact");
  CM_ASSERT_ORG(org);
  // Every step of a move pauses 50 ms at its start and end, so that moves overlap.
  std::vector<std::string> env = {"CROSSMOVE_MAX_MOVES_PER_TARGET_DATABASE=2",
                                  "CROSSMOVE_PAUSE_MS=50", "CROSSMOVE_WORKER_LEASE=3s"};
  std::vector<Started> workers;
  for (const char* name : {"worker1", "worker2", "worker3", "worker4"})
    workers.push_back(StartWorker(org, name, env));
  // Meanwhile `status` shows the database's load against its cap, and each worker's throughput
  // (heartbeats every second with these leases).
  std::atomic<bool> done{false};
  std::string load_seen, throughput_seen;
  std::thread watcher([&] {
    while (!done) {
      auto status = org.Run({"status", "--json"}, {"CROSSMOVE_MAX_MOVES_PER_TARGET_DATABASE=2"});
      auto j = nlohmann::json::parse(status.out, nullptr, false);
      if (!j.is_discarded() && j.contains("load")) {
        for (const auto& l : j["load"]) {
          if (l["resource"].get<std::string>().starts_with("target database") &&
              l["moves"].get<int>() > 0)
            load_seen = l.dump();
        }
      }
      if (!j.is_discarded() && j["running"].is_string()) {
        std::string running = j["running"].get<std::string>();
        if (std::regex_search(
                running,
                std::regex(R"(, [1-9][0-9]* messages? appended \([0-9.]+ MB\), [0-9.]+ MB/s)")))
          throughput_seen = running;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  for (const auto& w : workers) {
    RunResult r = testing::Finish(w);
    EXPECT_EQ(r.exit_code, 0) << r.err << r.out;
  }
  done = true;
  watcher.join();
  auto seen = nlohmann::json::parse(load_seen.empty() ? "{}" : load_seen);
  ASSERT_TRUE(seen.contains("moves")) << "status never showed a move into the target database";
  EXPECT_LE(seen["moves"].get<int>(), 2);
  EXPECT_EQ(seen["cap"], 2);
  EXPECT_EQ(seen["setting"], "max-moves-per-target-database");
  EXPECT_NE(throughput_seen, "") << "status never showed a worker's throughput";
  EXPECT_EQ(JournalQuery(org, "SELECT state || ' ' || count(*) FROM mailboxes GROUP BY state"),
            "routing-verified 12\n");
  // The most claims of moves into the database open at any claim's start.
  std::string most = JournalQuery(
      org,
      "SELECT max(n) FROM (SELECT (SELECT count(*) FROM claims d WHERE d.resources LIKE "
      "'%target database%' AND d.claimed <= c.claimed AND coalesce(d.released, 'z') > c.claimed) "
      "AS n FROM claims c WHERE c.resources LIKE '%target database%') x");
  EXPECT_EQ(most, "2\n") << "moves into the target database at once";
  EXPECT_EQ(testing::Total(org.TargetMail()), 120);
}

// The connections to the server at 127.0.0.1:`port` open now, read from the kernel's table:
// established on both ends (a client that has closed its end holds no connection, though the
// server's end may still say established for a moment).
int ServerConnections(int port) {
  std::string server = fmt::format("0100007F:{:04X}", port);
  std::set<std::pair<std::string, std::string>> established;  // (local, remote)
  for (const auto& line : Split(testing::Slurp("/proc/net/tcp"), '\n')) {
    std::vector<std::string> f;
    for (const auto& w : Split(line, ' '))
      if (!w.empty()) f.push_back(w);
    if (f.size() > 3 && f[3] == "01") established.emplace(f[1], f[2]);
  }
  int n = 0;
  for (const auto& [local, remote] : established)
    n += local == server && established.count({remote, local});
  return n;
}

// max-connections holds across workers: 3 workers of 2 threads each, a cap of 2 connections to
// the target server; the target's connections, sampled from the kernel every few milliseconds
// while they run, are never more than 2.
TEST(Workers, ACapOnConnectionsToATargetServerHoldsAcrossWorkers) {
  Org org(8, 80, "CreateSourceContact");
  CM_ASSERT_ORG(org);
  std::string toml = org.Read("crossmove.toml");
  size_t target = toml.find("[target.databases.");
  ASSERT_NE(target, std::string::npos);
  size_t batch = toml.find("batch-messages = 4", target);
  ASSERT_NE(batch, std::string::npos) << "not an IMAP target";
  toml.insert(batch, "max-connections = 2\ntimeout = 300\n");
  testing::Spit(org.dir() / "crossmove.toml", toml);
  int port = org.ImapPort("target");
  std::atomic<bool> done{false};
  std::atomic<int> most{0};
  std::thread sampler([&] {
    while (!done) {
      most = std::max(most.load(), ServerConnections(port));
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  });
  std::vector<std::string> env = {"CROSSMOVE_PAUSE_MS=30"};
  std::vector<Started> workers;
  for (const char* name : {"worker1", "worker2", "worker3"})
    workers.push_back(StartWorker(org, name, env));
  for (const auto& w : workers) {
    RunResult r = testing::Finish(w);
    EXPECT_EQ(r.exit_code, 0) << r.err << r.out;
  }
  done = true;
  sampler.join();
  EXPECT_EQ(JournalQuery(org, "SELECT state || ' ' || count(*) FROM mailboxes GROUP BY state"),
            "routing-verified 8\n");
  EXPECT_LE(most.load(), 2) << "connections to the target server at once";
  EXPECT_GE(most.load(), 1) << "the sampler saw no connection at all";
  EXPECT_EQ(testing::Total(org.TargetMail()), 80);
}

// A worker that stalls (SIGSTOP, as a frozen host does) longer than its lease, with a batch of
// appends sent whole but for the byte that ends the command: another worker takes its mailbox
// over and copies it again. When the stalled one goes on, its lease may have run out, so at
// that commit point it drops the connection instead of ending the command, and the server
// appends none of the batch. Every message once (imaplib), and the stalled worker says the
// mailbox was taken over, without failing it.
TEST(Workers, AWorkerStalledBeforeItsBatchEndsLandsNothingAfterAnotherTookTheMailboxOver) {
  constexpr int kOne = 40;
  Org pristine(1, kOne, "CreateSourceContact");
  CM_ASSERT_ORG(pristine);
  Org baseline(pristine);
  CM_ASSERT_ORG(baseline);
  ASSERT_EQ(baseline.Run({"run"}).exit_code, 0);
  auto mail = baseline.TargetMail();
  ASSERT_EQ(testing::Total(mail), kOne);

  Org org(pristine);
  CM_ASSERT_ORG(org);
  Started stalled =
      StartWorker(org, "worker1", {"CROSSMOVE_WORKER_LEASE=3s", "CROSSMOVE_STALL_AT_COMMIT=1"});
  auto state_of = [](pid_t pid) {
    std::string stat = testing::Slurp(fmt::format("/proc/{}/stat", pid));
    size_t paren = stat.rfind(')');
    return paren == std::string::npos || paren + 2 >= stat.size() ? '?' : stat[paren + 2];
  };
  char state = '?';
  for (int i = 0; i < 600 && (state = state_of(stalled.pid)) != 'T'; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_EQ(state, 'T') << "the first worker never reached its first commit point";
  EXPECT_EQ(testing::Total(org.TargetMail()), 0) << "the stalled batch landed before its end";

  RunResult other = testing::Finish(StartWorker(org, "worker2", {"CROSSMOVE_WORKER_LEASE=3s"}));
  EXPECT_EQ(other.exit_code, 0) << other.err << other.out;
  ::kill(stalled.pid, SIGCONT);
  RunResult late = testing::Finish(stalled);
  EXPECT_EQ(late.exit_code, 0) << late.err << late.out;
  // Its event log says so (the run's, where every worker writes its own lines).
  std::string events = org.Read(Org::EventLogFile());
  EXPECT_NE(events.find("taken over"), std::string::npos) << events.substr(0, 3000);

  auto got = org.TargetMail();
  EXPECT_TRUE(got == mail) << testing::Difference(got, mail);
  EXPECT_EQ(JournalQuery(org, "SELECT state FROM mailboxes"), "routing-verified\n");
}

}  // namespace
}  // namespace cm
