// The copy engine between two real Maildir stores, with the real SQLite journal as its map.
#include "mailstore/copy_engine.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "core/strings.h"
#include "journal/journal.h"
#include "mailstore/forwarding_map.h"
#include "mailstore/maildir_store.h"
#include "mailstore/temp_dir.h"

namespace cm {
namespace {

using testing::TempDir;
namespace fs = std::filesystem;

void Put(MailStore& store, const Folder& f, const std::string& body,
         std::vector<std::string> flags = {}, int64_t date = 1690000000) {
  MessageMeta meta;
  meta.size = body.size();
  meta.flags = std::move(flags);
  meta.internal_date = date;
  auto w = store.BeginAppend(f, meta);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->Write(body).ok());
  ASSERT_TRUE((*w)->Commit().ok());
}

size_t Count(MailStore& store, const Folder& f) {
  auto l = store.ListMessages(f, Detail::kFull);
  return l.ok() ? l->size() : 0;
}

// A real Maildir target that refuses messages over a size, as an IMAP server's TOOBIG does.
class SizeLimitedStore : public MaildirStore {
 public:
  SizeLimitedStore(std::string root, uint64_t limit)
      : MaildirStore(std::move(root), {}), limit_(limit) {}
  Result<std::unique_ptr<MessageWriter>> BeginAppend(const Folder& f,
                                                     const MessageMeta& m) override {
    if (m.size > limit_) return Status::Constraint("message too large for the target ([TOOBIG])");
    return MaildirStore::BeginAppend(f, m);
  }

 private:
  uint64_t limit_;
};

// The journal's map, failing `Copied` once: a crash after the append, before its record.
class FailOnceMap : public testing::ForwardingMap {
 public:
  using ForwardingMap::ForwardingMap;
  Status Copied(const std::string& f, const std::string& k, const std::string& tf,
                const std::string& tk, uint64_t s, const std::string& d, bool a) override {
    if (!failed_) {
      failed_ = true;
      return Status::IOError("simulated crash after the append");
    }
    return ForwardingMap::Copied(f, k, tf, tk, s, d, a);
  }

 private:
  bool failed_ = false;
};

// The files of a directory, in name order.
std::vector<fs::path> SortedFiles(const fs::path& dir) {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir)) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

class CopyEngine : public ::testing::Test {
 protected:
  void SetUp() override {
    src_ = std::make_unique<MaildirStore>(t_ / "src", MailStoreOptions{});
    Put(*src_, {{"INBOX"}}, "Message-ID: <1@x>\n\none\n", {"\\Seen"});
    Put(*src_, {{"INBOX"}}, "Message-ID: <2@x>\n\ntwo\n", {"\\Flagged"}, 1690000100);
    Put(*src_, {{"Sent Items"}}, "Message-ID: <3@x>\n\nsent\n", {"\\Seen"});
    Put(*src_, {{"Sent Items", "2023"}}, "Message-ID: <4@x>\n\nold sent\n");
    Put(*src_, {{"Projets", "Été 2024"}}, "Message-ID: <5@x>\n\nété\n", {"\\Answered", "\\Seen"});
    ASSERT_TRUE(src_->SetSubscribed({{"Projets", "Été 2024"}}, true).ok());
    MailStoreOptions ro;
    ro.read_only = true;
    source_ = std::make_unique<MaildirStore>(t_ / "src", ro);
    target_ = std::make_unique<MaildirStore>(t_ / "dst", MailStoreOptions{});
    auto j = Journal::Open(t_ / "journal.db");
    ASSERT_TRUE(j.ok());
    journal_ = std::move(*j);
    mailbox_ = *journal_->Register("Alias=a", 2, "CN=a,DC=x");
    map_ = journal_->MessagesOf(mailbox_);
  }
  TempDir t_;
  std::unique_ptr<MaildirStore> src_, source_, target_;
  std::unique_ptr<Journal> journal_;
  int64_t mailbox_ = 0;
  std::unique_ptr<MessageMap> map_;
  MailStoreOptions names_;
};

TEST_F(CopyEngine, MapsSpecialUseFoldersAndTheirChildren) {
  auto folders = source_->ListFolders();
  ASSERT_TRUE(folders.ok());
  std::map<std::string, std::string> mapping;
  for (const auto& fm : MapFolders(*folders, names_)) mapping[fm.source.Name()] = fm.target.Name();
  EXPECT_EQ(mapping["INBOX"], "INBOX");
  EXPECT_EQ(mapping["Sent Items"], "Sent");
  EXPECT_EQ(mapping["Sent Items/2023"], "Sent/2023");
  EXPECT_EQ(mapping["Projets/Été 2024"], "Projets/Été 2024");
  EXPECT_EQ(mapping.count("Projets"), 0u);  // an implied parent is not made a real folder
}

TEST_F(CopyEngine, CopiesEverythingOnceAndVerifies) {
  auto stats = CopyMailbox(*source_, *target_, *map_, {}, names_);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->messages, 5u);
  EXPECT_EQ(Count(*target_, {{"Sent"}}), 1u);
  EXPECT_EQ(Count(*target_, {{"Sent", "2023"}}), 1u);
  EXPECT_FALSE(fs::exists(t_.path() / "dst" / ".Projets"));
  auto folders = target_->ListFolders();
  for (const auto& f : *folders) {
    if (f.Name() == "Projets/Été 2024") {
      EXPECT_TRUE(f.subscribed);
    }
  }
  auto report = VerifyMailbox(*source_, *target_, *map_, VerifyMode::kFull, names_);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok()) << report->problems.front();
  EXPECT_EQ(report->messages, 5u);
  auto again = CopyMailbox(*source_, *target_, *map_, {}, names_);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->messages, 0u);
  EXPECT_EQ(again->skipped, 5u);
  EXPECT_EQ(Count(*target_, {{"INBOX"}}), 2u);
}

TEST_F(CopyEngine, DeltaPassCopiesOnlyNewMail) {
  ASSERT_TRUE(CopyMailbox(*source_, *target_, *map_, {}, names_).ok());
  Put(*src_, {{"INBOX"}}, "Message-ID: <6@x>\n\nlate arrival\n");
  // Mail that arrives after the copy is not held against it: the next pass takes it.
  auto verified = VerifyMailbox(*source_, *target_, *map_, VerifyMode::kSizes, names_);
  ASSERT_TRUE(verified.ok());
  EXPECT_TRUE(verified->ok());
  EXPECT_EQ(verified->arrived, 1u);
  auto delta = CopyMailbox(*source_, *target_, *map_, {}, names_);
  ASSERT_TRUE(delta.ok());
  EXPECT_EQ(delta->messages, 1u);
  EXPECT_EQ(Count(*target_, {{"INBOX"}}), 3u);
}

TEST_F(CopyEngine, ACrashBetweenAppendAndRecordDoesNotDuplicate) {
  FailOnceMap crashing(*map_);
  EXPECT_FALSE(CopyMailbox(*source_, *target_, crashing, {}, names_).ok());
  EXPECT_EQ(Count(*target_, {{"INBOX"}}), 1u);  // appended, not recorded
  auto rerun = CopyMailbox(*source_, *target_, *map_, {}, names_);
  ASSERT_TRUE(rerun.ok()) << rerun.status().ToString();
  EXPECT_EQ(Count(*target_, {{"INBOX"}}), 2u);
  auto report = VerifyMailbox(*source_, *target_, *map_, VerifyMode::kFull, names_);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok());
}

TEST_F(CopyEngine, RefusedMessagesCountAgainstTheBadItemLimit) {
  Put(*src_, {{"INBOX"}}, "Message-ID: <big@x>\n\n" + std::string(5000, 'x') + "\n");
  SizeLimitedStore limited(t_ / "dst", 1000);
  auto failed = CopyMailbox(*source_, limited, *map_, CopyOptions{.bad_item_limit = 0}, names_);
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.status().message().find("bad-item-limit 0"), std::string::npos);
  auto tolerated = CopyMailbox(*source_, limited, *map_,
                               CopyOptions{.bad_item_limit = 1, .refused_before = 1}, names_);
  ASSERT_TRUE(tolerated.ok()) << tolerated.status().ToString();
  auto report = VerifyMailbox(*source_, limited, *map_, VerifyMode::kContent, names_);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok());  // the refused message is reported by the copy, not as missing
}

TEST_F(CopyEngine, VerificationCatchesChangedContentFlagsAndMissingMail) {
  ASSERT_TRUE(CopyMailbox(*source_, *target_, *map_, {}, names_).ok());
  fs::path cur = t_.path() / "dst" / "cur";
  std::vector<fs::path> files = SortedFiles(cur);
  ASSERT_EQ(files.size(), 2u);
  // Same size, different byte: the listings cannot see it; reading the target back does.
  std::string body;
  {
    std::ifstream in(files[0], std::ios::binary);
    body.assign(std::istreambuf_iterator<char>(in), {});
  }
  body.back() = body.back() == 'X' ? 'Y' : 'X';
  auto mtime = fs::last_write_time(files[0]);
  std::ofstream(files[0], std::ios::binary | std::ios::trunc) << body;
  fs::last_write_time(files[0], mtime);  // same size, flags and date: only the bytes differ
  auto quick = VerifyMailbox(*source_, *target_, *map_, VerifyMode::kSizes, names_);
  ASSERT_TRUE(quick.ok());
  EXPECT_TRUE(quick->ok());
  auto by_default = VerifyMailbox(*source_, *target_, *map_, VerifyMode::kContent, names_);
  ASSERT_TRUE(by_default.ok());
  ASSERT_EQ(by_default->problems.size(), 1u);
  EXPECT_NE(by_default->problems[0].find("content differs"), std::string::npos);
  auto full = VerifyMailbox(*source_, *target_, *map_, VerifyMode::kFull, names_);
  ASSERT_TRUE(full.ok());
  bool content = false;
  for (const auto& p : full->problems) content |= p.find("content differs") != std::string::npos;
  EXPECT_TRUE(content);
  fs::rename(files[1], cur / (files[1].filename().string() + "T"));  // \Deleted added
  // By the listing (sizes) and by the read-back that describes each copy (content) alike.
  auto says = [&](VerifyMode mode, const std::string& problem) {
    auto report = VerifyMailbox(*source_, *target_, *map_, mode, names_);
    if (!report.ok()) return "verification failed: " + report.status().ToString();
    for (const auto& p : report->problems) {
      if (p.find(problem) != std::string::npos) return std::string();
    }
    return "no problem says '" + problem + "': " + Join(report->problems, "; ");
  };
  for (VerifyMode mode : {VerifyMode::kSizes, VerifyMode::kContent})
    EXPECT_EQ(says(mode, "flags differ"), "");
  fs::remove(t_.path() / "dst" / ".Sent" / "cur" /
             fs::directory_iterator(t_.path() / "dst" / ".Sent" / "cur")->path().filename());
  for (VerifyMode mode : {VerifyMode::kSizes, VerifyMode::kContent})
    EXPECT_EQ(says(mode, "missing from target Sent"), "");
}

// The bytes of every file of a Maildir folder, by file content: an oracle that is not ours.
std::multiset<std::string> FilesOf(const fs::path& dir) {
  std::multiset<std::string> out;
  for (const char* sub : {"cur", "new"}) {
    if (!fs::exists(dir / sub)) continue;
    for (const auto& e : fs::directory_iterator(dir / sub)) {
      std::ifstream in(e.path(), std::ios::binary);
      out.insert(std::string(std::istreambuf_iterator<char>(in), {}));
    }
  }
  return out;
}

TEST_F(CopyEngine, ABadCopyIsRemovedAndCopiedAgain) {
  ASSERT_TRUE(CopyMailbox(*source_, *target_, *map_, {}, names_).ok());
  fs::path cur = t_.path() / "dst" / "cur";
  std::vector<fs::path> files = SortedFiles(cur);
  ASSERT_EQ(files.size(), 2u);
  auto mtime = fs::last_write_time(files[0]);
  {  // one byte of one copy changed (its date kept: only the bytes tell), the other copy lost
    std::fstream f(files[0], std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(3);
    f.put('#');
  }
  fs::last_write_time(files[0], mtime);
  fs::remove(files[1]);
  auto report = VerifyMailbox(*source_, *target_, *map_, VerifyMode::kContent, names_);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->problems.size(), 2u);
  ASSERT_EQ(report->bad.size(), 2u);
  auto marked = MarkForRepair(*target_, *map_, report->bad);
  ASSERT_TRUE(marked.ok()) << marked.status().ToString();
  EXPECT_EQ(*marked, 2u);
  EXPECT_TRUE(FilesOf(t_.path() / "dst").empty());  // the bad copy (ours) is gone
  auto again = CopyMailbox(*source_, *target_, *map_, {}, names_);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->messages, 2u);
  EXPECT_EQ(again->repaired.size(), 2u);
  EXPECT_EQ(FilesOf(t_.path() / "dst"), FilesOf(t_.path() / "src"));
  auto verified = VerifyMailbox(*source_, *target_, *map_, VerifyMode::kContent, names_);
  ASSERT_TRUE(verified.ok());
  EXPECT_TRUE(verified->ok()) << verified->problems.front();
}

TEST_F(CopyEngine, AMessageClaimedByFingerprintIsNeverRemoved) {
  // The user's own copy of message 1 is in the target before the move, with one byte changed.
  fs::path src_cur = t_.path() / "src" / "cur";
  std::vector<fs::path> files = SortedFiles(src_cur);
  ASSERT_TRUE(target_->CreateFolder({{"INBOX"}}).ok());
  fs::path theirs = t_.path() / "dst" / "cur" / files[0].filename();
  fs::copy_file(files[0], theirs);
  {
    std::fstream f(theirs, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(fs::file_size(theirs) - 2));
    f.put('#');
  }
  fs::last_write_time(theirs, fs::last_write_time(files[0]));
  ASSERT_TRUE(CopyMailbox(*source_, *target_, *map_, {}, names_).ok());
  auto report = VerifyMailbox(*source_, *target_, *map_, VerifyMode::kContent, names_);
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(report->bad.size(), 1u);
  ASSERT_TRUE(MarkForRepair(*target_, *map_, report->bad).ok());
  EXPECT_TRUE(fs::exists(theirs));  // kept: we did not append it
  ASSERT_TRUE(CopyMailbox(*source_, *target_, *map_, {}, names_).ok());
  EXPECT_EQ(Count(*target_, {{"INBOX"}}), 3u);  // theirs, and both of ours
  auto verified = VerifyMailbox(*source_, *target_, *map_, VerifyMode::kFull, names_);
  ASSERT_TRUE(verified.ok());
  EXPECT_TRUE(verified->ok()) << verified->problems.front();
}

TEST_F(CopyEngine, AnEmptyMailboxGetsItsTargetMailbox) {
  TempDir empty;
  MaildirStore made(empty / "src", {});
  ASSERT_TRUE(made.CreateFolder({{"INBOX"}}).ok());
  ASSERT_TRUE(made.CreateFolder({{"Archive", "2020"}}).ok());
  MailStoreOptions ro;
  ro.read_only = true;
  MaildirStore source(empty / "src", ro);
  MaildirStore target(empty / "dst", {});
  auto stats = CopyMailbox(source, target, *map_, {}, names_);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->messages, 0u);
  for (const char* sub : {"cur", "new", "tmp"}) {
    EXPECT_TRUE(fs::is_directory(empty.path() / "dst" / sub)) << sub;
    EXPECT_TRUE(fs::is_directory(empty.path() / "dst" / ".Archive.2020" / sub)) << sub;
  }
}

}  // namespace
}  // namespace cm
