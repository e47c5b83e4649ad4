#include "core/legacy_dn.h"

#include <gtest/gtest.h>

#include <set>

namespace cm {
namespace {

TEST(LegacyDn, BuildsTheExchange2007PlusForm) {
  EXPECT_EQ(
      BuildLegacyExchangeDn("Contoso", "john.smith"),
      "/o=Contoso/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=john.smith");
}

TEST(UniqueName, AppendsTheFirstFreeNumberWithinTheLimit) {
  std::set<std::string> taken = {"jsmith", "jsmith1"};
  auto is_taken = [&](std::string_view n) { return taken.count(std::string(n)) > 0; };
  EXPECT_EQ(UniqueName("jsmith", 20, is_taken), "jsmith2");
  EXPECT_EQ(UniqueName("free", 20, is_taken), "free");
  taken = {"abcdefghij"};
  EXPECT_EQ(UniqueName("abcdefghijk", 10, is_taken), "abcdefghi1");  // truncated to fit the suffix
}

TEST(UniqueName, NeverSplitsAMultiByteCharacter) {
  std::set<std::string> taken = {"山田太郎"};
  auto is_taken = [&](std::string_view n) { return taken.count(std::string(n)) > 0; };
  EXPECT_EQ(UniqueName("山田太郎", 4, is_taken), "山田太1");
}

TEST(Imceaex, DecodesToTheX500Address) {
  auto dn = DecodeImceaex(
      "IMCEAEX-_o=Fabrikam_ou=Exchange+20Administrative+20Group+20+28FYDIBOHF23SPDLT+29_cn="
      "Recipients_cn=alice.adams@fabrikam.test");
  ASSERT_TRUE(dn.ok()) << dn.status().ToString();
  EXPECT_EQ(*dn,
            "/o=Fabrikam/ou=Exchange Administrative Group "
            "(FYDIBOHF23SPDLT)/cn=Recipients/cn=alice.adams");
}

TEST(Imceaex, EncodeDecodeRoundTripKeepsUnderscoresAndDots) {
  std::string legacy =
      "/o=Fabrikam/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=a_b.c";
  std::string encoded = EncodeImceaex(legacy, "fabrikam.test");
  EXPECT_EQ(encoded.find(' '), std::string::npos);
  EXPECT_EQ(*DecodeImceaex(encoded), legacy);
}

TEST(Imceaex, RejectsMalformedEncodings) {
  EXPECT_FALSE(DecodeImceaex("alice@fabrikam.test").ok());
  EXPECT_FALSE(DecodeImceaex("IMCEAEX-_o=X+2@x.test").ok());
  EXPECT_FALSE(DecodeImceaex("IMCEAEX-_o=X+ZZ@x.test").ok());
  EXPECT_FALSE(DecodeImceaex("IMCEAEX-o=X@x.test").ok());
}

}  // namespace
}  // namespace cm
