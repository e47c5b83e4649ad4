// The reading half of the IMAP client: responses as values, literals skipped by count, any cut
// of the byte stream into reads giving the same result.
#include "mailstore/imap_response.h"

#include <gtest/gtest.h>

namespace cm {
namespace {

std::vector<ImapResponse> ParseAll(std::string_view bytes, size_t piece = 0) {
  ImapResponseParser parser;
  std::vector<ImapResponse> out;
  if (piece == 0) {
    EXPECT_TRUE(parser.Feed(bytes, out).ok());
  } else {
    for (size_t at = 0; at < bytes.size(); at += piece) {
      Status s = parser.Feed(bytes.substr(at, piece), out);
      EXPECT_TRUE(s.ok()) << s.ToString();
    }
  }
  EXPECT_EQ(parser.pending(), 0u);
  return out;
}

TEST(ImapResponse, StatusResponsesCarryTheirCodeAndText) {
  auto r = ParseAll(
      "* OK [CAPABILITY IMAP4rev1 LITERAL+ MULTIAPPEND] Dovecot ready.\r\n"
      "a7 OK [APPENDUID 38505 3955:3957] Append completed.\r\n"
      "a8 NO [OVERQUOTA] Quota exceeded\r\n"
      "a9 BAD\r\n"
      "+ go ahead\r\n");
  ASSERT_EQ(r.size(), 5u);
  EXPECT_EQ(r[0].kind, ImapResponse::Kind::kUntagged);
  EXPECT_EQ(r[0].status, "OK");
  EXPECT_EQ(r[0].code, "CAPABILITY");
  EXPECT_EQ(r[0].code_argument, "IMAP4rev1 LITERAL+ MULTIAPPEND");
  EXPECT_EQ(r[0].text, "Dovecot ready.");
  EXPECT_EQ(r[1].kind, ImapResponse::Kind::kTagged);
  EXPECT_EQ(r[1].tag, "a7");
  EXPECT_EQ(r[1].code, "APPENDUID");
  EXPECT_EQ(r[1].code_argument, "38505 3955:3957");
  EXPECT_EQ(r[2].status, "NO");
  EXPECT_EQ(r[2].code, "OVERQUOTA");
  EXPECT_EQ(r[3].status, "BAD");
  EXPECT_EQ(r[3].text, "");
  EXPECT_EQ(r[4].kind, ImapResponse::Kind::kContinuation);
  EXPECT_EQ(r[4].text, "go ahead");
}

TEST(ImapResponse, ALiteralIsDataEvenWhenItLooksLikeProtocol) {
  std::string message = "Subject: x\r\n\r\n* BYE not really\r\na1 OK neither\r\n)";
  std::string bytes =
      "* 12 FETCH (UID 7 FLAGS (\\Seen $Label1) INTERNALDATE "
      "\"17-Jul-1996 02:44:25 -0700\" BODY[] {" +
      std::to_string(message.size()) + "}\r\n" + message + ")\r\na1 OK done\r\n";
  for (size_t piece : {0, 1, 2, 3, 7, 64}) {
    auto r = ParseAll(bytes, piece);
    ASSERT_EQ(r.size(), 2u) << "piece " << piece;
    const auto& d = r[0].data;
    ASSERT_EQ(d.size(), 3u);
    EXPECT_EQ(d[0].text, "12");
    EXPECT_TRUE(d[1].IsAtom("FETCH"));
    ASSERT_EQ(d[2].kind, ImapValue::Kind::kList);
    const auto& items = d[2].items;
    ASSERT_EQ(items.size(), 8u);
    EXPECT_EQ(items[1].text, "7");
    ASSERT_EQ(items[3].items.size(), 2u);
    EXPECT_EQ(items[3].items[0].text, "\\Seen");
    EXPECT_EQ(items[5].kind, ImapValue::Kind::kString);
    EXPECT_EQ(items[5].text, "17-Jul-1996 02:44:25 -0700");
    EXPECT_EQ(items[6].text, "BODY[]");
    EXPECT_TRUE(items[7].literal);
    EXPECT_EQ(items[7].text, message) << "piece " << piece;
    EXPECT_EQ(r[1].tag, "a1");
  }
}

TEST(ImapResponse, SectionsKeepTheirSpacesAndParentheses) {
  auto r = ParseAll("* 1 FETCH (BODY[HEADER.FIELDS (DATE FROM)]<0> {2}\r\nab)\r\n");
  ASSERT_EQ(r.size(), 1u);
  const auto& items = r[0].data[2].items;
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].text, "BODY[HEADER.FIELDS (DATE FROM)]<0>");
  EXPECT_EQ(items[1].text, "ab");
}

TEST(ImapResponse, ListNamesQuotedNilAndEscaped) {
  auto r = ParseAll(
      "* LIST (\\HasNoChildren \\Sent) \"/\" \"Sent Items\"\r\n"
      "* LIST () NIL INBOX\r\n"
      "* LIST (\\Noselect) \"/\" \"a \\\"q\\\" \\\\ b\"\r\n"
      "* STATUS \"&AMk-t&AOk-\" (MESSAGES 3 UIDNEXT 4 HIGHESTMODSEQ 9)\r\n");
  ASSERT_EQ(r.size(), 4u);
  EXPECT_TRUE(r[0].data[0].IsAtom("LIST"));
  EXPECT_EQ(r[0].data[1].items[1].text, "\\Sent");
  EXPECT_EQ(r[0].data[3].text, "Sent Items");
  EXPECT_EQ(r[1].data[1].items.size(), 0u);
  EXPECT_EQ(r[1].data[2].kind, ImapValue::Kind::kNil);
  EXPECT_EQ(r[2].data[3].text, "a \"q\" \\ b");
  EXPECT_EQ(r[3].data[2].items.size(), 6u);
}

TEST(ImapResponse, IncompleteInputWaitsAndBadInputIsAnError) {
  ImapResponseParser parser(16);
  std::vector<ImapResponse> out;
  ASSERT_TRUE(parser.Feed("* 1 FETCH (BODY[] {5}\r\nab", out).ok());
  EXPECT_TRUE(out.empty());
  EXPECT_GT(parser.pending(), 0u);
  ASSERT_TRUE(parser.Feed("cde)\r\n", out).ok());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].data[2].items[1].text, "abcde");

  std::vector<ImapResponse> more;
  Status big = ImapResponseParser(16).Feed("* 1 FETCH (BODY[] {17}\r\n", more);
  EXPECT_FALSE(big.ok());
  EXPECT_NE(big.message().find("literal of 17 bytes"), std::string::npos) << big.message();
  for (const char* bad : {"a1 FETCH (1)\r\n", "* (unclosed\r\n", "* \"open\r\n", "nospace\r\n"}) {
    std::vector<ImapResponse> r;
    EXPECT_FALSE(ImapResponseParser().Feed(bad, r).ok()) << bad;
  }
}

}  // namespace
}  // namespace cm
