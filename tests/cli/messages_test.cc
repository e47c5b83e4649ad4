// Messages that say what is wrong and what to do (issue 12, item 8), through the real binary:
// the journal's folder, a ';'-separated users file, --mta errors, --json on a failed run.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cli/org.h"

namespace cm {
namespace {

using testing::Org;

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(Messages, AJournalInAFolderThatDoesNotExistGetsTheFolder) {
  Org org(2, 4, "CreateSourceContact");
  CM_ASSERT_ORG(org);
  auto r = org.Run({"run", "--journal", "state/migration/crossmove.journal"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(std::filesystem::is_regular_file(org.dir() / "state/migration/crossmove.journal"));
  auto status = org.Run({"status", "--journal", "state/migration/crossmove.journal"});
  EXPECT_EQ(status.exit_code, 0) << status.err;
  EXPECT_NE(status.out.find("routing-verified     2"), std::string::npos) << status.out;
  // A folder that cannot be made is named, with what to do.
  auto under_a_file = org.Run({"run", "--journal", "users.csv/crossmove.journal"});
  EXPECT_EQ(under_a_file.exit_code, 2);
  EXPECT_NE(under_a_file.err.find("crossmove: cannot create users.csv, the folder of the journal "
                                  "users.csv/crossmove.journal: "),
            std::string::npos)
      << under_a_file.err;
  EXPECT_EQ(under_a_file.err.find("unable to open database file"), std::string::npos);
  EXPECT_EQ(under_a_file.err.find("lock file"), std::string::npos) << under_a_file.err;
}

TEST(Messages, ASemicolonSeparatedUsersFileIsReadAsItsHeaderSays) {
  Org org(3, 6, "CreateSourceContact");
  CM_ASSERT_ORG(org);
  std::string csv = org.Read("users.csv");
  ASSERT_NE(csv.find("\",\""), std::string::npos) << csv;
  // Export-Csv -UseCulture in a ';' locale: every field quoted, ';' between them, a ',' inside
  // a name ("Al-Farsi, Bob") is data.
  std::string semicolons = csv;
  for (size_t at = semicolons.find("\",\""); at != std::string::npos;
       at = semicolons.find("\",\"", at))
    semicolons.replace(at, 3, "\";\"");
  testing::Spit(org.dir() / "users-semicolons.csv", semicolons);
  auto comma = org.Run({"plan", "--json"});
  ASSERT_EQ(comma.exit_code, 0) << comma.err;
  auto semi = org.Run({"plan", "--json", "--users-file", "users-semicolons.csv"});
  ASSERT_EQ(semi.exit_code, 0) << semi.err;
  auto a = nlohmann::json::parse(comma.out), b = nlohmann::json::parse(semi.out);
  ASSERT_EQ(a["mailboxes"].size(), 3u);
  EXPECT_EQ(a["mailboxes"], b["mailboxes"]);
}

TEST(Messages, MtaErrorsNameTheFlagOnce) {
  Org org(1, 2, "CreateSourceContact");
  CM_ASSERT_ORG(org);
  ASSERT_EQ(org.Run({"run"}).exit_code, 0);
  auto bad_url = org.Run({"verify", "--mta", "mx.contoso.test"});
  EXPECT_EQ(bad_url.exit_code, 2);
  EXPECT_EQ(bad_url.err,
            "crossmove: --mta: 'mx.contoso.test': expected smtp://HOST[:PORT] or "
            "smtps://HOST[:PORT]\n");
  int port = testing::FreePort();
  auto refused = org.Run({"verify", "--mta", fmt::format("smtp://127.0.0.1:{}", port)});
  EXPECT_EQ(refused.exit_code, 3) << refused.err;
  EXPECT_EQ(Count(refused.err, "--mta"), 1u) << refused.err;
}

TEST(Messages, RunJsonPrintsItsProblemsAndEveryMailboxsResult) {
  Org org(2, 6, "CreateSourceContact");
  CM_ASSERT_ORG(org);
  auto invalid = org.Run({"run", "--json", "--users-file", "missing.csv"});
  EXPECT_EQ(invalid.exit_code, 2);
  auto problems = nlohmann::json::parse(invalid.out, nullptr, false);
  ASSERT_FALSE(problems.is_discarded()) << "not JSON: " << invalid.out;
  ASSERT_EQ(problems["problems"].size(), 1u) << invalid.out;
  EXPECT_NE(problems["problems"][0]["message"].get<std::string>().find("missing.csv"),
            std::string::npos)
      << invalid.out;

  auto no_journal = org.Run({"status", "--json"});
  EXPECT_EQ(no_journal.exit_code, 2);
  auto error = nlohmann::json::parse(no_journal.out, nullptr, false);
  ASSERT_TRUE(!error.is_discarded() && error.contains("error")) << no_journal.out;
  EXPECT_NE(error["error"].get<std::string>().find("no journal at crossmove.journal"),
            std::string::npos);
  auto unreachable = org.Run(
      {"plan", "--json", "--source-gc", fmt::format("ldap://127.0.0.1:{}", testing::FreePort())});
  EXPECT_EQ(unreachable.exit_code, 3) << unreachable.err;
  error = nlohmann::json::parse(unreachable.out, nullptr, false);
  ASSERT_TRUE(!error.is_discarded() && error.contains("error")) << unreachable.out;
  EXPECT_NE(error["error"].get<std::string>().find("cannot reach a directory"), std::string::npos);

  auto run = org.Run({"run", "--json"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  auto j = nlohmann::json::parse(run.out);
  ASSERT_EQ(j["mailboxes"].size(), 2u) << run.out;
  uint64_t messages = 0;
  for (const auto& m : j["mailboxes"]) {
    EXPECT_EQ(m["state"], "routing-verified") << m;
    EXPECT_EQ(m["failure"], "") << m;
    messages += m["messages"].get<uint64_t>();
  }
  EXPECT_EQ(messages, static_cast<uint64_t>(testing::Total(org.TargetMail())));
  EXPECT_EQ(j["messages"], messages);

  // Errors of the other commands are JSON too.
  auto status = org.Run({"status", "--json", "nobody"});
  EXPECT_EQ(status.exit_code, 2);
  EXPECT_TRUE(nlohmann::json::parse(status.out, nullptr, false).contains("error")) << status.out;
}

}  // namespace
}  // namespace cm
