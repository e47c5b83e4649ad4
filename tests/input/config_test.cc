// Config layering: defaults < TOML file < environment < flags, with origins in every error.
#include "input/config.h"

#include <gtest/gtest.h>

#include <set>

namespace cm {
namespace {

const char* kToml = R"(users-file = "users.csv"
cleanup = "CreateSourceContact"
parallel = 8
allow-merge = true

[source]
gc = "ldif:source.ldif"
domains = ["fabrikam.test", "Fabrikam-Legacy.test"]

[target]
gc = "ldif:/abs/target.ldif"

[target.databases.DB1]
dn = "CN=DB1,DC=contoso,DC=test"
server = "EX01"
)";

TEST(Config, TomlValuesAndPathsRelativeToTheFile) {
  Settings s;
  Problems problems;
  ASSERT_TRUE(s.LoadTomlText(kToml, "/etc/crossmove/crossmove.toml", problems).ok());
  Config c = BuildConfig(s, problems);
  EXPECT_TRUE(problems.empty());
  EXPECT_EQ(c.users_file, "/etc/crossmove/users.csv");
  EXPECT_EQ(c.source.gc, "ldif:/etc/crossmove/source.ldif");
  EXPECT_EQ(c.source.dc, c.source.gc);  // dc defaults to gc
  EXPECT_EQ(c.target.gc, "ldif:/abs/target.ldif");
  EXPECT_EQ(c.source.domains, (std::vector<std::string>{"fabrikam.test", "fabrikam-legacy.test"}));
  EXPECT_EQ(c.parallel, 8);
  EXPECT_TRUE(c.allow_merge);
  ASSERT_NE(c.FindDatabase("db1"), nullptr);
  EXPECT_EQ(c.FindDatabase("DB1")->server, "EX01");
  EXPECT_EQ(c.OriginOf("cleanup"), "/etc/crossmove/crossmove.toml:2");
}

TEST(Config, EnvironmentBeatsFileAndFlagsBeatEnvironment) {
  Settings s;
  Problems problems;
  ASSERT_TRUE(s.LoadTomlText(kToml, "c.toml", problems).ok());
  std::string e1 = "CROSSMOVE_CLEANUP=MailEnableSourceAccount", e2 = "CROSSMOVE_PARALLEL=2",
              e3 = "CROSSMOVE_SOURCE_GC=ldif:env.ldif", e4 = "UNRELATED=1";
  char* env[] = {e1.data(), e2.data(), e3.data(), e4.data(), nullptr};
  s.LoadEnvironment(env);
  s.Set("parallel", "16", "--parallel");
  Config c = BuildConfig(s, problems);
  EXPECT_EQ(c.cleanup, "MailEnableSourceAccount");
  EXPECT_EQ(c.OriginOf("cleanup"), "environment CROSSMOVE_CLEANUP");
  EXPECT_EQ(c.parallel, 16);
  EXPECT_EQ(c.OriginOf("parallel"), "--parallel");
  EXPECT_EQ(c.source.gc, "ldif:env.ldif");
}

TEST(Config, NamesOfEnvironmentVariablesAndFlags) {
  EXPECT_EQ(EnvNameOf("source.gc"), "CROSSMOVE_SOURCE_GC");
  EXPECT_EQ(EnvNameOf("target-smtp-domain"), "CROSSMOVE_TARGET_SMTP_DOMAIN");
  EXPECT_EQ(FlagNameOf("source.credential"), "--source-credential");
}

TEST(ConfigErrors, ANearMissOfAnExchangeNameSuggestsTheSettingItMeans) {
  Settings s;
  Problems problems;
  ASSERT_TRUE(s.LoadTomlText("SourceMailboxCleanupOption = \"None\"\nNTAcountOU = \"x\"\n",
                             "c.toml", problems)
                  .ok());
  BuildConfig(s, problems);
  std::set<std::string> said;
  for (const auto& p : problems) said.insert(p.ToString());
  EXPECT_EQ(said, (std::set<std::string>{
                      "c.toml:1: SourceMailboxCleanupOption: unknown setting; did you mean "
                      "cleanup (Exchange's name for it is accepted too)?",
                      "c.toml:2: NTAcountOU: unknown setting; did you mean nt-account-ou?"}));
}

// The journal's location (issue 14): a file, sqlite:PATH or a PostgreSQL URL, which keeps its
// form (no folder prepended); a password in the URL, a credential or a lease for a file journal,
// and a lease out of range are problems naming the line.
TEST(ConfigErrors, JournalUrlsCredentialsAndLeasesNameTheFileLine) {
  auto build = [](const std::string& toml, Problems& problems) {
    Settings s;
    EXPECT_TRUE(s.LoadTomlText(toml, "/m/crossmove.toml", problems).ok());
    return BuildConfig(s, problems);
  };
  Problems ok;
  Config pg = build(
      "journal = \"postgresql://crossmove@db.example:5432/moves\"\n"
      "journal-credential = \"file:journal.secret\"\nworker-lease = \"90s\"\n",
      ok);
  EXPECT_TRUE(ok.empty()) << (ok.empty() ? "" : ok[0].ToString());
  EXPECT_EQ(pg.journal, "postgresql://crossmove@db.example:5432/moves");
  EXPECT_EQ(pg.worker_lease_seconds, 90);
  EXPECT_EQ(pg.JournalStem(), "crossmove");
  Config file = build("journal = \"sqlite:state/j.db\"\n", ok);
  EXPECT_EQ(file.journal, "sqlite:/m/state/j.db");
  EXPECT_EQ(file.JournalStem(), "/m/state/j.db");
  for (const auto& [toml, expected] : std::vector<std::pair<std::string, std::string>>{
           {"journal = \"postgresql://crossmove:hunter2@db/moves\"\n",
            "/m/crossmove.toml:1: journal: the URL holds a password"},
           {"journal = \"j.db\"\njournal-credential = \"env:PW\"\n",
            "/m/crossmove.toml:2: journal-credential: only a PostgreSQL journal takes a "
            "credential"},
           {"journal = \"j.db\"\nworker-lease = \"1m\"\n",
            "/m/crossmove.toml:2: worker-lease: only a PostgreSQL journal has workers"},
           {"journal = \"postgresql://db/moves\"\nworker-lease = \"2s\"\n",
            "/m/crossmove.toml:2: worker-lease: '2s': between 3 seconds and a day"}}) {
    Problems problems;
    build(toml, problems);
    ASSERT_EQ(problems.size(), 1u) << toml;
    EXPECT_NE(problems[0].ToString().find(expected), std::string::npos) << problems[0].ToString();
    EXPECT_EQ(problems[0].ToString().find("hunter2"), std::string::npos) << "the password shown";
  }
}

TEST(ConfigErrors, MaxBytesPerSecondTakesUnitsAndNamesTheFileLineOfABadOne) {
  auto build = [](const std::string& rate, Problems& problems) {
    Settings s;
    EXPECT_TRUE(s.LoadTomlText("[target.databases.DB1]\ndn = \"CN=DB1\"\n"
                               "store = \"imap://%u@mail.example/\"\nmax-bytes-per-second = " +
                                   rate + "\n",
                               "/m/crossmove.toml", problems)
                    .ok());
    return BuildConfig(s, problems);
  };
  for (const auto& [rate, bytes] :
       std::vector<std::pair<std::string, uint64_t>>{{"5000000", 5'000'000},
                                                     {"\"50MB\"", 50'000'000},
                                                     {"\"8 MiB\"", 8u << 20},
                                                     {"\"1gb\"", 1'000'000'000},
                                                     {"\"512 KiB\"", 512u << 10},
                                                     {"\"1.5MB\"", 1'500'000}}) {
    Problems problems;
    Config c = build(rate, problems);
    EXPECT_TRUE(problems.empty()) << rate << ": "
                                  << (problems.empty() ? "" : problems[0].ToString());
    ASSERT_EQ(c.databases.size(), 1u);
    EXPECT_EQ(c.databases[0].imap.max_bytes_per_second, bytes) << rate;
  }
  for (std::string rate :
       {"\"fast\"", "\"10 MBit\"", "100", "\"-5MB\"", "\"99999999999999999999\"", "\"0.5KB\""}) {
    Problems problems;
    build(rate, problems);
    ASSERT_EQ(problems.size(), 1u) << rate;
    EXPECT_NE(problems[0].ToString().find("/m/crossmove.toml:4: "
                                          "target.databases.DB1.max-bytes-per-second: '"),
              std::string::npos)
        << problems[0].ToString();
  }
}

TEST(ConfigErrors, UnknownKeysAndBadValuesNameTheFileLine) {
  Settings s;
  Problems problems;
  ASSERT_TRUE(
      s.LoadTomlText(
           "clenaup = \"None\"\nparallel = \"many\"\nallow-merge = \"perhaps\"\n[source]\ngc = 5\n",
           "c.toml", problems)
          .ok());
  Config c = BuildConfig(s, problems);
  ASSERT_EQ(problems.size(), 3u);
  EXPECT_EQ(problems[0].ToString(), "c.toml:1: clenaup: unknown setting; did you mean cleanup?");
  bool saw_parallel = false, saw_merge = false;
  for (const auto& p : problems) {
    saw_parallel |= p.ToString().find("c.toml:2: parallel: 'many' is not a whole number") == 0;
    saw_merge |= p.ToString().find("c.toml:3: allow-merge") == 0;
  }
  EXPECT_TRUE(saw_parallel);
  EXPECT_TRUE(saw_merge);
  EXPECT_EQ(c.source.gc, "5");  // numbers are accepted as text; the URL check rejects it later
}

TEST(ConfigErrors, TomlSyntaxErrorNamesTheLine) {
  Settings s;
  Problems problems;
  Status st = s.LoadTomlText("users-file = \"a.csv\"\ncleanup = \n", "c.toml", problems);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.message().rfind("c.toml:2:", 0), 0u) << st.message();
}

TEST(ConfigErrors, FlagValuesAreNamedByFlag) {
  Settings s;
  Problems problems;
  s.Set("bad-item-limit", "-3", "--bad-item-limit");
  BuildConfig(s, problems);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].ToString(),
            "bad-item-limit: '-3' is not a whole number from 0 to 1000000 (from --bad-item-limit)");
}

TEST(Config, ProfileRemapsAttributeNames) {
  Settings s;
  Problems problems;
  ASSERT_TRUE(
      s.LoadTomlText("[profile]\nmail-nickname = \"uid\"\nbogus = \"x\"\n", "c.toml", problems)
          .ok());
  Config c = BuildConfig(s, problems);
  EXPECT_EQ(c.profile.mail_nickname, "uid");
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].field, "profile.bogus");
}

}  // namespace
}  // namespace cm

namespace cm {
namespace {

TEST(Config, ImapDatabaseSettingsAndTheirMistakes) {
  Settings s;
  Problems problems;
  ASSERT_TRUE(s.LoadTomlText(R"([target.databases.DB1]
dn = "CN=DB1,DC=contoso,DC=test"
store = "imaps://%u@imap.contoso.test/"
admin = "migrator"
credential = "file:imap.secret"
master-form = "dovecot"
ca-file = "ca.pem"
pipeline-depth = 16
batch-megabytes = 8
compress = false

[source.databases.DB2]
store = "imap://%u@127.0.0.1:1143/"
master-form = "kerberos"
pipeline-depth = 0
pipelinedepth = 3
)",
                             "/etc/crossmove/c.toml", problems)
                  .ok());
  Config c = BuildConfig(s, problems);
  ASSERT_EQ(c.databases.size(), 1u);
  const ImapSettings& t = c.databases[0].imap;
  EXPECT_EQ(t.admin, "migrator");
  EXPECT_EQ(t.credential, "file:/etc/crossmove/imap.secret");
  EXPECT_EQ(t.master_form, "dovecot");
  EXPECT_EQ(t.ca_file, "/etc/crossmove/ca.pem");
  EXPECT_EQ(t.pipeline_depth, 16);
  EXPECT_EQ(t.batch_megabytes, 8);
  EXPECT_FALSE(t.compress);
  EXPECT_TRUE(t.tls_verify);
  std::string all;
  for (const auto& p : problems) all += p.ToString() + "\n";
  EXPECT_EQ(problems.size(), 3u) << all;
  EXPECT_NE(all.find("c.toml:14: source.databases.DB2.master-form: expected \"authzid\""),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("c.toml:15: source.databases.DB2.pipeline-depth: '0' is not a whole number"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("c.toml:16: source.databases.DB2.pipelinedepth: unknown database setting"),
            std::string::npos)
      << all;
}

TEST(Config, StagedMoveSettingsAcceptExchangeNamesAndNameTheLineOfABadTime) {
  Settings s;
  Problems problems;
  ASSERT_TRUE(s.LoadTomlText("CompleteAfter = \"2026-12-24T19:00:00+01:00\"\n"
                             "SuspendWhenReadyToComplete = true\n"
                             "IncrementalSyncInterval = \"04:00:00\"\n"
                             "start-after = \"24.12.2026 18:00\"\n",
                             "c.toml", problems)
                  .ok());
  Config c = BuildConfig(s, problems);
  ASSERT_TRUE(c.complete_after.has_value());
  EXPECT_EQ(*c.complete_after, 1798135200);  // date -u -d 2026-12-24T18:00:00Z +%s
  EXPECT_TRUE(c.suspend_when_ready);
  EXPECT_EQ(c.incremental_sync_interval_seconds, 4 * 3600);
  EXPECT_FALSE(c.start_after.has_value());
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].ToString().rfind("c.toml:4: start-after: '24.12.2026 18:00' is not an "
                                         "ISO 8601 time",
                                         0),
            0u)
      << problems[0].ToString();
}

TEST(Config, WithoutStagedSettingsTheIntervalIsExchangesDefault) {
  Settings s;
  Problems problems;
  Config c = BuildConfig(s, problems);
  EXPECT_FALSE(c.start_after || c.complete_after || c.suspend_when_ready);
  EXPECT_EQ(c.incremental_sync_interval_seconds, 24 * 3600);
}

}  // namespace
}  // namespace cm
