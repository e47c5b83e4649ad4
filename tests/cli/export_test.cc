// `crossmove export`: every value kept, and what it writes reads back in.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "app/export.h"
#include "cli/run_crossmove.h"
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

TEST(Export, CraftedWildcardCannotWidenTheSearch) {
  Workspace ws;
  auto r = RunCrossmove({"export", "--identity", "x)(objectClass=*", "--format", "json"}, ws.dir());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out).size(), 0u);
}

}  // namespace
}  // namespace cm
