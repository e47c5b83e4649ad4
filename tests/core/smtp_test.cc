#include "core/smtp.h"
#include "core/address_template.h"

#include <gtest/gtest.h>

namespace cm {
namespace {

TEST(Smtp, AcceptsOrdinaryAddresses) {
  for (const char* ok : {"alice@fabrikam.test", "john.smith@mail.fabrikam.test",
                         "o'neil+tag@x-y.example", "a_b@sub.domain.co.uk"}) {
    EXPECT_TRUE(ValidateSmtpAddress(ok).ok()) << ok;
  }
}

TEST(Smtp, RejectsMalformedAddresses) {
  for (const char* bad : {"no-at-sign", "@fabrikam.test", "alice@", "a..b@x.test", ".a@x.test",
                          "a.@x.test", "a b@x.test", "alice@localhost", "alice@-x.test",
                          "alice@x_y.test", "zoë@x.test", "alice@x..test"}) {
    EXPECT_FALSE(ValidateSmtpAddress(bad).ok()) << bad;
  }
  EXPECT_FALSE(ValidateSmtpAddress(std::string(65, 'a') + "@x.test").ok());
}

TEST(Smtp, DomainRules) {
  EXPECT_TRUE(ValidateDomain("contoso.test").ok());
  EXPECT_TRUE(ValidateDomain("xn--mnchen-3ya.test").ok());
  EXPECT_FALSE(ValidateDomain("contoso").ok());
  EXPECT_FALSE(ValidateDomain("contoso.test.").ok());
  EXPECT_FALSE(ValidateDomain(std::string(64, 'a') + ".test").ok());
  EXPECT_FALSE(ValidateDomain("münchen.test").ok());
}

TEST(Alias, ExchangeCharacterRules) {
  EXPECT_TRUE(ValidateAlias("john.smith").ok());
  EXPECT_TRUE(ValidateAlias("o'neil_{ops}").ok());
  EXPECT_TRUE(ValidateAlias(std::string(64, 'a')).ok());
  EXPECT_FALSE(ValidateAlias(std::string(65, 'a')).ok());
  EXPECT_FALSE(ValidateAlias("john smith").ok());
  EXPECT_FALSE(ValidateAlias(".john").ok());
  EXPECT_FALSE(ValidateAlias("john..smith").ok());
  EXPECT_FALSE(ValidateAlias("jöhn").ok());
  EXPECT_FALSE(ValidateAlias("").ok());
}

TEST(Alias, CharactersOfFreeTextFoldAccentsAndDropTheRest) {
  EXPECT_EQ(AliasCharactersOf("Zoë Ångström"), "ZoeAngstrom");
  EXPECT_EQ(AliasCharactersOf("Anna-Lena Weiß"), "Anna-LenaWeiss");
  EXPECT_EQ(AliasCharactersOf("Łukasz.Żółkiewski"), "Lukasz.Zolkiewski");
  EXPECT_EQ(AliasCharactersOf("山田.太郎"), "");
}

TEST(AddressTemplate, ExpandsPlaceholdersAndCounts) {
  TemplateFields f{"john.smith", "John", "Smith", "Smith, John", "JS"};
  EXPECT_EQ(*ExpandAddressTemplate("%m", f, "contoso.test"), "john.smith@contoso.test");
  EXPECT_EQ(*ExpandAddressTemplate("%g.%s", f, "contoso.test"), "John.Smith@contoso.test");
  EXPECT_EQ(*ExpandAddressTemplate("%1g%s@corp.contoso.test", f, "contoso.test"),
            "JSmith@corp.contoso.test");
  EXPECT_EQ(*ExpandAddressTemplate("%3s_%%x", f, "contoso.test"), "Smi_%x@contoso.test");
}

TEST(AddressTemplate, FoldsAccentsAndSkipsEmptyFields) {
  TemplateFields f{"zoe", "Zoë", "Ångström", "Zoë Ångström", ""};
  EXPECT_EQ(*ExpandAddressTemplate("%g.%s", f, "contoso.test"), "Zoe.Angstrom@contoso.test");
  TemplateFields no_given{"x", "", "Smith", "", ""};
  EXPECT_EQ(*ExpandAddressTemplate("%g.%s", no_given, "contoso.test"), "Smith@contoso.test");
}

TEST(AddressTemplate, RejectsBadTemplates) {
  EXPECT_FALSE(ValidateAddressTemplate("%q").ok());
  EXPECT_FALSE(ValidateAddressTemplate("%m%").ok());
  EXPECT_FALSE(ValidateAddressTemplate("%m@bad_domain").ok());
  EXPECT_TRUE(ValidateAddressTemplate("%g.%s@contoso.test").ok());
  TemplateFields cjk{"", "太郎", "山田", "", ""};
  EXPECT_FALSE(
      ExpandAddressTemplate("%g.%s", cjk, "contoso.test").ok());  // nothing left of the names
}

}  // namespace
}  // namespace cm
