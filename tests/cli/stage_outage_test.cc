// A source server that goes down between the sync and the completion (new-user trial): the
// completion's final delta cannot run, so nothing is cleaned up; the exit code says "a server
// cannot be reached" (3, retry later), not "failed" (1), and status names the final delta, not
// the cleanup. Once the server is back the same command completes. The source directory is read
// with the tests' own LDIF reader, the mail from the servers' files.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cli/org.h"
#include "cli/stage_checks.h"

namespace cm {
namespace {

using testing::Org;
using testing::SourceEntries;

TEST(StageOutage, ASourceServerDownAtCompletionExitsUnreachableAndTouchesNothing) {
  Org org(2, 30, "CreateSourceContact");
  CM_ASSERT_ORG(org);
  std::string source_before = SourceEntries(org);
  auto sync = org.Run({"run", "--suspend-when-ready"});
  ASSERT_EQ(sync.exit_code, 0) << sync.err << sync.out;
  auto mail = org.TargetMail();
  ASSERT_EQ(testing::Total(mail), 30);

  ASSERT_EQ(org.StopDovecot("source"), "");
  auto down = org.Run({"complete", "--all"});
  EXPECT_EQ(down.exit_code, 3) << down.err << down.out;
  EXPECT_EQ(SourceEntries(org), source_before) << "a completion without its final delta cleaned up";
  EXPECT_EQ(org.TargetMail(), mail);
  auto status = org.Run({"status"});
  EXPECT_NE(status.out.find("FAILED at final delta"), std::string::npos) << status.out;
  EXPECT_EQ(status.out.find("FAILED at cleanup"), std::string::npos) << status.out;
  auto failed = testing::StatusJson(org);
  for (const auto& m : failed["mailboxes"]) EXPECT_EQ(m["failed_step"], "final delta") << m.dump();

  ASSERT_EQ(org.RestartDovecot("source"), "");
  auto back = org.Run({"complete", "--all"});
  ASSERT_EQ(back.exit_code, 0) << back.err << back.out;
  auto completed = testing::StatusJson(org);
  for (const auto& m : completed["mailboxes"]) EXPECT_EQ(m["stage"], "completed") << m.dump();
  EXPECT_EQ(org.ReadBack("source", "objectclass", "contact").size(), 2u);
  EXPECT_EQ(org.TargetMail(), mail) << "the completion after the outage copied a message twice";
}

}  // namespace
}  // namespace cm
