// The embedded directory: LDAP semantics, AD-like schema rules, atomic saves.
#include "directory/ldif_directory.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <set>

#include "directory/schema.h"
#include "io/file.h"
#include "mailstore/temp_dir.h"

namespace cm {
namespace {

const char* kOrg = R"(version: 1

dn: DC=fabrikam,DC=test
objectClass: domain
dc: fabrikam

dn: OU=People,DC=fabrikam,DC=test
objectClass: organizationalUnit
ou: People

dn: CN=Smith\, John,OU=People,DC=fabrikam,DC=test
objectClass: user
cn: Smith, John
sAMAccountName: jsmith
proxyAddresses: SMTP:john.smith@fabrikam.test
proxyAddresses: smtp:jsmith@fabrikam-legacy.test
legacyExchangeDN: /o=Fabrikam/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=jsmith
msExchRecipientTypeDetails: 1
objectGUID:: AAECAwQFBgcICQoLDA0ODw==

dn: CN=Star*Power,OU=People,DC=fabrikam,DC=test
objectClass: user
cn: Star*Power
sAMAccountName: star
msExchRecipientTypeDetails: 2147483648
)";

std::unique_ptr<LdifDirectory> Org() {
  auto d = LdifDirectory::FromText(kOrg, "org.ldif");
  EXPECT_TRUE(d.ok()) << d.status().ToString();
  return std::move(*d);
}

std::vector<std::string> Dns(const Result<std::vector<Entry>>& r) {
  std::vector<std::string> out;
  if (r.ok())
    for (const auto& e : *r) out.push_back(e.dn());
  return out;
}

TEST(LdifDirectory, SearchUsesMatchingRulesOfEachSyntax) {
  auto d = Org();
  const std::string base = "DC=fabrikam,DC=test";
  EXPECT_EQ(Dns(d->Search(base, Scope::kSubtree,
                          Filter::Eq("proxyAddresses", "smtp:JOHN.SMITH@fabrikam.test")))
                .size(),
            1u);
  EXPECT_EQ(Dns(d->Search(base, Scope::kSubtree,
                          Filter::Eq("legacyExchangeDN",
                                     "/O=Fabrikam/ou=Exchange Administrative Group "
                                     "(FYDIBOHF23SPDLT)/cn=Recipients/cn=JSMITH")))
                .size(),
            1u);
  EXPECT_EQ(Dns(d->Search(base, Scope::kSubtree,
                          Filter::GreaterOrEqual("msExchRecipientTypeDetails", "128"))),
            std::vector<std::string>{
                "CN=Star*Power,OU=People,DC=fabrikam,DC=test"});  // integer, not text, order
  EXPECT_EQ(Dns(d->Search(base, Scope::kSubtree,
                          Filter::Eq("objectGUID",
                                     GuidFromString("{03020100-0504-0706-0809-0a0b0c0d0e0f}"))))
                .size(),
            1u);
  auto sub = Filter::Parse("(proxyAddresses=*@fabrikam-legacy.test)");
  EXPECT_EQ(Dns(d->Search(base, Scope::kSubtree, *sub)).size(), 1u);
}

TEST(LdifDirectory, LiteralStarInAValueIsNotAWildcard) {
  auto d = Org();
  auto exact = d->Search("DC=fabrikam,DC=test", Scope::kSubtree, Filter::Eq("cn", "Star*Power"));
  EXPECT_EQ(Dns(exact).size(), 1u);
  auto crafted = d->Search("DC=fabrikam,DC=test", Scope::kSubtree,
                           Filter::Eq("sAMAccountName", "*)(objectClass=*"));
  EXPECT_TRUE(Dns(crafted).empty());
  auto star = d->Search("DC=fabrikam,DC=test", Scope::kSubtree, Filter::Eq("sAMAccountName", "*"));
  EXPECT_TRUE(Dns(star).empty());  // an equality on "*" is not presence
}

TEST(LdifDirectory, Scopes) {
  auto d = Org();
  EXPECT_EQ(
      Dns(d->Search("OU=People,DC=fabrikam,DC=test", Scope::kBase, Filter::Present("objectClass")))
          .size(),
      1u);
  EXPECT_EQ(Dns(d->Search("OU=People,DC=fabrikam,DC=test", Scope::kOneLevel,
                          Filter::Present("objectClass")))
                .size(),
            2u);
  EXPECT_EQ(Dns(d->Search("DC=fabrikam,DC=test", Scope::kOneLevel, Filter::Present("objectClass")))
                .size(),
            1u);
  EXPECT_EQ(
      d->Search("OU=Nowhere,DC=fabrikam,DC=test", Scope::kSubtree, Filter::Present("objectClass"))
          .status()
          .code(),
      Status::Code::kNotFound);
}

TEST(LdifDirectory, ModifyFollowsLdapSemanticsAtomically) {
  auto d = Org();
  const std::string dn =
      "cn=smith\\2c john,ou=people,dc=fabrikam,dc=test";  // any spelling of the DN
  using Op = Modification::Op;
  // A failing modification leaves the entry untouched, even after earlier successful ones.
  Status s = d->Modify(dn, {{Op::kReplace, "title", {"Boss"}},
                            {Op::kAdd, "proxyAddresses", {"SMTP:JOHN.SMITH@FABRIKAM.TEST"}}});
  EXPECT_EQ(s.code(), Status::Code::kConstraint) << s.ToString();
  EXPECT_FALSE(d->Read(dn)->Has("title"));
  EXPECT_FALSE(d->Modify(dn, {{Op::kDelete, "mail", {}}}).ok());  // no such attribute
  EXPECT_FALSE(d->Modify(dn, {{Op::kDelete, "proxyAddresses", {"smtp:nope@x.test"}}})
                   .ok());                                                     // no such value
  EXPECT_FALSE(d->Modify(dn, {{Op::kAdd, "mailNickname", {"a", "b"}}}).ok());  // single-valued
  EXPECT_FALSE(
      d->Modify(dn, {{Op::kReplace, "sAMAccountName", {"STAR"}}}).ok());  // unique in the domain
  EXPECT_FALSE(d->Modify(dn, {{Op::kDelete, "cn", {}}}).ok());            // naming attribute
  ASSERT_TRUE(d->Modify(dn, {{Op::kDelete, "proxyAddresses", {"SMTP:JSMITH@fabrikam-legacy.test"}},
                             {Op::kReplace, "title", {"Boss"}}})
                  .ok());
  Entry e = *d->Read(dn);
  EXPECT_EQ(e.Get("proxyAddresses"), Values{"SMTP:john.smith@fabrikam.test"});
  EXPECT_EQ(e.First("title"), "Boss");
}

TEST(LdifDirectory, AddAndDeleteRules) {
  auto d = Org();
  Entry orphan("CN=x,OU=Missing,DC=fabrikam,DC=test");
  orphan.Set("objectClass", {"contact"});
  orphan.Set("cn", {"x"});
  EXPECT_EQ(d->Add(orphan).code(), Status::Code::kNotFound);
  Entry no_cn("CN=x,OU=People,DC=fabrikam,DC=test");
  no_cn.Set("objectClass", {"contact"});
  no_cn.Set("displayName", {"x"});
  EXPECT_EQ(d->Add(no_cn).code(), Status::Code::kConstraint);
  Entry dup("CN=Smith\\2C John,OU=People,DC=fabrikam,DC=test");
  dup.Set("objectClass", {"contact"});
  dup.Set("cn", {"Smith, John"});
  EXPECT_EQ(d->Add(dup).code(), Status::Code::kAlreadyExists);
  EXPECT_EQ(d->Delete("OU=People,DC=fabrikam,DC=test").code(),
            Status::Code::kConstraint);  // has children
  EXPECT_TRUE(d->Delete("CN=Star*Power,OU=People,DC=fabrikam,DC=test").ok());
  EXPECT_EQ(d->Delete("CN=Star*Power,OU=People,DC=fabrikam,DC=test").code(),
            Status::Code::kNotFound);
}

TEST(LdifDirectory, RenameMovesAndUpdatesTheNamingAttribute) {
  auto d = Org();
  ASSERT_TRUE(d->Add([] {
                 Entry ou("OU=Leavers,DC=fabrikam,DC=test");
                 ou.Set("objectClass", {"organizationalUnit"});
                 ou.Set("ou", {"Leavers"});
                 return ou;
               }())
                  .ok());
  ASSERT_TRUE(d->Rename("CN=Star*Power,OU=People,DC=fabrikam,DC=test", "CN=Star Power",
                        "OU=Leavers,DC=fabrikam,DC=test")
                  .ok());
  auto moved = d->Read("CN=Star Power,OU=Leavers,DC=fabrikam,DC=test");
  ASSERT_TRUE(moved.ok());
  EXPECT_EQ(moved->Get("cn"), Values{"Star Power"});
  EXPECT_FALSE(d->Read("CN=Star*Power,OU=People,DC=fabrikam,DC=test").ok());
}

// Searches answered from the indexes (equality, an AND or an OR of them) find what a scan of
// every entry would, after every kind of write: the value a modify removed finds nothing, the one
// it added finds the entry, a rename is found under its new name and children, a deleted entry
// is gone, and results keep the file's order. Each indexed search is checked against the same
// filter with an unindexed part (a presence test, which no index answers).
TEST(LdifDirectory, IndexedSearchesFindWhatAScanFindsAfterEveryWrite) {
  auto d = Org();
  auto both = [&](const std::string& text) {
    auto f = Filter::Parse(text);
    EXPECT_TRUE(f.ok()) << text;
    auto scanned = Filter::Parse("(|" + text + "(&(objectClass=*)(!(objectClass=*))))");
    auto indexed = Dns(d->Search("DC=fabrikam,DC=test", Scope::kSubtree, *f));
    EXPECT_EQ(indexed, Dns(d->Search("DC=fabrikam,DC=test", Scope::kSubtree, *scanned))) << text;
    return indexed;
  };
  const std::string john = "CN=Smith\\, John,OU=People,DC=fabrikam,DC=test";
  const std::string star = "CN=Star*Power,OU=People,DC=fabrikam,DC=test";
  EXPECT_EQ(both("(proxyAddresses=smtp:JSMITH@fabrikam-legacy.test)"), std::vector{john});
  EXPECT_EQ(both("(|(sAMAccountName=STAR)(sAMAccountName=jsmith))"), (std::vector{john, star}));
  EXPECT_EQ(both("(&(objectClass=user)(msExchRecipientTypeDetails=2147483648))"),
            std::vector{star});
  using Op = Modification::Op;
  ASSERT_TRUE(
      d->Modify(john, {{Op::kDelete, "proxyAddresses", {"smtp:jsmith@fabrikam-legacy.test"}},
                       {Op::kAdd, "proxyAddresses", {"smtp:john@new.test"}}})
          .ok());
  EXPECT_EQ(both("(proxyAddresses=smtp:jsmith@fabrikam-legacy.test)"), std::vector<std::string>{});
  EXPECT_EQ(both("(proxyAddresses=SMTP:JOHN@NEW.TEST)"), std::vector{john});
  // The modified entry keeps its place: still before Star*Power.
  EXPECT_EQ(both("(objectClass=user)"), (std::vector{john, star}));
  Entry ou("OU=Leavers,DC=fabrikam,DC=test");
  ou.Set("objectClass", {"organizationalUnit"});
  ou.Set("ou", {"Leavers"});
  ASSERT_TRUE(d->Add(ou).ok());
  ASSERT_TRUE(d->Rename(star, "CN=Star Power", "OU=Leavers,DC=fabrikam,DC=test").ok());
  const std::string moved = "CN=Star Power,OU=Leavers,DC=fabrikam,DC=test";
  EXPECT_EQ(both("(cn=Star Power)"), std::vector{moved});
  EXPECT_TRUE(Dns(d->Search("DC=fabrikam,DC=test", Scope::kSubtree, Filter::Eq("cn", "Star*Power")))
                  .empty());  // the old name, a literal star: gone with the rename
  EXPECT_EQ(d->Delete("OU=Leavers,DC=fabrikam,DC=test").code(), Status::Code::kConstraint);
  ASSERT_TRUE(d->Delete(moved).ok());
  EXPECT_EQ(both("(sAMAccountName=star)"), std::vector<std::string>{});
  EXPECT_TRUE(d->Delete("OU=Leavers,DC=fabrikam,DC=test").ok());  // no children now
  // The account name it held is free again.
  Entry again("CN=Other,OU=People,DC=fabrikam,DC=test");
  again.Set("objectClass", {"user"});
  again.Set("cn", {"Other"});
  again.Set("sAMAccountName", {"STAR"});
  EXPECT_TRUE(d->Add(again).ok());
  EXPECT_EQ(d->Modify(john, {{Op::kReplace, "sAMAccountName", {"star"}}}).code(),
            Status::Code::kConstraint);
}

TEST(LdifDirectoryErrors, LoadRefusesBrokenDirectories) {
  EXPECT_NE(LdifDirectory::FromText("dn: CN=a,DC=x\ncn: a\n", "d.ldif")
                .status()
                .message()
                .find("d.ldif:1"),
            std::string::npos);  // no objectClass
  auto dup = LdifDirectory::FromText(
      "dn: DC=x\nobjectClass: domain\ndc: x\n\ndn: dc=X\nobjectClass: domain\ndc: x\n", "d.ldif");
  EXPECT_NE(dup.status().message().find("d.ldif:5: duplicate entry"), std::string::npos);
  auto change = LdifDirectory::FromText("dn: DC=x\nchangetype: delete\n", "d.ldif");
  EXPECT_FALSE(change.ok());
  auto two_names = LdifDirectory::FromText(
      "dn: DC=x\nobjectClass: domain\ndc: x\n\ndn: CN=u,DC=x\nobjectClass: user\ncn: u\nmail: "
      "a@x.test\nmail: b@x.test\n",
      "d.ldif");
  EXPECT_NE(two_names.status().message().find("single-valued"), std::string::npos);
  auto same_account = LdifDirectory::FromText(
      "dn: DC=x\nobjectClass: domain\ndc: x\n\ndn: CN=u,DC=x\nobjectClass: user\ncn: u\n"
      "sAMAccountName: jdoe\n\ndn: CN=v,DC=x\nobjectClass: user\ncn: v\nsAMAccountName: JDoe\n",
      "d.ldif");
  EXPECT_NE(same_account.status().message().find(
                "d.ldif:10: CN=v,DC=x: sAMAccountName 'JDoe' is already used by CN=u,DC=x"),
            std::string::npos)
      << same_account.status().ToString();
}

class LdifFile : public ::testing::Test {
 protected:
  void SetUp() override { std::ofstream(path_) << kOrg; }
  // Temporary files of atomic replaces left in the directory (org.ldif.tmp.PID.XXXXXX).
  int TemporaryFiles() const {
    int n = 0;
    for (const auto& f : std::filesystem::directory_iterator(t_.path()))
      n += f.path().filename().string().starts_with("org.ldif.tmp");
    return n;
  }
  // How many entries named `dn` the file holds, read as text (not through LdifDirectory).
  int EntriesNamed(const std::string& dn) const {
    std::string text = *ReadWholeFile(path_);
    int n = 0;
    for (size_t at = 0; (at = text.find("dn: " + dn + "\n", at)) != std::string::npos; ++at)
      n += at == 0 || text[at - 1] == '\n';
    return n;
  }
  testing::TempDir t_;
  std::string path_ = t_ / "org.ldif";
};

Entry Contact(const std::string& cn) {
  Entry e(fmt::format("CN={},OU=People,DC=fabrikam,DC=test", cn));
  e.Set("objectClass", {"contact"});
  e.Set("cn", {cn});
  return e;
}

// Two processes (here two handles, each with its own copy in memory and its own lock
// descriptor, as two processes have) write the same file: neither rewrites it from a stale copy.
TEST_F(LdifFile, AWriteFromAStaleCopyUndoesNothingAnotherHandleWrote) {
  auto first = LdifDirectory::Open(path_, false);
  auto second = LdifDirectory::Open(path_, false);
  ASSERT_TRUE(first.ok() && second.ok());
  ASSERT_TRUE((*first)->Delete("CN=Star*Power,OU=People,DC=fabrikam,DC=test").ok());
  ASSERT_TRUE((*first)->Add(Contact("Added First")).ok());
  // The second still holds Star*Power in memory; its write must start from the file.
  ASSERT_TRUE((*second)->Add(Contact("Added Second")).ok());
  EXPECT_EQ(EntriesNamed("CN=Star*Power,OU=People,DC=fabrikam,DC=test"), 0);
  EXPECT_EQ(EntriesNamed("CN=Added First,OU=People,DC=fabrikam,DC=test"), 1);
  EXPECT_EQ(EntriesNamed("CN=Added Second,OU=People,DC=fabrikam,DC=test"), 1);
  // And a write the file already refutes is refused, not applied to the stale copy.
  EXPECT_EQ((*second)->Delete("CN=Star*Power,OU=People,DC=fabrikam,DC=test").code(),
            Status::Code::kNotFound);
  EXPECT_EQ((*second)->Add(Contact("Added First")).code(), Status::Code::kAlreadyExists);
}

TEST_F(LdifFile, ASearchSeesEveryWriteMadeBeforeItAndAReaderTakesNoLock) {
  auto reader = LdifDirectory::Open(path_, true);
  ASSERT_TRUE(reader.ok());
  ASSERT_TRUE((*reader)->Read("CN=Star*Power,OU=People,DC=fabrikam,DC=test").ok());
  EXPECT_FALSE(std::filesystem::exists(path_ + ".lock"));  // read-only commands write nothing
  auto writer = LdifDirectory::Open(path_, false);
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Add(Contact("New")).ok());
  EXPECT_TRUE((*reader)->Read("CN=New,OU=People,DC=fabrikam,DC=test").ok());
  ASSERT_TRUE((*writer)->Delete("CN=Star*Power,OU=People,DC=fabrikam,DC=test").ok());
  auto all = (*reader)->Search("DC=fabrikam,DC=test", Scope::kSubtree, Filter::Present("cn"));
  ASSERT_TRUE(all.ok());
  std::set<std::string> names;
  for (const auto& e : *all) names.insert(e.First("cn"));
  EXPECT_EQ(names, (std::set<std::string>{"Smith, John", "New"}));
}

// Real processes, each adding its own entries as fast as it can, one deleting a shared one:
// every entry is in the file exactly once and the delete stays done (the bug: each process
// rewrote the whole file from its own copy, and the shared temporary name made renames fail).
TEST_F(LdifFile, ConcurrentProcessesLoseNoWriteAndShareNoTemporaryFile) {
  constexpr int kProcesses = 3, kEach = 25;
  std::vector<pid_t> children;
  for (int p = 0; p < kProcesses; ++p) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      auto d = LdifDirectory::Open(path_, false);
      if (!d.ok()) _exit(2);
      for (int i = 0; i < kEach; ++i) {
        if (!(*d)->Add(Contact(fmt::format("p{}-{}", p, i))).ok()) _exit(3);
        if (p == 0 && i == kEach / 2 &&
            !(*d)->Delete("CN=Star*Power,OU=People,DC=fabrikam,DC=test").ok())
          _exit(4);
      }
      _exit(0);
    }
    children.push_back(pid);
  }
  for (pid_t pid : children) {
    int status = 0;
    waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child exit " << status;
  }
  for (int p = 0; p < kProcesses; ++p) {
    for (int i = 0; i < kEach; ++i) {
      EXPECT_EQ(EntriesNamed(fmt::format("CN=p{}-{},OU=People,DC=fabrikam,DC=test", p, i)), 1)
          << p << "-" << i;
    }
  }
  EXPECT_EQ(EntriesNamed("CN=Star*Power,OU=People,DC=fabrikam,DC=test"), 0);
  EXPECT_EQ(EntriesNamed("CN=Smith\\, John,OU=People,DC=fabrikam,DC=test"), 1);
  EXPECT_EQ(TemporaryFiles(), 0);
}

TEST_F(LdifFile, EveryWriteIsSavedAndReloadsIdentically) {
  auto d = LdifDirectory::Open(path_, false);
  ASSERT_TRUE(d.ok());
  ASSERT_TRUE(
      (*d)->Modify("CN=Smith\\, John,OU=People,DC=fabrikam,DC=test",
                   {{Modification::Op::kReplace, "displayName", {"Smith, John (Zoë's team)"}}})
          .ok());
  auto reloaded = LdifDirectory::Open(path_, true);
  ASSERT_TRUE(reloaded.ok()) << reloaded.status().ToString();
  EXPECT_EQ(
      (*reloaded)->Read("CN=Smith\\, John,OU=People,DC=fabrikam,DC=test")->First("displayName"),
      "Smith, John (Zoë's team)");
  EXPECT_EQ((*reloaded)->Serialize(), (*d)->Serialize());
  EXPECT_EQ(TemporaryFiles(), 0);
}

// A rewrite keeps the file's mode: a directory file others read stays readable to them.
TEST_F(LdifFile, AWriteKeepsTheFilesMode) {
  for (mode_t mode : {0644, 0640, 0600}) {
    ASSERT_EQ(::chmod(path_.c_str(), mode), 0);
    auto d = LdifDirectory::Open(path_, false);
    ASSERT_TRUE(d.ok());
    ASSERT_TRUE((*d)->Add(Contact(fmt::format("Mode {:o}", mode))).ok());
    struct stat st;
    ASSERT_EQ(::stat(path_.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, mode) << std::oct << (st.st_mode & 07777);
  }
}

TEST_F(LdifFile, ReadOnlyRefusesWritesAndNeverTouchesTheFile) {
  auto before = ReadWholeFile(path_);
  auto d = LdifDirectory::Open(path_, true);
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE((*d)->Delete("CN=Star*Power,OU=People,DC=fabrikam,DC=test").ok());
  EXPECT_EQ(*ReadWholeFile(path_), *before);
}

TEST_F(LdifFile, AFailedSaveLeavesMemoryEqualToTheFile) {
  auto d = LdifDirectory::Open(path_, false);
  ASSERT_TRUE(d.ok());
  // A full disk, as root meets it too (modes do not stop root): files may not grow past 16
  // bytes, so the temporary file cannot be written.
  std::signal(SIGXFSZ, SIG_IGN);
  rlimit before{};
  getrlimit(RLIMIT_FSIZE, &before);
  rlimit small = before;
  small.rlim_cur = 16;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
  Status s = (*d)->Delete("CN=Star*Power,OU=People,DC=fabrikam,DC=test");
  setrlimit(RLIMIT_FSIZE, &before);
  std::signal(SIGXFSZ, SIG_DFL);
  EXPECT_EQ(s.code(), Status::Code::kIOError) << s.ToString();
  EXPECT_TRUE((*d)->Read("CN=Star*Power,OU=People,DC=fabrikam,DC=test").ok());
  EXPECT_EQ(EntriesNamed("CN=Star*Power,OU=People,DC=fabrikam,DC=test"), 1);
  EXPECT_EQ(TemporaryFiles(), 0);
}

TEST(LdifDirectory, ApplyChangeFileStopsAtTheFailingRecord) {
  auto d = Org();
  Status s = d->ApplyChangeFile(
      "dn: CN=Star*Power,OU=People,DC=fabrikam,DC=test\nchangetype: modify\nreplace: title\ntitle: "
      "Pilot\n-\n\n"
      "dn: CN=Nobody,OU=People,DC=fabrikam,DC=test\nchangetype: delete\n",
      "changes.ldif");
  EXPECT_EQ(s.code(), Status::Code::kNotFound);
  EXPECT_NE(s.message().find("changes.ldif:7"), std::string::npos) << s.message();
  EXPECT_EQ(d->Read("CN=Star*Power,OU=People,DC=fabrikam,DC=test")->First("title"), "Pilot");
}

TEST(Schema, GuidTextFormIsAdsMixedEndianForm) {
  std::string bytes("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f", 16);
  EXPECT_EQ(GuidToString(bytes), "03020100-0504-0706-0809-0a0b0c0d0e0f");
  EXPECT_EQ(GuidFromString("{03020100-0504-0706-0809-0A0B0C0D0E0F}"), bytes);
  EXPECT_EQ(GuidFromString("not-a-guid"), "");
  EXPECT_EQ(GuidToString("short"), "");
}

}  // namespace
}  // namespace cm
