#include "core/filter.h"

#include <gtest/gtest.h>

namespace cm {
namespace {

TEST(Filter, EscapesAssertionValues) {
  EXPECT_EQ(Filter::Eq("cn", "a*b(c)d\\e").ToString(), "(cn=a\\2ab\\28c\\29d\\5ce)");
  EXPECT_EQ(Filter::Eq("cn", std::string("x\0y", 3)).ToString(), "(cn=x\\00y)");
  EXPECT_EQ(Filter::Eq("objectGUID", std::string("\x00\xff", 2)).ToString(),
            "(objectGUID=\\00\\ff)");
}

TEST(Filter, CraftedIdentityCannotWidenTheSearch) {
  // The classic injection: closing the filter and adding an always-true clause.
  Filter f = Filter::Eq("sAMAccountName", "*)(objectClass=*");
  EXPECT_EQ(f.ToString(), "(sAMAccountName=\\2a\\29\\28objectClass=\\2a)");
  auto reparsed = Filter::Parse(f.ToString());
  ASSERT_TRUE(reparsed.ok());
  EXPECT_EQ(reparsed->kind(), Filter::Kind::kEquality);
  EXPECT_EQ(reparsed->value(), "*)(objectClass=*");
}

TEST(Filter, LegacyDnWithParenthesesRoundTrips) {
  std::string legacy =
      "/o=Fabrikam/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=alice";
  Filter f = Filter::Eq("legacyExchangeDN", legacy);
  auto reparsed = Filter::Parse(f.ToString());
  ASSERT_TRUE(reparsed.ok());
  EXPECT_EQ(reparsed->value(), legacy);
}

TEST(Filter, ParsesCompositeFilters) {
  auto f = Filter::Parse(
      "(&(objectClass=user)(|(mail=*@fabrikam.test)(!(msExchRecipientTypeDetails>=128))))");
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->kind(), Filter::Kind::kAnd);
  ASSERT_EQ(f->children().size(), 2u);
  const Filter& alt = f->children()[1];
  EXPECT_EQ(alt.kind(), Filter::Kind::kOr);
  EXPECT_EQ(alt.children()[0].kind(), Filter::Kind::kSubstring);
  EXPECT_EQ(alt.children()[0].final_part(), "@fabrikam.test");
  EXPECT_EQ(alt.children()[1].children()[0].kind(), Filter::Kind::kGreaterOrEqual);
}

TEST(Filter, SubstringPiecesAreKept) {
  auto f = Filter::Parse("(cn=Jo*n S*th)");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->initial(), "Jo");
  ASSERT_EQ(f->any().size(), 1u);
  EXPECT_EQ(f->any()[0], "n S");
  EXPECT_EQ(f->final_part(), "th");
  EXPECT_EQ(f->ToString(), "(cn=Jo*n S*th)");
}

TEST(Filter, PresenceAndBareItem) {
  auto present = Filter::Parse("(mail=*)");
  ASSERT_TRUE(present.ok());
  EXPECT_EQ(present->kind(), Filter::Kind::kPresent);
  auto bare = Filter::Parse("department=Finance");
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(bare->ToString(), "(department=Finance)");
}

TEST(Filter, ApproximateMatchIsReadAsEquality) {
  auto f = Filter::Parse("(sn~=Muller)");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->kind(), Filter::Kind::kEquality);
  EXPECT_EQ(f->ToString(), "(sn=Muller)");
}

TEST(Filter, RejectsMalformedFilters) {
  for (const char* bad : {"(cn=a", "cn=a)", "(cn=a\\zz)", "(&(cn=a)", "((cn=a))", "(=a)",
                          "(cn=a)(cn=b)", "(cn=a\\2)"}) {
    EXPECT_FALSE(Filter::Parse(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace cm
