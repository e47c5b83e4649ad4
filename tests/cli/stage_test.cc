// Staged moves (issue 13): sync now, complete later. Every check reads what an administrator
// would: the source directory through the tests' own LDIF reader (ldif_entries.py), the mail
// from the Maildir files, the lifecycle from `status --json`.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "cli/imap_checks.h"
#include "cli/org.h"
#include "cli/stage_checks.h"

namespace cm {
namespace {

using testing::Org;
using testing::SourceEntries;
using Clock = std::chrono::steady_clock;

constexpr int kMailboxes = 3;
constexpr int kMessages = 60;

// How many mailboxes `status` shows in each lifecycle stage.
std::map<std::string, int> Stages(const Org& org) {
  std::map<std::string, int> out;
  nlohmann::json status = testing::StatusJson(org);  // kept: the loop reads into it
  for (const auto& m : status["mailboxes"]) ++out[m["stage"].get<std::string>()];
  return out;
}

// An ISO 8601 UTC time `seconds` from now, written by the test itself (strftime).
std::string UtcIn(int seconds) {
  std::time_t t = std::time(nullptr) + seconds;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

// The users file with a StartAfter or CompleteAfter column: `times[i]` for the i-th row ("" leaves
// it empty).
void AddTimeColumn(const Org& org, const std::string& column,
                   const std::vector<std::string>& times) {
  std::vector<std::string> lines = Split(org.Read("users.csv"), '\n');
  std::string out;
  size_t row = 0;
  for (std::string line : lines) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    if (line.starts_with("#TYPE")) {
      out += line + "\r\n";
    } else if (line.starts_with("\"Name\"")) {
      out += line + ",\"" + column + "\"\r\n";
    } else {
      out += line + ",\"" + (row < times.size() ? times[row] : "") + "\"\r\n";
      ++row;
    }
  }
  testing::Spit(org.dir() / "users.csv", out);
}

void AddCompleteAfterColumn(const Org& org, const std::vector<std::string>& times) {
  AddTimeColumn(org, "CompleteAfter", times);
}

TEST(Stage, SuspendWhenReadySyncsAndLeavesTheSourceUntouchedUntilComplete) {
  Org org(kMailboxes, kMessages, "CreateSourceContact");
  CM_ASSERT_ORG(org);
  std::string source_before = SourceEntries(org);
  auto sync = org.Run({"run", "--suspend-when-ready"});
  ASSERT_EQ(sync.exit_code, 0) << sync.err << sync.out;
  EXPECT_EQ(SourceEntries(org), source_before) << "a sync wrote to the source directory";
  EXPECT_EQ(testing::Total(org.TargetMail()), kMessages) << "the sync copied every message";
  EXPECT_EQ(Stages(org), (std::map<std::string, int>{{"synced", kMailboxes}}));
  EXPECT_NE(sync.err.find("waits for `crossmove complete`"), std::string::npos) << sync.err;

  // Another run (the interval not yet passed) still leaves the source alone, and so does one
  // that leaves the flag out (a cron line written without it): the journaled schedule holds.
  auto again = org.Run({"run", "--suspend-when-ready"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(SourceEntries(org), source_before);
  auto plain = org.Run({"run"});
  ASSERT_EQ(plain.exit_code, 0) << plain.err << plain.out;
  EXPECT_EQ(SourceEntries(org), source_before) << "a run without the flag cut over early";
  EXPECT_EQ(Stages(org), (std::map<std::string, int>{{"synced", kMailboxes}}));
  EXPECT_NE(plain.err.find(fmt::format("{} mailboxes keep the schedule journaled", kMailboxes)),
            std::string::npos)
      << plain.err;
  // `status` and `plan` say what each synced mailbox waits for.
  auto status_text = org.Run({"status"});
  ASSERT_EQ(status_text.exit_code, 0) << status_text.err;
  EXPECT_EQ(testing::Occurrences(status_text.out, "waits for `crossmove complete`"),
            static_cast<size_t>(kMailboxes))
      << status_text.out;
  auto plan = org.Run({"plan"});
  ASSERT_EQ(plan.exit_code, 0) << plan.err;
  EXPECT_EQ(testing::Occurrences(plan.out, "; waits for `crossmove complete`; next sync after 20"),
            static_cast<size_t>(kMailboxes))
      << plan.out;
  auto mail = org.TargetMail();

  auto complete = org.Run({"complete", "--all"});
  ASSERT_EQ(complete.exit_code, 0) << complete.err << complete.out;
  EXPECT_EQ(Stages(org), (std::map<std::string, int>{{"completed", kMailboxes}}));
  EXPECT_EQ(complete.err.find("keep the schedule"), std::string::npos) << complete.err;
  EXPECT_NE(SourceEntries(org), source_before);
  EXPECT_EQ(org.ReadBack("source", "objectclass", "contact").size(),
            static_cast<size_t>(kMailboxes))
      << "CreateSourceContact left a contact per mailbox";
  EXPECT_EQ(org.TargetMail(), mail) << "the completion copied no message twice";
}

// A synced target may lose or damage mail before the completion (days may pass): `complete`
// verifies it again after the final delta, leaves those sources alone, and the next run repairs
// them and completes. The mail is read from the files themselves.
TEST(Stage, CompleteVerifiesTheTargetAgainAndRepairsWhatWasLostSinceTheSync) {
  namespace fs = std::filesystem;
  Org org(kMailboxes, kMessages, "CreateSourceContact");
  CM_ASSERT_ORG(org);
  ASSERT_EQ(org.Run({"run", "--suspend-when-ready"}).exit_code, 0);
  std::vector<fs::path> users;
  for (const auto& d : fs::directory_iterator(org.dir() / "target-mail" / "contoso.test"))
    users.push_back(d.path());
  std::sort(users.begin(), users.end());
  ASSERT_GE(users.size(), 3u);
  auto first_file = [](const fs::path& maildir) {
    std::vector<fs::path> files;
    for (const auto& f : fs::directory_iterator(maildir / "cur")) files.push_back(f.path());
    std::sort(files.begin(), files.end());
    return files.empty() ? fs::path() : files.front();
  };
  fs::path damaged = first_file(users[0]), lost = first_file(users[1]);
  ASSERT_FALSE(damaged.empty() || lost.empty());
  std::string bytes = testing::Slurp(damaged);
  bytes[bytes.size() / 2] ^= 0x20;
  testing::Spit(damaged, bytes);
  fs::remove(lost);

  auto complete = org.Run({"complete", "--all"});
  EXPECT_EQ(complete.exit_code, 1) << complete.err << complete.out;
  std::string said = complete.out + complete.err;
  EXPECT_NE(said.find("content differs"), std::string::npos) << said;
  EXPECT_NE(said.find("missing from target"), std::string::npos) << said;
  std::map<std::string, std::string> stage_of;
  nlohmann::json status = testing::StatusJson(org);
  for (const auto& m : status["mailboxes"]) {
    stage_of[m["identity"].get<std::string>()] = m["stage"].get<std::string>();
    if (m["stage"] != "failed") continue;
    // Said as what failed (the verification; nothing was cleaned up), where the mailbox is now
    // (back before the copy, for the repair), and not graded "Perfect".
    EXPECT_EQ(m["failed_step"], "verify") << m.dump();
    EXPECT_EQ(m["state"], "target-provisioned") << m.dump();
    EXPECT_TRUE(m["grade"].is_null()) << m.dump();
  }
  int completed = 0;
  for (const auto& [identity, stage] : stage_of) completed += stage == "completed";
  EXPECT_EQ(completed, kMailboxes - 2) << "only the intact mailboxes complete";
  // The report says the same: the state the journal holds and a failed verification.
  size_t failed_rows = 0;
  for (const auto& line : Split(org.Read("crossmove-report.csv"), '\n')) {
    if (line.find("\"verify: ") == std::string::npos) continue;
    ++failed_rows;
    EXPECT_NE(line.find(",\"target-provisioned\",\"content FAILED\","), std::string::npos) << line;
  }
  EXPECT_EQ(failed_rows, 2u) << org.Read("crossmove-report.csv");
  EXPECT_EQ(org.ReadBack("source", "objectclass", "contact").size(),
            static_cast<size_t>(kMailboxes - 2))
      << "a damaged mailbox's source was cleaned up";

  auto again = org.Run({"complete", "--all"});
  ASSERT_EQ(again.exit_code, 0) << again.err << again.out;
  EXPECT_EQ(Stages(org), (std::map<std::string, int>{{"completed", kMailboxes}}));
  // Three commands, three runs: recording a completion is not a run of its own.
  EXPECT_NE(org.Read("crossmove-report.html").find("(run 3)"), std::string::npos);
  auto idle = org.Run({"complete", "--all"});
  EXPECT_EQ(idle.exit_code, 0) << idle.err;
  EXPECT_NE(idle.err.find("nothing to complete"), std::string::npos) << idle.err << idle.out;
  for (const auto& user : users) {
    auto source = testing::MailOf(org.dir() / "source-mail" / "fabrikam.test" / user.filename(),
                                  /*as_target_names=*/true);
    auto target = testing::MailOf(user);
    EXPECT_TRUE(source == target) << user << ":\n" << testing::Difference(target, source);
  }
}

// A user who empties much of a mailbox between the sync and the completion (or a broken
// source) trips the deletions guard: the final delta changes nothing and the mailbox waits for
// `complete --approve-deletions`, held and said so, not failed (nothing failed: nothing ran);
// its source stays as it was. The mail is read from the Maildir files.
TEST(Stage, TheDeletionsGuardHoldsACompletionUntilApproved) {
  namespace fs = std::filesystem;
  Org org(1, kMessages, "CreateSourceContact");
  CM_ASSERT_ORG(org);
  ASSERT_EQ(org.Run({"run", "--suspend-when-ready"}).exit_code, 0);
  std::string source_before = SourceEntries(org);
  // The whole source INBOX expunged (about two fifths of the mailbox), as a mail program does:
  // its files go.
  std::vector<fs::path> files;
  for (const auto& user : fs::directory_iterator(org.dir() / "source-mail" / "fabrikam.test"))
    for (const char* sub : {"cur", "new"})
      for (const auto& f : fs::directory_iterator(user.path() / sub)) files.push_back(f.path());
  ASSERT_GE(files.size() * 100, kMessages * 25u) << "too few in INBOX to trip the guard (20%)";
  for (const auto& f : files) fs::remove(f);
  auto mail = org.TargetMail();

  auto held = org.Run({"complete", "--all"});
  EXPECT_EQ(held.exit_code, 6) << held.err << held.out;  // waits for an operator's approval
  EXPECT_NE(held.err.find("held by the deletions guard"), std::string::npos) << held.err;
  EXPECT_NE(held.err.find("complete --approve-deletions"), std::string::npos) << held.err;
  EXPECT_EQ(held.err.find("FAILED"), std::string::npos) << held.err;
  EXPECT_NE(held.out.find(", 0 failed"), std::string::npos) << held.out;
  EXPECT_EQ(Stages(org), (std::map<std::string, int>{{"synced", 1}}));
  auto status = org.Run({"status"});
  EXPECT_NE(status.out.find("held by the deletions guard"), std::string::npos) << status.out;
  EXPECT_EQ(status.out.find("FAILED"), std::string::npos) << status.out;
  EXPECT_EQ(SourceEntries(org), source_before) << "a held completion cleaned up";
  EXPECT_EQ(org.TargetMail(), mail) << "a held pass changed the target";

  auto approved = org.Run({"complete", "--all", "--approve-deletions"});
  ASSERT_EQ(approved.exit_code, 0) << approved.err << approved.out;
  EXPECT_EQ(Stages(org), (std::map<std::string, int>{{"completed", 1}}));
  EXPECT_EQ(testing::Total(org.TargetMail()), kMessages - static_cast<int>(files.size()));
}

// A sync pass the guard held stays held until approved: a later run with nothing due still
// says so and exits 6 (waits for approval), not 0.
TEST(Stage, ASyncPassTheDeletionsGuardHeldStaysHeldInTheExitCodeOfLaterRuns) {
  namespace fs = std::filesystem;
  Org org(1, kMessages, "CreateSourceContact");
  CM_ASSERT_ORG(org);
  ASSERT_EQ(org.Run({"run", "--suspend-when-ready"}).exit_code, 0);
  for (const auto& user : fs::directory_iterator(org.dir() / "source-mail" / "fabrikam.test"))
    for (const char* sub : {"cur", "new"})
      for (const auto& f : fs::directory_iterator(user.path() / sub)) fs::remove(f.path());
  auto held = org.Run({"run", "--incremental-sync-interval", "0"});
  ASSERT_EQ(held.exit_code, 6) << held.err << held.out;
  auto later = org.Run({"run"});  // the 24 h interval: no sync is due
  EXPECT_EQ(later.exit_code, 6) << later.err << later.out;
  EXPECT_NE(later.err.find("held by the deletions guard"), std::string::npos) << later.err;
}

// `complete` carries out mailboxes the journal has: a row it has not started (here one rolled
// back and forgotten, which would now collide with the mail user it left) is not planned, and
// its problem does not hold up the completion of the others.
TEST(Stage, CompletingOneMailboxIsNotHeldUpByAnotherRowsProblem) {
  Org org(kMailboxes, kMessages, "CreateSourceContact");
  CM_ASSERT_ORG(org);
  ASSERT_EQ(org.Run({"run", "--suspend-when-ready"}).exit_code, 0);
  ASSERT_EQ(org.Run({"rollback", "alice.adams"}).exit_code, 0);
  ASSERT_EQ(org.Run({"forget", "alice.adams"}).exit_code, 0);
  auto plan = org.Run({"plan"});
  EXPECT_EQ(plan.exit_code, 2) << "the forgotten row collides with the mail user it left";
  std::string other;
  nlohmann::json status = testing::StatusJson(org);
  for (const auto& m : status["mailboxes"]) other = m["identity"];
  ASSERT_FALSE(other.empty());
  auto complete = org.Run({"complete", other});
  ASSERT_EQ(complete.exit_code, 0) << complete.err << complete.out;
  std::map<std::string, int> stages = Stages(org);
  EXPECT_EQ(stages["completed"], 1) << ::testing::PrintToString(stages);
}

// A mailbox queued by its row's StartAfter keeps the run's suspend-when-ready too: a later run
// that names no schedule setting (a cron line) neither drops it nor cuts the mailbox over once
// its start has come (new-user trial: it was completed without `crossmove complete`).
TEST(Stage, AQueuedMailboxKeepsItsJournaledScheduleWhenItsStartComes) {
  Org org(kMailboxes, kMessages, "CreateSourceContact");
  CM_ASSERT_ORG(org);
  std::string start = UtcIn(4);
  AddTimeColumn(org, "StartAfter", {start});
  std::string source_before = SourceEntries(org);
  ASSERT_EQ(org.Run({"run", "--suspend-when-ready"}).exit_code, 0);
  EXPECT_EQ(Stages(org), (std::map<std::string, int>{{"queued", 1}, {"synced", 2}}));
  auto plain = org.Run({"run"});
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_NE(plain.err.find(fmt::format("{} mailboxes keep the schedule journaled", kMailboxes)),
            std::string::npos)
      << plain.err;
  auto planned = org.Run({"plan"});
  ASSERT_EQ(planned.exit_code, 0) << planned.err;
  EXPECT_NE(planned.out.find("staged: starts after " + start +
                             ", then syncs; then waits for `crossmove complete`"),
            std::string::npos)
      << planned.out;
  auto queued = org.Run({"status"});
  EXPECT_NE(queued.out.find("starts after " + start +
                            ", then syncs; then waits for `crossmove "
                            "complete`"),
            std::string::npos)
      << queued.out;
  std::this_thread::sleep_for(std::chrono::seconds(5));
  auto started = org.Run({"run"});
  ASSERT_EQ(started.exit_code, 0) << started.err << started.out;
  EXPECT_EQ(Stages(org), (std::map<std::string, int>{{"synced", kMailboxes}}));
  EXPECT_EQ(SourceEntries(org), source_before) << "a mailbox was cut over without `complete`";
}

TEST(Stage, CompleteAfterInThePastCompletesAtTheNextRun) {
  Org org(kMailboxes, kMessages, "CreateSourceContact");
  CM_ASSERT_ORG(org);
  auto r = org.Run({"run", "--complete-after", "2001-02-03T04:05:06+01:00"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_EQ(Stages(org), (std::map<std::string, int>{{"completed", kMailboxes}}));
}

// A mailbox queued to start later is shown by `status` with its start time, not only counted.
TEST(Stage, StatusShowsQueuedMailboxesWithTheirStartTime) {
  Org org(kMailboxes, kMessages, "CreateSourceContact");
  CM_ASSERT_ORG(org);
  auto r = org.Run({"run", "--start-after", "2999-01-01T00:00:00Z"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  auto status = org.Run({"status"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  size_t shown = 0;
  for (const auto& line : Split(status.out, '\n'))
    shown += line.find("(queued, ") != std::string::npos &&
             line.find("next 2999-01-01T00:00:00Z") != std::string::npos;
  EXPECT_EQ(shown, static_cast<size_t>(kMailboxes)) << status.out;
  // Not snapshotted yet, a queued mailbox is still named by any form: its alias and
  // sAMAccountName come from the source directory.
  for (const std::string typed : {"alice.adams", "ALICEADAMS0", "FABRIKAM\\aliceadams0"}) {
    auto one = org.Run({"status", typed});
    EXPECT_EQ(one.exit_code, 0) << typed << ": " << one.err;
    EXPECT_EQ(testing::Occurrences(one.out, "(queued, "), 1u) << typed << ": " << one.out;
  }
  EXPECT_EQ(org.Run({"suspend", "alice.adams"}).exit_code, 0);
  // verify and rollback work on what was moved: a queued mailbox is named as such.
  for (const std::vector<std::string>& argv : {std::vector<std::string>{"verify", "alice.adams"},
                                               {"rollback", "--dry-run", "ALICEADAMS0"}}) {
    auto r = org.Run(argv);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("is pending and not snapshotted yet (nothing was moved): nothing to "),
              std::string::npos)
        << r.err;
  }
}

TEST(Stage, CompleteAfterInTheFutureOnlySyncsUntilItPasses) {
  Org org(kMailboxes, kMessages, "CreateSourceContact");
  CM_ASSERT_ORG(org);
  std::string source_before = SourceEntries(org);
  // One row completes now (its column in the past), the others after the setting's time.
  AddCompleteAfterColumn(org, {"2001-01-01T00:00:00Z"});
  // `plan` says what each will do.
  auto plan = org.Run({"plan", "--complete-after", "2999-01-01T00:00:00Z"});
  ASSERT_EQ(plan.exit_code, 0) << plan.err;
  EXPECT_EQ(testing::Occurrences(plan.out, "staged: syncs now; completes once synced\n"), 1u)
      << plan.out;
  EXPECT_EQ(
      testing::Occurrences(plan.out, "staged: syncs now; completes after 2999-01-01T00:00:00Z\n"),
      2u)
      << plan.out;
  auto r = org.Run({"run", "--complete-after", "2999-01-01T00:00:00Z"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_EQ(Stages(org), (std::map<std::string, int>{{"completed", 1}, {"synced", 2}}));
  auto status = testing::StatusJson(org);
  EXPECT_EQ(status["batch"]["synced"], 2) << status.dump(2);
  EXPECT_EQ(status["batch"]["completed"], 1) << status.dump(2);
  for (const auto& m : status["mailboxes"]) {
    if (m["stage"] == "synced") {
      EXPECT_EQ(m["complete_after"], "2999-01-01T00:00:00Z") << m.dump();
      EXPECT_FALSE(m["last_sync"].is_null()) << m.dump();
    }
  }
  EXPECT_EQ(org.ReadBack("source", "objectclass", "contact").size(), 1u);
  EXPECT_EQ(testing::Total(org.TargetMail()), kMessages);
  // The text says when they complete; --json before the command is the command's --json.
  auto text = org.Run({"status"});
  EXPECT_EQ(testing::Occurrences(text.out, "completes after 2999-01-01T00:00:00Z"), 2u) << text.out;
  auto json_first = org.Run({"--json", "status"});
  ASSERT_EQ(json_first.exit_code, 0) << json_first.err;
  auto parsed = nlohmann::json::parse(json_first.out, nullptr, false);
  ASSERT_FALSE(parsed.is_discarded()) << json_first.out;
  EXPECT_EQ(parsed["mailboxes"], status["mailboxes"]);
  // A run that names no time keeps the journaled one: nothing completes early.
  auto plain = org.Run({"run"});
  ASSERT_EQ(plain.exit_code, 0) << plain.err << plain.out;
  EXPECT_EQ(Stages(org), (std::map<std::string, int>{{"completed", 1}, {"synced", 2}}));
  EXPECT_EQ(org.ReadBack("source", "objectclass", "contact").size(), 1u);
}

TEST(Stage, RunWatchCompletesAMailboxWhenItsCompleteAfterComes) {
  Org org(kMailboxes, kMessages, "CreateSourceContact");
  CM_ASSERT_ORG(org);
  auto started = Clock::now();
  auto r = org.Run({"run", "--watch", "--complete-after", UtcIn(6)});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_GE(Clock::now() - started, std::chrono::seconds(4)) << "completed before its time";
  EXPECT_EQ(Stages(org), (std::map<std::string, int>{{"completed", kMailboxes}}));
  EXPECT_NE(r.err.find("watching; next due"), std::string::npos) << r.err;
  EXPECT_EQ(testing::Total(org.TargetMail()), kMessages);
}

// An approval of deletions belongs to the pass that carries it: while a watch holds the
// journal, `complete --approve-deletions` refuses (exit 4) and records nothing, instead of a
// request the watch would carry without the approval.
TEST(Stage, ApprovingDeletionsWhileAWatchHoldsTheJournalIsRefused) {
  Org org(kMailboxes, kMessages, "CreateSourceContact");
  CM_ASSERT_ORG(org);
  ASSERT_EQ(org.Run({"run", "--suspend-when-ready"}).exit_code, 0);
  auto watch =
      testing::StartCrossmove({"run", "--watch", "--suspend-when-ready"}, org.dir(), {}, "watch");
  bool held = false;  // status names the run that holds the journal
  for (int i = 0; i < 100 && !held; ++i) {
    held = !testing::StatusJson(org)["running"].is_null();
    if (!held) usleep(100000);
  }
  auto r = org.Run({"complete", "--approve-deletions", "--all"});
  std::string said = r.err;
  kill(watch.pid, SIGTERM);
  testing::Finish(watch);
  ASSERT_TRUE(held) << "the watch never held the journal";
  EXPECT_EQ(r.exit_code, 4) << said << r.out;
  EXPECT_NE(said.find("--approve-deletions approves only a pass this command runs itself"),
            std::string::npos)
      << said;
  nlohmann::json status = testing::StatusJson(org);
  for (const auto& m : status["mailboxes"]) EXPECT_EQ(m["complete_requested"], false) << m.dump();
}

TEST(Stage, SuspendedMailboxesAreLeftAloneUntilResumed) {
  Org org(kMailboxes, kMessages, "CreateSourceContact");
  CM_ASSERT_ORG(org);
  ASSERT_EQ(org.Run({"run", "--suspend-when-ready"}).exit_code, 0);
  const std::string one = testing::StatusJson(org)["mailboxes"][0]["identity"];
  // Said, not confirmed, where there is nothing to do.
  auto not_suspended = org.Run({"resume", one});
  EXPECT_EQ(not_suspended.exit_code, 0) << not_suspended.err;
  EXPECT_NE(not_suspended.err.find(one + " is not suspended: nothing to resume"), std::string::npos)
      << not_suspended.err;
  EXPECT_EQ(not_suspended.out.find("resumed"), std::string::npos) << not_suspended.out;
  ASSERT_EQ(org.Run({"suspend", "--all"}).exit_code, 0);
  std::string source_before = SourceEntries(org);
  auto complete = org.Run({"complete", "--all"});
  ASSERT_EQ(complete.exit_code, 0) << complete.err;
  EXPECT_EQ(Stages(org), (std::map<std::string, int>{{"suspended", kMailboxes}}));
  // Said per mailbox, not silent: the request waits for `resume`.
  size_t said = 0;
  for (size_t at = complete.err.find("is suspended: its completion is recorded");
       at != std::string::npos; at = complete.err.find("is suspended: its completion", at + 1))
    ++said;
  EXPECT_EQ(said, static_cast<size_t>(kMailboxes)) << complete.err;
  // ... and the summary counts them as suspended, not as synced and due.
  std::string summary = complete.out + complete.err;
  EXPECT_NE(summary.find(fmt::format("{} suspended (until `crossmove resume`)", kMailboxes)),
            std::string::npos)
      << summary;
  EXPECT_EQ(summary.find("synced (not completed yet"), std::string::npos) << summary;
  EXPECT_EQ(SourceEntries(org), source_before);
  ASSERT_EQ(org.Run({"resume", "--all"}).exit_code, 0);
  auto run = org.Run({"run"});  // the completion asked for above is still recorded
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(Stages(org), (std::map<std::string, int>{{"completed", kMailboxes}}));
  auto completed = org.Run({"suspend", one});
  EXPECT_EQ(completed.exit_code, 0) << completed.err;
  EXPECT_NE(completed.err.find(one + " is routing-verified: nothing to suspend"), std::string::npos)
      << completed.err;
  EXPECT_EQ(Stages(org), (std::map<std::string, int>{{"completed", kMailboxes}}));
}

TEST(Stage, ABadTimeNamesTheFileTheLineAndTheField) {
  Org org(kMailboxes, kMessages, "CreateSourceContact");
  CM_ASSERT_ORG(org);
  AddCompleteAfterColumn(org, {"", "next tuesday"});
  auto r = org.Run({"run"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  // Line 4: the #TYPE line, the header, the first row, then the second.
  EXPECT_NE(r.err.find("users.csv:4"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("column CompleteAfter"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("'next tuesday' is not an ISO 8601 time"), std::string::npos) << r.err;

  auto flag = org.Run({"plan", "--start-after", "2026-13-01T00:00:00Z"});
  EXPECT_EQ(flag.exit_code, 2) << flag.err;
  EXPECT_NE(flag.err.find("--start-after"), std::string::npos) << flag.err;
  EXPECT_NE(flag.err.find("the month is out of range"), std::string::npos) << flag.err;
  EXPECT_FALSE(std::filesystem::exists(org.dir() / "crossmove.journal")) << "nothing was written";
}

// A journal of the version before staged moves has no stage records (the stages table): it
// opens read-only for status and a run resumes it to the end.
TEST(Stage, AJournalOfThePreviousVersionOpensAndResumes) {
  Org org(kMailboxes, kMessages, "CreateSourceContact");
  CM_ASSERT_ORG(org);
  // Stopped after some steps, as a crash of the previous version would leave it.
  auto crashed = org.Run({"run", "--parallel", "1"}, {"CROSSMOVE_CRASH_AFTER_STEP=7"});
  ASSERT_EQ(crashed.exit_code, 137) << crashed.err;
  auto dropped = testing::RunProgram(
      {"python3", "-c",
       "import sqlite3,sys; d=sqlite3.connect(sys.argv[1]); d.execute('DROP TABLE stages'); "
       "d.commit()",
       (org.dir() / "crossmove.journal").string()},
      org.dir());
  ASSERT_EQ(dropped.exit_code, 0) << dropped.err;
  auto status = org.Run({"status", "--json"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  auto resumed = org.Run({"run"});
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err << resumed.out;
  EXPECT_EQ(Stages(org), (std::map<std::string, int>{{"completed", kMailboxes}}));
  EXPECT_EQ(testing::Total(org.TargetMail()), kMessages);
}

struct EndState {
  std::string source, target;
  std::map<std::string, int> mail;
  nlohmann::json counts;
};

EndState StateOf(const Org& org) {
  return {SourceEntries(org), org.DirectoryText("target"), org.TargetMail(),
          testing::StatusJson(org)["counts"]};
}

// Adds `value` to the first record of an LDIF file whose `attr` holds `match` (the test edits the
// embedded directory's file as an administrator's tool would).
void AddValue(const Org& org, const std::string& file, const std::string& attr,
              const std::string& match, const std::string& value) {
  std::string text = org.Read(file);
  std::string dn;
  for (auto& record : testing::ParseLdif(text)) {
    auto& values = record[attr];
    if (std::find(values.begin(), values.end(), match) != values.end()) {
      dn = record["dn"].at(0);
      break;
    }
  }
  ASSERT_FALSE(dn.empty()) << match << " in " << file;
  size_t at = text.find("dn: " + dn + "\n");
  ASSERT_NE(at, std::string::npos) << dn;
  at = text.find('\n', at) + 1;
  text.insert(at, "proxyAddresses: " + value + "\n");
  testing::Spit(org.dir() / file, text);
}

// A staged move syncs for days; meanwhile the administrator gives the old mailbox a new address.
// The cleanup was planned from the snapshot: completing would delete that address with the
// source object, and nothing would hold it. So the completion stops, naming it, and touches
// nothing; once the new mailbox holds it too, the completion goes on and the address reaches
// the new mailbox. Read back with the tests' own LDIF reader.
TEST(Stage, AnAddressTheSourceGainedSinceTheSyncStopsItsCompletionUntilTheTargetHoldsIt) {
  Org org(1, 10, "CreateSourceContact");
  CM_ASSERT_ORG(org);
  ASSERT_EQ(org.Run({"run", "--suspend-when-ready"}).exit_code, 0);
  std::string primary;
  for (auto& record : testing::ParseLdif(org.Read("source.ldif"))) {
    if (record["homemdb"].empty()) continue;
    for (const auto& p : record["proxyaddresses"])
      if (p.starts_with("SMTP:")) primary = p;
  }
  ASSERT_FALSE(primary.empty());
  AddValue(org, "source.ldif", "proxyaddresses", primary, "smtp:newalias@fabrikam.test");
  if (HasFatalFailure()) return;
  std::string source_before = SourceEntries(org);

  auto stopped = org.Run({"complete", "--all"});
  EXPECT_EQ(stopped.exit_code, 1) << stopped.err << stopped.out;
  std::string said = stopped.out + stopped.err;
  EXPECT_NE(said.find("gained 1 address since it was snapshotted (newalias@fabrikam.test)"),
            std::string::npos)
      << said;
  EXPECT_EQ(SourceEntries(org), source_before) << "the source was cleaned up";

  // The administrator adds it to the new mailbox: the completion goes on.
  std::string target_primary;
  for (auto& record : testing::ParseLdif(org.Read("target.ldif"))) {
    if (record["homemdb"].empty()) continue;
    for (const auto& p : record["proxyaddresses"])
      if (p.starts_with("SMTP:")) target_primary = p;
  }
  ASSERT_FALSE(target_primary.empty());
  AddValue(org, "target.ldif", "proxyaddresses", target_primary, "smtp:newalias@fabrikam.test");
  if (HasFatalFailure()) return;
  auto completed = org.Run({"complete", "--all"});
  ASSERT_EQ(completed.exit_code, 0) << completed.err << completed.out;
  EXPECT_NE(SourceEntries(org), source_before);
  size_t holders = 0;
  for (auto& record : testing::ParseLdif(org.Read("target.ldif"))) {
    for (const auto& p : record["proxyaddresses"])
      holders += IEquals(p, "smtp:newalias@fabrikam.test") && !record["homemdb"].empty();
  }
  EXPECT_EQ(holders, 1u) << "the new mailbox holds the address";
}

// The user goes on working in the old mailbox after the sync, on the Maildir files themselves:
// one new message, one flag set, one message deleted, in each mailbox.
void ChangeEverySourceMailbox(const Org& org) {
  namespace fs = std::filesystem;
  int n = 0;
  for (const auto& user : testing::Users(org)) {
    fs::path cur = org.dir() / "source-mail" / "fabrikam.test" / user / "cur";
    std::vector<fs::path> files;
    for (const auto& f : fs::directory_iterator(cur)) files.push_back(f.path());
    std::sort(files.begin(), files.end());
    ASSERT_GE(files.size(), 2u) << cur;
    std::string name = files[0].filename().string();
    fs::rename(files[0], cur / (name.substr(0, name.find(":2,")) + ":2,FS"));
    fs::remove(files[1]);
    fs::path late = cur / fmt::format("1700000{:03}.M1P1.late,S=60:2,", n++);
    testing::Spit(late, fmt::format("Message-ID: <late-{}@x>\r\nSubject: late\r\n\r\nafter the "
                                    "sync\r\n",
                                    user));
    // Its date (the file's mtime in a Maildir) the same in every copy of the organization.
    testing::RunProgram({"touch", "-d", "@1700000100", late.string()}, org.dir());
  }
}

// Kill -9 after every journal step of an incremental sync pass and of `complete`, one step per
// try: the rerun ends where the uninterrupted sequence (sync, the user's changes, sync again,
// complete) ends, and that is the source as its files are then.
TEST(Stage, ACrashAfterEveryStepOfASyncPassAndOfCompleteResumesToTheSameEndState) {
  Org pristine(kMailboxes, kMessages, "MailEnableSourceAccount");
  CM_ASSERT_ORG(pristine);
  const std::vector<std::string> sync = {
      "run", "--parallel", "1", "--suspend-when-ready", "--incremental-sync-interval", "0"};
  const std::vector<std::string> complete = {"complete", "--all", "--parallel", "1"};
  Org baseline(pristine);
  ASSERT_EQ(baseline.Run(sync).exit_code, 0);
  ChangeEverySourceMailbox(baseline);
  if (HasFatalFailure()) return;
  auto pass = baseline.Run(sync);
  ASSERT_EQ(pass.exit_code, 0) << pass.err;
  ASSERT_EQ(baseline.Run(complete).exit_code, 0);
  EndState expected = StateOf(baseline);
  ASSERT_EQ(expected.counts["routing-verified"], kMailboxes);
  // Every mailbox: a message more, one fewer, one flag changed: the target as the source's
  // files are now, read from both sides' files.
  for (const auto& user : testing::Users(baseline)) {
    auto source = testing::MailOf(baseline.dir() / "source-mail" / "fabrikam.test" / user, true);
    ASSERT_EQ(baseline.TargetMail(user), source)
        << user << ":\n"
        << testing::Difference(baseline.TargetMail(user), source);
  }

  int crashes = 0;
  for (const bool in_complete : {false, true}) {
    for (int step = 1; step < 100; ++step) {
      Org org(pristine);
      CM_ASSERT_ORG(org);
      ASSERT_EQ(org.Run(sync).exit_code, 0);
      ChangeEverySourceMailbox(org);
      if (HasFatalFailure()) return;
      std::vector<std::string> crash = {fmt::format("CROSSMOVE_CRASH_AFTER_STEP={}", step)};
      auto crashed = org.Run(in_complete ? complete : sync, crash);
      if (crashed.exit_code == 0) break;  // past the last step: it finished untouched
      ASSERT_EQ(crashed.exit_code, 137) << "step " << step << ": " << crashed.err;
      ++crashes;
      // The rerun: the interrupted command again, then whatever of the sequence is left.
      auto rerun = org.Run(in_complete ? complete : sync);
      ASSERT_EQ(rerun.exit_code, 0) << "step " << step << ": " << rerun.err << rerun.out;
      if (!in_complete) {
        ASSERT_EQ(org.Run(complete).exit_code, 0);
      }
      EndState got = StateOf(org);
      std::string where = fmt::format("after a crash at step {} of {}", step,
                                      in_complete ? "complete" : "the sync pass");
      EXPECT_EQ(got.source, expected.source) << "source directory differs " << where;
      EXPECT_EQ(got.target, expected.target) << "target directory differs " << where;
      EXPECT_TRUE(got.mail == expected.mail) << "mail differs " << where << ":\n"
                                             << testing::Difference(got.mail, expected.mail);
      EXPECT_EQ(got.counts, expected.counts) << "journal differs " << where;
      if (HasFailure()) return;
    }
  }
  // A sync pass: 2 journal records per mailbox; complete: cleanup and routing, 4 per mailbox.
  EXPECT_GE(crashes, kMailboxes * 6);
}

}  // namespace
}  // namespace cm
