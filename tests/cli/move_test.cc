// `crossmove run` end to end on generated organizations, one test per cleanup option.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>

#include "cli/org.h"
#include "core/dn.h"
#include "core/planner.h"
#include "core/proxy_address.h"

namespace cm {
namespace {

using testing::MailOf;
using testing::Org;
using testing::Total;

constexpr int kMailboxes = 6;
constexpr int kMessages = 240;

void ExpectEveryMessageOnceIntact(const Org& org) {
  namespace fs = std::filesystem;
  int boxes = 0;
  for (const auto& user : fs::directory_iterator(org.dir() / "source-mail" / "fabrikam.test")) {
    auto source = MailOf(user.path(), true);
    auto target = org.TargetMail(user.path().filename().string());
    EXPECT_TRUE(target == source) << user.path().filename() << " (target left, source right):\n"
                                  << testing::Difference(target, source);
    EXPECT_GT(Total(source), 0);
    ++boxes;
  }
  EXPECT_EQ(boxes, kMailboxes);
}

class MoveEveryOption : public ::testing::TestWithParam<CleanupOption> {};

TEST_P(MoveEveryOption, MovesMailAndLeavesTheDirectoriesAsTheSpecSays) {
  Org org(kMailboxes, kMessages, std::string(ToString(GetParam())));
  CM_ASSERT_ORG(org);
  auto r = org.Run({"run"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_NE(
      r.out.find(fmt::format("{0} of {0} mailboxes moved and verified, 0 failed; {1} messages",
                             kMailboxes, kMessages)),
      std::string::npos)
      << r.out;
  ExpectEveryMessageOnceIntact(org);

  auto source = org.Directory("source");
  auto target = org.Directory("target");
  ASSERT_TRUE(source && target);
  const std::string user_dn = "CN=Alice Adams,OU=People,DC=fabrikam,DC=test";
  auto mailbox = target->Read("CN=Alice Adams,OU=Migrated Users,DC=contoso,DC=test");
  ASSERT_TRUE(mailbox.ok());
  EXPECT_EQ(mailbox->First("msExchRecipientTypeDetails"), "1");
  EXPECT_TRUE(
      DnEquals(mailbox->First("homeMDB"), "CN=DB-Contoso-01,OU=Exchange,DC=contoso,DC=test"))
      << mailbox->First("homeMDB");
  EXPECT_EQ(mailbox->First("userAccountControl"), "514");
  const Values& target_proxies = mailbox->Get("proxyAddresses");
  EXPECT_EQ(target_proxies.front(), "SMTP:alice.adams@contoso.test");
  auto contact = source->Read("CN=Alice Adams,OU=Contacts,DC=fabrikam,DC=test");
  auto user = source->Read(user_dn);
  switch (GetParam()) {
    case CleanupOption::kNone:
      ASSERT_TRUE(user.ok());
      EXPECT_EQ(user->First("msExchRecipientTypeDetails"), "1");
      EXPECT_FALSE(contact.ok());
      break;
    case CleanupOption::kDeleteSourceMailbox:
      ASSERT_TRUE(user.ok());
      for (const char* a :
           {"homeMDB", "msExchMailboxGuid", "proxyAddresses", "mail", "mailNickname",
            "legacyExchangeDN", "msExchRecipientTypeDetails", "targetAddress"}) {
        EXPECT_FALSE(user->Has(a)) << a;
      }
      EXPECT_EQ(user->First("sAMAccountName"), "aliceadams0");
      break;
    case CleanupOption::kDeleteSourceNTAccount:
      EXPECT_FALSE(user.ok());
      EXPECT_FALSE(contact.ok());
      break;
    case CleanupOption::kCreateSourceContact:
    case CleanupOption::kMailEnableSourceAccount: {
      const Entry& fwd = GetParam() == CleanupOption::kCreateSourceContact ? *contact : *user;
      if (GetParam() == CleanupOption::kCreateSourceContact) {
        ASSERT_TRUE(contact.ok());
        EXPECT_FALSE(user.ok());
        EXPECT_EQ(fwd.First("msExchRecipientTypeDetails"), "64");
      } else {
        ASSERT_TRUE(user.ok());
        EXPECT_FALSE(contact.ok());
        EXPECT_EQ(fwd.First("msExchRecipientTypeDetails"), "128");
        EXPECT_FALSE(fwd.Has("homeMDB"));
        EXPECT_FALSE(fwd.Has("msExchMailboxGuid"));
      }
      EXPECT_EQ(fwd.First("targetAddress"), "SMTP:alice.adams@contoso.test");
      EXPECT_EQ(fwd.First("msExchRecipientDisplayType"), "6");
      EXPECT_EQ(fwd.First("legacyExchangeDN"),
                "/o=Fabrikam/ou=Exchange Administrative Group "
                "(FYDIBOHF23SPDLT)/cn=Recipients/cn=alice.adams");
      auto proxies = ProxyAddressSet::Parse(fwd.Get("proxyAddresses"));
      ASSERT_TRUE(proxies.ok());
      EXPECT_TRUE(proxies->CheckPrimaries().ok());
      EXPECT_EQ(proxies->Primary("SMTP")->address(), "alice.adams@contoso.test");
      for (const char* p :
           {"smtp:alice.adams@fabrikam.test", "smtp:aliceadams0@fabrikam-legacy.test",
            "X500:/o=Contoso/ou=Exchange Administrative Group "
            "(FYDIBOHF23SPDLT)/cn=Recipients/cn=alice.adams",
            "X500:/o=Fabrikam/ou=Exchange Administrative Group "
            "(FYDIBOHF23SPDLT)/cn=Recipients/cn=alice.adams",
            "X500:/o=Northwind/ou=First Administrative Group/cn=Recipients/cn=aliceadams0"}) {
        EXPECT_TRUE(proxies->Contains(*ProxyAddress::Parse(p))) << p;
      }
      break;
    }
  }

  auto verify = org.Run({"verify", "--json"});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  auto j = nlohmann::json::parse(verify.out);
  EXPECT_EQ(j["unexpected"], 0);
  EXPECT_EQ(j["mailboxes"].size(), static_cast<size_t>(kMailboxes));
  std::string expected = GetParam() == CleanupOption::kNone ? "old mailbox"
                         : GetParam() == CleanupOption::kDeleteSourceMailbox ||
                                 GetParam() == CleanupOption::kDeleteSourceNTAccount
                             ? "NDR"
                             : "new mailbox";
  for (const auto& m : j["mailboxes"]) {
    for (const auto& a : m["addresses"]) {
      EXPECT_EQ(a["expected"], expected) << a["address"];
      EXPECT_TRUE(a["as_expected"].get<bool>()) << a["address"] << " " << a["lands"];
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Cli, MoveEveryOption, ::testing::ValuesIn(kAllCleanupOptions),
                         [](const auto& info) { return std::string(ToString(info.param)); });

// Shared, room and equipment mailboxes arrive as what they are (SPEC §5), read back with
// ldapsearch or the tests' own LDIF reader; DeleteSourceMailbox takes their booking attributes
// off the source with the other mailbox attributes.
TEST(Move, SharedRoomAndEquipmentMailboxesKeepTheirType) {
  Org org(4, 8, "DeleteSourceMailbox", {"--resource-mailboxes"});
  CM_ASSERT_ORG(org);
  auto r = org.Run({"run"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  struct Expected {
    std::string alias;
    testing::LdifRecord attributes;  // lower-cased names; an empty list: absent
  };
  const std::vector<Expected> expected = {
      {"alice.adams",
       {{"msexchrecipienttypedetails", {"1"}},
        {"msexchrecipientdisplaytype", {"1073741824"}},
        {"useraccountcontrol", {"514"}},
        {"msexchuseraccountcontrol", {}},
        {"msexchresourcedisplay", {}}}},
      {"bob.al-farsi",
       {{"msexchrecipienttypedetails", {"4"}},
        {"msexchrecipientdisplaytype", {"0"}},
        {"useraccountcontrol", {"514"}},
        {"msexchuseraccountcontrol", {"2"}},
        {"msexchresourcedisplay", {}}}},
      {"zoe.muller",
       {{"msexchrecipienttypedetails", {"16"}},
        {"msexchrecipientdisplaytype", {"7"}},
        {"useraccountcontrol", {"514"}},
        {"msexchuseraccountcontrol", {"2"}},
        {"msexchresourcecapacity", {"12"}},
        {"msexchresourcedisplay", {"Room"}},
        {"msexchresourcemetadata", {"ResourceType:Room"}},
        {"msexchresourcesearchproperties", {"AudioVisual", "Room"}}}},
      {"jose.munoz",
       {{"msexchrecipienttypedetails", {"32"}},
        {"msexchrecipientdisplaytype", {"8"}},
        {"useraccountcontrol", {"514"}},
        {"msexchuseraccountcontrol", {"2"}},
        {"msexchresourcecapacity", {}},
        {"msexchresourcedisplay", {"Equipment"}},
        {"msexchresourcemetadata", {"ResourceType:Equipment"}}}},
  };
  for (const auto& want : expected) {
    auto found = org.ReadBack("target", "mailNickname", want.alias);
    ASSERT_EQ(found.size(), 1u) << want.alias << (found.empty() ? "" : found[0]["error"][0]);
    for (const auto& [attr, values] : want.attributes) {
      auto got = found[0][attr];
      std::sort(got.begin(), got.end());
      EXPECT_EQ(got, values) << want.alias << " " << attr;
    }
    auto source = org.ReadBack("source", "sAMAccountName", found[0]["samaccountname"].at(0));
    ASSERT_EQ(source.size(), 1u) << want.alias;
    for (const char* attr : {"msexchrecipienttypedetails", "msexchresourcedisplay",
                             "msexchresourcemetadata", "msexchuseraccountcontrol"})
      EXPECT_EQ(source[0].count(attr), 0u) << want.alias << " keeps " << attr << " in the source";
  }
}

// The journal and the event log hold every directory value (snapshots, before and after):
// mode 0600 like the reports, whatever the umask.
TEST(Move, TheJournalAndTheEventLogArePrivate) {
  Org org(1, 4, "None");
  CM_ASSERT_ORG(org);
  auto r = org.Run({"run"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  std::vector<std::string> files = {Org::EventLogFile()};
  if (testing::kJournal == testing::JournalBackend::kSqlite) {
    files.insert(files.end(),
                 {"crossmove.journal", "crossmove.journal-wal", "crossmove.journal-shm"});
  }
  for (const std::string& file : files) {
    struct stat st;
    if (stat((org.dir() / file).c_str(), &st) != 0) {
      EXPECT_NE(file.find("-"), std::string::npos) << file << " is missing";
      continue;
    }
    EXPECT_EQ(st.st_mode & 0777, 0600u) << file;
  }
}

TEST(Move, ARerunAfterSuccessWritesNothing) {
  Org org(kMailboxes, kMessages, "CreateSourceContact");
  CM_ASSERT_ORG(org);
  ASSERT_EQ(org.Run({"run"}).exit_code, 0);
  std::string source = org.DirectoryText("source"), target = org.DirectoryText("target");
  auto mail = org.TargetMail();
  std::string events = org.Read(Org::EventLogFile());
  // A message moved to another folder of an old mailbox after the move (by hand: its user is
  // gone) is not swept into the new one a second time.
  namespace fs = std::filesystem;
  fs::path old_box = org.dir() / "source-mail" / "fabrikam.test" / "alice.adams";
  fs::path moved;
  for (const auto& f : fs::directory_iterator(old_box / "cur")) moved = f.path();
  ASSERT_FALSE(moved.empty());
  fs::create_directories(old_box / ".Moved by hand" / "cur");
  fs::create_directories(old_box / ".Moved by hand" / "new");
  fs::create_directories(old_box / ".Moved by hand" / "tmp");
  fs::rename(moved, old_box / ".Moved by hand" / "cur" / moved.filename());
  auto again = org.Run({"run"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("0 messages"), std::string::npos) << again.out;
  EXPECT_EQ(org.DirectoryText("source"), source);
  EXPECT_EQ(org.DirectoryText("target"), target);
  EXPECT_EQ(org.TargetMail(), mail);
  std::string new_events = org.Read(Org::EventLogFile()).substr(events.size());
  EXPECT_EQ(new_events.find("\"event\":\"directory\""), std::string::npos) << new_events;
  EXPECT_EQ(new_events.find("\"event\":\"folder\""), std::string::npos) << new_events;
}

TEST(Move, MailDeliveredBetweenCopyAndCleanupReachesTheNewMailbox) {
  Org org(kMailboxes, kMessages, "CreateSourceContact");
  CM_ASSERT_ORG(org);
  // Steps per mailbox: snapshot, provision, copy, verify (intent + done each): stop right after
  // the first mailbox's content is verified, before its final delta pass and cleanup.
  auto stopped = org.Run({"run", "--parallel", "1"}, {"CROSSMOVE_CRASH_AFTER_STEP=8"});
  ASSERT_EQ(stopped.exit_code, 137) << stopped.err;
  auto status = nlohmann::json::parse(org.Run({"status", "--json"}).out);
  EXPECT_EQ(status["counts"]["content-verified"], 1);
  std::filesystem::path inbox = org.dir() / "source-mail" / "fabrikam.test" / "alice.adams" / "new";
  testing::Spit(inbox / "1800000000.M1P1.late",
                "Message-ID: <late@x>\r\nSubject: arrived mid-move\r\n\r\nhello\r\n");
  auto finished = org.Run({"run"});
  ASSERT_EQ(finished.exit_code, 0) << finished.err;
  auto target = org.TargetMail("alice.adams");
  bool found = false;
  for (const auto& [k, n] : target) {
    if (k.find(testing::Sha256(inbox / "1800000000.M1P1.late")) != std::string::npos)
      found = n == 1;
  }
  EXPECT_TRUE(found);
  ExpectEveryMessageOnceIntact(org);
}

// Each cleanup step is checked whole before any of it is written: a contact's name taken in the
// meantime stops the step before the user is deleted, so the old addresses never bounce.
TEST(Move, AnObjectInTheWayOfTheContactLeavesTheSourceUserInPlace) {
  Org org(kMailboxes, kMessages, "CreateSourceContact");
  CM_ASSERT_ORG(org);
  ASSERT_EQ(org.Run({"run", "--parallel", "1"}, {"CROSSMOVE_CRASH_AFTER_STEP=8"}).exit_code, 137);
  const std::string user = "CN=Alice Adams,OU=People,DC=fabrikam,DC=test";
  const std::string contact = "CN=Alice Adams,OU=Contacts,DC=fabrikam,DC=test";
  Entry squatter(contact);
  squatter.Set("objectClass", {"top", "person", "organizationalPerson", "contact"});
  squatter.Set("cn", {"Alice Adams"});
  squatter.Set("sn", {"Squatter"});
  ASSERT_TRUE(org.Directory("source", true)->Add(squatter).ok());
  auto blocked = org.Run({"run"});
  EXPECT_EQ(blocked.exit_code, 1) << blocked.out << blocked.err;
  EXPECT_NE((blocked.out + blocked.err).find("not the one the plan creates"), std::string::npos)
      << blocked.out << blocked.err;
  EXPECT_TRUE(org.Directory("source")->Read(user).ok()) << "the user was deleted: mail bounces";

  ASSERT_TRUE(org.Directory("source", true)->Delete(contact).ok());
  auto finished = org.Run({"run"});
  EXPECT_EQ(finished.exit_code, 0) << finished.out << finished.err;
  EXPECT_FALSE(org.Directory("source")->Read(user).ok());
  EXPECT_EQ(org.Run({"verify"}).exit_code, 0);
}

TEST(Move, ReportEventLogAndStatusTellWhatHappened) {
  Org org(kMailboxes, kMessages, "MailEnableSourceAccount");
  CM_ASSERT_ORG(org);
  ASSERT_EQ(org.Run({"run"}).exit_code, 0);
  std::string csv = org.Read("crossmove-report.csv");
  EXPECT_NE(csv.find("\"PrimarySmtpAddress=alice.adams@fabrikam.test\""), std::string::npos);
  EXPECT_NE(csv.find("\"routing-verified\""), std::string::npos);
  std::string html = org.Read("crossmove-report.html");
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_NE(html.find("6 mailboxes, 0 failed"), std::string::npos);
  std::string events = org.Read(Org::EventLogFile());
  size_t lines = 0, directory = 0, folders = 0;
  for (const auto& line : Split(events, '\n')) {
    if (line.empty()) continue;
    auto j = nlohmann::json::parse(line);
    ++lines;
    if (j["event"] == "directory") {
      ++directory;
      EXPECT_TRUE(j.contains("before") && j.contains("after"));
    }
    folders += j["event"] == "folder";
  }
  EXPECT_GT(directory, 6u * 5);
  EXPECT_GT(folders, 6u * 3);
  auto status = org.Run({"status"});
  EXPECT_NE(status.out.find("routing-verified     6"), std::string::npos) << status.out;
  // Completed mailboxes are counted, not listed, and the text says so.
  EXPECT_NE(status.out.find("6 mailboxes not listed"), std::string::npos) << status.out;
}

// The users file's Priority column (New-MoveRequest -Priority) orders the moves: highest first,
// then in file order; a value that is no priority is that row's problem.
TEST(Move, APriorityColumnOrdersTheMovesHighestFirst) {
  Org org(3, 6, "None");
  CM_ASSERT_ORG(org);
  testing::Spit(org.dir() / "users.csv",
                "\"Name\",\"Alias\",\"PrimarySmtpAddress\",\"Priority\"\n"
                "\"Alice Adams\",\"alice.adams\",\"alice.adams@fabrikam.test\",\"Low\"\n"
                "\"Al-Farsi, Bob\",\"bob.al-farsi\",\"bob.al-farsi@fabrikam.test\",\"\"\n"
                "\"Zoë Müller\",\"zoe.muller\",\"zoe.muller@fabrikam.test\",\"highest\"\n");
  auto r = org.Run({"run", "--parallel", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  // The order the mailboxes were taken in (one at a time): their first steps in the journal.
  EXPECT_EQ(
      org.JournalSql("SELECT m.identity FROM mailboxes m JOIN steps s ON s.mailbox = m.id "
                     "GROUP BY m.identity ORDER BY min(s.id)"),
      "PrimarySmtpAddress=zoe.muller@fabrikam.test\nPrimarySmtpAddress=bob.al-farsi@fabrikam.test\n"
      "PrimarySmtpAddress=alice.adams@fabrikam.test\n");
  Org bad(3, 6, "None");
  CM_ASSERT_ORG(bad);
  testing::Spit(bad.dir() / "users.csv", "\"Alias\",\"Priority\"\n\"alice.adams\",\"Urgent\"\n");
  auto refused = bad.Run({"plan"});
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_NE(refused.err.find("users.csv:2: column Priority: 'Urgent' is not a move priority"),
            std::string::npos)
      << refused.err;
}

TEST(Move, AWrongStoreTemplateIsRefusedBeforeAnythingIsWritten) {
  if (testing::kStores == testing::Stores::kImap) GTEST_SKIP() << "a Maildir template";
  Org org(kMailboxes, kMessages, "CreateSourceContact");
  CM_ASSERT_ORG(org);
  std::string toml = org.Read("crossmove.toml");
  size_t at = toml.find("maildir:source-mail/%d/%n");
  ASSERT_NE(at, std::string::npos);
  testing::Spit(org.dir() / "crossmove.toml", toml.replace(at, 25, "maildir:source-mail/%n"));
  std::string source = org.DirectoryText("source"), target = org.DirectoryText("target");
  auto r = org.Run({"run"});
  EXPECT_EQ(r.exit_code, 2) << r.out;
  // The DN as the directory spells it (OpenLDAP lowercases attribute types).
  EXPECT_NE(AsciiLower(r.err).find("users.csv:3: source mailbox: cn=alice adams,ou=people,dc="
                                   "fabrikam,dc=test: mailbox source-mail/alice.adams does not "
                                   "exist"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(org.DirectoryText("source"), source);
  EXPECT_EQ(org.DirectoryText("target"), target);
  EXPECT_FALSE(org.JournalWritten());
  EXPECT_FALSE(std::filesystem::exists(org.dir() / "target-mail"));
}

TEST(Move, AWrongTargetStoreIsRefusedBeforeTheTargetIsWritten) {
  if (testing::kStores == testing::Stores::kImap) GTEST_SKIP() << "a Maildir template";
  Org org(kMailboxes, kMessages, "CreateSourceContact");
  CM_ASSERT_ORG(org);
  std::string toml = org.Read("crossmove.toml");
  size_t at = toml.find("maildir:target-mail/%d/%n");
  ASSERT_NE(at, std::string::npos);
  testing::Spit(org.dir() / "crossmove.toml", toml.replace(at, 25, "maildr:target-mail/%d/%n"));
  std::string target = org.DirectoryText("target");
  auto r = org.Run({"run"});
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.err.find("users.csv:3: target.databases.DB-Contoso-01.store: mail store 'maildr:"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(org.DirectoryText("target"), target);
  EXPECT_FALSE(org.JournalWritten());
}

// The first mailbox's copy is damaged behind the store's back (a disk fault, a careless
// administrator, a target that lost mail it had acknowledged), right after its copy step:
// `damage` gets the mailbox's target Maildir (Dovecot serves the same tree in the imap_ run).
void DamageAfterTheCopyAndRecover(const std::function<void(const std::filesystem::path&)>& damage) {
  Org org(kMailboxes, kMessages, "CreateSourceContact");
  CM_ASSERT_ORG(org);
  ASSERT_EQ(org.Run({"run", "--parallel", "1"}, {"CROSSMOVE_CRASH_AFTER_STEP=6"}).exit_code, 137);
  damage(org.dir() / "target-mail" / "contoso.test" / "alice.adams");
  if (::testing::Test::HasFatalFailure()) return;
  auto r = org.Run({"run"});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  auto status = nlohmann::json::parse(org.Run({"status", "--json", "alice.adams"}).out);
  ASSERT_EQ(status["mailboxes"].size(), 1u);
  // Back to before the copy: the next run copies the bad messages again.
  EXPECT_EQ(status["mailboxes"][0]["state"], "target-provisioned");
  EXPECT_EQ(status["mailboxes"][0]["failed_step"], "verify");
  auto source = org.Directory("source");
  EXPECT_TRUE(source->Read("CN=Alice Adams,OU=People,DC=fabrikam,DC=test").ok());  // not cleaned up

  auto repaired = org.Run({"run"});
  EXPECT_EQ(repaired.exit_code, 0) << repaired.out << repaired.err;
  ExpectEveryMessageOnceIntact(org);
  EXPECT_FALSE(org.Directory("source")->Read("CN=Alice Adams,OU=People,DC=fabrikam,DC=test").ok());
  EXPECT_EQ(org.Run({"verify"}).exit_code, 0);
  // The report names what was copied again.
  std::string csv = org.Read("crossmove-report.csv");
  EXPECT_NE(csv.find("INBOX "), std::string::npos) << csv;
}

std::vector<std::filesystem::path> MessageFiles(const std::filesystem::path& box) {
  std::vector<std::filesystem::path> files;
  for (const char* sub : {"cur", "new"}) {
    if (!std::filesystem::exists(box / sub)) continue;
    for (const auto& f : std::filesystem::directory_iterator(box / sub)) files.push_back(f.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

TEST(Move, MailTheTargetLostAfterTheCopyIsCopiedAgain) {
  DamageAfterTheCopyAndRecover([](const std::filesystem::path& box) {
    auto files = MessageFiles(box);
    ASSERT_GE(files.size(), 3u);
    for (size_t k = 0; k < 3; ++k) std::filesystem::remove(files[k]);
  });
}

TEST(Move, OneChangedByteFailsDefaultVerificationAndIsReplaced) {
  DamageAfterTheCopyAndRecover([](const std::filesystem::path& box) {
    auto files = MessageFiles(box);
    ASSERT_FALSE(files.empty());
    // Same size, flags and date: only the bytes tell (one byte near the end of the body).
    auto mtime = std::filesystem::last_write_time(files[0]);
    std::fstream f(files[0], std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(-3, std::ios::end);
    char c = static_cast<char>(f.get());
    f.seekp(-3, std::ios::end);
    f.put(c == 'X' ? 'Y' : 'X');
    f.close();
    std::filesystem::last_write_time(files[0], mtime);
  });
}

// One of our copies lands twice (a stalled worker's batch reaching the server after another
// worker copied the mailbox again; here, behind the store's back, a second file of the same
// bytes and date): verification finds the second landing by its fingerprint and bytes and
// removes it before the source is cleaned up, and the report names it. The user's own mail
// beside it is kept: new mail, and the same bytes under another date (a fingerprint of its
// own). Read back on the files (over IMAP in the imap_ run).
TEST(Move, ASecondLandingOfOneOfOurCopiesIsRemovedAndTheUsersOwnMailKept) {
  namespace fs = std::filesystem;
  Org org(kMailboxes, kMessages, "CreateSourceContact");
  CM_ASSERT_ORG(org);
  ASSERT_EQ(org.Run({"run", "--parallel", "1"}, {"CROSSMOVE_CRASH_AFTER_STEP=6"}).exit_code, 137);
  fs::path box = org.dir() / "target-mail" / "contoso.test" / "alice.adams";
  auto copied = org.TargetMail("alice.adams");
  auto files = MessageFiles(box);
  ASSERT_GE(files.size(), 3u);
  // The rest of a file's name after its unique part (",S=…:2,FLAGS"), kept by its copies.
  auto rest_of = [](const fs::path& f) {
    std::string name = f.filename().string();
    size_t at = name.find(',');
    return name.substr(at == std::string::npos ? name.find(':') : at);
  };
  for (size_t k = 0; k < 2; ++k) {
    fs::path second =
        files[k].parent_path() / fmt::format("1800000000.M{}P1.landing{}", k, rest_of(files[k]));
    fs::copy_file(files[k], second);
    fs::last_write_time(second, fs::last_write_time(files[k]));
  }
  fs::path redated = files[2].parent_path() / ("1800000001.M1P1.redated" + rest_of(files[2]));
  fs::copy_file(files[2], redated);
  fs::last_write_time(redated, fs::last_write_time(files[2]) - std::chrono::hours(24));
  testing::Spit(box / "cur" / "1800000002.M1P1.own:2,S",
                "Message-ID: <own@contoso.test>\r\nSubject: mine\r\n\r\nhello\r\n");
  // Owned as the store's own files are (Dovecot reads them as its mail user in the imap_ run).
  struct stat owner;
  ASSERT_EQ(::stat(files[0].c_str(), &owner), 0);
  for (const auto& f : MessageFiles(box))
    ASSERT_EQ(::chown(f.c_str(), owner.st_uid, owner.st_gid), 0);
  auto with_extras = org.TargetMail("alice.adams");
  ASSERT_EQ(Total(with_extras), Total(copied) + 4) << testing::Difference(with_extras, copied);

  auto r = org.Run({"run"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  // The copies once each, and the user's own two messages.
  std::map<std::string, int> expected;
  for (const auto& [k, n] : with_extras) expected[k] = copied.count(k) ? copied.at(k) : n;
  auto got = org.TargetMail("alice.adams");
  EXPECT_TRUE(got == expected) << testing::Difference(got, expected);
  EXPECT_EQ(Total(got), Total(copied) + 2);
  EXPECT_FALSE(org.Directory("source")->Read("CN=Alice Adams,OU=People,DC=fabrikam,DC=test").ok());
  std::string csv = org.Read("crossmove-report.csv");
  EXPECT_EQ(testing::Occurrences(csv, "a second copy ("), 2u) << csv;
  std::string events = org.Read(Org::EventLogFile());
  EXPECT_EQ(testing::Occurrences(events, "\"event\":\"duplicate-removed\""), 2u);
}

}  // namespace
}  // namespace cm
