// Messages that say what is wrong and what to do (issue 12, item 8), through the real binary:
// the journal's folder, a ';'-separated users file, --mta errors, --json on a failed run.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "cli/org.h"

namespace cm {
namespace {

using testing::Org;

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

// A mistyped cleanup is refused even when every mailbox is done and nothing is left to plan.
TEST(Messages, AMistypedCleanupIsNamedEvenWhenNothingIsLeftToMove) {
  Org org(2, 4, "CreateSourceContact");
  CM_ASSERT_ORG(org);
  ASSERT_EQ(org.Run({"run"}).exit_code, 0);
  ASSERT_TRUE(
      org.EditConfig("cleanup = \"CreateSourceContact\"", "cleanup = \"DeleteSorceMailbox\""));
  for (const std::string command : {"plan", "run"}) {
    auto r = org.Run({command});
    EXPECT_EQ(r.exit_code, 2) << command << ": " << r.out << r.err;
    EXPECT_NE(r.err.find("crossmove.toml:3: cleanup: "), std::string::npos)
        << command << ": " << r.err;
    EXPECT_NE(r.err.find("DeleteSorceMailbox"), std::string::npos) << r.err;
  }
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

// Under --watch the interval is the pause between syncs: 0 would sync without pause. Refused
// before anything is written, naming the config line; a plain run may use 0 (cron).
TEST(Messages, AWatchWithAZeroIncrementalSyncIntervalIsRefusedNamingTheSetting) {
  Org org(1, 2, "CreateSourceContact");
  CM_ASSERT_ORG(org);
  ASSERT_TRUE(
      org.EditConfig("cleanup = \"CreateSourceContact\"",
                     "cleanup = \"CreateSourceContact\"\nincremental-sync-interval = \"0\""));
  auto watch = org.Run({"run", "--watch", "--suspend-when-ready"});
  EXPECT_EQ(watch.exit_code, 2) << watch.err;
  EXPECT_NE(watch.err.find(": incremental-sync-interval: 0 s is too short for --watch"),
            std::string::npos)
      << watch.err;
  EXPECT_NE(watch.err.find("crossmove.toml:"), std::string::npos) << watch.err;
  EXPECT_FALSE(std::filesystem::exists(org.dir() / "crossmove.journal"));
  auto once = org.Run({"run", "--suspend-when-ready"});
  EXPECT_EQ(once.exit_code, 0) << once.err;
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
  EXPECT_EQ(testing::Occurrences(refused.err, "--mta"), 1u) << refused.err;
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

// The command line's own errors (CLI11's) say who speaks, answer --json as JSON, and a mistyped
// command is named with the one meant, not "A subcommand is required".
TEST(Messages, CommandLineErrorsAreCrossmovesAndAMistypedCommandIsNamed) {
  testing::Workspace ws;
  auto typo = testing::RunCrossmove({"--config", "crossmove.toml", "rnu"}, ws.dir());
  EXPECT_EQ(typo.exit_code, 2);
  EXPECT_EQ(typo.err, "crossmove: unknown command 'rnu'; did you mean 'run'?\n");
  EXPECT_EQ(typo.out, "");
  auto far = testing::RunCrossmove({"--config", "crossmove.toml", "launch"}, ws.dir());
  EXPECT_EQ(far.exit_code, 2);
  EXPECT_EQ(far.err,
            "crossmove: unknown command 'launch'; the commands are plan, export, run, status, "
            "verify, rollback, forget, complete, suspend, resume (crossmove --help)\n");
  auto none = testing::RunCrossmove({"--config", "crossmove.toml"}, ws.dir());
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_EQ(none.err,
            "crossmove: no command given; the commands are plan, export, run, status, verify, "
            "rollback, forget, complete, suspend, resume (crossmove --help)\n");
  auto flag = testing::RunCrossmove({"plan", "--bogus"}, ws.dir());
  EXPECT_EQ(flag.exit_code, 2);
  EXPECT_TRUE(flag.err.starts_with("crossmove: ")) << flag.err;
  EXPECT_NE(flag.err.find("--bogus"), std::string::npos) << flag.err;
  EXPECT_NE(flag.err.find("(crossmove plan --help)"), std::string::npos) << flag.err;
  auto option = testing::RunCrossmove({"--suspend-when-redy", "run"}, ws.dir());
  EXPECT_EQ(option.exit_code, 2);
  EXPECT_EQ(option.err,
            "crossmove: unknown option '--suspend-when-redy'; did you mean "
            "'--suspend-when-ready'?\n");
  // --json: the same error as data on stdout.
  auto json = testing::RunCrossmove({"--config", "crossmove.toml", "rnu", "--json"}, ws.dir());
  EXPECT_EQ(json.exit_code, 2);
  auto j = nlohmann::json::parse(json.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << "not JSON: " << json.out;
  EXPECT_EQ(j["error"], "unknown command 'rnu'; did you mean 'run'?");
  // A flag before the command (--json, --allow-merge) takes no value: the command is still found.
  for (const std::vector<std::string>& argv :
       {std::vector<std::string>{"--json", "--config", "crossmove.toml", "rnu"},
        std::vector<std::string>{"--config", "crossmove.toml", "--json", "rnu"},
        std::vector<std::string>{"--allow-merge", "--json", "rnu"}}) {
    auto before = testing::RunCrossmove(argv, ws.dir());
    EXPECT_EQ(before.exit_code, 2);
    j = nlohmann::json::parse(before.out, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << "not JSON: " << before.out;
    EXPECT_EQ(j["error"], "unknown command 'rnu'; did you mean 'run'?") << before.out;
  }
  auto json_flag = testing::RunCrossmove({"status", "--json", "--bogus"}, ws.dir());
  EXPECT_EQ(json_flag.exit_code, 2);
  j = nlohmann::json::parse(json_flag.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << "not JSON: " << json_flag.out;
  EXPECT_NE(j["error"].get<std::string>().find("--bogus"), std::string::npos) << json_flag.out;
  // --help and --version still answer and succeed.
  EXPECT_EQ(testing::RunCrossmove({"--version"}, ws.dir()).exit_code, 0);
  EXPECT_EQ(testing::RunCrossmove({"run", "--help"}, ws.dir()).exit_code, 0);
}

// A CROSSMOVE_ variable like no setting (a wrapper script's own) is said to be ignored, and the
// command goes on; one an env: credential names is read, not warned about.
TEST(Messages, AnEnvironmentVariableThatIsNoSettingIsNamedAndIgnored) {
  testing::Workspace ws;
  auto r = testing::RunCrossmove({"plan"}, ws.dir(), {"CROSSMOVE_WRAPPER_HOME=/opt/x"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("crossmove: warning: environment variable CROSSMOVE_WRAPPER_HOME is not a "
                       "crossmove setting and is ignored"),
            std::string::npos)
      << r.err;
  auto secret =
      testing::RunCrossmove({"plan", "--target-credential", "env:CROSSMOVE_TARGET_PASSWORD"},
                            ws.dir(), {"CROSSMOVE_TARGET_PASSWORD=Lab-Passw0rd!"});
  EXPECT_EQ(secret.exit_code, 0) << secret.err;
  EXPECT_EQ(secret.err.find("CROSSMOVE_TARGET_PASSWORD"), std::string::npos) << secret.err;
}

// The advice names the file by its full path, and only as the file of this one secret.
TEST(Messages, TheCredentialModeAdviceNamesTheCredentialFile) {
  testing::Workspace ws;
  ws.Write("secret", "Lab-Passw0rd!\n");
  ASSERT_EQ(chmod((ws / "secret").c_str(), 0644), 0);
  auto r = testing::RunCrossmove({"plan", "--target-credential", "file:secret"}, ws.dir());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find(fmt::format(
                "target.credential: credential file secret has mode 0644: others can read it; if "
                "it holds only this secret, run chmod 600 {}; else put the secret alone in a "
                "file of mode 0600 and name that",
                (ws / "secret").string())),
            std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("/etc/passwd"), std::string::npos) << r.err;
}

// export --json (or --format json) answers its errors as JSON, as the other commands do.
TEST(Messages, ExportErrorsAreJsonUnderJson) {
  testing::Workspace ws;
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"export", "--json", "--filter", "(department=Finance"},
           {"export", "--format", "json", "--filter", "(department=Finance"}}) {
    auto r = testing::RunCrossmove(args, ws.dir());
    EXPECT_EQ(r.exit_code, 2) << r.err;
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << "not JSON: " << r.out;
    ASSERT_EQ(j["problems"].size(), 1u) << r.out;
    EXPECT_NE(j["problems"][0]["message"].get<std::string>().find("bad LDAP filter"),
              std::string::npos)
        << r.out;
  }
  auto gone =
      testing::RunCrossmove({"export", "--json", "--source-gc", "ldif:gone.ldif"}, ws.dir());
  // A directory file that is not there is a setting to correct (exit 2), not a server down.
  EXPECT_EQ(gone.exit_code, 2) << gone.err;
  auto j = nlohmann::json::parse(gone.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << "not JSON: " << gone.out;
  ASSERT_EQ(j["problems"].size(), 1u) << gone.out;
  EXPECT_NE(
      j["problems"][0]["message"].get<std::string>().find("cannot open directory file gone.ldif"),
      std::string::npos)
      << gone.out;
  auto unwritable =
      testing::RunCrossmove({"export", "--json", "-o", "no/such/dir/x.json"}, ws.dir());
  EXPECT_EQ(unwritable.exit_code, 2) << unwritable.err;
  j = nlohmann::json::parse(unwritable.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << "not JSON: " << unwritable.out;
  EXPECT_TRUE(j.contains("error")) << unwritable.out;
  // And a good export with --json is the JSON export.
  auto good = testing::RunCrossmove({"export", "--json"}, ws.dir());
  EXPECT_EQ(good.exit_code, 0) << good.err;
  j = nlohmann::json::parse(good.out, nullptr, false);
  ASSERT_TRUE(j.is_array()) << good.out;
  EXPECT_FALSE(j.empty());
}

// The example generator's --help says what each option does, not only its name.
TEST(Messages, TheOrganizationGeneratorsHelpExplainsEveryOption) {
  testing::Workspace ws;
  std::vector<std::string> env;
  auto r = testing::Spawn(
      {"/usr/bin/python3", std::string(CROSSMOVE_EXAMPLES) + "/generate_org.py", "--help"},
      ws.dir(), &env);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const std::string help :
       {"outdir                folder to write", "number of source mailboxes (default: 60)",
        "number of messages in all", "random seed", "(-SourceMailboxCleanupOptions)",
        "mailboxes without other folders", "the benchmark corpus",
        "the 2nd, 3rd and 4th mailboxes are shared"})
    EXPECT_NE(r.out.find(help), std::string::npos) << help << " not in:\n" << r.out;
}

}  // namespace
}  // namespace cm
