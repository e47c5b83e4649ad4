// The Maildir++ driver writes what Dovecot reads: layout, names, flags, keywords, dates.
#include "mailstore/maildir_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "mailstore/temp_dir.h"

namespace cm {
namespace {

using testing::TempDir;
namespace fs = std::filesystem;

std::string Append(MailStore& store, const Folder& f, const std::string& body,
                   std::vector<std::string> flags, std::vector<std::string> keywords,
                   int64_t date) {
  MessageMeta meta;
  meta.size = body.size();
  meta.flags = std::move(flags);
  meta.keywords = std::move(keywords);
  meta.internal_date = date;
  auto w = store.BeginAppend(f, meta);
  EXPECT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_TRUE((*w)->Write(body).ok());
  auto key = (*w)->Commit();
  EXPECT_TRUE(key.ok()) << key.status().ToString();
  return key.ok() ? *key : "";
}

std::vector<std::string> Files(const fs::path& dir) {
  std::vector<std::string> out;
  if (!fs::exists(dir)) return out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  return out;
}

TEST(Maildir, FolderNamesAreModifiedUtf7AndDotSeparated) {
  TempDir t;
  MaildirStore store(t / "box", {});
  ASSERT_TRUE(store.CreateFolder({{"Projets", "Été 2024"}}).ok());
  ASSERT_TRUE(store.CreateFolder({{"Kunden & Partner"}}).ok());
  fs::path dir = t.path() / "box" / ".Projets.&AMk-t&AOk- 2024";
  EXPECT_TRUE(fs::is_directory(dir / "cur"));
  EXPECT_TRUE(fs::is_directory(dir / "new"));
  EXPECT_TRUE(fs::is_directory(dir / "tmp"));
  EXPECT_TRUE(fs::exists(dir / "maildirfolder"));
  EXPECT_TRUE(fs::is_directory(t.path() / "box" / ".Kunden &- Partner"));
  auto folders = store.ListFolders();
  ASSERT_TRUE(folders.ok());
  std::vector<std::string> names;
  for (const auto& f : *folders) names.push_back(f.Name() + (f.selectable ? "" : " (noselect)"));
  EXPECT_EQ(names, (std::vector<std::string>{"INBOX", "Kunden & Partner", "Projets (noselect)",
                                             "Projets/Été 2024"}));
}

TEST(Maildir, AppendWritesFlagsKeywordsSizesAndInternalDate) {
  TempDir t;
  MaildirStore store(t / "box", {});
  std::string body = "Subject: x\nMessage-ID: <a@b>\n\nline\n";  // bare LFs: W= counts CRLF size
  std::string key = Append(store, {{"INBOX"}}, body, {"\\Seen", "\\Flagged", "\\Answered"},
                           {"$Label1", "Important"}, 1700000000);
  auto names = Files(t.path() / "box" / "cur");
  ASSERT_EQ(names.size(), 1u);
  EXPECT_EQ(names[0], key + ":2,FRSab");  // flags in ASCII order, then keyword letters
  EXPECT_NE(key.find(",S=" + std::to_string(body.size()) + ",W=" + std::to_string(body.size() + 4)),
            std::string::npos);
  struct stat st;
  ASSERT_EQ(stat((t.path() / "box" / "cur" / names[0]).c_str(), &st), 0);
  EXPECT_EQ(st.st_mtime, 1700000000);
  std::ifstream kw(t.path() / "box" / "dovecot-keywords");
  std::string text((std::istreambuf_iterator<char>(kw)), {});
  EXPECT_EQ(text, "0 $Label1\n1 Important\n");
  EXPECT_TRUE(Files(t.path() / "box" / "tmp").empty());

  auto listed = store.ListMessages({{"INBOX"}}, Detail::kFullWithMessageId);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  const MessageMeta& m = (*listed)[0];
  EXPECT_EQ(m.key, key);
  EXPECT_EQ(m.size, body.size());
  EXPECT_EQ(m.internal_date, 1700000000);
  EXPECT_EQ(m.flags, (std::vector<std::string>{"\\Flagged", "\\Answered", "\\Seen"}));
  EXPECT_EQ(m.keywords, (std::vector<std::string>{"$Label1", "Important"}));
  EXPECT_EQ(m.message_id, "<a@b>");
}

TEST(Maildir, ReadsWhatDovecotDeliversToNew) {
  TempDir t;
  MaildirStore store(t / "box", {});
  ASSERT_TRUE(store.CreateFolder({{"INBOX"}}).ok());
  std::ofstream(t.path() / "box" / "new" / "1690000000.M1P2.host") << "Subject: new\n\nhi\n";
  auto listed = store.ListMessages({{"INBOX"}}, Detail::kFull);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_TRUE((*listed)[0].flags.empty());
  std::string read;
  ASSERT_TRUE(store
                  .ReadMessage({{"INBOX"}}, (*listed)[0].key,
                               [&](std::string_view c) {
                                 read += c;
                                 return Status::Ok();
                               })
                  .ok());
  EXPECT_EQ(read, "Subject: new\n\nhi\n");
}

TEST(Maildir, StreamsLargeMessagesInBoundedChunks) {
  TempDir t;
  MaildirStore store(t / "box", {});
  std::string big(3 * 1024 * 1024 + 17, 'x');
  std::string key = Append(store, {{"INBOX"}}, big, {}, {}, 1);
  size_t chunks = 0, largest = 0, total = 0;
  ASSERT_TRUE(store
                  .ReadMessage({{"INBOX"}}, key,
                               [&](std::string_view c) {
                                 ++chunks;
                                 largest = std::max(largest, c.size());
                                 total += c.size();
                                 return Status::Ok();
                               })
                  .ok());
  EXPECT_EQ(total, big.size());
  EXPECT_GT(chunks, 40u);
  EXPECT_LE(largest, 64u * 1024);
}

TEST(Maildir, SubscriptionsUseDovecotsVersion2File) {
  TempDir t;
  MaildirStore store(t / "box", {});
  ASSERT_TRUE(store.CreateFolder({{"Projets", "Été 2024"}}).ok());
  ASSERT_TRUE(store.SetSubscribed({{"Projets", "Été 2024"}}, true).ok());
  ASSERT_TRUE(store.SetSubscribed({{"INBOX"}}, true).ok());
  std::ifstream in(t.path() / "box" / "subscriptions");
  std::string text((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(text, "V\t2\n\nProjets\t&AMk-t&AOk- 2024\nINBOX\n");
  auto folders = store.ListFolders();
  ASSERT_TRUE(folders.ok());
  for (const auto& f : *folders) {
    EXPECT_EQ(f.subscribed, f.Name() == "INBOX" || f.Name() == "Projets/Été 2024") << f.Name();
  }
}

TEST(Maildir, SpecialUseComesFromWellKnownTopLevelNames) {
  TempDir t;
  MaildirStore store(t / "box", {});
  for (const char* n : {"Sent Items", "Deleted Items", "Junk E-mail", "Drafts", "Notes"})
    ASSERT_TRUE(store.CreateFolder({{n}}).ok());
  ASSERT_TRUE(store.CreateFolder({{"Notes", "Sent Items"}}).ok());
  auto folders = store.ListFolders();
  ASSERT_TRUE(folders.ok());
  std::map<std::string, SpecialUse> uses;
  for (const auto& f : *folders) uses[f.Name()] = f.special_use;
  EXPECT_EQ(uses["Sent Items"], SpecialUse::kSent);
  EXPECT_EQ(uses["Deleted Items"], SpecialUse::kTrash);
  EXPECT_EQ(uses["Junk E-mail"], SpecialUse::kJunk);
  EXPECT_EQ(uses["Drafts"], SpecialUse::kDrafts);
  EXPECT_EQ(uses["Notes"], SpecialUse::kNone);
  EXPECT_EQ(uses["Notes/Sent Items"], SpecialUse::kNone);  // only top-level names are special
}

TEST(Maildir, AnAbortedAppendLeavesNothing) {
  TempDir t;
  MaildirStore store(t / "box", {});
  {
    MessageMeta meta;
    auto w = store.BeginAppend({{"INBOX"}}, meta);
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Write("half a message").ok());
  }  // destroyed without Commit
  EXPECT_TRUE(Files(t.path() / "box" / "tmp").empty());
  EXPECT_TRUE(Files(t.path() / "box" / "cur").empty());
}

TEST(Maildir, RefusesWhatItCannotRepresentAndWritesNothingWhenReadOnly) {
  TempDir t;
  MaildirStore store(t / "box", {});
  EXPECT_EQ(store.CreateFolder({{"a.b"}}).code(), Status::Code::kInvalidInput);
  MailStoreOptions ro;
  ro.read_only = true;
  MaildirStore source(t / "src", ro);
  EXPECT_FALSE(source.CreateFolder({{"INBOX"}}).ok());
  EXPECT_FALSE(source.BeginAppend({{"INBOX"}}, {}).ok());
  EXPECT_FALSE(fs::exists(t.path() / "src"));
}

TEST(Maildir, SaysWhatItCanDo) {
  TempDir t;
  MaildirStore store(t / "box", {});
  Capabilities c = store.capabilities();
  EXPECT_TRUE(c.append_returns_key);
  EXPECT_TRUE(c.keywords);
  EXPECT_TRUE(c.subscriptions);
  EXPECT_FALSE(c.special_use);
}

TEST(Maildir, StoreLocationTemplates) {
  EXPECT_EQ(*ExpandStoreLocation("maildir:/var/vmail/%d/%n", "John.Smith@Contoso.test", "john"),
            "maildir:/var/vmail/contoso.test/john.smith");
  EXPECT_EQ(*ExpandStoreLocation("maildir:/m/%u/%m", "a@b.test", "al"), "maildir:/m/a@b.test/al");
  EXPECT_FALSE(ExpandStoreLocation("maildir:/m/%q", "a@b.test", "a").ok());
  EXPECT_FALSE(ExpandStoreLocation("maildir:/m/%m", "a@b.test", "../etc").ok());
}

}  // namespace
}  // namespace cm
