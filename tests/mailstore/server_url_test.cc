// The server URLs an administrator writes (a store's imap:// or imaps://, verify's --mta
// smtp://): what they connect to, and a clear refusal, naming the URL, of what they cannot mean.
#include <gtest/gtest.h>

#include "mailstore/imap_client.h"
#include "mta/smtp_probe.h"

namespace cm {
namespace {

TEST(ServerUrl, ImapUrlsNameHostPortAndLogin) {
  auto plain = ParseImapUrl("imap://%25u@mail.source.test/");
  ASSERT_TRUE(plain.ok()) << plain.status().message();
  EXPECT_EQ(plain->host, "mail.source.test");
  EXPECT_EQ(plain->port, 143);
  EXPECT_FALSE(plain->implicit_tls);
  EXPECT_EQ(plain->user, "%u");

  auto tls = ParseImapUrl("imaps://alice%40source.test;AUTH=PLAIN@127.0.0.1:10993");
  ASSERT_TRUE(tls.ok()) << tls.status().message();
  EXPECT_TRUE(tls->implicit_tls);
  EXPECT_EQ(tls->port, 10993);
  EXPECT_EQ(tls->user, "alice@source.test");
  EXPECT_EQ(tls->auth, "PLAIN");

  auto v6 = ParseImapUrl("imaps://[::1]:993/");
  ASSERT_TRUE(v6.ok()) << v6.status().message();
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 993);
  EXPECT_EQ(ImapUrl(*v6), "imaps://[::1]:993/");
  auto v6_default = ParseImapUrl("imaps://[::1]");
  ASSERT_TRUE(v6_default.ok());
  EXPECT_EQ(v6_default->port, 993);
}

TEST(ServerUrl, ImapUrlsThatCannotBeMeantAreRefusedByName) {
  for (const char* bad :
       {"imap://mail.test:143x/", "imap://mail.test:0/", "imap://mail.test:70000", "imap://:143/",
        "imap://[::1/", "imap://[::1]143/", "pop3://mail.test/"}) {
    auto parsed = ParseImapUrl(bad);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_EQ(parsed.status().code(), Status::Code::kInvalidInput) << bad;
    EXPECT_NE(parsed.status().message().find(bad), std::string::npos) << parsed.status().message();
  }
}

TEST(ServerUrl, AnMtaUrlThatCannotBeMeantIsRefusedBeforeAnyConnection) {
  for (const char* bad :
       {"smtp://mta.test:25x", "smtp://:25", "smtps://[::1", "lmtp://mta.test:24", "mta.test:25"}) {
    auto answers = ProbeRecipients(bad, {"alice@source.test"}, TlsOptions{}, 1);
    ASSERT_FALSE(answers.ok()) << bad;
    EXPECT_EQ(answers.status().code(), Status::Code::kInvalidInput) << bad;
    EXPECT_NE(answers.status().message().find(bad), std::string::npos)
        << answers.status().message();
  }
}

}  // namespace
}  // namespace cm
