// The consistency grade (issue 13) gates the completion: a target Dovecot that refuses large
// messages (--max-mail-size) makes the move skip them; the share skipped sets the grade. The
// source directory is read with the tests' own LDIF reader, the mail from the servers.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cli/org.h"
#include "cli/stage_checks.h"

namespace cm {
namespace {

using testing::Org;
using testing::SourceEntries;

// Every mailbox's grade and stage, and the batch's grade, as `status --json` shows them.
struct Graded {
  std::set<std::string> grades, stages;
  std::string batch_grade;
};
Graded GradesOf(const Org& org) {
  Graded out;
  auto status = testing::StatusJson(org);
  for (const auto& m : status["mailboxes"]) {
    out.grades.insert(m["grade"].get<std::string>());
    out.stages.insert(m["stage"].get<std::string>());
  }
  if (!status["batch"]["grade"].is_null()) out.batch_grade = status["batch"]["grade"];
  return out;
}

// About 5% of the generated messages carry a 20-60 KB attachment: a target refusing mail over
// 20 KB skips about 5% of each mailbox, more than 1% and at most 10%.
TEST(StageGrade, InvestigateRefusesToCompleteUntilApproved) {
  Org org(2, 120, "CreateSourceContact");
  CM_ASSERT_ORG(org);
  ASSERT_EQ(org.RestartDovecot("target", {"--max-mail-size", "20000"}), "");
  std::string source_before = SourceEntries(org);
  auto run = org.Run({"run", "--suspend-when-ready", "--bad-item-limit", "100"});
  ASSERT_EQ(run.exit_code, 0) << run.err << run.out;
  int refused = 120 - testing::Total(org.TargetMail());
  ASSERT_GT(refused * 100, 120 * 1) << "the fixture no longer refuses over 1% of the messages";
  ASSERT_LE(refused * 100, 120 * 10) << "the fixture refuses over 10% of the messages";
  Graded graded = GradesOf(org);
  EXPECT_EQ(graded.grades, (std::set<std::string>{"Investigate"}));
  EXPECT_EQ(graded.stages, (std::set<std::string>{"synced"}));
  EXPECT_EQ(graded.batch_grade, "Investigate");
  EXPECT_EQ(SourceEntries(org), source_before) << "an Investigate mailbox was cleaned up";

  auto unapproved = org.Run({"complete", "--all", "--bad-item-limit", "100"});
  EXPECT_EQ(unapproved.exit_code, 6) << unapproved.err;  // waits for an operator's approval
  EXPECT_NE(unapproved.out.find("2 waiting for approval of skipped messages"), std::string::npos)
      << unapproved.out;
  EXPECT_NE(unapproved.err.find("complete --approve-skipped"), std::string::npos) << unapproved.err;
  EXPECT_EQ(GradesOf(org).stages, (std::set<std::string>{"synced"}));
  EXPECT_EQ(SourceEntries(org), source_before) << "complete without approval cleaned up";

  auto approved = org.Run({"complete", "--all", "--approve-skipped", "--bad-item-limit", "100"});
  ASSERT_EQ(approved.exit_code, 0) << approved.err << approved.out;
  EXPECT_EQ(GradesOf(org).stages, (std::set<std::string>{"completed"}));
  EXPECT_EQ(org.ReadBack("source", "objectclass", "contact").size(), 2u);
  // The report carries the grade of each mailbox and of the batch.
  std::string report = org.Read("crossmove-report.csv");
  EXPECT_NE(report.find(",\"completed\",\"Investigate\","), std::string::npos) << report;
}

// Most generated messages are 0.4-2 KB: a target refusing mail over 1,200 bytes skips far more
// than 10%.
TEST(StageGrade, PoorNeverCompletes) {
  Org org(2, 60, "CreateSourceContact");
  CM_ASSERT_ORG(org);
  ASSERT_EQ(org.RestartDovecot("target", {"--max-mail-size", "1200"}), "");
  std::string source_before = SourceEntries(org);
  auto run =
      org.Run({"run", "--complete-after", "2001-01-01T00:00:00Z", "--bad-item-limit", "1000"});
  EXPECT_EQ(run.exit_code, 1) << run.err << run.out;
  int refused = 60 - testing::Total(org.TargetMail());
  ASSERT_GT(refused * 10, 60) << "the fixture no longer refuses over 10% of the messages";
  EXPECT_EQ(GradesOf(org).grades, (std::set<std::string>{"Poor"}));
  auto approved = org.Run({"complete", "--all", "--approve-skipped", "--bad-item-limit", "1000"});
  EXPECT_EQ(approved.exit_code, 1) << approved.err << approved.out;
  EXPECT_NE(approved.err.find("consistency grade Poor"), std::string::npos) << approved.err;
  auto status = testing::StatusJson(org);
  for (const auto& m : status["mailboxes"]) {
    EXPECT_EQ(m["state"], "content-verified") << m.dump();
    EXPECT_EQ(m["stage"], "failed") << m.dump();
  }
  EXPECT_EQ(SourceEntries(org), source_before) << "a Poor mailbox was cleaned up";
}

}  // namespace
}  // namespace cm
