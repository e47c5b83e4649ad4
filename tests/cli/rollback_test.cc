// `rollback` restores the source from its snapshot and mail flows to the old mailbox again.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cli/org.h"
#include "directory/schema.h"

namespace cm {
namespace {

using testing::Org;

class RollbackAfter : public ::testing::TestWithParam<const char*> {};

TEST_P(RollbackAfter, RestoresEverySnapshottedValueAndTheOldRouting) {
  Org org(4, 80, GetParam());
  CM_ASSERT_ORG(org);
  auto before = LdifDirectory::FromText(org.DirectoryText("source"), "before");
  ASSERT_TRUE(before.ok());
  auto mail_before = testing::MailOf(org.dir() / "source-mail");
  ASSERT_EQ(org.Run({"run"}).exit_code, 0);

  auto r = org.Run({"rollback", "--all"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_NE(r.out.find("rollback: 4 mailboxes rolled back, 0 failed"), std::string::npos) << r.out;

  // Compared as an administrator would, without what the server generates (whenChanged ...).
  auto source = LdifDirectory::FromText(org.DirectoryText("source"), "after");
  ASSERT_TRUE(source.ok()) << source.status().ToString();
  auto originals = (*before)->Search("OU=People,DC=fabrikam,DC=test", Scope::kOneLevel,
                                     Filter::Present("objectClass"));
  ASSERT_TRUE(originals.ok());
  ASSERT_EQ(originals->size(), 4u);
  for (const Entry& original : *originals) {
    auto restored = (*source)->Read(original.dn());
    ASSERT_TRUE(restored.ok()) << original.dn();
    for (const auto& [name, values] : original.attributes()) {
      // Value by value under the attribute's matching rule (a server may respell a DN value).
      const Values& got = restored->Get(name);
      bool same = got.size() == values.size();
      for (size_t i = 0; same && i < got.size(); ++i) same = ValuesEqual(name, got[i], values[i]);
      EXPECT_TRUE(same) << original.dn() << " " << name << ": " << fmt::format("{}", got)
                        << " != " << fmt::format("{}", values);
    }
    for (const auto& [name, values] : restored->attributes()) {
      EXPECT_TRUE(original.Has(name)) << original.dn() << " gained " << name;
    }
  }
  auto contacts = (*source)->Search("OU=Contacts,DC=fabrikam,DC=test", Scope::kOneLevel,
                                    Filter::Present("objectClass"));
  EXPECT_TRUE(contacts->empty()) << "the forwarding contacts are removed";
  // The target user is kept (mail is never deleted) and forwards back to the old mailbox.
  auto target = org.Directory("target");
  auto moved_back = target->Read("CN=Alice Adams,OU=Migrated Users,DC=contoso,DC=test");
  ASSERT_TRUE(moved_back.ok());
  EXPECT_EQ(moved_back->First("targetAddress"), "SMTP:alice.adams@fabrikam.test");
  EXPECT_EQ(moved_back->First("msExchRecipientTypeDetails"), "128");
  EXPECT_FALSE(moved_back->Has("homeMDB"));
  EXPECT_EQ(testing::Total(org.TargetMail()), 80);
  EXPECT_EQ(testing::MailOf(org.dir() / "source-mail"), mail_before);

  auto verify = org.Run({"verify", "--json"});
  EXPECT_EQ(verify.exit_code, 0) << verify.out;
  auto j = nlohmann::json::parse(verify.out);
  for (const auto& m : j["mailboxes"]) {
    EXPECT_EQ(m["state"], "rolled-back");
    for (const auto& a : m["addresses"]) {
      EXPECT_EQ(a["expected"], "old mailbox");
      EXPECT_TRUE(a["as_expected"].get<bool>()) << a["address"] << " lands " << a["lands"];
    }
  }
  // Rolling back again changes nothing.
  std::string after = org.DirectoryText("source");
  EXPECT_EQ(org.Run({"rollback", "--all"}).exit_code, 0);
  EXPECT_EQ(org.DirectoryText("source"), after);
}

INSTANTIATE_TEST_SUITE_P(Cli, RollbackAfter,
                         ::testing::Values("CreateSourceContact", "MailEnableSourceAccount",
                                           "DeleteSourceNTAccount", "DeleteSourceMailbox"));

TEST(Rollback, NamesIdentitiesItDoesNotKnow) {
  Org org(2, 10, "CreateSourceContact");
  CM_ASSERT_ORG(org);
  ASSERT_EQ(org.Run({"run"}).exit_code, 0);
  auto r = org.Run({"rollback", "nobody@fabrikam.test"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("'nobody@fabrikam.test' matches no mailbox in the journal"),
            std::string::npos)
      << r.err;
  auto one = org.Run({"rollback", "alice.adams@fabrikam.test"});
  EXPECT_EQ(one.exit_code, 0) << one.err;
  EXPECT_NE(one.out.find("1 mailbox rolled back"), std::string::npos) << one.out;
}

}  // namespace
}  // namespace cm
