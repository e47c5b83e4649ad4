#include "core/mutf7.h"

#include <gtest/gtest.h>

namespace cm {
namespace {

TEST(Mutf7, KnownVectorsFromRfc3501AndPractice) {
  EXPECT_EQ(*EncodeMutf7("Entwürfe"), "Entw&APw-rfe");
  EXPECT_EQ(*EncodeMutf7("~peter/mail/台北/日本語"), "~peter/mail/&U,BTFw-/&ZeVnLIqe-");
  EXPECT_EQ(*EncodeMutf7("Tom & Jerry"), "Tom &- Jerry");
  EXPECT_EQ(*EncodeMutf7("Gelöschte Elemente"), "Gel&APY-schte Elemente");
  EXPECT_EQ(*EncodeMutf7("Plain"), "Plain");
}

TEST(Mutf7, RoundTripsEveryPlane) {
  for (std::string name :
       {"Entwürfe", "Projets/Été 2024", "山田/受信箱", "Emoji 📬 box", "&&", "a&b&c", "Ñ"}) {
    auto enc = EncodeMutf7(name);
    ASSERT_TRUE(enc.ok()) << name;
    auto dec = DecodeMutf7(*enc);
    ASSERT_TRUE(dec.ok()) << *enc << ": " << dec.status().ToString();
    EXPECT_EQ(*dec, name);
  }
}

TEST(Mutf7, RejectsInvalidInput) {
  for (std::string bad : {
           std::string("Entw\xC3\xBCrfe"),  // raw UTF-8
           std::string("tab\there"),        // control character
           std::string("&U,BTFw"),          // unterminated
           std::string("&AGE-"),            // encodes 'a': printable ASCII must be direct
           std::string("&APw-&APw-"),       // two shifts in a row
           std::string("&APx-"),            // non-zero padding bits
           std::string("&A-"),              // too few bits
           std::string("&2D0A,A-"),         // high surrogate followed by a non-surrogate
           std::string("&3AE-"),            // lone low surrogate
           std::string("&AP*-"),            // '*' is not modified base64
       }) {
    EXPECT_FALSE(DecodeMutf7(bad).ok()) << bad;
  }
  EXPECT_FALSE(EncodeMutf7("bad\xC3").ok());
}

}  // namespace
}  // namespace cm
