#include "core/recipient.h"

#include <gtest/gtest.h>

namespace cm {
namespace {

Entry Make(std::vector<std::pair<std::string, std::vector<std::string>>> attrs) {
  Entry e("CN=x,DC=t");
  for (auto& [k, v] : attrs) e.Set(k, v);
  return e;
}

RecipientKind KindOf(const Entry& e) {
  static const AttributeProfile kProfile;
  return Recipient(e, kProfile).kind();
}

TEST(Recipient, ClassifiesByTypeDetails) {
  AttributeProfile p;
  EXPECT_EQ(KindOf(Make({{"msExchRecipientTypeDetails", {"1"}}})), RecipientKind::kMailbox);
  EXPECT_EQ(KindOf(Make({{"msExchRecipientTypeDetails", {"4"}}})), RecipientKind::kMailbox);
  EXPECT_EQ(KindOf(Make({{"msExchRecipientTypeDetails", {"64"}}})), RecipientKind::kMailContact);
  EXPECT_EQ(KindOf(Make({{"msExchRecipientTypeDetails", {"128"}}})), RecipientKind::kMailUser);
  // 64-bit values: RemoteUserMailbox (2^31) and RemoteSharedMailbox (2^35) are mail users here.
  EXPECT_EQ(KindOf(Make({{"msExchRecipientTypeDetails", {"2147483648"}}})),
            RecipientKind::kMailUser);
  EXPECT_EQ(KindOf(Make({{"msExchRecipientTypeDetails", {"34359738368"}}})),
            RecipientKind::kMailUser);
  EXPECT_EQ(RecipientTypeName(34359738368ULL), "RemoteSharedMailbox");
}

TEST(Recipient, InfersKindWithoutTypeDetails) {
  AttributeProfile p;
  EXPECT_EQ(KindOf(Make({{"objectClass", {"user"}}, {"homeMDB", {"CN=DB"}}})),
            RecipientKind::kMailbox);
  EXPECT_EQ(KindOf(Make({{"objectClass", {"user"}}, {"targetAddress", {"SMTP:a@b.c"}}})),
            RecipientKind::kMailUser);
  EXPECT_EQ(KindOf(Make({{"objectClass", {"contact"}}, {"targetAddress", {"SMTP:a@b.c"}}})),
            RecipientKind::kMailContact);
  EXPECT_EQ(KindOf(Make({{"objectClass", {"user"}}})), RecipientKind::kUser);
}

TEST(Recipient, PrimarySmtpAndForwarding) {
  AttributeProfile p;
  Entry e = Make({{"proxyAddresses", {"smtp:b@x.test", "SMTP:a@x.test"}},
                  {"mail", {"other@x.test"}},
                  {"targetAddress", {"SMTP:a@t.test"}}});
  Recipient r(e, p);
  EXPECT_EQ(r.primary_smtp(), "a@x.test");
  EXPECT_EQ(r.forwarding_smtp(), "a@t.test");
}

TEST(Recipient, ProfileRemapsAttributeNames) {
  AttributeProfile p;
  p.mail_nickname = "uid";
  Entry e = Make({{"uid", {"jdoe"}}, {"mailNickname", {"ignored"}}});
  EXPECT_EQ(Recipient(e, p).alias(), "jdoe");
}

}  // namespace
}  // namespace cm
