// isync's method: kill the run hard after every journal step N in turn, rerun it to the end,
// and compare with an uninterrupted run: same directories, same mail, same journal end state.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "cli/imap_checks.h"
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
    testing::Spit(
        cur / fmt::format("1700000{:03}.M1P1.crash,S=60:2,", n++),
        fmt::format("Message-ID: <late-{}@x>\r\nSubject: late\r\n\r\nafter the sync\r\n", user));
  }
}

// A staged move: synced, changed in the source, then `complete` killed after every journal step
// in turn (its final delta pass, verification, cleanup and routing proof) and run again: the
// same end as a completion never interrupted, nothing lost or copied twice.
TEST_P(CrashAtEveryStep, ACompletionAfterTheUsersChangesResumesToTheSameEndState) {
  // Org's copy of an organization on a directory server starts that server from the LDIF
  // files, not from what a sync wrote there: the ldif: run covers the completion's steps.
  if (testing::kBackend != testing::Backend::kLdif)
    GTEST_SKIP() << "copies a synced organization: the ldif: run covers it";
  Org synced(kMailboxes, kMessages, GetParam());
  CM_ASSERT_ORG(synced);
  ASSERT_EQ(synced.Run({"run", "--parallel", "1", "--suspend-when-ready"}).exit_code, 0);
  ChangeEverySourceMailbox(synced);
  if (HasFatalFailure()) return;
  Org baseline(synced);
  CM_ASSERT_ORG(baseline);
  auto done = baseline.Run({"complete", "--all", "--parallel", "1"});
  ASSERT_EQ(done.exit_code, 0) << done.err << done.out;
  EndState expected = StateOf(baseline);
  ASSERT_EQ(expected.counts["routing-verified"], kMailboxes);
  // Every mailbox: a message more, a message fewer than the copy, and one flag changed: the
  // target as the source's files are now.
  ASSERT_EQ(testing::Total(expected.mail), kMessages);
  for (const auto& user : testing::Users(baseline)) {
    auto source = testing::MailOf(baseline.dir() / "source-mail" / "fabrikam.test" / user, true);
    ASSERT_EQ(baseline.TargetMail(user), source)
        << user << ":\n"
        << testing::Difference(baseline.TargetMail(user), source);
  }

  int crashes = 0;
  for (int step = 1; step < 200; ++step) {
    Org org(synced);
    CM_ASSERT_ORG(org);
    auto crashed = org.Run({"complete", "--all", "--parallel", "1"},
                           {fmt::format("CROSSMOVE_CRASH_AFTER_STEP={}", step)});
    if (crashed.exit_code == 0) break;
    ASSERT_EQ(crashed.exit_code, 137) << "step " << step << ": " << crashed.err;
    ++crashes;
    auto rerun = org.Run({"complete", "--all", "--parallel", "1"});
    ASSERT_EQ(rerun.exit_code, 0) << "step " << step << ": " << rerun.err << rerun.out;
    EndState got = StateOf(org);
    EXPECT_EQ(got.source, expected.source) << "source directory differs, crash at step " << step;
    EXPECT_EQ(got.target, expected.target) << "target directory differs, crash at step " << step;
    EXPECT_TRUE(got.mail == expected.mail) << "mail differs after a crash at step " << step << ":\n"
                                           << testing::Difference(got.mail, expected.mail);
    EXPECT_EQ(got.counts, expected.counts) << "journal differs after a crash at step " << step;
    if (HasFailure()) break;
  }
  // Every mailbox: its cleanup and its routing proof, two journal records each at least.
  EXPECT_GE(crashes, kMailboxes * 4);
}

INSTANTIATE_TEST_SUITE_P(Cli, CrashAtEveryStep,
                         ::testing::Values("CreateSourceContact", "MailEnableSourceAccount"));

}  // namespace
}  // namespace cm
