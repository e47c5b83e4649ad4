// Bad input, end to end through the real binary: each case must exit 2 (or 3 for an
// unreachable directory), name the file, line and field where there is one, and leave every
// file exactly as it was (SPEC §3-§4: nothing is written before validation has passed).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <functional>

#include "cli/run_crossmove.h"

namespace cm {
namespace {

using testing::RunCrossmove;
using testing::Workspace;

struct BadInput {
  const char* name;
  std::function<void(const Workspace&)> setup;  // breaks something in a fresh example workspace
  std::vector<std::string> args;                // after "plan" unless it starts with a command
  std::vector<std::string> expected;            // fragments of stderr
  int exit_code = 2;
  std::vector<std::string> env = {};
  std::vector<std::string> unwanted = {};  // fragments that must not be in stderr
};

const std::string kHeader = "#TYPE Microsoft.Exchange.Data.Directory.Management.Mailbox\r\n";

std::function<void(const Workspace&)> Csv(std::string text) {
  return [text](const Workspace& ws) { ws.Write("users.csv", text); };
}

std::function<void(const Workspace&)> EditFile(std::string file, std::string from, std::string to) {
  return [=](const Workspace& ws) {
    ASSERT_TRUE(ws.Edit(file, from, to)) << "test set-up: '" << from << "' not in " << file;
  };
}

std::function<void(const Workspace&)> Nothing() {
  return [](const Workspace&) {};
}

// A mailbox that already exists in the target with one of John's addresses.
const std::string kTargetMailboxWithJohnsAddress =
    "dn: CN=Impostor,OU=Staff,DC=contoso,DC=test\n"
    "objectClass: user\ncn: Impostor\nsAMAccountName: impostor\n"
    "proxyAddresses: SMTP:impostor@contoso.test\nproxyAddresses: smtp:JSMITH@fabrikam-legacy.test\n"
    "homeMDB: CN=DB-Contoso-01,OU=Exchange,DC=contoso,DC=test\nmsExchRecipientTypeDetails: 1\n\n";

const std::string kTargetMailUserWithZoesAddress =
    "dn: CN=Zoe (mail user),OU=Staff,DC=contoso,DC=test\n"
    "objectClass: user\ncn: Zoe (mail user)\nsAMAccountName: zoe.mu\n"
    "proxyAddresses: SMTP:zoe.angstrom@fabrikam.test\ntargetAddress: "
    "SMTP:zoe.angstrom@fabrikam.test\n"
    "msExchRecipientTypeDetails: 128\n\n";

std::vector<BadInput> Cases() {
  return {
      // --- the users file ---
      {"NoIdentityColumn",
       Csv(kHeader + "\"Name\",\"Department\"\r\n\"Smith, John\",\"Finance\"\r\n"),
       {},
       {"users.csv:2: no identity column"}},
      {"UnterminatedQuote",
       Csv("\"Alias\"\r\n\"john.smith\r\nzoe.angstrom\r\n"),
       {},
       {"users.csv:2: field 1 opens a quote"}},
      {"TextAfterClosingQuote",
       Csv("\"Alias\"\r\n\"john.smith\"x\r\n"),
       {},
       {"users.csv:2: field 1: unexpected text after the closing quote"}},
      {"ASyntaxErrorInOneRowStillShowsTheProblemsOfTheOthers",
       Csv("\"Alias\"\r\n\"john.smith\"x\r\nnobody.such\r\n"),
       {},
       {"users.csv:2: field 1: unexpected text after the closing quote",
        "users.csv:3: column Alias: 'nobody.such' matches nothing"}},
      {"CsvDelimiterSetToCommaIsObeyedAndTheErrorNamesIt",
       Csv("Alias;Name\r\njohn.smith;John\r\n"),
       {"--csv-delimiter", ","},
       {"users.csv:1: no identity column",
        "the header has ';' but the file is read as separated by ','"}},
      {"StrayQuote",
       Csv("Alias,Name\r\njohn.smith,Robert \"Bob\"\r\n"),
       {},
       {"users.csv:2: field 2: a quote inside an unquoted field"}},
      {"Windows1252Encoding",
       Csv("Alias\r\njohn.smith\r\nJos\xE9\r\n"),
       {},
       {"users.csv:3: not valid UTF-8"}},
      {"Utf16WithoutBom",
       Csv(std::string("A\0l\0i\0a\0s\0\r\0\n\0", 14)),
       {},
       {"UTF-16 without a byte-order mark"}},
      {"TooManyFields",
       Csv("Alias\r\njohn.smith,extra\r\n"),
       {},
       {"users.csv:2: 2 fields, but the header has 1 columns"}},
      {"EmptyIdentity",
       Csv("Alias,Name\r\n,Nobody\r\njohn.smith,John\r\n"),
       {},
       {"users.csv:2: column Alias: empty identity"}},
      {"DuplicateIdentity",
       Csv("Alias\r\njohn.smith\r\nJOHN.SMITH\r\n"),
       {},
       {"users.csv:3: column Alias: 'JOHN.SMITH' is listed again (first on line 2)"}},
      {"SameMailboxTwice",
       Csv("Identity\r\njohn.smith@fabrikam.test\r\n\"fabrikam.test/People/Smith, John\"\r\n"),
       {},
       {"users.csv:3: column Identity: 'fabrikam.test/People/Smith, John' is the same mailbox as "
        "line 2"}},
      {"UnknownIdentity",
       Csv("PrimarySmtpAddress\r\nnobody@fabrikam.test\r\n"),
       {},
       {"users.csv:2: column PrimarySmtpAddress: 'nobody@fabrikam.test' matches nothing in the "
        "source directory"}},
      {"AmbiguousIdentity",
       [](const Workspace& ws) {
         ws.Write("users.csv", "Identity\r\nctaylor\r\n");
         std::string src = ws.Read("source.ldif");
         ws.Write("source.ldif", src +
                                     "dn: CN=ctaylor,OU=Contacts,DC=fabrikam,DC=test\nobjectClass: "
                                     "contact\ncn: ctaylor\n\n");
       },
       {},
       {"users.csv:2: column Identity: 'ctaylor' matches 2 objects:",
        "CN=Taylor\\, Chris,OU=People", "CN=ctaylor,OU=Contacts"}},
      {"ContactIsNotAMailbox",
       Csv("Identity\r\nCarol Partner\r\n"),
       {},
       {"users.csv:2: column Identity: 'Carol Partner' is a MailContact", "not a mailbox"}},
      {"PlainUserIsNotAMailbox",
       Csv("SamAccountName\r\nsvc-backup\r\n"),
       {},
       {"users.csv:2: column SamAccountName: 'svc-backup' is a User"}},
      {"BadGuid",
       Csv("ExchangeGuid\r\nnot-a-guid\r\n"),
       {},
       {"users.csv:2: column ExchangeGuid: 'not-a-guid' is not a GUID"}},
      {"BadRowCleanupOption",
       Csv("Alias,SourceMailboxCleanupOptions\r\njohn.smith,DeleteEverything\r\n"),
       {},
       {"users.csv:2: column SourceMailboxCleanupOptions: unknown cleanup option "
        "'DeleteEverything'"}},
      {"BadRowOu",
       Csv("Alias,NTAccountOU\r\njohn.smith,\"OU=Nowhere,DC=contoso,DC=test\"\r\n"),
       {},
       {"users.csv:2: column NTAccountOU: OU=Nowhere,DC=contoso,DC=test does not exist in the "
        "target directory"}},
      {"BadRowDatabase",
       Csv("Alias,TargetDatabase\r\njohn.smith,DB99\r\n"),
       {},
       {"users.csv:2: column TargetDatabase: 'DB99' is not a configured target database"}},
      {"MissingUsersFile",
       Nothing(),
       {"--users-file", "missing.csv"},
       {"users-file: cannot read the users file", "missing.csv", "(from --users-file)"}},
      {"MissingUsersFileNamesItsConfigLine",
       EditFile("crossmove.toml", "users-file = \"users.csv\"", "users-file = \"userz.csv\""),
       {},
       {"crossmove.toml:3: users-file: cannot read the users file", "userz.csv"}},
      {"MistypedLdifPathIsASettingToCorrectNotAServerDown",
       EditFile("crossmove.toml", "gc = \"ldif:source.ldif\"", "gc = \"ldif:sourse.ldif\""),
       {},
       {"crossmove.toml:11: source.gc: cannot open directory file", "sourse.ldif"}},
      {"StartAfterLaterThanCompleteAfter",
       Nothing(),
       {"--start-after", "2031-01-01T00:00:00Z", "--complete-after", "2029-01-01T00:00:00Z"},
       {"start-after: starts after 2031-01-01T00:00:00Z but is to complete after "
        "2029-01-01T00:00:00Z, before it starts"}},
      {"IncrementalSyncIntervalTooLarge",
       Nothing(),
       {"--incremental-sync-interval", "999999999999999999999"},
       {"incremental-sync-interval: '999999999999999999999' is too long an interval"}},
      {"IncrementalSyncIntervalInAmbiguousMonthsOrMinutes",
       Nothing(),
       {"--incremental-sync-interval", "30M"},
       {"incremental-sync-interval: '30M' is not an interval: 'M' could mean minutes or months; "
        "write 30m for minutes"}},
      // --- source objects that cannot be moved as they are ---
      // An address no MTA without SMTPUTF8 (nor the routing proof) routes: found before the
      // move, not by the routing proof after the source is cleaned up.
      {"NonAsciiProxyAddress",
       EditFile("source.ldif", "proxyAddresses: smtp:alice@fabrikam.test\n",
                "proxyAddresses: smtp:alice@fabrikam.test\nproxyAddresses: "
                "smtp:alïce@fabrikam.test\n"),
       {},
       {"users.csv:3: column Identity:",
        "proxyAddresses value 'smtp:alïce@fabrikam.test' is not an SMTP address",
        "correct or remove it in the source"}},
      {"AliasTooLong",
       EditFile("source.ldif", "mailNickname: john.smith", "mailNickname: " + std::string(65, 'j')),
       {},
       {"users.csv:4: column Identity:", "is 65 characters long (at most 64)"}},
      {"AliasWithSpace",
       EditFile("source.ldif", "mailNickname: john.smith", "mailNickname: john smith"),
       {},
       {"users.csv:4: column Identity:", "alias 'john smith' contains the character ' '"}},
      {"DisplayNameTooLong",
       EditFile("source.ldif", "displayName: Taylor, Chris",
                "displayName: " + std::string(257, 'T')),
       {},
       {"users.csv:16: displayName:", "is 257 characters (at most 256)"}},
      {"TwoPrimarySmtp",
       EditFile("source.ldif", "proxyAddresses: smtp:jsmith@fabrikam-legacy.test",
                "proxyAddresses: SMTP:jsmith@fabrikam-legacy.test"),
       {},
       {"users.csv:4: proxyAddresses:", "2 primary SMTP addresses"}},
      {"AddressCollidesWithTargetMailbox",
       [](const Workspace& ws) {
         ws.Write("target.ldif", ws.Read("target.ldif") + kTargetMailboxWithJohnsAddress);
       },
       {},
       {"users.csv:4: column Identity:",
        "smtp:jsmith@fabrikam-legacy.test already belongs to target Mailbox "
        "CN=Impostor,OU=Staff,DC=contoso,DC=test"}},
      {"MatchesMailUserWithoutAllowMerge",
       [](const Workspace& ws) {
         ws.Write("target.ldif", ws.Read("target.ldif") + kTargetMailUserWithZoesAddress);
       },
       {},
       {"users.csv:7: column Identity:",
        "smtp:zoe.angstrom@fabrikam.test already belong to the target mail user CN=Zoe (mail "
        "user),OU=Staff,DC=contoso,DC=test",
        "set allow-merge"}},
      // --- parameters ---
      {"NtAccountOuMissing",
       Nothing(),
       {"--nt-account-ou", "OU=Nowhere,DC=contoso,DC=test"},
       {"nt-account-ou: OU=Nowhere,DC=contoso,DC=test does not exist in the target directory"}},
      {"NtAccountOuNotADn",
       Nothing(),
       {"--nt-account-ou", "Migrated Users"},
       {"nt-account-ou: 'Migrated Users' is not a distinguished name"}},
      {"ContactsOuMissing",
       Nothing(),
       {"--contacts-ou", "OU=Nowhere,DC=fabrikam,DC=test"},
       {"contacts-ou: OU=Nowhere,DC=fabrikam,DC=test does not exist in the source directory"}},
      {"BadTargetDomain",
       Nothing(),
       {"--target-smtp-domain", "contoso"},
       {"target-smtp-domain: domain 'contoso' needs at least two labels"}},
      {"TargetDomainNotAccepted",
       Nothing(),
       {"--target-smtp-domain", "elsewhere.test"},
       {"target-smtp-domain: elsewhere.test is not one of the target's accepted domains"}},
      {"UnknownCleanupOption",
       Nothing(),
       {"--cleanup", "DeleteEverything"},
       {"cleanup: unknown cleanup option 'DeleteEverything'"}},
      {"UnknownTargetDatabase",
       Nothing(),
       {"--target-database", "DB99"},
       {"target-database: 'DB99' is not configured"}},
      {"BadAddressTemplate",
       Nothing(),
       {"--address-template", "%q@contoso.test"},
       {"address-template: ", "unknown placeholder '%q'"}},
      {"BadParallel",
       Nothing(),
       {"--parallel", "0"},
       {"parallel: '0' is not a whole number from 1 to 256 (from --parallel)"}},
      {"MissingContactsOuForCreateSourceContact",
       EditFile("crossmove.toml", "contacts-ou = \"OU=Contacts,DC=fabrikam,DC=test\"\n", ""),
       {},
       {"contacts-ou: not set, but CreateSourceContact needs"}},
      // The target mailbox would be created below a plain file: found by plan, not by the copy
      // after the directory was written.
      {"TargetStoreBelowAPlainFile",
       [](const Workspace& ws) { ws.Write("target-mail", "not a directory\n"); },
       {},
       {"target.databases.DB-Contoso-01.store: ", "target-mail is a file, not a directory"}},
      {"MissingSourceGc",
       EditFile("crossmove.toml", "gc = \"ldif:source.ldif\"\n", ""),
       {},
       {"source.gc: not set"}},
      // --- config file ---
      {"UnknownConfigKey",
       EditFile("crossmove.toml", "cleanup =", "clenaup ="),
       {},
       {"crossmove.toml:4: clenaup: unknown setting; did you mean cleanup?"}},
      {"UnknownConfigKeyFarFromAny",
       EditFile("crossmove.toml", "cleanup =", "frobnicate-the-widgets ="),
       {},
       {"crossmove.toml:4: frobnicate-the-widgets: unknown setting (crossmove --help lists"}},
      {"BadCleanupInTheConfigNamesFileAndLine",
       EditFile("crossmove.toml", "cleanup = \"CreateSourceContact\"",
                "cleanup = \"CreateSourceContacts\""),
       {},
       {"crossmove.toml:4: cleanup: unknown cleanup option 'CreateSourceContacts'"}},
      // Exchange's parameter names are the settings they mean (here with a bad value, so that
      // the problem shows which setting it became and where it was written).
      {"ExchangeParameterNameIsASettingAlias",
       EditFile("crossmove.toml", "cleanup = \"CreateSourceContact\"",
                "SourceMailboxCleanupOptions = \"Bogus\""),
       {},
       {"crossmove.toml:4: cleanup: unknown cleanup option 'Bogus'"}},
      {"ASettingAndItsExchangeNameBothSetAreRefused",
       EditFile("crossmove.toml", "cleanup = \"CreateSourceContact\"",
                "cleanup = \"None\"\nSourceMailboxCleanupOptions = \"DeleteSourceMailbox\""),
       {},
       // Either line may be named first (a TOML table is not in file order); both are named.
       {"crossmove.toml:4: cleanup: sets cleanup again (already set at crossmove.toml:5): keep "
        "one of the two"}},
      {"NearMissOfAnExchangeParameterNameSuggestsTheSetting",
       EditFile("crossmove.toml", "cleanup = \"CreateSourceContact\"",
                "SourceMailboxCleanupOption = \"None\""),
       {},
       {"crossmove.toml:4: SourceMailboxCleanupOption: unknown setting; did you mean cleanup"}},
      {"KebabExchangeParameterNameIsASettingAlias",
       EditFile("crossmove.toml", "cleanup = \"CreateSourceContact\"",
                "source-mailbox-cleanup-options = \"Bogus\""),
       {},
       {"crossmove.toml:4: cleanup: unknown cleanup option 'Bogus'"}},
      {"NoConfigFile",
       [](const Workspace& ws) { std::filesystem::remove(ws / "crossmove.toml"); },
       {},
       {"crossmove: no config file: ./crossmove.toml does not exist and CROSSMOVE_CONFIG is not "
        "set; name one with --config FILE (a complete one: /usr/share/doc/crossmove/examples/"
        "crossmove.toml, or examples/crossmove.toml in the source tree)"},
       2,
       {},
       {"not set (", "problems found"}},
      {"SemicolonUsersFileThatDoesNotParse",
       Csv("Alias;Name\r\n\"john.smith\"x;John\r\n"),
       {},
       {"users.csv:2: field 1: unexpected text after the closing quote (read as separated by ';', "
        "as its header is; set csv-delimiter"}},
      {"TomlSyntaxError",
       EditFile("crossmove.toml", "cleanup = \"CreateSourceContact\"",
                "cleanup = CreateSourceContact"),
       {},
       {"crossmove.toml:4:"}},
      {"BrokenSourceLdif",
       EditFile("source.ldif", "ou: People\n", "ou People\n"),
       {},
       {"source.ldif:12: expected 'attribute: value', got 'ou People'"}},
      // --- credentials ---
      {"UnreadableCredentialFile",
       Nothing(),
       {"--source-credential", "file:/nonexistent/secret"},
       {"source.credential: cannot read credential file /nonexistent/secret"}},
      {"CredentialFileReadableByOthers",
       [](const Workspace& ws) {
         ws.Write("secret", "Lab-Passw0rd!\n");
         chmod((ws / "secret").c_str(), 0644);
       },
       {"--target-credential", "file:secret"},
       {"target.credential: credential file secret has mode 0644", "chmod 600"},
       2,
       {},
       {"target.credential: target.credential"}},
      // The advice once, and nothing tried without the secret: no bind error, no "cannot reach".
      {"CredentialFileReadableByOthersForAServer",
       [](const Workspace& ws) {
         ws.Write("secret", "Lab-Passw0rd!\n");
         chmod((ws / "secret").c_str(), 0644);
       },
       {"--source-gc", "ldap://127.0.0.1:9", "--source-bind", "CN=crossmove,DC=fabrikam,DC=test",
        "--source-credential", "file:secret"},
       {"1 problem found", "source.credential: credential file secret has mode 0644", "chmod 600"},
       2,
       {},
       {"source.credential: source.credential", "cannot reach", "bind", "source.gc"}},
      // --- the environment ---
      // A misspelt setting is refused (it would be ignored, and the file's cleanup used), with
      // the name it resembles.
      {"EnvironmentVariableThatIsNoSetting",
       Nothing(),
       {},
       {"1 problem found",
        "environment CROSSMOVE_CLEANUP_OPTIONS: not a crossmove setting; did "
        "you mean CROSSMOVE_CLEANUP?"},
       2,
       {"CROSSMOVE_CLEANUP_OPTIONS=CreateSourceContact"}},
      {"EnvironmentVariableMisspelt",
       Nothing(),
       {},
       {"environment CROSSMOVE_PARALEL: not a crossmove setting; did you mean CROSSMOVE_PARALLEL?"},
       2,
       {"CROSSMOVE_PARALEL=2"}},
      {"ConfigFileNamedByTheEnvironmentMissing",
       Nothing(),
       {},
       {"crossmove: config file nowhere.toml, named by CROSSMOVE_CONFIG, does not exist"},
       2,
       {"CROSSMOVE_CONFIG=nowhere.toml"}},
      {"ConfigFileNamedByTheEnvironmentWithAnUnknownSetting",
       [](const Workspace& ws) {
         ws.Write("site.toml", "parralel = 2\n" + ws.Read("crossmove.toml"));
       },
       {},
       {"site.toml:1: parralel: unknown setting; did you mean parallel?; CROSSMOVE_CONFIG names "
        "this file"},
       2,
       {"CROSSMOVE_CONFIG=site.toml"}},
      {"ConfigFileNamedByTheEnvironmentThatDoesNotParse",
       [](const Workspace& ws) { ws.Write("site.toml", "cleanup = \n"); },
       {},
       {"crossmove: site.toml:1: ", "; CROSSMOVE_CONFIG names this file"},
       2,
       {"CROSSMOVE_CONFIG=site.toml"}},
      {"CredentialEnvVariableUnset",
       Nothing(),
       {"--source-credential", "env:NO_SUCH_VARIABLE"},
       {"source.credential: environment variable NO_SUCH_VARIABLE is not set"}},
      {"PasswordInsteadOfReference",
       Nothing(),
       {"--source-credential", "Lab-Passw0rd!"},
       {"expected file:PATH, env:NAME or prompt"}},
      // --- export ---
      {"ExportBadFilter",
       Nothing(),
       {"export", "--filter", "(department=Finance"},
       {"--filter: bad LDAP filter"}},
      {"ExportBadFormat",
       Nothing(),
       {"export", "--format", "xml"},
       {"--format: 'xml' is not csv or json"}},
      // --- cannot reach a directory: exit 3 ---
      {"LdapNotBuiltYet",
       Nothing(),
       {"--target-gc", "ldap://127.0.0.1:4389"},
       {"cannot reach a directory", "ldap://127.0.0.1:4389"},
       3},
  };
}

void PrintTo(const BadInput& c, std::ostream* os) { *os << c.name; }

class BadInputTest : public ::testing::TestWithParam<BadInput> {};

TEST_P(BadInputTest, ExitsWithAClearErrorAndWritesNothing) {
  const BadInput& c = GetParam();
  Workspace ws;
  c.setup(ws);
  auto before = ws.Snapshot();
  std::vector<std::string> args = c.args;
  if (args.empty() || args[0] != "export") args.insert(args.begin(), "plan");
  args.push_back("--ldif");  // must not be written either
  args.push_back("plan-out.ldif");
  if (args[0] == "export") args.resize(args.size() - 2);
  auto r = RunCrossmove(args, ws.dir(), c.env);
  EXPECT_EQ(r.exit_code, c.exit_code) << r.err << r.out;
  for (const auto& fragment : c.expected)
    EXPECT_NE(r.err.find(fragment), std::string::npos) << "missing '" << fragment << "' in:\n"
                                                       << r.err;
  for (const auto& fragment : c.unwanted)
    EXPECT_EQ(r.err.find(fragment), std::string::npos) << "'" << fragment << "' in:\n" << r.err;
  EXPECT_EQ(ws.Snapshot(), before) << "files changed or were created";
  EXPECT_EQ(r.err.find("Lab-Passw0rd!"), std::string::npos) << "a secret was echoed";
  EXPECT_EQ(r.out.find("Lab-Passw0rd!"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Cli, BadInputTest, ::testing::ValuesIn(Cases()),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(BadInput, EveryProblemIsListedNotJustTheFirst) {
  Workspace ws;
  ws.Write("users.csv",
           "Alias,SourceMailboxCleanupOptions\r\nnobody\r\njohn.smith,Bogus\r\nCarol Partner\r\n");
  auto r = RunCrossmove(
      {"plan", "--nt-account-ou", "OU=Nowhere,DC=contoso,DC=test", "--target-smtp-domain", "x"},
      ws.dir());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("problems found; nothing was written"), std::string::npos) << r.err;
  for (const char* fragment :
       {"users.csv:2:", "users.csv:3:", "users.csv:4:", "nt-account-ou:", "target-smtp-domain:"}) {
    EXPECT_NE(r.err.find(fragment), std::string::npos) << fragment << " missing in:\n" << r.err;
  }
}

TEST(BadInput, JsonModeReportsProblemsAsData) {
  Workspace ws;
  ws.Write("users.csv", "Alias\r\nnobody\r\n");
  auto r = RunCrossmove({"plan", "--json"}, ws.dir());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("\"line\": 2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"field\": \"column Alias\""), std::string::npos) << r.out;
}

// Values from the users file reach the terminal as visible escapes, never as control characters
// (NUL, ESC sequences that recolour or clear the screen, a CR that rewrites the line).
TEST(BadInput, ControlCharactersFromTheUsersFileAreEscapedInErrors) {
  Workspace ws;
  ws.Write("users.csv",
           std::string("Alias\r\n\"evil\x1b[31mred\x1b[2J\"\r\n\"nul") + '\0' + "byte\"\r\n");
  auto r = RunCrossmove({"plan"}, ws.dir());
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("users.csv:2: column Alias: 'evil\\e[31mred\\e[2J' matches nothing"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("users.csv:3: column Alias: 'nul\\0byte' matches nothing"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find('\x1b'), std::string::npos) << "an escape sequence reached the terminal";
  EXPECT_EQ(r.err.find('\0'), std::string::npos) << "a NUL reached the terminal";
}

// An IMAP store's credential file that others can read stops `plan` as it stops `run`: one
// problem naming the file, no login tried with an empty secret, nothing written.
TEST(BadInput, AnImapCredentialFileOthersCanReadStopsPlanAndRun) {
  Workspace ws;
  ASSERT_TRUE(ws.Edit("crossmove.toml", "store = \"maildir:target-mail/%d/%n\"",
                      "store = \"imap://%u@127.0.0.1:9/\"\nadmin = \"migrator\"\n"
                      "credential = \"file:imap.secret\""));
  ws.Write("imap.secret", "Lab-Passw0rd!\n");
  chmod((ws / "imap.secret").c_str(), 0644);
  auto before = ws.Snapshot();
  for (const char* command : {"plan", "run"}) {
    auto r = RunCrossmove({command}, ws.dir());
    EXPECT_EQ(r.exit_code, 2) << command << ": " << r.err << r.out;
    EXPECT_NE(r.err.find("target.databases.DB-Contoso-01.credential: credential file imap.secret "
                         "has mode 0644"),
              std::string::npos)
        << command << ": " << r.err;
    // That one problem, for plan and run alike (one validation): no login with an empty secret.
    EXPECT_NE(r.err.find("1 problem found"), std::string::npos) << command << ": " << r.err;
    EXPECT_EQ(r.err.find("uthenticat"), std::string::npos)
        << command << ": a login was tried without the secret:\n"
        << r.err;
    EXPECT_EQ(r.err.find("Lab-Passw0rd!"), std::string::npos);
    // `run` takes the journal's run lock before it reads anything; the lock file stays empty
    // (journal/run_lock.h) and is not a write of the migration.
    auto after = ws.Snapshot();
    if (auto lock = after.find((ws / "crossmove.journal.lock").string()); lock != after.end()) {
      EXPECT_EQ(lock->second, "");
      after.erase(lock);
    }
    EXPECT_EQ(after, before) << command << " wrote something";
  }
}

TEST(BadInput, ACredentialFileOwnedByAnotherUserIsRefusedByName) {
  if (geteuid() != 0) GTEST_SKIP() << "only root can give a file to another user";
  Workspace ws;
  ws.Write("secret", "Lab-Passw0rd!\n");
  chmod((ws / "secret").c_str(), 0600);
  ASSERT_EQ(chown((ws / "secret").c_str(), 65534, 65534), 0);
  auto r = RunCrossmove({"plan", "--source-credential", "file:secret"}, ws.dir());
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("source.credential: credential file secret is owned by"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("uid 65534"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("mode 0600"), std::string::npos) << r.err;
}

TEST(BadInput, UnknownFlagIsAUsageError) {
  Workspace ws;
  auto r = RunCrossmove({"plan", "--no-such-flag"}, ws.dir());
  EXPECT_EQ(r.exit_code, 2);
}

}  // namespace
}  // namespace cm
