// The routing model (SPEC §7), checked on directories that a real plan was applied to.
#include "core/routing.h"

#include <gtest/gtest.h>

#include "app/apply.h"
#include "core/legacy_dn.h"
#include "core/planner.h"
#include "directory/ldif_directory.h"

namespace cm {
namespace {

const char* kSource = R"(dn: DC=fabrikam,DC=test
objectClass: domain
dc: fabrikam

dn: OU=People,DC=fabrikam,DC=test
objectClass: organizationalUnit
ou: People

dn: OU=Contacts,DC=fabrikam,DC=test
objectClass: organizationalUnit
ou: Contacts

dn: CN=Alice Adams,OU=People,DC=fabrikam,DC=test
objectClass: user
cn: Alice Adams
displayName: Alice Adams
sAMAccountName: aadams
mailNickname: alice.adams
mail: alice.adams@fabrikam.test
proxyAddresses: SMTP:alice.adams@fabrikam.test
proxyAddresses: smtp:alice@fabrikam.test
proxyAddresses: smtp:aadams@fabrikam-legacy.test
proxyAddresses: X500:/o=Northwind/cn=Recipients/cn=aadams
legacyExchangeDN: /o=Fabrikam/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=alice.adams
homeMDB: CN=DB01,DC=fabrikam,DC=test
msExchRecipientTypeDetails: 1
)";

const char* kTarget = R"(dn: DC=contoso,DC=test
objectClass: domain
dc: contoso

dn: OU=Migrated,DC=contoso,DC=test
objectClass: organizationalUnit
ou: Migrated
)";

const std::string kOldLegacy =
    "/o=Fabrikam/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=alice.adams";

class RoutingAfterPlan : public ::testing::Test {
 protected:
  RoutingModel Migrate(CleanupOption cleanup) {
    auto src = LdifDirectory::FromText(kSource, "source");
    auto tgt = LdifDirectory::FromText(kTarget, "target");
    EXPECT_TRUE(src.ok() && tgt.ok());
    PlannerParams params;
    params.cleanup = cleanup;
    params.nt_account_ou = "OU=Migrated,DC=contoso,DC=test";
    params.contacts_ou = "OU=Contacts,DC=fabrikam,DC=test";
    params.target_smtp_domain = "contoso.test";
    params.target_org = "Contoso";
    params.target_database_dn = "CN=DB1,DC=contoso,DC=test";
    NameRegistry names;
    auto alice = (*src)->Read("CN=Alice Adams,OU=People,DC=fabrikam,DC=test");
    auto plan = PlanMailbox(*alice, {}, params, AttributeProfile{}, names);
    EXPECT_TRUE(plan.ok()) << plan.status().ToString();
    Status applied = ApplyMailboxPlan(*plan, **src, **tgt);
    EXPECT_TRUE(applied.ok()) << applied.ToString();
    new_mailbox_ = plan->target_dn;
    return Model(**src, **tgt);
  }

  static RoutingModel Model(Directory& src, Directory& tgt) {
    auto all = [](Directory& d) {
      return *d.Search(d.base_dn(), Scope::kSubtree, Filter::Present("objectClass"));
    };
    return RoutingModel({{"source", {"fabrikam.test", "fabrikam-legacy.test"}, all(src), {}},
                         {"target", {"contoso.test"}, all(tgt), {}}});
  }

  void ExpectDeliveredToNewMailbox(const RoutingModel& model, const std::string& address) {
    Route r = model.Resolve(address, "source");
    EXPECT_EQ(r.outcome, RouteOutcome::kDelivered) << address << ": " << r.detail;
    ASSERT_NE(r.final_hop(), nullptr) << address;
    EXPECT_EQ(r.final_hop()->org, "target") << address;
    EXPECT_EQ(r.final_hop()->dn, new_mailbox_) << address;
  }

  std::string new_mailbox_;
};

TEST_F(RoutingAfterPlan, CreateSourceContactForwardsEveryOldAddressToTheNewMailbox) {
  RoutingModel model = Migrate(CleanupOption::kCreateSourceContact);
  for (const char* a : {"alice.adams@fabrikam.test", "ALICE.ADAMS@FABRIKAM.TEST",
                        "Alice@Fabrikam.Test", "aadams@fabrikam-legacy.test"}) {
    ExpectDeliveredToNewMailbox(model, a);
  }
  ExpectDeliveredToNewMailbox(model, "X500:" + kOldLegacy);
  ExpectDeliveredToNewMailbox(model, kOldLegacy);  // EX address as Outlook's cache holds it
  ExpectDeliveredToNewMailbox(model, "X500:/o=Northwind/cn=Recipients/cn=aadams");
  ExpectDeliveredToNewMailbox(model, EncodeImceaex(kOldLegacy, "fabrikam.test"));
  Route r = model.Resolve("alice@fabrikam.test");
  ASSERT_EQ(r.hops.size(), 2u);
  EXPECT_EQ(r.hops[0].kind, RecipientKind::kMailContact);
}

TEST_F(RoutingAfterPlan, MailEnableSourceAccountForwardsEveryOldAddressToTheNewMailbox) {
  RoutingModel model = Migrate(CleanupOption::kMailEnableSourceAccount);
  for (const char* a :
       {"alice.adams@fabrikam.test", "aLiCe@fabrikam.test", "aadams@FABRIKAM-LEGACY.test"}) {
    ExpectDeliveredToNewMailbox(model, a);
  }
  ExpectDeliveredToNewMailbox(model, "X500:" + kOldLegacy);
  ExpectDeliveredToNewMailbox(model, EncodeImceaex(kOldLegacy, "fabrikam.test"));
  EXPECT_EQ(model.Resolve("alice@fabrikam.test").hops[0].kind, RecipientKind::kMailUser);
}

TEST_F(RoutingAfterPlan, DeleteSourceMailboxLeavesOldAddressesBouncing) {
  RoutingModel model = Migrate(CleanupOption::kDeleteSourceMailbox);
  for (const char* a :
       {"alice.adams@fabrikam.test", "alice@fabrikam.test", "aadams@fabrikam-legacy.test"}) {
    Route r = model.Resolve(a);
    EXPECT_EQ(r.outcome, RouteOutcome::kNdrUnknown) << a;
    EXPECT_EQ(NdrCode(r.outcome), "5.1.1");
  }
  EXPECT_EQ(model.Resolve("X500:" + kOldLegacy, "source").outcome, RouteOutcome::kNdrUnknown);
  // The new address works directly in the target.
  ExpectDeliveredToNewMailbox(model, "alice.adams@contoso.test");
}

TEST_F(RoutingAfterPlan, DeleteSourceNTAccountLeavesOldAddressesBouncing) {
  RoutingModel model = Migrate(CleanupOption::kDeleteSourceNTAccount);
  EXPECT_EQ(model.Resolve("alice@fabrikam.test").outcome, RouteOutcome::kNdrUnknown);
}

TEST_F(RoutingAfterPlan, NoneStillDeliversToTheOldMailbox) {
  RoutingModel model = Migrate(CleanupOption::kNone);
  Route r = model.Resolve("alice@fabrikam.test");
  EXPECT_EQ(r.outcome, RouteOutcome::kDelivered);
  EXPECT_EQ(r.final_hop()->org, "source");
}

Entry Contact(std::string dn, std::vector<std::string> proxies, std::string target) {
  Entry e(std::move(dn));
  e.Set("objectClass", {"contact"});
  e.Set("proxyAddresses", proxies);
  e.Set("targetAddress", {std::move(target)});
  e.Set("msExchRecipientTypeDetails", {"64"});
  return e;
}

Entry Mailbox(std::string dn, std::vector<std::string> proxies) {
  Entry e(std::move(dn));
  e.Set("objectClass", {"user"});
  e.Set("proxyAddresses", proxies);
  e.Set("msExchRecipientTypeDetails", {"1"});
  return e;
}

TEST(Routing, DuplicateAddressIsAmbiguous) {
  RoutingModel model({{"source",
                       {"s.test"},
                       {Mailbox("CN=a,DC=s", {"SMTP:dup@s.test"}),
                        Mailbox("CN=b,DC=s", {"smtp:DUP@s.test", "SMTP:b@s.test"})},
                       {}}});
  Route r = model.Resolve("dup@s.test");
  EXPECT_EQ(r.outcome, RouteOutcome::kNdrAmbiguous);
  EXPECT_NE(r.detail.find("CN=a,DC=s"), std::string::npos);
  EXPECT_NE(r.detail.find("CN=b,DC=s"), std::string::npos);
}

TEST(Routing, ContactPointingAtItselfIsALoop) {
  RoutingModel model(
      {{"source", {"s.test"}, {Contact("CN=c,DC=s", {"SMTP:c@s.test"}, "SMTP:c@s.test")}, {}}});
  EXPECT_EQ(model.Resolve("c@s.test").outcome, RouteOutcome::kNdrLoop);
}

TEST(Routing, TwoOrganizationsForwardingToEachOtherIsALoop) {
  RoutingModel model(
      {{"source", {"s.test"}, {Contact("CN=a,DC=s", {"SMTP:a@s.test"}, "SMTP:a@t.test")}, {}},
       {"target", {"t.test"}, {Contact("CN=a,DC=t", {"SMTP:a@t.test"}, "SMTP:a@s.test")}, {}}});
  Route r = model.Resolve("a@s.test");
  EXPECT_EQ(r.outcome, RouteOutcome::kNdrLoop);
  EXPECT_EQ(NdrCode(r.outcome), "5.4.6");
}

TEST(Routing, LongForwardingChainStopsAtTheHopLimit) {
  std::vector<Entry> chain;
  for (int i = 0; i < 15; ++i) {
    chain.push_back(Contact("CN=c" + std::to_string(i) + ",DC=s",
                            {"SMTP:c" + std::to_string(i) + "@s.test"},
                            "SMTP:c" + std::to_string(i + 1) + "@s.test"));
  }
  RoutingModel model({{"source", {"s.test"}, chain, {}}});
  EXPECT_EQ(model.Resolve("c0@s.test").outcome, RouteOutcome::kNdrLoop);
}

TEST(Routing, UnknownDomainLeavesTheModelledOrganizations) {
  RoutingModel model({{"source",
                       {"s.test"},
                       {Contact("CN=p,DC=s", {"SMTP:p@s.test"}, "SMTP:p@partner.example")},
                       {}}});
  Route r = model.Resolve("p@s.test");
  EXPECT_EQ(r.outcome, RouteOutcome::kExternal);
  EXPECT_EQ(model.Resolve("nobody@s.test").outcome, RouteOutcome::kNdrUnknown);
}

TEST(Routing, UserWithoutMailboxOrForwardingIsNoRoute) {
  Entry user("CN=u,DC=s");
  user.Set("objectClass", {"user"});
  user.Set("proxyAddresses", {"SMTP:u@s.test"});
  RoutingModel model({{"source", {"s.test"}, {user}, {}}});
  EXPECT_EQ(model.Resolve("u@s.test").outcome, RouteOutcome::kNdrNoRoute);
}

TEST(Routing, MalformedAddressesAreRefused) {
  RoutingModel model({{"source", {"s.test"}, {}, {}}});
  EXPECT_EQ(model.Resolve("not an address").outcome, RouteOutcome::kNdrBadAddress);
  EXPECT_EQ(model.Resolve("IMCEAEX-garbage@s.test").outcome, RouteOutcome::kNdrBadAddress);
}

}  // namespace
}  // namespace cm
