// Commands as the server will read them: each argument in a form it must accept, literals where
// a quoted string cannot hold the value, and the waits of synchronizing literals made explicit.
#include "mailstore/imap_command.h"

#include <gtest/gtest.h>

#include <vector>

#include "mailstore/imap_response.h"

namespace cm {
namespace {

TEST(ImapCommand, EachStringTakesTheCheapestFormTheServerMustAccept) {
  EXPECT_EQ(FormOf("INBOX"), ImapStringForm::kAtom);
  EXPECT_EQ(FormOf("Sent Items"), ImapStringForm::kQuoted);
  EXPECT_EQ(FormOf(""), ImapStringForm::kQuoted);
  EXPECT_EQ(FormOf("nil"), ImapStringForm::kQuoted) << "NIL as an atom would mean no value";
  EXPECT_EQ(FormOf("a\"b\\c"), ImapStringForm::kQuoted);
  EXPECT_EQ(FormOf("50%"), ImapStringForm::kQuoted);
  EXPECT_EQ(FormOf("Zoë"), ImapStringForm::kLiteral);
  EXPECT_EQ(FormOf("two\r\nlines"), ImapStringForm::kLiteral);
  EXPECT_EQ(FormOf(std::string("nul\0byte", 8)), ImapStringForm::kLiteral);

  ImapCommand login("a1", "LOGIN", false);
  login.String("alice@source.test*migrator").String("pa\"ss word");
  // '*' is a list wildcard, not an ATOM-CHAR: Dovecot's "user*master" form goes quoted.
  EXPECT_EQ(login.Segments(), std::vector<std::string>{
                                  "a1 LOGIN \"alice@source.test*migrator\" \"pa\\\"ss word\"\r\n"});
}

TEST(ImapCommand, MailboxNamesAreSentModifiedUtf7) {
  ImapCommand select("a2", "SELECT", true);
  ASSERT_TRUE(select.Mailbox("Projets/Été 2024").ok());
  EXPECT_EQ(select.Segments()[0], "a2 SELECT \"Projets/&AMk-t&AOk- 2024\"\r\n");
  ImapCommand inbox("a3", "STATUS", true);
  ASSERT_TRUE(inbox.Mailbox("inbox").ok());
  inbox.List({"MESSAGES", "UIDNEXT"});
  EXPECT_EQ(inbox.Segments()[0], "a3 STATUS INBOX (MESSAGES UIDNEXT)\r\n");
  ImapCommand amp("a4", "CREATE", true);
  ASSERT_TRUE(amp.Mailbox("Kunden & Partner").ok());
  EXPECT_EQ(amp.Segments()[0], "a4 CREATE \"Kunden &- Partner\"\r\n");
  EXPECT_FALSE(ImapCommand("a5", "CREATE", true).Mailbox("bad \xff utf-8").ok());
}

TEST(ImapCommand, SynchronizingLiteralsSplitTheCommandWhereTheClientMustWait) {
  ImapCommand append("a6", "APPEND", false);
  ASSERT_TRUE(append.Mailbox("INBOX").ok());
  append.List({"\\Seen"}).DateTime(837596665).LiteralHeader(5);
  auto sync = append.Segments();
  ASSERT_EQ(sync.size(), 2u);
  EXPECT_EQ(sync[0], "a6 APPEND INBOX (\\Seen) \"17-Jul-1996 09:44:25 +0000\" {5}\r\n");
  EXPECT_EQ(sync[1], "\r\n") << "the message bytes go between, after the server's '+'";

  ImapCommand plus("a7", "APPEND", true);
  ASSERT_TRUE(plus.Mailbox("Drafts").ok());
  plus.String("Zoë");
  auto one = plus.Segments();
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0], "a7 APPEND Drafts {4+}\r\nZoë\r\n");
}

// What our commands say, the server side of our own parser reads back: a quoted or literal
// argument keeps its exact bytes.
TEST(ImapCommand, ArgumentsSurviveTheRoundTripThroughTheParser) {
  for (std::string value : {std::string("plain"), std::string("with \"quotes\" \\ and space"),
                            std::string("Zoë\r\n* BYE"), std::string()}) {
    ImapCommand c("*", "X", true);
    c.String(value);
    std::string bytes;
    for (const auto& s : c.Segments()) bytes += s;
    ImapResponseParser parser;
    std::vector<ImapResponse> out;
    ASSERT_TRUE(parser.Feed(bytes, out).ok()) << bytes;
    ASSERT_EQ(out.size(), 1u);
    ASSERT_EQ(out[0].data.size(), 2u) << bytes;
    EXPECT_EQ(out[0].data[1].text, value);
  }
}

}  // namespace
}  // namespace cm
