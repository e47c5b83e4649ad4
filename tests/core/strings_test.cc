#include "core/strings.h"

#include <gtest/gtest.h>

namespace cm {
namespace {

TEST(Strings, CaseInsensitiveEqualityIsAsciiOnly) {
  EXPECT_TRUE(IEquals("proxyAddresses", "PROXYADDRESSES"));
  EXPECT_FALSE(IEquals("Zoë", "ZOË"));  // non-ASCII folding is the server's business
  EXPECT_FALSE(IEquals("abc", "abcd"));
}

TEST(Strings, Utf8LengthCountsCharactersNotBytes) {
  EXPECT_EQ(Utf8Length("山田 太郎"), 5u);
  EXPECT_EQ(Utf8Length("Zoë"), 3u);
  EXPECT_EQ(Utf8Prefix("Zoë Ångström", 4), "Zoë ");
  EXPECT_EQ(Utf8Prefix("山田太郎", 2), "山田");
}

TEST(Strings, RejectsMalformedUtf8) {
  EXPECT_TRUE(IsValidUtf8("Łukasz"));
  EXPECT_FALSE(IsValidUtf8("\xC3"));          // truncated
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));      // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));  // surrogate
  EXPECT_FALSE(IsValidUtf8("caf\xE9"));       // Windows-1252 é
}

TEST(Strings, ControlCharactersFromInputAreShownNotObeyed) {
  EXPECT_EQ(EscapeControlCharacters(std::string("a\0b", 3)), "a\\0b");
  EXPECT_EQ(EscapeControlCharacters("\x1b[31mred\x1b[0m"), "\\e[31mred\\e[0m");
  EXPECT_EQ(EscapeControlCharacters("line\r\nforged\tx\x7f\x01"), "line\\r\\nforged\\tx\\x7f\\x01");
  EXPECT_EQ(EscapeControlCharacters("\xc2\x9b"
                                    "2J"),
            "\\u009b2J");  // C1 CSI as UTF-8
  EXPECT_EQ(EscapeControlCharacters("Zoë Ñandú 山田 \\ ok"), "Zoë Ñandú 山田 \\ ok");
  EXPECT_EQ(EscapeControlCharacters("Caf\xe9 \xc3"), "Caf\\xe9 \\xc3");  // not UTF-8: bytes
}

}  // namespace
}  // namespace cm
