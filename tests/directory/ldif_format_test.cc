#include "directory/ldif_format.h"

#include <gtest/gtest.h>

namespace cm {
namespace {

TEST(LdifFormat, ParsesEntriesWithBase64FoldingAndComments) {
  auto records = ParseLdif(
      "version: 1\n"
      "# a comment\n"
      "dn: CN=Zo\xC3\xAB,DC=x\n"
      "objectClass: user\n"
      "cn:: Wm/DqyDDhW5nc3Ryw7Zt\n"
      "description: folded\n"
      "  across lines\n"
      "msExchMailboxGuid:: AAECAwQFBgcICQoLDA0ODw==\n",
      "t.ldif");
  ASSERT_TRUE(records.ok()) << records.status().ToString();
  ASSERT_EQ(records->size(), 1u);
  Entry e = (*records)[0].op.AsEntry();
  EXPECT_EQ((*records)[0].line, 3u);
  EXPECT_EQ(e.First("cn"), "Zoë Ångström");
  EXPECT_EQ(e.First("description"), "folded across lines");
  EXPECT_EQ(e.First("msExchMailboxGuid"),
            std::string("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f", 16));
}

TEST(LdifFormat, ChangeRecordsRoundTripThroughTheFormatter) {
  DirectoryOp modify{
      Side::kSource,
      DirectoryOp::Kind::kModify,
      "CN=Smith\\, John,DC=x",
      {{Modification::Op::kDelete, "homeMDB", {}},
       {Modification::Op::kReplace, "proxyAddresses", {"SMTP:a@t.test", "smtp:a@s.test"}},
       {Modification::Op::kAdd, "description", {" leading space"}}},
      "",
      "",
      ""};
  DirectoryOp add{Side::kSource,
                  DirectoryOp::Kind::kAdd,
                  "CN=Zoë,DC=x",
                  {{Modification::Op::kAdd, "objectClass", {"contact"}},
                   {Modification::Op::kAdd, "cn", {"Zoë"}}},
                  "",
                  "",
                  ""};
  DirectoryOp del{Side::kSource, DirectoryOp::Kind::kDelete, "CN=old,DC=x", {}, "", "", ""};
  DirectoryOp ren{
      Side::kSource, DirectoryOp::Kind::kRename, "CN=a,DC=x", {}, "CN=b", "OU=y,DC=x", ""};
  std::string text = "version: 1\n\n" + FormatChange(modify) + FormatChange(add) +
                     FormatChange(del) + FormatChange(ren);
  auto records = ParseLdif(text, "changes.ldif");
  ASSERT_TRUE(records.ok()) << records.status().ToString() << "\n" << text;
  ASSERT_EQ(records->size(), 4u);
  EXPECT_EQ((*records)[0].op, modify);
  EXPECT_EQ((*records)[1].op, add);
  EXPECT_EQ((*records)[2].op, del);
  EXPECT_EQ((*records)[3].op, ren);
  EXPECT_NE(text.find("cn:: "),
            std::string::npos);  // non-ASCII values are base64, as RFC 2849 requires
}

TEST(LdifFormatErrors, NameTheFileAndLine) {
  struct Case {
    const char* text;
    const char* expected;
  } cases[] = {
      {"dn: CN=a,DC=x\nobjectClass user\n", "t.ldif:2: expected 'attribute: value'"},
      {"objectClass: user\n", "t.ldif:1: record must start with 'dn:'"},
      {"dn: CN=a,DC=x\njpegPhoto:< file:///etc/shadow\n", "t.ldif:2: URL values"},
      {"dn: CN=a,DC=x\ncn:: !!!notbase64\n", "t.ldif:2: 'cn' has a character that is not base64"},
      {"dn: CN=a,DC=x\nchangetype: frobnicate\n", "unknown changetype"},
      {"dn: not a dn\ncn: a\n", "t.ldif:1: bad DN"},
      {"dn: CN=a,DC=x\nchangetype: modify\nreplace: cn\nsn: b\n-\n",
       "t.ldif:4: value for 'sn' inside the 'cn' block"},
      {"dn: CN=a,DC=x\ncn: a\ndn: CN=b,DC=x\n", "t.ldif:3: 'dn:' inside a record"},
      {" continuation first\n", "t.ldif:1: continuation line"},
  };
  for (const auto& c : cases) {
    auto r = ParseLdif(c.text, "t.ldif");
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_NE(r.status().message().find(c.expected), std::string::npos) << r.status().message();
  }
}

}  // namespace
}  // namespace cm
