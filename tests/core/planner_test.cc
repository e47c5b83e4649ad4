// Golden tests: the exact operations SPEC §5 (provisioning) and §6 (cleanup) prescribe for one
// mailbox, attribute by attribute and proxy by proxy, in order.
#include "core/planner.h"

#include <gtest/gtest.h>

#include "core/dn.h"

namespace cm {
namespace {

using Op = Modification::Op;
using Kind = DirectoryOp::Kind;

const std::string kSourceDn = "CN=Smith\\, John,OU=People,DC=fabrikam,DC=test";
const std::string kSourceLegacy =
    "/o=Fabrikam/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=john.smith";
const std::string kTargetLegacy =
    "/o=Contoso/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=john.smith";
const std::string kGuid("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10", 16);
const std::string kTargetDb = "CN=DB-Contoso-01,OU=Exchange,DC=contoso,DC=test";

Entry SourceMailbox() {
  Entry e(kSourceDn);
  e.Set("objectClass", {"top", "person", "organizationalPerson", "user"});
  e.Set("cn", {"Smith, John"});
  e.Set("sn", {"Smith"});
  e.Set("givenName", {"John"});
  e.Set("displayName", {"Smith, John"});
  e.Set("title", {"Accountant"});
  e.Set("department", {"Finance"});
  e.Set("sAMAccountName", {"jsmith"});
  e.Set("userAccountControl", {"512"});
  e.Set("mailNickname", {"john.smith"});
  e.Set("mail", {"john.smith@fabrikam.test"});
  e.Set("proxyAddresses",
        {"SMTP:john.smith@fabrikam.test", "smtp:jsmith@fabrikam-legacy.test",
         "X500:/o=Northwind/cn=Recipients/cn=jsmith",
         "X400:c=US;a= ;p=Fabrikam;o=Exchange;s=Smith;g=John;", "sip:john.smith@fabrikam.test"});
  e.Set("legacyExchangeDN", {kSourceLegacy});
  e.Set("homeMDB", {"CN=Mailbox Database 01,OU=Exchange,DC=fabrikam,DC=test"});
  e.Set("msExchHomeServerName", {"/o=Fabrikam/ou=Exchange Administrative Group "
                                 "(FYDIBOHF23SPDLT)/cn=Configuration/cn=Servers/cn=EX01"});
  e.Set("msExchMailboxGuid", {kGuid});
  e.Set("msExchRecipientTypeDetails", {"1"});
  e.Set("msExchRecipientDisplayType", {"1073741824"});
  e.Set("showInAddressBook", {"CN=Default Global Address List,DC=fabrikam,DC=test"});
  return e;
}

PlannerParams Params(CleanupOption cleanup) {
  PlannerParams p;
  p.cleanup = cleanup;
  p.nt_account_ou = "OU=Migrated Users,DC=contoso,DC=test";
  p.contacts_ou = "OU=Contacts,DC=fabrikam,DC=test";
  p.target_smtp_domain = "contoso.test";
  p.target_org = "Contoso";
  p.target_database_dn = kTargetDb;
  return p;
}

MailboxPlan PlanFor(CleanupOption cleanup, std::vector<Entry> matches = {},
                    PlannerParams params = {}) {
  if (params.target_org.empty()) params = Params(cleanup);
  NameRegistry names;
  auto plan = PlanMailbox(SourceMailbox(), matches, params, AttributeProfile{}, names);
  EXPECT_TRUE(plan.ok()) << plan.status().ToString();
  return plan.ok() ? *plan : MailboxPlan{};
}

// SPEC §5: the new target user.
DirectoryOp ExpectedTargetAdd() {
  return {Side::kTarget,
          Kind::kAdd,
          "CN=Smith\\, John,OU=Migrated Users,DC=contoso,DC=test",
          {{Op::kAdd, "objectClass", {"top", "person", "organizationalPerson", "user"}},
           {Op::kAdd, "cn", {"Smith, John"}},
           {Op::kAdd, "sn", {"Smith"}},
           {Op::kAdd, "givenName", {"John"}},
           {Op::kAdd, "displayName", {"Smith, John"}},
           {Op::kAdd, "title", {"Accountant"}},
           {Op::kAdd, "department", {"Finance"}},
           {Op::kAdd, "sAMAccountName", {"jsmith"}},
           {Op::kAdd, "userAccountControl", {"514"}},
           {Op::kAdd, "mailNickname", {"john.smith"}},
           {Op::kAdd, "mail", {"john.smith@contoso.test"}},
           {Op::kAdd,
            "proxyAddresses",
            {"SMTP:john.smith@contoso.test", "smtp:john.smith@fabrikam.test",
             "smtp:jsmith@fabrikam-legacy.test", "X500:" + kSourceLegacy,
             "X500:/o=Northwind/cn=Recipients/cn=jsmith",
             "X400:c=US;a= ;p=Fabrikam;o=Exchange;s=Smith;g=John;"}},
           {Op::kAdd, "legacyExchangeDN", {kTargetLegacy}},
           {Op::kAdd, "homeMDB", {kTargetDb}},
           {Op::kAdd, "msExchMailboxGuid", {kGuid}},
           {Op::kAdd, "msExchRecipientTypeDetails", {"1"}},
           {Op::kAdd, "msExchRecipientDisplayType", {"1073741824"}}},
          "",
          "",
          ""};
}

// SPEC §6: the forwarding proxies, exactly one SMTP:, de-duplicated.
const std::vector<std::string> kForwardingProxies = {
    "SMTP:john.smith@contoso.test",
    "smtp:john.smith@fabrikam.test",
    "smtp:jsmith@fabrikam-legacy.test",
    "X500:" + kTargetLegacy,
    "X500:" + kSourceLegacy,
    "X500:/o=Northwind/cn=Recipients/cn=jsmith",
    "X400:c=US;a= ;p=Fabrikam;o=Exchange;s=Smith;g=John;"};

void ExpectOps(const std::vector<DirectoryOp>& actual, const std::vector<DirectoryOp>& expected) {
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < actual.size(); ++i) {
    EXPECT_EQ(actual[i].side, expected[i].side) << "op " << i;
    EXPECT_EQ(actual[i].kind, expected[i].kind) << "op " << i;
    EXPECT_EQ(actual[i].dn, expected[i].dn) << "op " << i;
    ASSERT_EQ(actual[i].mods.size(), expected[i].mods.size()) << "op " << i;
    for (size_t m = 0; m < actual[i].mods.size(); ++m) {
      EXPECT_EQ(actual[i].mods[m].op, expected[i].mods[m].op) << actual[i].mods[m].attribute;
      EXPECT_EQ(actual[i].mods[m].attribute, expected[i].mods[m].attribute)
          << "op " << i << " mod " << m;
      EXPECT_EQ(actual[i].mods[m].values, expected[i].mods[m].values)
          << actual[i].mods[m].attribute;
    }
  }
}

TEST(Planner, ProvisioningMatchesSpecAttributeByAttribute) {
  MailboxPlan plan = PlanFor(CleanupOption::kNone);
  EXPECT_EQ(plan.target_action, TargetAction::kCreate);
  EXPECT_EQ(plan.target_primary_smtp, "john.smith@contoso.test");
  EXPECT_EQ(plan.target_legacy_dn, kTargetLegacy);
  ExpectOps(plan.provision, {ExpectedTargetAdd()});
}

TEST(Planner, CleanupNoneChangesNothingInTheSource) {
  EXPECT_TRUE(PlanFor(CleanupOption::kNone).cleanup_ops.empty());
}

TEST(Planner, DeleteSourceMailboxRemovesEveryMailboxAttributeInSpecOrder) {
  MailboxPlan plan = PlanFor(CleanupOption::kDeleteSourceMailbox);
  ExpectOps(plan.provision, {ExpectedTargetAdd()});
  ExpectOps(plan.cleanup_ops, {{Side::kSource,
                                Kind::kModify,
                                kSourceDn,
                                {{Op::kDelete, "homeMDB", {}},
                                 {Op::kDelete, "msExchHomeServerName", {}},
                                 {Op::kDelete, "msExchMailboxGuid", {}},
                                 {Op::kDelete, "msExchRecipientTypeDetails", {}},
                                 {Op::kDelete, "msExchRecipientDisplayType", {}},
                                 {Op::kDelete, "mailNickname", {}},
                                 {Op::kDelete, "mail", {}},
                                 {Op::kDelete, "proxyAddresses", {}},
                                 {Op::kDelete, "legacyExchangeDN", {}},
                                 {Op::kDelete, "showInAddressBook", {}}},
                                "",
                                "",
                                ""}});
}

TEST(Planner, DeleteSourceNTAccountDeletesTheObject) {
  MailboxPlan plan = PlanFor(CleanupOption::kDeleteSourceNTAccount);
  ExpectOps(plan.cleanup_ops, {{Side::kSource, Kind::kDelete, kSourceDn, {}, "", "", ""}});
}

TEST(Planner, CreateSourceContactDeletesTheUserThenAddsTheForwardingContact) {
  MailboxPlan plan = PlanFor(CleanupOption::kCreateSourceContact);
  ExpectOps(plan.cleanup_ops,
            {{Side::kSource, Kind::kDelete, kSourceDn, {}, "", "", ""},
             {Side::kSource,
              Kind::kAdd,
              "CN=Smith\\, John,OU=Contacts,DC=fabrikam,DC=test",
              {{Op::kAdd, "objectClass", {"top", "person", "organizationalPerson", "contact"}},
               {Op::kAdd, "cn", {"Smith, John"}},
               {Op::kAdd, "sn", {"Smith"}},
               {Op::kAdd, "givenName", {"John"}},
               {Op::kAdd, "displayName", {"Smith, John"}},
               {Op::kAdd, "title", {"Accountant"}},
               {Op::kAdd, "department", {"Finance"}},
               {Op::kAdd, "mailNickname", {"john.smith"}},
               {Op::kAdd, "mail", {"john.smith@contoso.test"}},
               {Op::kAdd, "targetAddress", {"SMTP:john.smith@contoso.test"}},
               {Op::kAdd, "proxyAddresses", kForwardingProxies},
               {Op::kAdd, "legacyExchangeDN", {kSourceLegacy}},
               {Op::kAdd, "msExchRecipientTypeDetails", {"64"}},
               {Op::kAdd, "msExchRecipientDisplayType", {"6"}}},
              "",
              "",
              ""}});
}

TEST(Planner, MailEnableSourceAccountIsOneAtomicModify) {
  MailboxPlan plan = PlanFor(CleanupOption::kMailEnableSourceAccount);
  ExpectOps(plan.cleanup_ops, {{Side::kSource,
                                Kind::kModify,
                                kSourceDn,
                                {{Op::kDelete, "homeMDB", {}},
                                 {Op::kDelete, "msExchHomeServerName", {}},
                                 {Op::kDelete, "msExchMailboxGuid", {}},
                                 {Op::kDelete, "showInAddressBook", {}},
                                 {Op::kReplace, "mail", {"john.smith@contoso.test"}},
                                 {Op::kReplace, "proxyAddresses", kForwardingProxies},
                                 {Op::kReplace, "targetAddress", {"SMTP:john.smith@contoso.test"}},
                                 {Op::kReplace, "msExchRecipientTypeDetails", {"128"}},
                                 {Op::kReplace, "msExchRecipientDisplayType", {"6"}}},
                                "",
                                "",
                                ""}});
}

TEST(Planner, KeepSourcePrimaryKeepsTheOldPrimaryOnTheForwarder) {
  PlannerParams params = Params(CleanupOption::kMailEnableSourceAccount);
  params.keep_source_primary = true;
  MailboxPlan plan = PlanFor(CleanupOption::kMailEnableSourceAccount, {}, params);
  const auto& mods = plan.cleanup_ops.at(0).mods;
  auto find = [&](const std::string& attr) {
    for (const auto& m : mods)
      if (m.attribute == attr) return m.values;
    return Values{};
  };
  EXPECT_EQ(find("mail"), Values{"john.smith@fabrikam.test"});
  Values proxies = find("proxyAddresses");
  ASSERT_GE(proxies.size(), 2u);
  EXPECT_EQ(proxies[0], "smtp:john.smith@contoso.test");
  EXPECT_EQ(proxies[1], "SMTP:john.smith@fabrikam.test");
  // targetAddress still points at the new mailbox.
  EXPECT_EQ(find("targetAddress"), Values{"SMTP:john.smith@contoso.test"});
}

TEST(Planner, ForwardingProxiesDeduplicateAndHaveExactlyOnePrimary) {
  auto source = *ProxyAddressSet::Parse(
      {"SMTP:a@s.test", "smtp:A@S.TEST", "smtp:b@s.test", "X500:/o=S/cn=a"});
  ProxyAddressSet fwd = ForwardingProxies(source, "/o=S/cn=a", "a@t.test", "/o=T/cn=a", false);
  EXPECT_EQ(fwd.ToStrings(),
            (std::vector<std::string>{"SMTP:a@t.test", "smtp:a@s.test", "smtp:b@s.test",
                                      "X500:/o=T/cn=a", "X500:/o=S/cn=a"}));
  EXPECT_TRUE(fwd.CheckPrimaries().ok());
}

TEST(Planner, ReplacesAMatchingGalContactAndTakesOverItsAddresses) {
  Entry contact("CN=John Smith (Fabrikam),OU=GAL,DC=contoso,DC=test");
  contact.Set("objectClass", {"top", "contact"});
  contact.Set("proxyAddresses", {"SMTP:john.smith@fabrikam.test", "smtp:jsmith.fab@contoso.test"});
  contact.Set("targetAddress", {"SMTP:john.smith@fabrikam.test"});
  contact.Set("legacyExchangeDN", {"/o=Contoso/cn=Recipients/cn=galsync-jsmith"});
  contact.Set("msExchRecipientTypeDetails", {"64"});
  MailboxPlan plan = PlanFor(CleanupOption::kNone, {contact});
  EXPECT_EQ(plan.target_action, TargetAction::kReplaceContact);
  ASSERT_EQ(plan.provision.size(), 2u);
  EXPECT_EQ(plan.provision[0].kind, Kind::kDelete);
  EXPECT_EQ(plan.provision[0].dn, contact.dn());
  Entry user = plan.provision[1].AsEntry();
  const Values& proxies = user.Get("proxyAddresses");
  EXPECT_EQ(proxies.front(), "SMTP:john.smith@contoso.test");
  EXPECT_NE(std::find(proxies.begin(), proxies.end(), "smtp:jsmith.fab@contoso.test"),
            proxies.end());
  EXPECT_NE(
      std::find(proxies.begin(), proxies.end(), "X500:/o=Contoso/cn=Recipients/cn=galsync-jsmith"),
      proxies.end());
  EXPECT_EQ(std::count_if(proxies.begin(), proxies.end(),
                          [](const std::string& p) { return p.starts_with("SMTP:"); }),
            1);
}

TEST(Planner, MergesIntoAMailUserOnlyWithAllowMerge) {
  Entry mail_user("CN=John Smith,OU=Staff,DC=contoso,DC=test");
  mail_user.Set("objectClass", {"top", "user"});
  mail_user.Set("proxyAddresses", {"SMTP:jsmith@contoso.test", "smtp:john.smith@fabrikam.test"});
  mail_user.Set("targetAddress", {"SMTP:john.smith@fabrikam.test"});
  mail_user.Set("legacyExchangeDN", {"/o=Contoso/cn=Recipients/cn=jsmith"});
  mail_user.Set("msExchRecipientTypeDetails", {"128"});
  NameRegistry names;
  auto refused = PlanMailbox(SourceMailbox(), {mail_user}, Params(CleanupOption::kNone),
                             AttributeProfile{}, names);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("allow-merge"), std::string::npos);

  PlannerParams params = Params(CleanupOption::kNone);
  params.allow_merge = true;
  MailboxPlan plan = PlanFor(CleanupOption::kNone, {mail_user}, params);
  EXPECT_EQ(plan.target_action, TargetAction::kMergeMailUser);
  EXPECT_EQ(plan.target_primary_smtp,
            "jsmith@contoso.test");  // the target object's own primary stays
  EXPECT_EQ(plan.target_legacy_dn, "/o=Contoso/cn=Recipients/cn=jsmith");
  ASSERT_EQ(plan.provision.size(), 1u);
  const DirectoryOp& op = plan.provision[0];
  EXPECT_EQ(op.kind, Kind::kModify);
  EXPECT_EQ(op.mods[0].op, Op::kDelete);
  EXPECT_EQ(op.mods[0].attribute, "targetAddress");
  EXPECT_EQ(op.mods[1].attribute, "proxyAddresses");
  EXPECT_EQ(op.mods[1].values[0], "SMTP:jsmith@contoso.test");
}

TEST(Planner, RefusesAMatchThatIsAnotherMailbox) {
  Entry other("CN=Someone,OU=Staff,DC=contoso,DC=test");
  other.Set("objectClass", {"user"});
  other.Set("sAMAccountName", {"jsmith"});
  other.Set("homeMDB", {kTargetDb});
  other.Set("msExchRecipientTypeDetails", {"1"});
  NameRegistry names;
  auto plan = PlanMailbox(SourceMailbox(), {other}, Params(CleanupOption::kNone),
                          AttributeProfile{}, names);
  ASSERT_FALSE(plan.ok());
  EXPECT_NE(plan.status().message().find(other.dn()), std::string::npos);
}

TEST(Planner, ACollisionNamesTheValueThatCollidesAndBothObjects) {
  Entry other("CN=Someone,OU=Staff,DC=contoso,DC=test");
  other.Set("objectClass", {"user"});
  other.Set("sAMAccountName", {"JSMITH"});
  other.Set("proxyAddresses", {"SMTP:someone@contoso.test", "smtp:JSmith@Fabrikam-Legacy.test"});
  other.Set("homeMDB", {kTargetDb});
  other.Set("msExchRecipientTypeDetails", {"1"});
  NameRegistry names;
  auto plan = PlanMailbox(SourceMailbox(), {other}, Params(CleanupOption::kNone),
                          AttributeProfile{}, names);
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().message(),
            kSourceDn +
                ": smtp:jsmith@fabrikam-legacy.test, sAMAccountName 'jsmith' already belongs to "
                "target Mailbox CN=Someone,OU=Staff,DC=contoso,DC=test");
}

// SPEC §5: shared, room and equipment mailboxes keep their type, display type and disabled
// account; a room or equipment mailbox keeps its booking attributes.
TEST(Planner, SharedRoomAndEquipmentMailboxesKeepTheirType) {
  struct Case {
    std::string type, display;
    bool resource;
  };
  for (const Case& c : {Case{"4", "0", false}, Case{"16", "7", true}, Case{"32", "8", true}}) {
    Entry source = SourceMailbox();
    source.Set("msExchRecipientTypeDetails", {c.type});
    source.Set("msExchRecipientDisplayType", {"0"});
    source.Set("userAccountControl", {"514"});
    source.Set("msExchResourceCapacity", {"12"});
    source.Set("msExchResourceMetaData", {"ResourceType:Room", "Other"});
    NameRegistry names;
    auto plan = PlanMailbox(source, {}, Params(CleanupOption::kNone), AttributeProfile{}, names);
    ASSERT_TRUE(plan.ok()) << plan.status().ToString();
    Entry added = plan->provision.at(0).AsEntry();
    EXPECT_EQ(added.Get("msExchRecipientTypeDetails"), Values{c.type});
    EXPECT_EQ(added.Get("msExchRecipientDisplayType"), Values{c.display}) << c.type;
    EXPECT_EQ(added.Get("userAccountControl"), Values{"514"});
    EXPECT_EQ(added.Get("msExchUserAccountControl"), Values{"2"});
    EXPECT_EQ(added.Get("msExchResourceCapacity"), c.resource ? Values{"12"} : Values{}) << c.type;
    EXPECT_EQ(added.Get("msExchResourceMetaData").size(), c.resource ? 2u : 0u) << c.type;
  }
  // A merged mail user becomes the same type.
  Entry mail_user("CN=Room 1,OU=Staff,DC=contoso,DC=test");
  mail_user.Set("objectClass", {"top", "user"});
  mail_user.Set("proxyAddresses", {"SMTP:room1@contoso.test", "smtp:john.smith@fabrikam.test"});
  mail_user.Set("msExchRecipientTypeDetails", {"128"});
  Entry room = SourceMailbox();
  room.Set("msExchRecipientTypeDetails", {"16"});
  room.Set("msExchResourceCapacity", {"8"});
  PlannerParams params = Params(CleanupOption::kNone);
  params.allow_merge = true;
  NameRegistry names;
  auto merged = PlanMailbox(room, {mail_user}, params, AttributeProfile{}, names);
  ASSERT_TRUE(merged.ok()) << merged.status().ToString();
  Entry modified = merged->provision.at(0).AsEntry();
  EXPECT_EQ(modified.Get("msExchRecipientTypeDetails"), Values{"16"});
  EXPECT_EQ(modified.Get("msExchRecipientDisplayType"), Values{"7"});
  EXPECT_EQ(modified.Get("msExchUserAccountControl"), Values{"2"});
  EXPECT_EQ(modified.Get("msExchResourceCapacity"), Values{"8"});
}

TEST(Planner, GeneratedNamesAreUniqueAcrossABatch) {
  NameRegistry names;
  names.target_dns.insert(NormalizeDn("CN=Smith\\, John,OU=Migrated Users,DC=contoso,DC=test"));
  names.target_sam_names.insert("jsmith");
  names.target_legacy_dns.insert(kTargetLegacy);
  names.target_smtp_addresses.insert("john.smith@contoso.test");
  auto first =
      PlanMailbox(SourceMailbox(), {}, Params(CleanupOption::kNone), AttributeProfile{}, names);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->target_dn, "CN=Smith\\, John1,OU=Migrated Users,DC=contoso,DC=test");
  EXPECT_EQ(first->target_primary_smtp, "john.smith1@contoso.test");
  EXPECT_EQ(first->target_legacy_dn, kTargetLegacy + "1");
  EXPECT_EQ(first->provision[0].AsEntry().First("sAMAccountName"), "jsmith1");
  // The same person planned again (e.g. another row) gets the next free names, never the same.
  Entry twin = SourceMailbox();
  twin.set_dn("CN=Smith\\, John,OU=Other,DC=fabrikam,DC=test");
  auto second = PlanMailbox(twin, {}, Params(CleanupOption::kNone), AttributeProfile{}, names);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->target_dn, "CN=Smith\\, John2,OU=Migrated Users,DC=contoso,DC=test");
  EXPECT_EQ(second->target_primary_smtp, "john.smith2@contoso.test");
}

TEST(Planner, RefusesSomethingThatIsNotAMailbox) {
  Entry contact("CN=c,DC=fabrikam,DC=test");
  contact.Set("objectClass", {"contact"});
  contact.Set("targetAddress", {"SMTP:c@x.test"});
  NameRegistry names;
  EXPECT_FALSE(
      PlanMailbox(contact, {}, Params(CleanupOption::kNone), AttributeProfile{}, names).ok());
}

TEST(Planner, ParsesCleanupOptionsCaseInsensitively) {
  EXPECT_EQ(*ParseCleanupOption("createsourcecontact"), CleanupOption::kCreateSourceContact);
  EXPECT_FALSE(ParseCleanupOption("DeleteEverything").ok());
}

}  // namespace
}  // namespace cm
