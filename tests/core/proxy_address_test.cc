#include "core/proxy_address.h"

#include <gtest/gtest.h>

namespace cm {
namespace {

TEST(ProxyAddress, UpperCaseTypeIsPrimary) {
  auto p = ProxyAddress::Parse("SMTP:Alice@Fabrikam.test");
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->IsSmtp());
  EXPECT_TRUE(p->primary());
  EXPECT_EQ(p->address(), "Alice@Fabrikam.test");
  auto s = ProxyAddress::Parse("smtp:alice@fabrikam.test");
  ASSERT_TRUE(s.ok());
  EXPECT_FALSE(s->primary());
  EXPECT_EQ(s->ToString(), "smtp:alice@fabrikam.test");
}

TEST(ProxyAddress, EqualityIgnoresCaseOfTypeAndAddress) {
  auto a = *ProxyAddress::Parse("SMTP:ALICE@FABRIKAM.TEST");
  auto b = *ProxyAddress::Parse("smtp:alice@fabrikam.test");
  EXPECT_TRUE(a.SameAddress(b));
  auto x = *ProxyAddress::Parse("X500:/o=Fabrikam/cn=alice");
  EXPECT_FALSE(a.SameAddress(x));
}

TEST(ProxyAddress, X400ValuesKeepSpacesAndSemicolons) {
  auto p = ProxyAddress::Parse("X400:c=US;a= ;p=Fabrikam;o=Exchange;s=Adams;g=Alice;");
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->IsX400());
  EXPECT_TRUE(p->primary());
  EXPECT_EQ(p->address(), "c=US;a= ;p=Fabrikam;o=Exchange;s=Adams;g=Alice;");
  EXPECT_EQ(p->ToString(), "X400:c=US;a= ;p=Fabrikam;o=Exchange;s=Adams;g=Alice;");
}

TEST(ProxyAddress, X500IsNeverPrimaryAndAlwaysWrittenUpperCase) {
  auto p = ProxyAddress::Parse("x500:/o=Fabrikam/cn=alice");
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(p->primary());
  EXPECT_EQ(p->ToString(), "X500:/o=Fabrikam/cn=alice");
}

TEST(ProxyAddress, OtherTypesAreKept) {
  auto p = ProxyAddress::Parse("sip:alice@fabrikam.test");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->type(), "SIP");
  EXPECT_EQ(p->ToString(), "sip:alice@fabrikam.test");
}

TEST(ProxyAddress, RejectsMalformedValues) {
  for (const char* bad :
       {"alice@fabrikam.test", ":x@y.z", "SMTP:", "SmTp:x@y.z", "TOOLONGTYPE:x", "SM TP:x@y.z"}) {
    EXPECT_FALSE(ProxyAddress::Parse(bad).ok()) << bad;
  }
}

TEST(ProxyAddressSet, DeduplicatesCaseInsensitively) {
  ProxyAddressSet set;
  EXPECT_TRUE(set.Add(*ProxyAddress::Parse("SMTP:a@x.test")));
  EXPECT_FALSE(set.Add(*ProxyAddress::Parse("smtp:A@X.TEST")));
  EXPECT_TRUE(set.Add(*ProxyAddress::Parse("smtp:b@x.test")));
  EXPECT_EQ(set.ToStrings(), (std::vector<std::string>{"SMTP:a@x.test", "smtp:b@x.test"}));
}

TEST(ProxyAddressSet, MakePrimaryDemotesThePreviousPrimaryInPlace) {
  auto set = *ProxyAddressSet::Parse({"SMTP:new@t.test", "smtp:old@s.test", "X500:/o=S/cn=a"});
  set.MakePrimary(ProxyAddress::Smtp("OLD@s.test", true));
  EXPECT_EQ(set.ToStrings(),
            (std::vector<std::string>{"smtp:new@t.test", "SMTP:OLD@s.test", "X500:/o=S/cn=a"}));
  EXPECT_TRUE(set.CheckPrimaries().ok());
}

TEST(ProxyAddressSet, ExactlyOnePrimarySmtpRule) {
  EXPECT_TRUE(ProxyAddressSet::Parse({"SMTP:a@x.test", "smtp:b@x.test"})->CheckPrimaries().ok());
  EXPECT_FALSE(ProxyAddressSet::Parse({"SMTP:a@x.test", "SMTP:b@x.test"})->CheckPrimaries().ok());
  EXPECT_FALSE(ProxyAddressSet::Parse({"smtp:a@x.test", "smtp:b@x.test"})->CheckPrimaries().ok());
  // Several X500 addresses are normal; two primary X400 are not.
  EXPECT_TRUE(
      ProxyAddressSet::Parse({"SMTP:a@x.test", "X500:/o=a", "X500:/o=b"})->CheckPrimaries().ok());
  EXPECT_FALSE(ProxyAddressSet::Parse({"SMTP:a@x.test", "X400:c=US;a= ;", "X400:c=DE;a= ;"})
                   ->CheckPrimaries()
                   .ok());
}

}  // namespace
}  // namespace cm
