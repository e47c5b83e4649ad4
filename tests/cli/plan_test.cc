// `crossmove plan` end to end on the shipped example organizations.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <sqlite3.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "app/apply.h"
#include "app/organizations.h"
#include "app/validator.h"
#include "cli/run_crossmove.h"
#include "core/planner.h"
#include "core/routing.h"
#include "directory/ldif_directory.h"
#include "input/config.h"

namespace cm {
namespace {

using testing::RunCrossmove;
using testing::Workspace;

constexpr size_t kExampleMailboxes = 22;

class PlanEveryOption : public ::testing::TestWithParam<CleanupOption> {};

TEST_P(PlanEveryOption, PlansEveryExampleMailboxAndWritesNothing) {
  Workspace ws;
  auto before = ws.Snapshot();
  auto r = RunCrossmove({"plan", "--cleanup", std::string(ToString(GetParam()))}, ws.dir());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("[22/22]"), std::string::npos);
  EXPECT_NE(r.out.find(fmt::format("{} {}", kExampleMailboxes, ToString(GetParam()))),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("Nothing was written."), std::string::npos);
  EXPECT_EQ(r.out.find("\033["), std::string::npos);  // no colour when not a terminal
  EXPECT_EQ(ws.Snapshot(), before);
}

INSTANTIATE_TEST_SUITE_P(Cli, PlanEveryOption, ::testing::ValuesIn(kAllCleanupOptions),
                         [](const auto& info) { return std::string(ToString(info.param)); });

TEST(Plan, JsonListsEveryOperationOfEveryMailbox) {
  Workspace ws;
  auto r = RunCrossmove({"plan", "--json"}, ws.dir());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["mailboxes"].size(), kExampleMailboxes);
  EXPECT_TRUE(j["problems"].empty());
  const auto& alice = j["mailboxes"][0];
  EXPECT_EQ(alice["target_action"], "replace-contact");
  EXPECT_EQ(alice["target_primary_smtp"], "alice.adams@contoso.test");
  ASSERT_EQ(alice["operations"].size(),
            4u);  // delete GAL contact, add user, delete source user, add contact
  EXPECT_EQ(alice["operations"][0]["op"], "delete");
  EXPECT_EQ(alice["operations"][3]["side"], "source");
  bool saw_guid = false;
  for (const auto& a : alice["operations"][1]["attributes"]) {
    if (a["attribute"] == "msExchMailboxGuid")
      saw_guid = a["values"][0].get<std::string>().front() == '{';
  }
  EXPECT_TRUE(saw_guid);  // binary values are shown as GUID text, never raw bytes
}

TEST(Plan, ClashingNamesGetSuffixesAndNonAsciiSurvives) {
  Workspace ws;
  auto r = RunCrossmove({"plan", "--json"}, ws.dir());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  std::map<std::string, std::string> target_dn;
  for (const auto& m : j["mailboxes"]) target_dn[m["alias"]] = m["target_dn"];
  EXPECT_EQ(target_dn["chris.taylor"], "CN=Taylor\\, Chris1,OU=Migrated Users,DC=contoso,DC=test");
  EXPECT_EQ(target_dn["robert.oneil"],
            "CN=Robert \\\"Bob\\\" O'Neil,OU=Migrated Users,DC=contoso,DC=test");
  EXPECT_EQ(target_dn["lukasz.zolkiewski"],
            "CN=Łukasz Żółkiewski,OU=Migrated Users,DC=contoso,DC=test");
}

TEST(Plan, PerRowColumnsOverrideTheRunParameters) {
  Workspace ws;
  ws.Write("rows.csv",
           "\"PrimarySmtpAddress\",\"SourceMailboxCleanupOptions\"\r\n"
           "\"john.smith@fabrikam.test\",\"MailEnableSourceAccount\"\r\n"
           "\"zoe.angstrom@fabrikam.test\",\"\"\r\n");
  auto r = RunCrossmove({"plan", "--json", "--users-file", "rows.csv"}, ws.dir());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["mailboxes"].size(), 2u);
  EXPECT_EQ(j["mailboxes"][0]["cleanup"], "MailEnableSourceAccount");
  EXPECT_EQ(j["mailboxes"][1]["cleanup"], "CreateSourceContact");  // from crossmove.toml
}

TEST(Plan, FlagsBeatEnvironmentBeatsConfigFile) {
  Workspace ws;
  auto env = RunCrossmove({"plan", "--json"}, ws.dir(), {"CROSSMOVE_CLEANUP=DeleteSourceMailbox"});
  ASSERT_EQ(env.exit_code, 0) << env.err;
  EXPECT_EQ(nlohmann::json::parse(env.out)["mailboxes"][0]["cleanup"], "DeleteSourceMailbox");
  auto flag = RunCrossmove({"plan", "--json", "--cleanup", "None"}, ws.dir(),
                           {"CROSSMOVE_CLEANUP=DeleteSourceMailbox"});
  ASSERT_EQ(flag.exit_code, 0) << flag.err;
  EXPECT_EQ(nlohmann::json::parse(flag.out)["mailboxes"][0]["cleanup"], "None");
}

// Loads the workspace config the way the CLI does.
Config LoadConfig(const Workspace& ws, CleanupOption cleanup) {
  Settings s;
  Problems problems;
  EXPECT_TRUE(s.LoadToml((ws / "crossmove.toml").string(), problems).ok());
  s.Set("cleanup", std::string(ToString(cleanup)), "test");
  Config c = BuildConfig(s, problems);
  EXPECT_TRUE(problems.empty());
  return c;
}

class LdifEquivalence : public ::testing::TestWithParam<CleanupOption> {};

// `plan --ldif` applied as ldapmodify would apply it gives the same directories as the
// planner's own apply.
TEST_P(LdifEquivalence, PlanLdifAppliedEqualsThePlannersOwnApply) {
  Workspace ws;
  auto r = RunCrossmove(
      {"plan", "--cleanup", std::string(ToString(GetParam())), "--ldif", "changes.ldif"}, ws.dir());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto source_via_ldif = LdifDirectory::FromText(ws.Read("source.ldif"), "source.ldif");
  auto target_via_ldif = LdifDirectory::FromText(ws.Read("target.ldif"), "target.ldif");
  ASSERT_TRUE(source_via_ldif.ok() && target_via_ldif.ok());
  Status t =
      (*target_via_ldif)->ApplyChangeFile(ws.Read("changes.target.ldif"), "changes.target.ldif");
  ASSERT_TRUE(t.ok()) << t.ToString();
  Status s =
      (*source_via_ldif)->ApplyChangeFile(ws.Read("changes.source.ldif"), "changes.source.ldif");
  ASSERT_TRUE(s.ok()) << s.ToString();

  Config config = LoadConfig(ws, GetParam());
  Problems problems;
  auto orgs = OpenOrganizations(config, /*read_only=*/false, problems);
  ASSERT_TRUE(orgs.ok() && problems.empty());
  auto users = ReadUsersFile(config.users_file, ',', problems);
  ASSERT_TRUE(users.ok());
  Batch batch = PrepareBatch(config, *orgs, *users, problems);
  ASSERT_TRUE(problems.empty()) << problems.front().ToString();
  ASSERT_EQ(batch.mailboxes.size(), kExampleMailboxes);
  Status applied = ApplyBatch(batch, *orgs->source, *orgs->target);
  ASSERT_TRUE(applied.ok()) << applied.ToString();

  // The planner's apply rewrote the workspace files; compare them with the LDIF-applied copies.
  auto source_after = LdifDirectory::Open((ws / "source.ldif").string(), true);
  auto target_after = LdifDirectory::Open((ws / "target.ldif").string(), true);
  ASSERT_TRUE(source_after.ok() && target_after.ok());
  EXPECT_EQ((*source_after)->Serialize(), (*source_via_ldif)->Serialize());
  EXPECT_EQ((*target_after)->Serialize(), (*target_via_ldif)->Serialize());
}

INSTANTIATE_TEST_SUITE_P(Cli, LdifEquivalence, ::testing::ValuesIn(kAllCleanupOptions),
                         [](const auto& info) { return std::string(ToString(info.param)); });

class ContinuityAfterPlan : public ::testing::TestWithParam<CleanupOption> {};

// After applying the plan, every address of every snapshot lands where SPEC §6 says.
TEST_P(ContinuityAfterPlan, EveryOldAddressLandsWhereTheSpecSays) {
  Workspace ws;
  Config config = LoadConfig(ws, GetParam());
  Problems problems;
  auto orgs = OpenOrganizations(config, false, problems);
  ASSERT_TRUE(orgs.ok());
  auto users = ReadUsersFile(config.users_file, ',', problems);
  ASSERT_TRUE(users.ok());
  Batch batch = PrepareBatch(config, *orgs, *users, problems);
  ASSERT_TRUE(problems.empty());
  ASSERT_TRUE(ApplyBatch(batch, *orgs->source, *orgs->target).ok());
  auto everything = [](Directory& d, const std::string& base) {
    return *d.Search(base, Scope::kSubtree, Filter::Present("objectClass"));
  };
  RoutingModel model({{"source", config.source.domains,
                       everything(*orgs->source, orgs->source_base), config.profile},
                      {"target", config.target.domains,
                       everything(*orgs->target, orgs->target_base), config.profile}});
  size_t checked = 0;
  for (const auto& m : batch.mailboxes) {
    std::vector<std::string> addresses;
    for (const auto& p : m.source.Get("proxyAddresses")) {
      if (p.rfind("smtp:", 0) == 0 || p.rfind("SMTP:", 0) == 0) addresses.push_back(p.substr(5));
    }
    addresses.push_back("X500:" + m.source.First("legacyExchangeDN"));
    for (const auto& a : addresses) {
      Route route = model.Resolve(a, "source");
      ++checked;
      switch (GetParam()) {
        case CleanupOption::kCreateSourceContact:
        case CleanupOption::kMailEnableSourceAccount:
          ASSERT_EQ(route.outcome, RouteOutcome::kDelivered) << a << ": " << route.detail;
          EXPECT_EQ(route.final_hop()->org, "target") << a;
          EXPECT_EQ(route.final_hop()->dn, m.plan.target_dn) << a;
          break;
        case CleanupOption::kNone:
          ASSERT_EQ(route.outcome, RouteOutcome::kDelivered) << a;
          EXPECT_EQ(route.final_hop()->dn, m.source.dn()) << a;
          break;
        case CleanupOption::kDeleteSourceMailbox:
        case CleanupOption::kDeleteSourceNTAccount:
          EXPECT_EQ(route.outcome, RouteOutcome::kNdrUnknown) << a;
          break;
      }
    }
    // The new primary address always reaches the new mailbox.
    Route direct = model.Resolve(m.plan.target_primary_smtp);
    ASSERT_EQ(direct.outcome, RouteOutcome::kDelivered);
    EXPECT_EQ(direct.final_hop()->dn, m.plan.target_dn);
  }
  EXPECT_GT(checked, 2 * kExampleMailboxes);
}

INSTANTIATE_TEST_SUITE_P(Cli, ContinuityAfterPlan, ::testing::ValuesIn(kAllCleanupOptions),
                         [](const auto& info) { return std::string(ToString(info.param)); });

// One validation for plan and run (issue 12): what `plan` accepts, `run` starts; what `run`
// refuses, `plan` refuses with the same words.
TEST(PlanIsTheWhatIfOfRun, TheExampleConfigPlansAndRunsAsTheReadmeSays) {
  Workspace ws;
  auto plan = RunCrossmove({"plan"}, ws.dir());
  ASSERT_EQ(plan.exit_code, 0) << plan.err;
  auto run = RunCrossmove({"run"}, ws.dir());
  EXPECT_EQ(run.exit_code, 0) << run.err << run.out;
  EXPECT_NE(run.out.find("22 of 22 mailboxes moved and verified, 0 failed"), std::string::npos)
      << run.out;
}

TEST(PlanIsTheWhatIfOfRun, ADatabaseWithoutAStoreIsRefusedByBoth) {
  Workspace ws;
  ASSERT_TRUE(ws.Edit("crossmove.toml", "store = \"maildir:source-mail/%d/%n\"", ""));
  auto before = ws.Snapshot();
  for (const char* command : {"plan", "run"}) {
    auto r = RunCrossmove({command}, ws.dir());
    EXPECT_EQ(r.exit_code, 2) << command << ": " << r.err;
    EXPECT_NE(r.err.find("22 problems found"), std::string::npos) << command << ": " << r.err;
    EXPECT_NE(r.err.find("users.csv:3: homeMDB: CN=Alice Adams,OU=People,DC=fabrikam,DC=test: no "
                         "source mail store for database"),
              std::string::npos)
        << command << ": " << r.err;
  }
  auto after = ws.Snapshot();
  after.erase((ws / "crossmove.journal.lock").string());  // run's lock file, empty
  EXPECT_EQ(after, before);
}

// max-bytes-per-second paces IMAP stores: on a Maildir it would pace nothing, so it is refused,
// naming its line, rather than ignored.
TEST(PlanIsTheWhatIfOfRun, MaxBytesPerSecondOnAMaildirStoreIsRefusedByBoth) {
  Workspace ws;
  ASSERT_TRUE(ws.Edit("crossmove.toml", "store = \"maildir:source-mail/%d/%n\"",
                      "store = \"maildir:source-mail/%d/%n\"\nmax-bytes-per-second = \"3MB\""));
  for (const char* command : {"plan", "run"}) {
    auto r = RunCrossmove({command}, ws.dir());
    EXPECT_EQ(r.exit_code, 2) << command << ": " << r.err;
    EXPECT_NE(r.err.find(".max-bytes-per-second: paces IMAP stores only, and this database's "
                         "store is 'maildir:source-mail/%d/%n'"),
              std::string::npos)
        << command << ": " << r.err;
    EXPECT_NE(r.err.find("crossmove.toml:"), std::string::npos) << r.err;
  }
}

TEST(PlanIsTheWhatIfOfRun, AMissingSourceMaildirIsRefusedByBoth) {
  Workspace ws;
  std::filesystem::remove_all(ws / "source-mail/fabrikam.test/john.smith");
  for (const char* command : {"plan", "run"}) {
    auto r = RunCrossmove({command}, ws.dir());
    EXPECT_EQ(r.exit_code, 2) << command << ": " << r.err;
    EXPECT_NE(r.err.find("1 problem found"), std::string::npos) << command << ": " << r.err;
    EXPECT_NE(r.err.find("users.csv:4: source mailbox: CN=Smith\\, John,OU=People,DC=fabrikam,"
                         "DC=test: mailbox source-mail/fabrikam.test/john.smith does not exist"),
              std::string::npos)
        << command << ": " << r.err;
  }
  EXPECT_FALSE(std::filesystem::exists(ws / "crossmove.journal"));
}

TEST(PlanIsTheWhatIfOfRun, AfterARunPlanAndDryRunShowEveryMailboxDone) {
  Workspace ws;
  ASSERT_EQ(RunCrossmove({"run"}, ws.dir()).exit_code, 0);
  auto plan = RunCrossmove({"plan"}, ws.dir());
  ASSERT_EQ(plan.exit_code, 0) << plan.err;
  EXPECT_EQ(plan.err.find("not a mailbox"), std::string::npos) << plan.err;
  EXPECT_NE(plan.out.find("22 of the users file's mailboxes are in the journal: 22 done, 0 "
                          "resume, 0 rolled back."),
            std::string::npos)
      << plan.out;
  EXPECT_NE(plan.out.find("Identity=fabrikam.test/People/Alice Adams (users.csv:3): done "
                          "(routing-verified; nothing to do)"),
            std::string::npos)
      << plan.out;
  EXPECT_NE(plan.out.find("0 mailboxes planned"), std::string::npos) << plan.out;
  auto dry = RunCrossmove({"run", "--dry-run"}, ws.dir());
  EXPECT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_EQ(dry.out, plan.out);
  auto json = RunCrossmove({"plan", "--json"}, ws.dir());
  ASSERT_EQ(json.exit_code, 0) << json.err;
  auto j = nlohmann::json::parse(json.out);
  ASSERT_EQ(j["journaled"].size(), kExampleMailboxes);
  EXPECT_EQ(j["journaled"][0]["state"], "routing-verified");
  EXPECT_EQ(j["journaled"][0]["next_step"], "");
  EXPECT_TRUE(j["mailboxes"].empty());
}

TEST(PlanIsTheWhatIfOfRun, AfterAnInterruptedRunPlanShowsWhereEachMailboxResumesAndWhatIsNew) {
  Workspace ws;
  // The first mailbox's snapshot and provisioning, then the process dies (kill -9) in its copy.
  auto crashed =
      RunCrossmove({"run", "--parallel", "1"}, ws.dir(), {"CROSSMOVE_CRASH_AFTER_STEP=5"});
  ASSERT_EQ(crashed.exit_code, 137) << crashed.err;
  auto plan = RunCrossmove({"plan", "--json"}, ws.dir());
  ASSERT_EQ(plan.exit_code, 0) << plan.err;
  auto j = nlohmann::json::parse(plan.out);
  ASSERT_EQ(j["journaled"].size(), 1u) << plan.out;
  EXPECT_EQ(j["journaled"][0]["alias"], "alice.adams");
  EXPECT_EQ(j["journaled"][0]["state"], "target-provisioned");
  EXPECT_EQ(j["journaled"][0]["next_step"], "copy");
  EXPECT_EQ(j["mailboxes"].size(), kExampleMailboxes - 1);
  auto text = RunCrossmove({"plan"}, ws.dir());
  EXPECT_NE(text.out.find("(users.csv:3): resumes at copy (state target-provisioned)"),
            std::string::npos)
      << text.out;
  EXPECT_NE(text.out.find("[21/21]"), std::string::npos) << text.out;
  // The resume the plan previewed is what run does.
  auto resumed = RunCrossmove({"run"}, ws.dir());
  EXPECT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_NE(resumed.out.find("22 of 22 mailboxes moved and verified"), std::string::npos)
      << resumed.out;
}

// Read-only commands write nothing (issue 12): no run is added to the journal, no byte changes.
TEST(ReadOnlyCommands, StatusVerifyAndPlanLeaveTheJournalAsItWas) {
  Workspace ws;
  ASSERT_EQ(RunCrossmove({"run"}, ws.dir()).exit_code, 0);
  auto journal = ws / "crossmove.journal";
  std::string before = testing::Slurp(journal);
  auto runs_before = testing::Slurp(ws / "crossmove.journal.events.jsonl");
  for (const std::vector<std::string>& command : {std::vector<std::string>{"status"},
                                                  {"status", "--json"},
                                                  {"verify"},
                                                  {"plan"},
                                                  {"run", "--dry-run"}}) {
    auto r = RunCrossmove(command, ws.dir());
    EXPECT_EQ(r.exit_code, 0) << command[0] << ": " << r.err;
    EXPECT_EQ(testing::Slurp(journal), before) << command[0] << " changed the journal";
    EXPECT_EQ(testing::Slurp(ws / "crossmove.journal.events.jsonl"), runs_before) << command[0];
  }
  // The journal knows one run: the read-only commands registered none.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(journal.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* q = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT count(*) FROM runs", -1, &q, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(q), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(q, 0), 1);
  sqlite3_finalize(q);
  sqlite3_close(db);
}

}  // namespace
}  // namespace cm
