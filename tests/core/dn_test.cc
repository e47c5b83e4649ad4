#include "core/dn.h"

#include <gtest/gtest.h>

namespace cm {
namespace {

TEST(Dn, EscapesEverySpecialCharacterOfRfc4514) {
  EXPECT_EQ(EscapeDnValue("Smith, John"), "Smith\\, John");
  EXPECT_EQ(EscapeDnValue("a+b\"c\\d<e>f;g=h"), "a\\+b\\\"c\\\\d\\<e\\>f\\;g\\=h");
  EXPECT_EQ(EscapeDnValue("#1 team"), "\\#1 team");
  EXPECT_EQ(EscapeDnValue(" padded "), "\\ padded\\ ");
  EXPECT_EQ(EscapeDnValue(std::string("nul\0x", 5)), "nul\\00x");
  EXPECT_EQ(EscapeDnValue("mid#dle"), "mid#dle");  // '#' is special only in front
}

TEST(Dn, ParseUndoesEscapingExactly) {
  for (std::string value : {"Smith, John", "a+b", "#hash", " lead", "trail ", "q\"uote",
                            "back\\slash", "Zoë Ångström", "x=y;z", "<angle>"}) {
    std::string dn = MakeDn("CN", value, "OU=People,DC=fabrikam,DC=test");
    auto parsed = ParseDn(dn);
    ASSERT_TRUE(parsed.ok()) << dn;
    ASSERT_EQ(parsed->size(), 4u) << dn;
    EXPECT_EQ((*parsed)[0][0].value, value) << dn;
  }
}

TEST(Dn, AcceptsHexEscapesAndSpacesAroundSeparators) {
  auto parsed = ParseDn("CN=Smith\\2C John , OU=People,DC=x");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ((*parsed)[0][0].value, "Smith, John");
  EXPECT_EQ((*parsed)[1][0].value, "People");
}

TEST(Dn, MultiValuedRdnIsKept) {
  auto parsed = ParseDn("cn=a+sn=b,dc=x");
  ASSERT_TRUE(parsed.ok());
  ASSERT_EQ((*parsed)[0].size(), 2u);
  EXPECT_EQ((*parsed)[0][1].type, "sn");
}

TEST(Dn, RejectsMalformedNames) {
  EXPECT_FALSE(ParseDn("no equals sign").ok());
  EXPECT_FALSE(ParseDn("cn=trailing\\").ok());
  EXPECT_FALSE(ParseDn("=value,dc=x").ok());
  EXPECT_FALSE(ParseDn("c(n=x").ok());
}

TEST(Dn, ComparisonIgnoresCaseSpacingAndEscapeStyle) {
  EXPECT_TRUE(DnEquals("CN=Smith\\, John,OU=People,DC=X", "cn=smith\\2c john, ou=people, dc=x"));
  EXPECT_FALSE(DnEquals("CN=Smith\\, John,DC=x", "CN=Smith,CN=John,DC=x"));
}

TEST(Dn, ParentAndAncestry) {
  EXPECT_EQ(ParentDn("CN=Smith\\, John,OU=People,DC=x"), "OU=People,DC=x");
  EXPECT_EQ(ParentDn("DC=x"), "");
  EXPECT_TRUE(DnIsUnder("CN=a,OU=People,DC=x", "dc=X"));
  EXPECT_FALSE(DnIsUnder("CN=a,OU=People,DC=xx", "DC=x"));  // suffix of a name, not an ancestor
}

TEST(Dn, CanonicalNameMatchesExchangeIdentityColumn) {
  EXPECT_EQ(CanonicalName("CN=Smith\\, John,OU=People,DC=fabrikam,DC=test"),
            "fabrikam.test/People/Smith, John");
}

TEST(Dn, CanonicalNamesEscapeOnlyTheSlashAsAdDoes) {
  EXPECT_EQ(
      CanonicalName("CN=Plus\\+Equals\\=Semi\\;colon\\<Angle\\>,OU=People,DC=fabrikam,DC=test"),
      "fabrikam.test/People/Plus+Equals=Semi;colon<Angle>");
  EXPECT_EQ(CanonicalName("CN=Back\\\\slash,OU=A/B,DC=fabrikam,DC=test"),
            "fabrikam.test/A\\/B/Back\\slash");
  auto parts = ParseCanonicalName("fabrikam.test/A\\/B/Back\\slash");
  ASSERT_TRUE(parts.ok());
  EXPECT_EQ(*parts, (std::vector<std::string>{"fabrikam.test", "A/B", "Back\\slash"}));
  EXPECT_TRUE(CanonicalNameIs("CN=Back\\\\slash,OU=A/B,DC=fabrikam,DC=test", *parts));
  EXPECT_FALSE(CanonicalNameIs("CN=Back\\\\slash,OU=A,OU=B,DC=fabrikam,DC=test", *parts));
  auto spaces = ParseCanonicalName("fabrikam.test/People/ Leading and trailing ");
  ASSERT_TRUE(spaces.ok());
  EXPECT_EQ(spaces->back(), " Leading and trailing ");
  EXPECT_TRUE(
      CanonicalNameIs("CN=\\ Leading and trailing\\ ,OU=People,DC=fabrikam,DC=test", *spaces));
  for (const char* not_canonical : {"alice", "CN=a/b,DC=x,DC=y", "DOMAIN\\alice", "a/b@x.test",
                                    "fabrikam.test//x", "fabrikam.test"})
    EXPECT_FALSE(ParseCanonicalName(not_canonical).ok()) << not_canonical;
}

}  // namespace
}  // namespace cm
