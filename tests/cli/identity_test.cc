// `status`, `verify`, `rollback` and `forget` take a mailbox in any form an administrator types
// (issue 12): an address, an alias, a DN, a canonical name, the users-file value. Through the
// real binary on a generated organization.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "app/identity_resolver.h"
#include "cli/org.h"

namespace cm {
namespace {

using testing::Org;

const std::string kAlice = "PrimarySmtpAddress=alice.adams@fabrikam.test";
const std::string kNoMatch =
    "matches no mailbox in the journal (tried: SMTP address (primary or proxy, mail, UPN), alias, "
    "sAMAccountName (also DOMAIN\\name), legacyExchangeDN or X500:address, cn or display name, DN "
    "or canonical name of the source or target object, users-file value)";

// The identities `verify --json` reports for what was typed.
std::vector<std::string> VerifiedIdentities(const Org& org, const std::string& typed, int& exit) {
  auto r = org.Run({"verify", "--json", typed});
  exit = r.exit_code;
  std::vector<std::string> out;
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  if (j.is_discarded() || !j.contains("mailboxes")) return {"unparsable: " + r.out + r.err};
  for (const auto& m : j["mailboxes"]) out.push_back(m["identity"]);
  return out;
}

TEST(Identities, StatusAndVerifyFindAMailboxByEveryFormOfItsIdentity) {
  Org org(3, 10, "CreateSourceContact");
  CM_ASSERT_ORG(org);
  ASSERT_EQ(org.Run({"run"}).exit_code, 0);
  for (const std::string typed : {
           "ALICE.ADAMS@fabrikam.test",         // primary address, another case
           "aliceadams0@FABRIKAM-LEGACY.test",  // a proxy address
           "smtp:aliceadams0@fabrikam-legacy.test",
           "Alice.Adams",                                   // alias (mailNickname)
           "aliceadams0",                                   // sAMAccountName
           "FABRIKAM\\aliceadams0",                         // DOMAIN\sam
           "cn=alice adams,ou=people,dc=fabrikam,dc=test",  // DN
           "fabrikam.test/People/Alice Adams",              // canonical name
           "alice.adams@fabrikam.test",                     // the users-file value
           "Alice.Adams@CONTOSO.test",                      // the new primary address in the target
           "CN=Alice Adams,OU=Migrated Users,DC=contoso,DC=test",  // the target object's DN
           "contoso.test/Migrated Users/alice adams",  // its canonical name, as export writes it
           "  alice.adams@fabrikam.test ",             // pasted with spaces
           "X500:/o=Contoso/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/"
           "cn=alice.adams",                                // the target's legacyExchangeDN
           "primarysmtpaddress=alice.adams@fabrikam.test",  // the journal's key
           "/o=Fabrikam/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn="
           "alice.adams",  // legacyExchangeDN
       }) {
    int exit = -1;
    EXPECT_EQ(VerifiedIdentities(org, typed, exit), std::vector<std::string>{kAlice}) << typed;
    EXPECT_EQ(exit, 0) << typed;
    auto status = org.Run({"status", "--json", typed});
    EXPECT_EQ(status.exit_code, 0) << typed << ": " << status.err;
    auto j = nlohmann::json::parse(status.out, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << status.out;
    ASSERT_EQ(j["mailboxes"].size(), 1u) << typed;
    EXPECT_EQ(j["mailboxes"][0]["identity"], kAlice) << typed;
  }
  // Without an identity, every mailbox.
  auto all = org.Run({"verify", "--json"});
  EXPECT_EQ(nlohmann::json::parse(all.out)["mailboxes"].size(), 3u);
}

// A name with letters beyond ASCII is found in any case, as the directory compares it.
TEST(Identities, ANonAsciiNameIsFoundInAnyCase) {
  Org org(2, 5, "CreateSourceContact");
  CM_ASSERT_ORG(org);
  std::string ldif = org.Read("source.ldif");
  const std::string from = "displayName: Alice Adams\n";
  ASSERT_NE(ldif.find(from), std::string::npos);
  ldif.replace(ldif.find(from), from.size(),
               "displayName:: w4VsaWNlIMOEZGFtcw==\n");  // Ålice Ädams
  testing::Spit(org.dir() / "source.ldif", ldif);
  ASSERT_EQ(org.Run({"run"}).exit_code, 0);
  for (const std::string typed : {"Ålice Ädams", "ÅLICE ÄDAMS", "ålice ädams"}) {
    auto status = org.Run({"status", "--json", typed});
    ASSERT_EQ(status.exit_code, 0) << typed << ": " << status.err;
    auto j = nlohmann::json::parse(status.out, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << status.out;
    ASSERT_EQ(j["mailboxes"].size(), 1u) << typed;
    EXPECT_EQ(j["mailboxes"][0]["identity"], kAlice) << typed;
  }
  EXPECT_NE(org.Run({"status", "Ålice Adams"}).exit_code, 0) << "Å is not A";
}

TEST(Identities, AnIdentityThatMatchesNoMailboxIsAnErrorNamingWhatWasTried) {
  Org org(2, 4, "CreateSourceContact");
  CM_ASSERT_ORG(org);
  ASSERT_EQ(org.Run({"run"}).exit_code, 0);
  std::string journal_before = org.Read("crossmove.journal");
  for (const auto& command : {"status", "verify", "rollback", "forget"}) {
    auto r = org.Run({command, "hans"});
    EXPECT_EQ(r.exit_code, 2) << command << ": " << r.out << r.err;
    EXPECT_NE(r.err.find("crossmove: 'hans' " + kNoMatch), std::string::npos)
        << command << ": " << r.err;
    EXPECT_EQ(r.out.find("alice"), std::string::npos) << command << " printed mailboxes: " << r.out;
  }
  // Every identity that names nothing is listed, not just the first; nothing is rolled back.
  auto two = org.Run({"rollback", "alice.adams", "nobody@fabrikam.test", "hans"});
  EXPECT_EQ(two.exit_code, 2);
  EXPECT_NE(two.err.find("'nobody@fabrikam.test' " + kNoMatch), std::string::npos) << two.err;
  EXPECT_NE(two.err.find("'hans' " + kNoMatch), std::string::npos) << two.err;
  EXPECT_EQ(org.Run({"status", "--json", "alice.adams"}).out.find("rolled-back"),
            std::string::npos);
  // --json says it as data too.
  auto json = org.Run({"verify", "--json", "hans"});
  auto j = nlohmann::json::parse(json.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << json.out;
  EXPECT_NE(j["error"].get<std::string>().find(kNoMatch), std::string::npos);
}

TEST(Identities, AnIdentityThatMatchesSeveralMailboxesNamesThem) {
  // Two mailboxes that share a display name (two "John Smith"s); the selection is pure.
  Entry a("CN=John Smith,OU=Sales,DC=fabrikam,DC=test");
  a.Set("displayName", {"John Smith"});
  a.Set("mailNickname", {"john.smith"});
  Entry b("CN=John Smith,OU=Finance,DC=fabrikam,DC=test");
  b.Set("displayName", {"John Smith"});
  b.Set("mailNickname", {"john.smith2"});
  std::vector<JournaledIdentity> mailboxes = {{"Alias=john.smith", a.dn(), &a},
                                              {"Alias=john.smith2", b.dn(), &b}};
  AttributeProfile profile;
  auto both = SelectJournaled({"john smith"}, mailboxes, profile);
  ASSERT_FALSE(both.ok());
  EXPECT_EQ(both.status().message(),
            "'john smith' matches 2 mailboxes in the journal: Alias=john.smith, "
            "Alias=john.smith2; name one by its users-file value or DN");
  auto one = SelectJournaled({"JOHN.SMITH2"}, mailboxes, profile);
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  EXPECT_EQ(*one, std::vector<size_t>{1});
  // Before its snapshot a mailbox is known by its users-file value and DN only.
  std::vector<JournaledIdentity> pending = {{"Alias=john.smith", a.dn(), nullptr}};
  EXPECT_TRUE(SelectJournaled({"john.smith"}, pending, profile).ok());
  EXPECT_TRUE(SelectJournaled({"fabrikam.test/Sales/John Smith"}, pending, profile).ok());
  EXPECT_FALSE(SelectJournaled({"John Smith"}, pending, profile).ok());
}

// After the move users know a mailbox by its new address in the target, which the source
// object never held.
TEST(Identities, TheNewTargetPrimaryAddressNamesTheMailbox) {
  Entry a("CN=John Smith,OU=Sales,DC=fabrikam,DC=test");
  a.Set("mailNickname", {"john.smith"});
  a.Set("proxyAddresses", {"SMTP:john.smith@fabrikam.test"});
  std::vector<JournaledIdentity> mailboxes = {
      {"Alias=john.smith", a.dn(), &a, "john.smith@contoso.test"}};
  AttributeProfile profile;
  for (const std::string typed : {"John.Smith@CONTOSO.test", "smtp:john.smith@contoso.test"}) {
    auto found = SelectJournaled({typed}, mailboxes, profile);
    ASSERT_TRUE(found.ok()) << typed << ": " << found.status().ToString();
    EXPECT_EQ(*found, std::vector<size_t>{0}) << typed;
  }
  // Not yet snapshotted, the plan's address names it all the same.
  mailboxes[0].source = nullptr;
  EXPECT_TRUE(SelectJournaled({"john.smith@contoso.test"}, mailboxes, profile).ok());
  auto other = SelectJournaled({"jane.smith@contoso.test"}, mailboxes, profile);
  ASSERT_FALSE(other.ok());
  EXPECT_NE(other.status().message().find(kNoMatch), std::string::npos) << other.status().message();
}

TEST(Identities, RollbackDryRunPrintsTheChangesAndWritesNothing) {
  Org org(2, 6, "CreateSourceContact");
  CM_ASSERT_ORG(org);
  ASSERT_EQ(org.Run({"run"}).exit_code, 0);
  std::string source = org.DirectoryText("source"), target = org.DirectoryText("target");
  auto r = org.Run({"rollback", "--dry-run", "Alice.Adams@Fabrikam.test"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find(kAlice + ": would restore CN=Alice Adams,OU=People,DC=fabrikam,DC=test"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("source delete CN=Alice Adams,OU=Contacts,DC=fabrikam,DC=test"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("target modify CN=Alice Adams,OU=Migrated Users,DC=contoso,DC=test"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("1 mailbox would be rolled back; nothing was written"), std::string::npos)
      << r.out;
  // A binary value is shown as the bytes it writes, base64 as LDIF has it: the mailbox GUID the
  // target kept from the source, read from the target's LDIF file as it is written there.
  std::string guid_line;
  bool in_alice = false;
  for (const auto& line : Split(target, '\n')) {
    if (line.starts_with("dn: "))
      in_alice = line == "dn: CN=Alice Adams,OU=Migrated Users,DC=contoso,DC=test";
    if (in_alice && IStartsWith(line, "msExchMailboxGuid::")) guid_line = line;
  }
  ASSERT_FALSE(guid_line.empty()) << target;
  std::string base64 = std::string(Trim(guid_line.substr(guid_line.find("::") + 2)));
  EXPECT_NE(AsciiLower(r.out).find("msexchmailboxguid:: " + AsciiLower(base64) + "\n"),
            std::string::npos)
      << guid_line << "\n"
      << r.out;
  EXPECT_EQ(r.out.find("msExchMailboxGuid: {"), std::string::npos) << r.out;
  EXPECT_EQ(org.DirectoryText("source"), source);
  EXPECT_EQ(org.DirectoryText("target"), target);
  // --json: the same as data, errors included.
  auto json = org.Run({"rollback", "--dry-run", "--json", "alice.adams"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  auto j = nlohmann::json::parse(json.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << json.out;
  EXPECT_EQ(j["would_roll_back"], 1);
  ASSERT_EQ(j["mailboxes"].size(), 1u);
  EXPECT_EQ(j["mailboxes"][0]["identity"], kAlice);
  EXPECT_EQ(j["mailboxes"][0]["result"], "would roll back");
  // The changes as data, as `plan --json` gives its operations: side, op, DN, attributes.
  const nlohmann::json& changes = j["mailboxes"][0]["changes"];
  ASSERT_EQ(changes.size(), 3u) << json.out;
  EXPECT_EQ(changes[0]["side"], "source");
  EXPECT_EQ(changes[0]["op"], "delete");
  EXPECT_EQ(changes[0]["dn"], "CN=Alice Adams,OU=Contacts,DC=fabrikam,DC=test");
  EXPECT_EQ(changes[1]["op"], "add");  // CreateSourceContact deleted it: it comes back whole
  EXPECT_EQ(changes[1]["dn"], "CN=Alice Adams,OU=People,DC=fabrikam,DC=test");
  ASSERT_TRUE(changes[1]["attributes"].is_array()) << json.out;
  EXPECT_EQ(changes[2]["op"], "modify");
  ASSERT_TRUE(changes[2]["changes"].is_array()) << json.out;
  EXPECT_EQ(changes[2]["side"], "target");
  EXPECT_EQ(changes[2]["dn"], "CN=Alice Adams,OU=Migrated Users,DC=contoso,DC=test");
  auto unknown = org.Run({"rollback", "--json", "hans"});
  EXPECT_EQ(unknown.exit_code, 2);
  auto e = nlohmann::json::parse(unknown.out, nullptr, false);
  ASSERT_FALSE(e.is_discarded()) << unknown.out;
  EXPECT_NE(e["error"].get<std::string>().find(kNoMatch), std::string::npos) << unknown.out;
  EXPECT_EQ(org.DirectoryText("source"), source);
  auto status = nlohmann::json::parse(org.Run({"status", "--json", "alice.adams"}).out);
  EXPECT_EQ(status["mailboxes"][0]["state"], "routing-verified");
}

// A synced mailbox's source was never touched: its rollback only turns the target mailbox back
// into a mail user, and --dry-run lists nothing else (no contact to remove, no value to restore).
TEST(Identities, RollbackDryRunOfASyncedMailboxListsOnlyWhatWouldChange) {
  Org org(2, 6, "CreateSourceContact");
  CM_ASSERT_ORG(org);
  ASSERT_EQ(org.Run({"run", "--suspend-when-ready"}).exit_code, 0);
  std::string source = org.DirectoryText("source");
  auto json = org.Run({"rollback", "--dry-run", "--json", "alice.adams"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  auto j = nlohmann::json::parse(json.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << json.out;
  const nlohmann::json& changes = j["mailboxes"][0]["changes"];
  ASSERT_EQ(changes.size(), 1u) << json.out;
  EXPECT_EQ(changes[0]["side"], "target");
  EXPECT_EQ(changes[0]["op"], "modify");
  ASSERT_EQ(org.Run({"rollback", "alice.adams"}).exit_code, 0);
  EXPECT_EQ(org.DirectoryText("source"), source);
}

TEST(Identities, ForgetLetsTheNextRunMoveARolledBackMailboxAgain) {
  Org org(2, 8, "CreateSourceContact");
  CM_ASSERT_ORG(org);
  ASSERT_EQ(org.Run({"run"}).exit_code, 0);
  auto mail = org.TargetMail();
  // A moved mailbox cannot be forgotten: its source is a contact now.
  auto moved = org.Run({"forget", "alice.adams"});
  EXPECT_EQ(moved.exit_code, 2);
  EXPECT_NE(moved.err.find(kAlice + " is routing-verified: its source was cleaned up and not "
                                    "rolled back"),
            std::string::npos)
      << moved.err;
  ASSERT_EQ(org.Run({"rollback", "aliceadams0"}).exit_code, 0);
  // The report says so at once, not at the next run.
  auto states_in_report = [&] {
    std::vector<std::string> out;
    for (const auto& row : testing::ParseCsv(org.Read("crossmove-report.csv")))
      if (row.at("identity") == kAlice) out.push_back(row.at("state"));
    return out;
  };
  EXPECT_EQ(states_in_report(), std::vector<std::string>{"rolled-back"});
  auto again = org.Run({"run"});
  // Skipped as `plan` shows it, not failed: the run that follows a rollback exits 0.
  EXPECT_EQ(again.exit_code, 0) << again.err << again.out;
  EXPECT_NE(again.out.find("1 skipped (rolled back: `crossmove forget IDENTITY`, then `run "
                           "--allow-merge`, moves it again)"),
            std::string::npos)
      << again.out;

  auto forgotten = org.Run({"forget", "fabrikam.test/People/Alice Adams"});
  ASSERT_EQ(forgotten.exit_code, 0) << forgotten.err;
  EXPECT_NE(forgotten.out.find(kAlice + ": forgotten (rolled-back); the next run moves it again"),
            std::string::npos)
      << forgotten.out;
  EXPECT_EQ(org.Run({"status", "alice.adams"}).exit_code, 2);
  EXPECT_EQ(states_in_report(), std::vector<std::string>{"forgotten"});
  // The target object it left is a mail user with its addresses: allow-merge reuses it, and
  // the mail already there is recognised, not copied twice.
  auto moved_again = org.Run({"run", "--allow-merge"});
  ASSERT_EQ(moved_again.exit_code, 0) << moved_again.err << moved_again.out;
  auto status = nlohmann::json::parse(org.Run({"status", "--json", "alice.adams"}).out);
  EXPECT_EQ(status["mailboxes"][0]["state"], "routing-verified");
  EXPECT_EQ(org.TargetMail(), mail);
  EXPECT_EQ(org.Run({"verify"}).exit_code, 0);
  // The report keeps the forgotten move beside the new one: its row says what it was.
  std::vector<std::string> alice_rows;
  for (const auto& row : testing::ParseCsv(org.Read("crossmove-report.csv"))) {
    if (row.at("identity") == kAlice)
      alice_rows.push_back(row.at("state") + " / " + row.at("waiting") + " / " +
                           row.at("messages"));
  }
  ASSERT_EQ(alice_rows.size(), 2u) << org.Read("crossmove-report.csv");
  EXPECT_EQ(alice_rows[0].rfind("routing-verified / ", 0), 0u) << alice_rows[0];
  EXPECT_EQ(alice_rows[1].rfind("forgotten / rolled-back when forgotten at 20", 0), 0u)
      << alice_rows[1];
  EXPECT_FALSE(alice_rows[1].ends_with(" / 0")) << alice_rows[1];  // what its first move copied
  EXPECT_NE(org.Read("crossmove-report.html").find("<h2>Forgotten</h2>"), std::string::npos);
}

// Moved, rolled back, and the user works in the old mailbox again (new mail, a message moved
// to another folder, one deleted, a flag changed); then forgotten and moved again into the
// target that still holds the first move's copies: the new mailbox ends as the old one is now,
// read from both sides' files, nothing beside it twice (new-user trial: the copies of the first
// move stayed beside the new ones, and verify passed).
TEST(Identities, AMailboxMovedAgainAfterRollbackAndForgetEndsAsItsSourceIsThen) {
  namespace fs = std::filesystem;
  Org org(2, 40, "CreateSourceContact");
  CM_ASSERT_ORG(org);
  ASSERT_EQ(org.Run({"run"}).exit_code, 0);
  ASSERT_EQ(org.Run({"rollback", "alice.adams"}).exit_code, 0);
  fs::path box = org.dir() / "source-mail" / "fabrikam.test" / "alice.adams";
  std::vector<fs::path> files;
  for (const auto& f : fs::directory_iterator(box / "cur")) files.push_back(f.path());
  std::sort(files.begin(), files.end());
  ASSERT_GE(files.size(), 3u);
  for (const char* sub : {"cur", "new", "tmp"}) fs::create_directories(box / ".Moved" / sub);
  fs::rename(files[0], box / ".Moved" / "cur" / files[0].filename());
  fs::remove(files[1]);
  std::string flagged = files[2].filename().string();
  flagged = flagged.substr(0, flagged.find(":2,")) + ":2,FS";
  fs::rename(files[2], box / "cur" / flagged);
  testing::Spit(box / "new" / "1800000000.M1P1.again",
                "Message-ID: <again@x>\r\nSubject: after the rollback\r\n\r\nhello\r\n");
  ASSERT_EQ(org.Run({"forget", "alice.adams"}).exit_code, 0);
  auto again = org.Run({"run", "--allow-merge"});
  ASSERT_EQ(again.exit_code, 0) << again.err << again.out;
  EXPECT_EQ(org.TargetMail("alice.adams"), testing::MailOf(box, /*as_target_names=*/true))
      << testing::Difference(org.TargetMail("alice.adams"),
                             testing::MailOf(box, /*as_target_names=*/true));
  EXPECT_EQ(org.Run({"verify"}).exit_code, 0);
}

}  // namespace
}  // namespace cm
