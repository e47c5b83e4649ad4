// isync's method: kill the run hard after every journal step N in turn, rerun it to the end,
// and compare with an uninterrupted run: same directories, same mail, same journal end state.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cli/org.h"

namespace cm {
namespace {

using testing::Org;

// Fewer on a domain controller: every crash reloads the forest's objects.
constexpr int kMailboxes = testing::kBackend == testing::Backend::kSamba ? 2 : 5;
constexpr int kMessages = kMailboxes * 20;

struct EndState {
  std::string source, target;
  std::map<std::string, int> mail;
  nlohmann::json counts;
};

EndState StateOf(const Org& org) {
  auto status = nlohmann::json::parse(org.Run({"status", "--json"}).out);
  return {org.DirectoryText("source"), org.DirectoryText("target"), org.TargetMail(),
          status["counts"]};
}

class CrashAtEveryStep : public ::testing::TestWithParam<const char*> {};

TEST_P(CrashAtEveryStep, ResumesToTheSameEndStateAsAnUninterruptedRun) {
  Org pristine(kMailboxes, kMessages, GetParam());
  CM_ASSERT_ORG(pristine);
  Org baseline(pristine);
  // One mailbox at a time: the step numbering and the order of directory writes are then fixed.
  ASSERT_EQ(baseline.Run({"run", "--parallel", "1"}).exit_code, 0);
  EndState expected = StateOf(baseline);
  ASSERT_EQ(expected.counts["routing-verified"], kMailboxes);
  ASSERT_EQ(testing::Total(expected.mail), kMessages);

  int crashes = 0;
  for (int step = 1; step < 200; ++step) {
    Org org(pristine);
    CM_ASSERT_ORG(org);
    auto crashed =
        org.Run({"run", "--parallel", "1"}, {fmt::format("CROSSMOVE_CRASH_AFTER_STEP={}", step)});
    if (crashed.exit_code == 0) break;  // past the last step: the run finished untouched
    ASSERT_EQ(crashed.exit_code, 137) << "step " << step << ": " << crashed.err;
    ++crashes;
    auto rerun = org.Run({"run", "--parallel", "1"});
    ASSERT_EQ(rerun.exit_code, 0) << "step " << step << ": " << rerun.err << rerun.out;
    EndState got = StateOf(org);
    EXPECT_EQ(got.source, expected.source)
        << "source directory differs after a crash at step " << step;
    EXPECT_EQ(got.target, expected.target)
        << "target directory differs after a crash at step " << step;
    EXPECT_TRUE(got.mail == expected.mail) << "mail differs after a crash at step " << step << ":\n"
                                           << testing::Difference(got.mail, expected.mail);
    EXPECT_EQ(got.counts, expected.counts) << "journal differs after a crash at step " << step;
    if (HasFailure()) break;
  }
  // Every mailbox passes through 6 steps of two journal records each.
  EXPECT_GE(crashes, kMailboxes * 12);
}

INSTANTIATE_TEST_SUITE_P(Cli, CrashAtEveryStep,
                         ::testing::Values("CreateSourceContact", "MailEnableSourceAccount"));

}  // namespace
}  // namespace cm
