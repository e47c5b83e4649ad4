// The users file as Export-Csv writes it (SPEC §3), and every way it can be wrong.
#include "input/users_file.h"

#include <gtest/gtest.h>

namespace cm {
namespace {

std::string Utf16Le(std::string_view utf8_ascii_or_latin) {
  // Test helper for BMP text: decode UTF-8, emit UTF-16LE with a BOM.
  std::string out = "\xFF\xFE";
  for (size_t i = 0; i < utf8_ascii_or_latin.size();) {
    auto b = static_cast<unsigned char>(utf8_ascii_or_latin[i]);
    char32_t cp;
    if (b < 0x80) {
      cp = b;
      i += 1;
    } else if ((b & 0xE0) == 0xC0) {
      cp = ((b & 0x1F) << 6) | (utf8_ascii_or_latin[i + 1] & 0x3F);
      i += 2;
    } else {
      cp = ((b & 0x0F) << 12) | ((utf8_ascii_or_latin[i + 1] & 0x3F) << 6) |
           (utf8_ascii_or_latin[i + 2] & 0x3F);
      i += 3;
    }
    out += static_cast<char>(cp & 0xFF);
    out += static_cast<char>(cp >> 8);
  }
  return out;
}

struct Parsed {
  Result<UsersFile> file;
  Problems problems;
};

Parsed Parse(std::string_view bytes, char delimiter = kDetectDelimiter) {
  Problems problems;
  auto file = ParseUsersFile(bytes, "users.csv", delimiter, problems);
  return {std::move(file), std::move(problems)};
}

const char* kExportCsv =
    "#TYPE Microsoft.Exchange.Data.Directory.Management.Mailbox\r\n"
    "\"Name\",\"Alias\",\"EmailAddresses\",\"PrimarySmtpAddress\",\"Identity\"\r\n"
    "\"Smith, "
    "John\",\"john.smith\",\"Microsoft.Exchange.Data.ProxyAddressCollection\",\"john.smith@"
    "fabrikam.test\",\"fabrikam.test/People/Smith, John\"\r\n"
    "\"Robert \"\"Bob\"\" "
    "O'Neil\",\"robert.oneil\",\"Microsoft.Exchange.Data.ProxyAddressCollection\",\"robert.oneil@"
    "fabrikam.test\",\"fabrikam.test/People/Robert \"\"Bob\"\" O'Neil\"\r\n";

TEST(UsersFile, ReadsWhatExportCsvWrites) {
  Parsed p = Parse(kExportCsv);
  ASSERT_TRUE(p.file.ok()) << p.file.status().ToString();
  EXPECT_TRUE(p.problems.empty());
  EXPECT_EQ(p.file->identity_column,
            "Identity");  // first present in precedence order, not file order
  ASSERT_EQ(p.file->rows.size(), 2u);
  EXPECT_EQ(p.file->rows[0].identity, "fabrikam.test/People/Smith, John");
  EXPECT_EQ(p.file->rows[0].line, 3u);  // #TYPE is line 1, header line 2
  EXPECT_EQ(p.file->rows[1].identity, "fabrikam.test/People/Robert \"Bob\" O'Neil");
}

TEST(UsersFile, Utf8BomAndLfLineEndings) {
  Parsed p = Parse("\xEF\xBB\xBFPrimarySmtpAddress\nzoe@fabrikam.test\n");
  ASSERT_TRUE(p.file.ok());
  ASSERT_EQ(p.file->rows.size(), 1u);
  EXPECT_EQ(p.file->rows[0].identity, "zoe@fabrikam.test");
  EXPECT_EQ(p.file->rows[0].line, 2u);
}

TEST(UsersFile, Utf16LittleEndianWithBom) {
  Parsed p = Parse(
      Utf16Le("#TYPE x\r\n\"DisplayName\",\"Alias\"\r\n\"Zoë Ångström\",\"zoe.angstrom\"\r\n"));
  ASSERT_TRUE(p.file.ok()) << p.file.status().ToString();
  EXPECT_EQ(p.file->identity_column, "Alias");
  ASSERT_EQ(p.file->rows.size(), 1u);
  EXPECT_EQ(p.file->rows[0].identity, "zoe.angstrom");
}

TEST(UsersFile, EmbeddedNewlinesKeepLineNumbersRight) {
  Parsed p = Parse("Alias,Notes\r\na,\"two\r\nlines\"\r\nb,x\r\n");
  ASSERT_TRUE(p.file.ok());
  ASSERT_EQ(p.file->rows.size(), 2u);
  EXPECT_EQ(p.file->rows[0].line, 2u);
  EXPECT_EQ(p.file->rows[1].line, 4u);
}

TEST(UsersFile, IdentityColumnPrecedence) {
  EXPECT_EQ(Parse("Alias,SamAccountName\na,b\n").file->identity_column, "SamAccountName");
  EXPECT_EQ(Parse("ExchangeGuid,Alias\ng,a\n").file->identity_column, "Alias");
  EXPECT_EQ(Parse("UserPrincipalName,DistinguishedName\nu,d\n").file->identity_column,
            "DistinguishedName");
  EXPECT_EQ(Parse("alias\na\n").file->identity_column,
            "Alias");  // header names are case-insensitive
}

TEST(UsersFile, KeepsSpacesInsideIdentities) {
  Parsed p = Parse("Identity\n\" padded name \"\n");
  ASSERT_TRUE(p.file.ok());
  EXPECT_EQ(p.file->rows[0].identity, " padded name ");
}

TEST(UsersFile, PerRowOverrideColumns) {
  Parsed p = Parse(
      "Alias,TargetDatabase,SourceMailboxCleanupOptions,NTAccountOU\n"
      "a,DB2,mailenablesourceaccount,\"OU=Sales,DC=contoso,DC=test\"\n"
      "b,,,\n");
  ASSERT_TRUE(p.file.ok());
  ASSERT_EQ(p.file->rows.size(), 2u);
  EXPECT_EQ(p.file->rows[0].target_database, "DB2");
  EXPECT_EQ(p.file->rows[0].cleanup, "MailEnableSourceAccount");
  EXPECT_EQ(p.file->rows[0].nt_account_ou, "OU=Sales,DC=contoso,DC=test");
  EXPECT_FALSE(p.file->rows[1].target_database.has_value());
  EXPECT_FALSE(p.file->rows[1].cleanup.has_value());
}

TEST(UsersFile, SemicolonDelimiterForUseCultureExports) {
  Parsed p = Parse("\"Alias\";\"Name\"\n\"a\";\"Smith, John\"\n", ';');
  ASSERT_TRUE(p.file.ok());
  EXPECT_EQ(p.file->rows[0].identity, "a");
}

TEST(UsersFile, AnExplicitCommaIsObeyedWhereTheHeaderHasSemicolons) {
  // Detected: ';' separates.
  Parsed detected = Parse("Alias;Name\na;Smith\n");
  ASSERT_TRUE(detected.file.ok()) << detected.file.status().message();
  EXPECT_EQ(detected.file->rows[0].identity, "a");
  // csv-delimiter ',' set: the header is one column, and the error says why.
  Parsed explicit_comma = Parse("Alias;Name\na;Smith\n", ',');
  ASSERT_FALSE(explicit_comma.file.ok());
  EXPECT_NE(explicit_comma.file.status().message().find(
                "no identity column; the header needs one of: Identity"),
            std::string::npos)
      << explicit_comma.file.status().message();
  EXPECT_NE(explicit_comma.file.status().message().find(
                "the header has ';' but the file is read as separated by ','"),
            std::string::npos)
      << explicit_comma.file.status().message();
}

TEST(UsersFile, BlankLinesAreSkipped) {
  Parsed p = Parse("Alias\r\n\r\na\r\n\r\nb\r\n");
  ASSERT_TRUE(p.file.ok());
  ASSERT_EQ(p.file->rows.size(), 2u);
  EXPECT_EQ(p.file->rows[1].line, 5u);
}

// --- bad input: each names the file, the line and the field ---

void ExpectFileError(std::string_view bytes, std::string_view expected_fragment) {
  Parsed p = Parse(bytes);
  ASSERT_FALSE(p.file.ok()) << "accepted: " << bytes;
  EXPECT_NE(p.file.status().message().find(expected_fragment), std::string::npos)
      << p.file.status().message();
  EXPECT_EQ(p.file.status().message().rfind("users.csv", 0), 0u) << p.file.status().message();
}

TEST(UsersFileErrors, NoIdentityColumn) {
  ExpectFileError("Name,Department\nx,y\n", "users.csv:1: no identity column");
}
TEST(UsersFileErrors, UnterminatedQuote) {
  ExpectFileError("Alias\n\"abc\nmore\n", "users.csv:2: field 1 opens a quote");
}
// A syntax error in a row is that row's problem: the rows around it are read, and their own
// problems reported beside it.
void ExpectRowErrors(std::string_view bytes, const std::vector<std::string>& expected,
                     size_t rows_read) {
  Parsed p = Parse(bytes);
  ASSERT_TRUE(p.file.ok()) << p.file.status().message();
  std::vector<std::string> got;
  for (const auto& problem : p.problems) got.push_back(problem.ToString());
  ASSERT_EQ(got.size(), expected.size()) << ::testing::PrintToString(got);
  for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i].rfind(expected[i], 0), 0u) << got[i];
  EXPECT_EQ(p.file->rows.size(), rows_read);
}
TEST(UsersFileErrors, TextAfterClosingQuote) {
  ExpectRowErrors("Alias\n\"abc\"x\nok\n", {"users.csv:2: field 1: unexpected text"}, 1);
}
TEST(UsersFileErrors, QuoteInsideUnquotedField) {
  ExpectRowErrors("Alias,Name\na,b\"c\nd,e\n", {"users.csv:2: field 2: a quote"}, 1);
}
TEST(UsersFileErrors, ASyntaxErrorInOneRowDoesNotHideTheProblemsOfTheOthers) {
  ExpectRowErrors("Alias,Name\na,b\"c\nd,e\n\"x\"y,z\n,empty\nd,again\ng,h\n",
                  {"users.csv:2: field 2: a quote", "users.csv:4: field 1: unexpected text",
                   "users.csv:5: column Alias: empty identity",
                   "users.csv:6: column Alias: 'd' is listed again (first on line 3)"},
                  2);
}
TEST(UsersFileErrors, ASyntaxErrorInTheHeaderIsTheFilesError) {
  ExpectFileError("Alias,\"Na\"me\na\n", "users.csv:1: header: field 2: unexpected text");
}
// A mistyped column crossmove reads would be ignored (a StartAfter read as absent moves the
// mailbox now): a near miss is a problem on the header line.
TEST(UsersFileErrors, AMistypedScheduleColumnIsNamedWithTheColumnMeant) {
  Parsed p = Parse("Alias,StartAftr,completeafter\na,2030-01-01T00:00:00Z,\n");
  ASSERT_TRUE(p.file.ok());
  ASSERT_EQ(p.problems.size(), 1u);
  EXPECT_EQ(p.problems[0].ToString(),
            "users.csv:1: header column 2: 'StartAftr' is not a column crossmove reads; did you "
            "mean StartAfter? (rename it, or rename it away if it is not meant)");
}
TEST(UsersFileErrors, Windows1252Bytes) {
  ExpectFileError("Alias\nok\nJos\xE9\n", "users.csv:3: not valid UTF-8");
}
TEST(UsersFileErrors, Utf16WithoutBom) {
  ExpectFileError(std::string("A\0l\0i\0a\0s\0", 10), "UTF-16 without a byte-order mark");
}
TEST(UsersFileErrors, TruncatedUtf16) {
  ExpectFileError(
      "\xFF\xFE"
      "A\0l",
      "odd number of bytes");
}
TEST(UsersFileErrors, UnpairedSurrogate) {
  ExpectFileError(std::string("\xFF\xFE"
                              "A\0\n\0\x00\xD8"
                              "b\0",
                              10),
                  "users.csv:2: not valid UTF-16");
}
TEST(UsersFileErrors, DuplicateHeader) {
  ExpectFileError("Alias,alias\na,b\n", "names column 'alias' twice");
}
TEST(UsersFileErrors, EmptyHeaderName) {
  ExpectFileError("Alias,,Name\na,b,c\n", "header column 2 has no name");
}
TEST(UsersFileErrors, EmptyFile) { ExpectFileError("", "no header line"); }

TEST(UsersFileErrors, RowProblemsAreAllCollected) {
  Parsed p = Parse(
      "Alias,SourceMailboxCleanupOptions\n"
      "a,\n"
      ",\n"
      "A,\n"
      "b,DeleteEverything\n"
      "c,None,extra\n"
      "d,None\n");
  ASSERT_TRUE(p.file.ok());
  ASSERT_EQ(p.problems.size(), 4u);
  EXPECT_EQ(p.problems[0].ToString(), "users.csv:3: column Alias: empty identity");
  EXPECT_EQ(p.problems[1].ToString(),
            "users.csv:4: column Alias: 'A' is listed again (first on line 2)");
  EXPECT_EQ(p.problems[2].line, 5u);
  EXPECT_EQ(p.problems[2].field, "column SourceMailboxCleanupOptions");
  EXPECT_EQ(p.problems[3].line, 6u);
  EXPECT_NE(p.problems[3].message.find("3 fields"), std::string::npos);
  ASSERT_EQ(p.file->rows.size(), 2u);  // only the good rows: a and d
}

TEST(UsersFileErrors, HeaderOnlyIsAProblem) {
  Parsed p = Parse("Alias\r\n");
  ASSERT_TRUE(p.file.ok());
  ASSERT_EQ(p.problems.size(), 1u);
  EXPECT_NE(p.problems[0].message.find("no mailboxes"), std::string::npos);
}

TEST(UsersFileErrors, MissingFileIsNamed) {
  Problems problems;
  auto file = ReadUsersFile("/nonexistent/users.csv", ',', problems);
  ASSERT_FALSE(file.ok());
  EXPECT_NE(file.status().message().find("/nonexistent/users.csv"), std::string::npos);
}

TEST(UsersFile, StartAfterAndCompleteAfterColumnsAreTimesAndABadOneNamesLineAndColumn) {
  Parsed p = Parse(
      "Alias,StartAfter,CompleteAfter\r\n"
      "a,2026-12-20T00:00:00Z,2026-12-24T19:00:00+01:00\r\n"
      "b,,\r\n"
      "c,,Friday\r\n");
  ASSERT_TRUE(p.file.ok()) << p.file.status().ToString();
  ASSERT_EQ(p.file->rows.size(), 2u);                     // the bad row is left out, and named
  EXPECT_EQ(p.file->rows[0].start_after, 1797724800);     // date -u -d 2026-12-20 +%s
  EXPECT_EQ(p.file->rows[0].complete_after, 1798135200);  // 2026-12-24T18:00:00Z
  EXPECT_FALSE(p.file->rows[1].start_after.has_value());  // empty: the setting applies
  EXPECT_FALSE(p.file->rows[1].complete_after.has_value());
  ASSERT_EQ(p.problems.size(), 1u);
  EXPECT_EQ(p.problems[0].ToString().rfind(
                "users.csv:4: column CompleteAfter: 'Friday' is not an ISO 8601 time", 0),
            0u)
      << p.problems[0].ToString();
}

}  // namespace
}  // namespace cm
