#include "core/strings.h"

#include <gtest/gtest.h>

namespace cm {
namespace {

TEST(Strings, CaseInsensitiveEqualityIsAsciiOnly) {
  EXPECT_TRUE(IEquals("proxyAddresses", "PROXYADDRESSES"));
  EXPECT_FALSE(IEquals("Zoë", "ZOË"));  // protocol names: ASCII only
  EXPECT_FALSE(IEquals("abc", "abcd"));
}

// Text a person wrote compares as caseIgnoreMatch does: every letter, not only ASCII ones.
TEST(Strings, TextFoldsEveryLetterAndKeepsBytesThatAreNotUtf8) {
  EXPECT_TRUE(TextEquals("Zoë Ångström", "ZOË ÅNGSTRÖM"));
  EXPECT_TRUE(TextEquals("ЖУРАВЛЁВ", "журавлёв"));
  EXPECT_TRUE(TextEquals("ΣΟΦΊΑ", "σοφία"));
  EXPECT_FALSE(TextEquals("Zoe", "Zoë"));
  EXPECT_FALSE(TextEquals("abc", "abcd"));
  EXPECT_EQ(FoldCase("ÆØÅ-Ÿ"), "æøå-ÿ");
  // Invalid UTF-8 (a lone continuation byte, an overlong '/', a surrogate) is kept as bytes.
  EXPECT_EQ(FoldCase("A\x80"
                     "B\xC0\xAF\xED\xA0\x80"),
            "a\x80"
            "b\xC0\xAF\xED\xA0\x80");
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
