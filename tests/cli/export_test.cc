// `crossmove export`: every value kept, and what it writes reads back in.
#include <gtest/gtest.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include <fmt/format.h>

#include "app/export.h"
#include "cli/run_crossmove.h"
#include "core/dn.h"
#include "directory/ldif_directory.h"
#include "input/users_file.h"

namespace cm {
namespace {

using testing::RunCrossmove;
using testing::Workspace;

std::map<std::string, Values> SourceProxies(const Workspace& ws) {
  auto dir = LdifDirectory::FromText(ws.Read("source.ldif"), "source.ldif");
  std::map<std::string, Values> out;
  auto mailboxes =
      (*dir)->Search("DC=fabrikam,DC=test", Scope::kSubtree, Filter::Present("homeMDB"));
  for (const auto& e : *mailboxes) {
    out[e.dn()] = e.Get("proxyAddresses");
  }
  return out;
}

TEST(Export, CsvKeepsEveryProxyAddressAndReadsBackAsAUsersFile) {
  Workspace ws;
  auto r = RunCrossmove({"export", "-o", "mailboxes.csv"}, ws.dir());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("exported 23 recipients"), std::string::npos)
      << r.err;  // 22 + the shared mailbox
  Problems problems;
  auto file = ParseUsersFile(ws.Read("mailboxes.csv"), "mailboxes.csv", ',', problems);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_TRUE(problems.empty());
  EXPECT_EQ(file->identity_column, "Identity");
  EXPECT_EQ(file->rows.size(), 23u);

  // Every proxy comes back exactly, including X400 values that contain the separator.
  auto expected = SourceProxies(ws);
  std::string csv = ws.Read("mailboxes.csv");
  size_t checked = 0;
  for (const auto& [dn, proxies] : expected) {
    std::string joined;
    for (size_t i = 0; i < proxies.size(); ++i) {
      std::string v = proxies[i];
      std::string escaped;
      for (char c : v) {
        if (c == ';' || c == '\\') escaped += '\\';
        escaped += c;
      }
      joined += (i ? ";" : "") + escaped;
    }
    EXPECT_NE(csv.find("\"" + joined + "\""), std::string::npos) << dn;
    EXPECT_EQ(SplitMultiValued(joined, ";"), proxies);
    ++checked;
  }
  EXPECT_EQ(checked, 23u);
}

TEST(Export, ExportedCsvDrivesAPlan) {
  Workspace ws;
  ASSERT_EQ(RunCrossmove({"export", "--identity", "j*", "-o", "some.csv"}, ws.dir()).exit_code, 0);
  auto r = RunCrossmove({"plan", "--json", "--users-file", "some.csv"}, ws.dir());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  std::set<std::string> aliases;
  for (const auto& m : j["mailboxes"]) aliases.insert(m["alias"]);
  EXPECT_EQ(aliases, (std::set<std::string>{"jose.munoz", "john.smith", "juergen.mueller"}));
}

TEST(Export, JsonHasEveryAttributeAndAddressesAsArrays) {
  Workspace ws;
  auto r =
      RunCrossmove({"export", "--format", "json", "--filter", "(department=Finance)"}, ws.dir());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j.size(), 4u);  // Alice, John, Jürgen, Elena
  for (const auto& m : j) {
    EXPECT_TRUE(m["EmailAddresses"].is_array());
    EXPECT_EQ(m["EmailAddresses"], m["Attributes"]["proxyAddresses"]);
    EXPECT_EQ(m["ExchangeGuid"].get<std::string>().size(), 38u);  // {8-4-4-4-12}
  }
}

TEST(Export, TargetSideAndAllRecipients) {
  Workspace ws;
  auto r = RunCrossmove({"export", "--side", "target", "--all", "--format", "json"}, ws.dir());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  std::set<std::string> kinds;
  for (const auto& m : j) kinds.insert(m["RecipientTypeDetails"]);
  EXPECT_EQ(kinds, (std::set<std::string>{"UserMailbox", "MailContact"}));
}

// Names holding every character a DN escapes, a '/' (the one a canonical name escapes), leading
// and trailing spaces and non-ASCII letters: what `export` writes as Identity (canonical name)
// and as DistinguishedName reads back in a users file as the very same mailboxes.
const std::vector<std::string> kHardNames = {"Comma, Name",      "Plus+Equals=Semi;colon<Angle>",
                                             "Quote \"Q\" Name", "Back\\slash Name",
                                             "#Hash Name",       " Leading Space",
                                             "Trailing Space ",  "Zoë Ñandú 山田",
                                             "Slash/Name",       "Back\\",
                                             "Ends in slash\\/"};

std::set<std::string> AddHardMailboxes(const Workspace& ws) {
  auto dir = LdifDirectory::Open((ws / "source.ldif").string(), false);
  EXPECT_TRUE(dir.ok()) << dir.status().ToString();
  std::set<std::string> dns;
  for (size_t i = 0; i < kHardNames.size(); ++i) {
    std::string dn = MakeDn("CN", kHardNames[i], "OU=People,DC=fabrikam,DC=test");
    Entry e(dn);
    e.Set("objectClass", {"top", "person", "organizationalPerson", "user"});
    e.Set("cn", {kHardNames[i]});
    e.Set("sn", {"Hard"});
    e.Set("sAMAccountName", {fmt::format("hard{}", i)});
    e.Set("mailNickname", {fmt::format("hard{}", i)});
    e.Set("proxyAddresses", {fmt::format("SMTP:hard{}@fabrikam.test", i)});
    e.Set("homeMDB", {"CN=Mailbox Database 01,OU=Exchange,DC=fabrikam,DC=test"});
    e.Set("msExchRecipientTypeDetails", {"1"});
    Status added = (*dir)->Add(e);
    EXPECT_TRUE(added.ok()) << kHardNames[i] << ": " << added.ToString();
    // Its Maildir, as the example's database lays them out: plan opens every source mailbox.
    std::filesystem::create_directories(ws /
                                        fmt::format("source-mail/fabrikam.test/hard{}/cur", i));
    dns.insert(NormalizeDn(dn));
  }
  return dns;
}

std::set<std::string> PlannedSourceDns(const Workspace& ws, const std::string& users_file) {
  auto r = RunCrossmove({"plan", "--json", "--users-file", users_file}, ws.dir());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::set<std::string> dns;
  if (r.exit_code != 0) return dns;
  auto plan = nlohmann::json::parse(r.out);
  for (const auto& m : plan["mailboxes"])
    dns.insert(NormalizeDn(m["source_dn"].get<std::string>()));
  return dns;
}

TEST(Export, IdentitiesWithEverySpecialCharacterReadBackAsTheSameMailboxes) {
  Workspace ws;
  std::set<std::string> hard = AddHardMailboxes(ws);
  auto r =
      RunCrossmove({"export", "--filter", "(sAMAccountName=hard*)", "-o", "hard.csv"}, ws.dir());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string csv = ws.Read("hard.csv");
  // Export-Csv's forms: the canonical name with only '/' escaped, the DN with RFC 4514's.
  EXPECT_NE(csv.find("\"fabrikam.test/People/Plus+Equals=Semi;colon<Angle>\""), std::string::npos)
      << csv;
  EXPECT_NE(csv.find("\"fabrikam.test/People/Slash\\/Name\""), std::string::npos) << csv;
  EXPECT_NE(csv.find("\"CN=Plus\\+Equals\\=Semi\\;colon\\<Angle\\>,OU=People,"), std::string::npos)
      << csv;
  EXPECT_EQ(PlannedSourceDns(ws, "hard.csv"), hard) << "by Identity (canonical name)";

  // The same file keyed by its DistinguishedName column.
  ws.Write("by-dn.csv", csv);
  ASSERT_TRUE(ws.Edit("by-dn.csv", "\"Identity\",", "\"CanonicalName\","));
  EXPECT_EQ(PlannedSourceDns(ws, "by-dn.csv"), hard) << "by DistinguishedName";
}

TEST(Export, ACanonicalNameThatMatchesNothingSaysHowItWasRead) {
  Workspace ws;
  AddHardMailboxes(ws);
  ws.Write("users.csv",
           "Identity\r\n\"fabrikam.test/People/Plus+Equals=Semi;colon<Angle>\"\r\n"
           "\"fabrikam.test/Elsewhere/Comma, Name\"\r\n");
  auto r = RunCrossmove({"plan"}, ws.dir());
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.err.find("users.csv:3: column Identity: 'fabrikam.test/Elsewhere/Comma, Name' "
                       "matches nothing in the source directory (read as the canonical name of "
                       "'Comma, Name' in fabrikam.test/Elsewhere)"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("users.csv:2"), std::string::npos) << r.err;
}

TEST(Export, CraftedWildcardCannotWidenTheSearch) {
  Workspace ws;
  auto r = RunCrossmove({"export", "--identity", "x)(objectClass=*", "--format", "json"}, ws.dir());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out).size(), 0u);
}

}  // namespace
}  // namespace cm
