// The migration report is evidence (issue 12): built from the journal, so an interrupted run and
// its resume report the whole migration; every run keeps its own dated report.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>
#include <string>

#include "app/report.h"
#include "cli/org.h"
#include "core/strings.h"

namespace cm {
namespace {

using testing::Org;

constexpr int kMailboxes = 4;
constexpr int kMessages = 400;

// identity -> (state, messages), read from a report's CSV by the header's column names; with
// `seconds`, the seconds column too (else 0).
struct ReportLine {
  std::string state;
  uint64_t messages = 0;
  double seconds = 0;
  bool operator==(const ReportLine&) const = default;
};
std::map<std::string, ReportLine> ReportMessages(const std::string& csv, bool seconds = false) {
  std::map<std::string, ReportLine> out;
  for (auto& row : testing::ParseCsv(csv)) {
    out[row.at("identity")] = {row.at("state"), std::stoull(row.at("messages")),
                               seconds ? std::stod(row.at("seconds")) : 0};
  }
  return out;
}

std::set<std::string> DatedReports(const std::filesystem::path& dir) {
  std::set<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    std::string name = e.path().filename().string();
    if (name.starts_with("crossmove-report-") && name.ends_with(".html")) out.insert(name);
  }
  return out;
}

TEST(MigrationReport, SigintMidCopyThenResumeReportsEveryMailboxWithItsFullCount) {
  Org org(kMailboxes, kMessages, "CreateSourceContact");
  CM_ASSERT_ORG(org);
  // Ctrl-C as the 150th message is recorded: the first mailbox (about 100 messages) is moved,
  // the second is mid-copy.
  auto stopped = org.Run({"run", "--parallel", "1"}, {"CROSSMOVE_INTERRUPT_AFTER_MESSAGES=150"});
  ASSERT_EQ(stopped.exit_code, 5) << stopped.err << stopped.out;
  EXPECT_NE(stopped.out.find("Interrupted by SIGINT: stopped at a safe point"), std::string::npos)
      << stopped.out;
  EXPECT_NE(stopped.out.find("To resume, run the same command again"), std::string::npos);
  EXPECT_NE(stopped.err.find("crossmove: stopping at a safe point"), std::string::npos);
  auto first = ReportMessages(org.Read("crossmove-report.csv"));
  ASSERT_EQ(first.size(), static_cast<size_t>(kMailboxes)) << org.Read("crossmove-report.csv");
  uint64_t copied_before = 0;
  for (const auto& [identity, row] : first) copied_before += row.messages;
  EXPECT_GE(copied_before, 150u);
  EXPECT_LT(copied_before, static_cast<uint64_t>(kMessages));
  auto dated_after_stop = DatedReports(org.dir());
  ASSERT_EQ(dated_after_stop.size(), 1u);
  std::string stopped_report = org.Read(*dated_after_stop.begin());

  auto resumed = org.Run({"run"});
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err << resumed.out;
  EXPECT_NE(resumed.out.find(fmt::format("{0} of {0} mailboxes moved and verified", kMailboxes)),
            std::string::npos)
      << resumed.out;
  // The resume copied only what was left; the report counts what both runs copied.
  auto whole = ReportMessages(org.Read("crossmove-report.csv"));
  ASSERT_EQ(whole.size(), static_cast<size_t>(kMailboxes));
  uint64_t total = 0;
  for (const auto& [identity, row] : whole) {
    EXPECT_EQ(row.state, "routing-verified") << identity;
    EXPECT_GT(row.messages, 0u) << identity;
    total += row.messages;
  }
  // Each mailbox's time is what its steps took in both runs (milliseconds count: a mailbox of
  // 100 messages moves well within a second); the one moved before the interruption kept its.
  auto timed = ReportMessages(org.Read("crossmove-report.csv"), /*seconds=*/true);
  for (const auto& [identity, row] : timed) EXPECT_GT(row.seconds, 0) << identity;
  EXPECT_EQ(total, static_cast<uint64_t>(kMessages));
  // And the mail itself, read from the target's files (not from crossmove): every message once.
  EXPECT_EQ(testing::Total(org.TargetMail()), kMessages);

  // A later run writes a dated report of its own and keeps the earlier ones as they were.
  ASSERT_EQ(org.Run({"run"}).exit_code, 0);
  auto dated = DatedReports(org.dir());
  EXPECT_EQ(dated.size(), 3u);
  EXPECT_EQ(org.Read(*dated_after_stop.begin()), stopped_report);
  EXPECT_EQ(ReportMessages(org.Read("crossmove-report.csv")), whole);
}

// A users-file row that chooses its own cleanup: the header names both options with their
// counts, not the configured one for all (new-user trial), and the row its own.
TEST(MigrationReport, TheHeaderNamesEveryCleanupTheRowsChose) {
  Org org(3, 2, "CreateSourceContact");
  CM_ASSERT_ORG(org);
  // The header gets the column, the first mailbox row a value of its own, the others none.
  std::string users;
  int row = 0;
  for (const auto& line : Split(org.Read("users.csv"), '\n')) {
    std::string l(Trim(line));
    if (l.empty()) continue;
    if (l.starts_with("\"Name\""))
      l += ",\"SourceMailboxCleanupOptions\"";
    else if (!l.starts_with("#"))
      l += ++row == 1 ? ",\"MailEnableSourceAccount\"" : ",\"\"";
    users += l + "\r\n";
  }
  ASSERT_EQ(row, 3) << users;
  testing::Spit(org.dir() / "users.csv", users);
  auto r = org.Run({"run"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  std::string html = org.Read("crossmove-report.html");
  EXPECT_NE(html.find("CreateSourceContact for 2 mailboxes, MailEnableSourceAccount for 1 mailbox "
                      "(users-file rows choose their own; the default is CreateSourceContact)"),
            std::string::npos)
      << html;
  std::map<std::string, size_t> by_cleanup;
  for (auto& row : testing::ParseCsv(org.Read("crossmove-report.csv")))
    ++by_cleanup[row.at("cleanup")];
  EXPECT_EQ(by_cleanup, (std::map<std::string, size_t>{{"CreateSourceContact", 2},
                                                       {"MailEnableSourceAccount", 1}}));
}

TEST(MigrationReport, FailuresComeFirstThenSkippedThenTheRest) {
  std::vector<ReportRow> rows(4);
  rows[0].identity = "ok-1";
  rows[1].identity = "skipped";
  rows[1].skipped = "held by run 2";
  rows[2].identity = "failed";
  rows[2].failure = "copy: connection lost";
  rows[3].identity = "ok-2";
  FailuresFirst(rows);
  std::vector<std::string> order;
  for (const auto& r : rows) order.push_back(r.identity);
  EXPECT_EQ(order, (std::vector<std::string>{"failed", "skipped", "ok-1", "ok-2"}));
}

// Each mailbox's verify result has its own column; the throughput is the migration's (every
// run's bytes over every run's copying time); words wrap at spaces, only addresses and DNs may
// break anywhere. The files are read back, not the report's own model.
TEST(MigrationReport, AVerifyColumnPerMailboxAndTheThroughputOfAllRuns) {
  std::vector<ReportRow> rows(4);
  rows[0].identity = "done@fabrikam.test";
  rows[0].state = "routing-verified";
  rows[0].bytes = 30'000'000;
  rows[0].messages = 300;
  rows[0].cleanup = "MailEnableSourceAccount";
  rows[1].identity = "bad@fabrikam.test";
  rows[1].state = "content-copied";
  rows[1].failure = "verify: 2 problems in 10 messages";
  rows[1].bytes = 10'000'000;
  rows[1].messages = 100;
  rows[2].identity = "new@fabrikam.test";
  rows[2].state = "pending";
  rows[3].identity = "fixed@fabrikam.test";
  rows[3].state = "content-verified";
  rows[3].repaired = {"INBOX 1.2"};
  RunReport report;
  report.title = "t";
  report.rows = rows;
  report.seconds = 1;           // this run: would give 40 MB/s
  report.copying_seconds = 20;  // every run: 40 MB in 20 s
  report.grade = "Perfect";     // of the mailboxes that got through
  char tmpl[] = "/tmp/crossmove-report-XXXXXX";
  std::filesystem::path dir = mkdtemp(tmpl);
  ASSERT_TRUE(WriteReport((dir / "r").string(), report).ok());
  std::string csv = testing::Slurp(dir / "r.csv");
  std::string html = testing::Slurp(dir / "r.html");
  std::filesystem::remove_all(dir);
  auto lines = Split(csv, '\n');
  ASSERT_GE(lines.size(), 5u) << csv;
  EXPECT_TRUE(
      lines[0].starts_with("identity,source_dn,target_dn,target_primary_smtp,cleanup,"
                           "state,verify,failure,"))
      << lines[0];
  EXPECT_NE(lines[1].find("\"routing-verified\",\"content and routing verified\","),
            std::string::npos)
      << lines[1];
  EXPECT_NE(lines[2].find("\"content-copied\",\"content FAILED\",\"verify: 2 problems"),
            std::string::npos)
      << lines[2];
  EXPECT_NE(lines[3].find("\"pending\",\"not yet\","), std::string::npos) << lines[3];
  EXPECT_NE(lines[4].find("\"content verified after repairing 1 message\""), std::string::npos)
      << lines[4];
  EXPECT_NE(html.find("<th>verify</th>"), std::string::npos);
  EXPECT_NE(html.find("data-l=verify>content FAILED</td>"), std::string::npos) << html;
  EXPECT_NE(html.find("2.0 MB/s, 20 msg/s over all runs (20.0 s spent copying)"), std::string::npos)
      << html;
  EXPECT_NE(html.find("4 mailboxes"), std::string::npos);
  // A failed mailbox is not part of a "Perfect" batch.
  EXPECT_NE(html.find("<dd>Perfect of the mailboxes that got through; 1 failed mailbox not "
                      "graded until a run moves it</dd>"),
            std::string::npos)
      << html;
  // Only the long tokens may break mid-word.
  EXPECT_NE(html.find("td.t{overflow-wrap:anywhere}"), std::string::npos);
  EXPECT_EQ(html.find("overflow-wrap:anywhere;"), std::string::npos) << "a whole cell rule";
  EXPECT_NE(html.find("<td class=t data-l=identity>done@fabrikam.test</td>"), std::string::npos);
  // On a phone the summary's labels leave room for their values.
  EXPECT_NE(html.find("dl{grid-template-columns:minmax(0,40%) minmax(0,1fr)}"), std::string::npos);
  // An option name wraps between its words, not inside one.
  EXPECT_NE(html.find("<td data-l=cleanup>Mail<wbr>Enable<wbr>Source<wbr>Account</td>"),
            std::string::npos)
      << html;

  // One mailbox, one message: no plural slips; no copying time known: said, not guessed.
  report.rows = {rows[0]};
  report.rows[0].messages = 1;
  report.copying_seconds = 0;
  char tmpl2[] = "/tmp/crossmove-report-XXXXXX";
  dir = mkdtemp(tmpl2);
  ASSERT_TRUE(WriteReport((dir / "r").string(), report).ok());
  html = testing::Slurp(dir / "r.html");
  std::filesystem::remove_all(dir);
  EXPECT_NE(html.find("<b>1 mailbox, 0 failed</b>; 1 message,"), std::string::npos) << html;
  EXPECT_NE(html.find("throughput over all runs not recorded"), std::string::npos);
}

}  // namespace
}  // namespace cm
