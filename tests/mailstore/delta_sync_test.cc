// Delta passes (issue 13) between two real stores, with the real SQLite journal as the map:
// Maildir trees, and two Dovecot servers. The source is changed as its user would change it
// (files renamed, moved, removed; over IMAP by Python's imaplib), and after every pass an
// independent reader (tests/imap/mailbox_state.py) must find the target equal to the source:
// every folder, every message's bytes, flags, keywords and INTERNALDATE, none twice.
#include "mailstore/delta_sync.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>
#include <utime.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include "cli/org.h"
#include "journal/journal.h"
#include "mailstore/forwarding_map.h"
#include "mailstore/imap_client.h"
#include "mailstore/maildir_store.h"
#include "mailstore/temp_dir.h"

namespace cm {
namespace {

namespace fs = std::filesystem;
using testing::RepoFile;
using testing::RunProgram;
using testing::TempDir;

std::string Body(const std::string& id, const std::string& text) {
  return fmt::format("Message-ID: <{}@delta.test>\r\nSubject: {}\r\n\r\n{}\r\n", id, text, text);
}
std::string IdOf(const std::string& id) { return "<" + id + "@delta.test>"; }

// A mailbox a test changes as its user would, and reads with the independent reader.
class UserMailbox {
 public:
  virtual ~UserMailbox() = default;
  virtual void Append(const std::string& folder, const std::string& id,
                      const std::vector<std::string>& flags, int64_t date = 1690000000) = 0;
  virtual void SetFlags(const std::string& folder, const std::string& id,
                        const std::vector<std::string>& flags) = 0;
  virtual void Expunge(const std::string& folder, const std::string& id) = 0;
  virtual void Move(const std::string& folder, const std::string& id, const std::string& to) = 0;
  virtual void Rename(const std::string& from, const std::string& to) = 0;
  virtual void Delete(const std::string& folder) = 0;
  // mailbox_state.py's lines: "F|folder" and "M|folder|sha256|date|flags|keywords".
  virtual std::vector<std::string> State() const = 0;
  virtual std::unique_ptr<MailStore> Open(bool read_only) const = 0;
};

std::vector<std::string> Lines(const testing::RunResult& r) {
  std::vector<std::string> out;
  EXPECT_EQ(r.exit_code, 0) << r.err;
  for (const auto& line : Split(r.out, '\n')) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

// Maildir++ files, changed directly (what Dovecot or a mail program does to them).
class MaildirMailbox : public UserMailbox {
 public:
  explicit MaildirMailbox(fs::path root) : root_(std::move(root)) { Dir("INBOX"); }
  void Append(const std::string& folder, const std::string& id,
              const std::vector<std::string>& flags, int64_t date = 1690000000) override {
    fs::path dir = Dir(folder);
    fs::path file =
        dir / "cur" /
        fmt::format("{}.M{}P{}.test:2,{}", date, ++counter_, getpid(), Info(dir, flags));
    std::ofstream(file, std::ios::binary) << Body(id, folder + " " + id);
    utimbuf times{static_cast<time_t>(date), static_cast<time_t>(date)};
    ASSERT_EQ(utime(file.c_str(), &times), 0);
  }
  void SetFlags(const std::string& folder, const std::string& id,
                const std::vector<std::string>& flags) override {
    fs::path file = Find(folder, id);
    std::string name = file.filename().string();
    fs::rename(file, Dir(folder) / "cur" /
                         (name.substr(0, name.find(":2,")) + ":2," + Info(Dir(folder), flags)));
  }
  void Expunge(const std::string& folder, const std::string& id) override {
    fs::remove(Find(folder, id));
  }
  void Move(const std::string& folder, const std::string& id, const std::string& to) override {
    // Tests move messages without keywords: letters are per folder.
    fs::path file = Find(folder, id);
    fs::rename(file, Dir(to) / "cur" / file.filename());
  }
  void Rename(const std::string& from, const std::string& to) override {
    std::string old_name = Name(from), new_name = Name(to);
    for (const auto& e : fs::directory_iterator(root_)) {
      std::string n = e.path().filename().string();
      if (n == old_name || n.starts_with(old_name + "."))
        fs::rename(e.path(), root_ / (new_name + n.substr(old_name.size())));
    }
  }
  void Delete(const std::string& folder) override { fs::remove_all(root_ / Name(folder)); }
  std::vector<std::string> State() const override {
    return Lines(
        RunProgram({"python3", RepoFile("tests/imap/mailbox_state.py"), "maildir", root_.string()},
                   root_.parent_path()));  // its output files go there: tests run side by side
  }
  std::unique_ptr<MailStore> Open(bool read_only) const override {
    MailStoreOptions options;
    options.read_only = read_only;
    return std::make_unique<MaildirStore>(root_.string(), options);
  }

 private:
  static std::string Name(const std::string& folder) {
    std::string n = "." + folder;
    std::replace(n.begin(), n.end(), '/', '.');
    return n;
  }
  fs::path Dir(const std::string& folder) {
    fs::path dir = folder == "INBOX" ? root_ : root_ / Name(folder);
    for (const char* sub : {"cur", "new", "tmp"}) fs::create_directories(dir / sub);
    if (folder != "INBOX") std::ofstream(dir / "maildirfolder");
    return dir;
  }
  std::string Info(const fs::path& dir, const std::vector<std::string>& flags) {
    std::string letters, keywords;
    std::vector<std::string> table;
    if (std::ifstream in(dir / "dovecot-keywords"); in) {
      for (std::string line; std::getline(in, line);)
        table.push_back(line.substr(line.find(' ') + 1));
    }
    for (const auto& f : flags) {
      static const std::map<std::string, char> kLetters = {
          {"\\Draft", 'D'}, {"\\Flagged", 'F'}, {"\\Answered", 'R'}, {"\\Seen", 'S'}};
      if (auto it = kLetters.find(f); it != kLetters.end()) {
        letters += it->second;
        continue;
      }
      auto at = std::find(table.begin(), table.end(), f);
      if (at == table.end()) at = table.insert(table.end(), f);
      keywords += static_cast<char>('a' + (at - table.begin()));
    }
    std::ofstream out(dir / "dovecot-keywords");
    for (size_t i = 0; i < table.size(); ++i) out << i << " " << table[i] << "\n";
    std::sort(letters.begin(), letters.end());
    std::sort(keywords.begin(), keywords.end());
    return letters + keywords;
  }
  fs::path Find(const std::string& folder, const std::string& id) {
    for (const char* sub : {"cur", "new"}) {
      for (const auto& e : fs::directory_iterator(Dir(folder) / sub)) {
        if (testing::Slurp(e.path()).find(IdOf(id)) != std::string::npos) return e.path();
      }
    }
    ADD_FAILURE() << id << " is not in " << folder;
    return {};
  }
  fs::path root_;
  int counter_ = 0;
};

// A mailbox on a Dovecot started for the test (scripts/dovecot-server), changed with imaplib.
class DovecotMailbox : public UserMailbox {
 public:
  DovecotMailbox(fs::path dir, std::string user) : dir_(std::move(dir)), user_(std::move(user)) {
    fs::create_directories(dir_);
    std::ofstream(dir_ / "secret") << "masterpass\n";
    for (int attempt = 0; attempt < 5; ++attempt) {
      port_ = testing::FreePort();
      auto r = RunProgram({RepoFile("scripts/dovecot-server"), "start", (dir_ / "server").string(),
                           std::to_string(port_), "--mail", (dir_ / "mail").string()},
                          dir_);
      if (r.exit_code == 0) return;
      error_ = r.err + r.out;
    }
    port_ = 0;
  }
  ~DovecotMailbox() override {
    RunProgram({RepoFile("scripts/dovecot-server"), "kill", (dir_ / "server").string()}, dir_);
  }
  bool started() const { return port_ != 0; }
  const std::string& error() const { return error_; }
  fs::path maildir() const {
    return dir_ / "mail" / user_.substr(user_.find('@') + 1) / user_.substr(0, user_.find('@'));
  }

  void Append(const std::string& folder, const std::string& id,
              const std::vector<std::string>& flags, int64_t date = 1690000000) override {
    fs::path file = dir_ / ("msg-" + id);
    std::ofstream(file, std::ios::binary) << Body(id, folder + " " + id);
    Act({fmt::format("append|{}|{}|{}|{}", folder, file.string(), Join(flags, " "), date)});
  }
  void SetFlags(const std::string& folder, const std::string& id,
                const std::vector<std::string>& flags) override {
    Act({fmt::format("flags|{}|{}|{}", folder, IdOf(id), Join(flags, " "))});
  }
  void Expunge(const std::string& folder, const std::string& id) override {
    Act({fmt::format("expunge|{}|{}", folder, IdOf(id))});
  }
  void Move(const std::string& folder, const std::string& id, const std::string& to) override {
    Act({fmt::format("move|{}|{}|{}", folder, IdOf(id), to)});
  }
  void Rename(const std::string& from, const std::string& to) override {
    Act({fmt::format("rename|{}|{}", from, to)});
  }
  void Delete(const std::string& folder) override { Act({"delete|" + folder}); }
  std::vector<std::string> State() const override {
    return Lines(RunProgram({"python3", RepoFile("tests/imap/mailbox_state.py"), "imap",
                             fmt::format("127.0.0.1:{}", port_), (dir_ / "secret").string(), user_},
                            dir_));
  }
  std::unique_ptr<MailStore> Open(bool read_only) const override {
    auto access = std::make_shared<ImapAccess>();
    access->admin = "migrator";
    access->admin_secret = "masterpass";
    access->batch_messages = 3;  // several batches in flight even for a small mailbox
    MailStoreOptions options;
    options.read_only = read_only;
    options.imap = access;
    auto store =
        OpenMailStore(fmt::format("imap://{}@127.0.0.1:{}/", PercentEncode(user_), port_), options);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(*store) : nullptr;
  }

 private:
  void Act(const std::vector<std::string>& actions) {
    std::vector<std::string> argv = {"python3", RepoFile("tests/imap/user_actions.py"),
                                     fmt::format("127.0.0.1:{}", port_), (dir_ / "secret").string(),
                                     user_};
    argv.insert(argv.end(), actions.begin(), actions.end());
    auto r = RunProgram(argv, dir_);
    ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  }
  fs::path dir_;
  std::string user_;
  int port_ = 0;
  std::string error_;
};

// The target's state as the source's should look: without the messages a test put there
// itself (by digest), and without the folders it keeps for them.
std::vector<std::string> Without(std::vector<std::string> lines, const std::set<std::string>& shas,
                                 const std::set<std::string>& folders) {
  std::erase_if(lines, [&](const std::string& l) {
    auto parts = Split(l, '|');
    if (parts[0] == "F") return folders.count(parts[1]) > 0;
    return shas.count(parts[2]) > 0;
  });
  return lines;
}

std::vector<std::string> Only(const std::vector<std::string>& lines,
                              const std::set<std::string>& shas) {
  std::vector<std::string> out;
  for (const auto& l : lines) {
    auto parts = Split(l, '|');
    if (parts[0] == "M" && shas.count(parts[2])) out.push_back(l);
  }
  return out;
}

// Two mailboxes, a journal, and the passes between them.
class DeltaScenario {
 public:
  DeltaScenario(UserMailbox& source, UserMailbox& target, const fs::path& journal)
      : source_(source), target_(target) {
    auto j = Journal::Open(journal.string());
    EXPECT_TRUE(j.ok());
    journal_ = std::move(*j);
    mailbox_ = *journal_->Register("Alias=alice", 2, "CN=alice,DC=x");
  }
  Result<CopyStats> Copy() {
    auto src = source_.Open(true);
    auto dst = target_.Open(false);
    auto map = journal_->MessagesOf(mailbox_);
    return CopyMailbox(*src, *dst, *map, {}, names_);
  }
  // The scenarios remove up to a third of a small mailbox in one pass: a guard of 50%.
  static DeltaOptions Options() {
    DeltaOptions options;
    options.max_deletions = 50;
    return options;
  }
  Result<DeltaStats> Sync(const DeltaOptions& options = Options()) {
    auto src = source_.Open(true);
    auto dst = target_.Open(false);
    auto map = journal_->MessagesOf(mailbox_);
    return SyncMailbox(*src, *dst, *map, options, names_);
  }
  Journal& journal() { return *journal_; }
  int64_t mailbox() const { return mailbox_; }
  const MailStoreOptions& names() const { return names_; }

 private:
  UserMailbox& source_;
  UserMailbox& target_;
  std::unique_ptr<Journal> journal_;
  int64_t mailbox_ = 0;
  MailStoreOptions names_;
};

// The mailbox every scenario starts from.
void Fill(UserMailbox& source) {
  source.Append("INBOX", "m1", {"\\Seen"});
  source.Append("INBOX", "m2", {});
  source.Append("INBOX", "m3", {"\\Flagged"}, 1690000300);
  source.Append("INBOX", "m4", {});
  source.Append("Work", "w1", {});
  source.Append("Work", "w2", {"\\Seen"});
  source.Append("Work", "w3", {"\\Seen", "$Label1"});
  source.Append("Work/Reports", "r1", {"\\Seen"});
  source.Append("Work/Reports", "r2", {});
  source.Append("Lists", "l1", {});
  source.Append("Lists", "l2", {"\\Seen"});
  source.Append("Lists", "l3", {});
  source.Append("Old", "o1", {"\\Seen"});
}

// The first round of changes: one of each kind.
void FirstChanges(UserMailbox& source) {
  source.Append("INBOX", "m5", {});
  source.Append("Work", "w4", {"$Label2"});
  source.Append("Temp", "t1", {});
  source.SetFlags("INBOX", "m1", {"\\Seen", "\\Answered"});
  source.SetFlags("INBOX", "m4", {"\\Flagged", "$Work"});
  source.SetFlags("Work", "w1", {"\\Seen"});
  source.Expunge("INBOX", "m2");
  source.Move("INBOX", "m3", "Work");
  source.Rename("Lists", "Newsletters");
  source.Delete("Old");
}

// The second: on top of the first, and a rename with a folder below it.
void SecondChanges(UserMailbox& source) {
  source.SetFlags("INBOX", "m5", {"\\Seen"});
  source.Expunge("Work", "w1");
  source.Move("Newsletters", "l1", "INBOX");
  source.Rename("Work", "Projects");
  source.Append("Projects/Reports", "r3", {"\\Flagged"});
  source.Delete("Temp");
}

void ExpectSame(const std::vector<std::string>& source, const std::vector<std::string>& target) {
  EXPECT_EQ(target, source) << "target:\n"
                            << Join(target, "\n") << "\nsource:\n"
                            << Join(source, "\n");
}

// The whole scenario: initial copy, two rounds of changes each followed by a pass, and a pass
// with nothing to do. The target holds two messages of its own from before the copy: one in
// INBOX, one in Old (which the source then deletes: kept, because of it).
void RunScenario(UserMailbox& source, UserMailbox& target, const fs::path& journal) {
  Fill(source);
  target.Append("INBOX", "foreign-inbox", {"\\Seen"});
  target.Append("Old", "foreign-old", {"$Mine"});
  std::set<std::string> foreign;  // the digests of what the target held before us
  for (const auto& line : target.State()) {
    if (line.starts_with("M|")) foreign.insert(Split(line, '|')[2]);
  }
  ASSERT_EQ(foreign.size(), 2u);
  auto foreign_before = Only(target.State(), foreign);
  DeltaScenario s(source, target, journal);
  auto copied = s.Copy();
  ASSERT_TRUE(copied.ok()) << copied.status().ToString();
  EXPECT_EQ(copied->messages, 13u);
  ExpectSame(source.State(), Without(target.State(), foreign, {}));

  FirstChanges(source);
  auto first = s.Sync();
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_FALSE(first->held) << first->held->Describe();
  EXPECT_EQ(first->new_messages, 3u);
  EXPECT_EQ(first->moved, 1u);
  EXPECT_EQ(first->expunged, 2u);  // m2, and o1 with its folder
  EXPECT_EQ(first->renamed_folders, 1u);
  EXPECT_GE(first->flags_changed, 3u);
  EXPECT_EQ(first->deleted_folders, 0u);
  ASSERT_EQ(first->kept_folders.size(), 1u);
  EXPECT_TRUE(first->kept_folders[0].starts_with("Old: ")) << first->kept_folders[0];
  ExpectSame(source.State(), Without(target.State(), foreign, {"Old"}));
  EXPECT_EQ(Only(target.State(), foreign), foreign_before);

  SecondChanges(source);
  auto second = s.Sync();
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  ASSERT_FALSE(second->held) << second->held->Describe();
  EXPECT_EQ(second->new_messages, 1u);
  EXPECT_EQ(second->moved, 1u);
  EXPECT_EQ(second->expunged, 2u);  // w1, and t1 with its folder
  EXPECT_GE(second->renamed_folders, 1u);
  EXPECT_EQ(second->deleted_folders, 1u);  // Temp held only our copy
  ExpectSame(source.State(), Without(target.State(), foreign, {"Old"}));
  EXPECT_EQ(Only(target.State(), foreign), foreign_before);

  auto idle = s.Sync();
  ASSERT_TRUE(idle.ok()) << idle.status().ToString();
  EXPECT_EQ(idle->new_messages + idle->moved + idle->expunged + idle->flags_changed +
                idle->renamed_folders + idle->deleted_folders,
            0u);
  ExpectSame(source.State(), Without(target.State(), foreign, {"Old"}));

  // What the journal holds checks out against the stores too.
  auto src = source.Open(true);
  auto dst = target.Open(false);
  auto map = s.journal().MessagesOf(s.mailbox());
  auto report = VerifyMailbox(*src, *dst, *map, VerifyMode::kContent, s.names());
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->ok()) << Join(report->problems, "\n");
}

TEST(DeltaPass, MaildirTargetBecomesTheSourceAfterEveryPass) {
  TempDir t;
  MaildirMailbox source(t.path() / "source"), target(t.path() / "target");
  RunScenario(source, target, t.path() / "journal.db");
}

TEST(DeltaPass, DovecotTargetBecomesTheSourceAfterEveryPass) {
  TempDir t;
  DovecotMailbox source(t.path() / "source", "alice@source.test");
  DovecotMailbox target(t.path() / "target", "alice@target.test");
  if (!source.started() || !target.started()) GTEST_SKIP() << source.error() << target.error();
  RunScenario(source, target, t.path() / "journal.db");
}

// A folder's first copy, whole, is what a delta pass would have recorded after comparing both
// sides: the copy records it as synced, so the first delta pass asks a CONDSTORE source only
// what changed since (the full listing of both sides made that pass 3x mbsync's, bench/
// incremental.sh). A folder the target held mail in before us is not: the first pass compares.
TEST(DeltaPass, AFolderCopiedWholeIsSyncedAsOfItsCopy) {
  TempDir t;
  DovecotMailbox source(t.path() / "source", "alice@source.test");
  DovecotMailbox target(t.path() / "target", "alice@target.test");
  if (!source.started() || !target.started()) GTEST_SKIP() << source.error() << target.error();
  Fill(source);
  target.Append("INBOX", "foreign-inbox", {"\\Seen"});
  std::set<std::string> foreign;
  for (const auto& line : target.State()) {
    if (line.starts_with("M|")) foreign.insert(Split(line, '|')[2]);
  }
  DeltaScenario s(source, target, t.path() / "journal.db");
  ASSERT_TRUE(s.Copy().ok());
  auto map = s.journal().MessagesOf(s.mailbox());
  for (const char* folder : {"Work", "Work/Reports", "Lists", "Old"}) {
    auto synced = map->Synced(folder);
    ASSERT_TRUE(synced.ok()) << synced.status().ToString();
    EXPECT_NE(synced->state.find("HIGHESTMODSEQ="), std::string::npos) << folder;
    EXPECT_EQ(synced->state, *map->FolderState(folder)) << folder;
  }
  EXPECT_EQ(map->Synced("INBOX")->state, "") << "INBOX held a message of the target's own";

  source.SetFlags("Work", "w1", {"\\Flagged"});
  source.SetFlags("INBOX", "m2", {"\\Seen"});
  source.Expunge("Lists", "l3");
  auto pass = s.Sync();
  ASSERT_TRUE(pass.ok()) << pass.status().ToString();
  EXPECT_EQ(pass->flags_changed, 2u);
  EXPECT_EQ(pass->expunged, 1u);
  ExpectSame(source.State(), Without(target.State(), foreign, {}));
}

// An empty folder renamed in the source: no message tells where it went, and a server without
// MAILBOXID gives no id either; the target must still end with the new name only (it held
// nothing of anyone's under the old one).
void EmptyFolderRenamed(UserMailbox& source, UserMailbox& target, const fs::path& journal) {
  Fill(source);
  source.Append("Empty", "e1", {});
  source.Expunge("Empty", "e1");
  DeltaScenario s(source, target, journal);
  ASSERT_TRUE(s.Copy().ok());
  ExpectSame(source.State(), target.State());
  source.Rename("Empty", "Renamed");
  auto pass = s.Sync();
  ASSERT_TRUE(pass.ok()) << pass.status().ToString();
  EXPECT_EQ(pass->kept_folders, std::vector<std::string>{});
  // Reported as what the user did, not as a folder lost
  EXPECT_EQ(pass->renamed_folders, 1u);
  EXPECT_EQ(pass->deleted_folders, 0u);
  ExpectSame(source.State(), target.State());
}

TEST(DeltaPass, AnEmptyFolderRenamedInADovecotSourceIsRenamedInTheTarget) {
  TempDir t;
  DovecotMailbox source(t.path() / "source", "alice@source.test");
  DovecotMailbox target(t.path() / "target", "alice@target.test");
  if (!source.started() || !target.started()) GTEST_SKIP() << source.error() << target.error();
  EmptyFolderRenamed(source, target, t.path() / "journal.db");
}

TEST(DeltaPass, AnEmptyFolderRenamedInAMaildirSourceIsRenamedInTheTarget) {
  TempDir t;
  MaildirMailbox source(t.path() / "source"), target(t.path() / "target");
  EmptyFolderRenamed(source, target, t.path() / "journal.db");
}

TEST(DeltaPass, APassThatWouldRemoveTooMuchChangesNothingUntilApproved) {
  TempDir t;
  MaildirMailbox source(t.path() / "source"), target(t.path() / "target");
  Fill(source);
  DeltaScenario s(source, target, t.path() / "journal.db");
  ASSERT_TRUE(s.Copy().ok());
  for (const char* id : {"m1", "m2", "m3", "m4"}) source.Expunge("INBOX", id);
  source.Delete("Lists");
  source.Append("INBOX", "late", {});
  auto before = target.State();
  DeltaOptions options;
  options.max_deletions = 40;  // 7 of 13 is 54%
  auto held = s.Sync(options);
  ASSERT_TRUE(held.ok()) << held.status().ToString();
  ASSERT_TRUE(held->held);
  EXPECT_EQ(held->held->removals, 7u);
  EXPECT_EQ(held->held->copies, 13u);
  EXPECT_NE(held->held->Describe().find("--approve-deletions"), std::string::npos);
  EXPECT_EQ(target.State(), before);  // not even the new message
  options.approve_deletions = true;
  auto approved = s.Sync(options);
  ASSERT_TRUE(approved.ok()) << approved.status().ToString();
  EXPECT_FALSE(approved->held);
  EXPECT_EQ(approved->expunged, 7u);
  EXPECT_EQ(approved->deleted_folders, 1u);
  ExpectSame(source.State(), target.State());
}

// A folder deleted or renamed right after it was read: Dovecot disconnects a session that
// deletes its selected folder ("BYE Selected mailbox was deleted"), and a delta pass that had
// just listed a folder the user deleted failed with it (new-user trial). Whatever the store read
// last, the folder goes (or moves) and the connection stays usable.
TEST(ImapFolders, AFolderJustReadIsDeletedOrRenamedOnTheSameConnection) {
  TempDir t;
  DovecotMailbox mailbox(t.path() / "mailbox", "alice@target.test");
  if (!mailbox.started()) GTEST_SKIP() << mailbox.error();
  Fill(mailbox);
  auto store = mailbox.Open(false);
  ASSERT_NE(store, nullptr);
  auto folders = store->ListFolders();
  ASSERT_TRUE(folders.ok()) << folders.status().ToString();
  auto named = [&](const std::string& name) {
    for (const auto& f : *folders) {
      if (f.Name() == name) return f;
    }
    ADD_FAILURE() << name << " is not listed";
    return Folder{};
  };
  Folder old = named("Old"), lists = named("Lists");
  auto held = store->ListMessages(old, Detail::kNames);  // EXAMINE Old
  ASSERT_TRUE(held.ok()) << held.status().ToString();
  std::vector<std::string> keys;
  for (const auto& m : *held) keys.push_back(m.key);
  ASSERT_TRUE(store->DeleteMessages(old, keys).ok());
  ASSERT_TRUE(store->ListMessages(old, Detail::kNames).ok());  // EXAMINE Old, now empty
  Status deleted = store->DeleteFolder(old);
  EXPECT_TRUE(deleted.ok()) << deleted.ToString();
  ASSERT_TRUE(store->ListMessages(lists, Detail::kNames).ok());  // EXAMINE Lists
  Folder renamed;
  renamed.path = {"Newsletters"};
  Status moved = store->RenameFolder(lists, renamed);
  EXPECT_TRUE(moved.ok()) << moved.ToString();
  std::vector<std::string> state = mailbox.State();
  EXPECT_EQ(std::count(state.begin(), state.end(), "F|Old"), 0) << Join(state, "\n");
  EXPECT_EQ(std::count(state.begin(), state.end(), "F|Lists"), 0) << Join(state, "\n");
  EXPECT_EQ(std::count(state.begin(), state.end(), "F|Newsletters"), 1) << Join(state, "\n");
}

// A listing is reused only while a later LIST-STATUS shows its folder as it was (verification
// right after a copy): after another session's flag change, or new mail, the folder is listed
// again, and so it is when no listing of folders came in between.
TEST(ImapListing, AFolderChangedByAnotherSessionIsListedAgain) {
  TempDir t;
  DovecotMailbox mailbox(t.path() / "server", "alice@source.test");
  if (!mailbox.started()) GTEST_SKIP() << mailbox.error();
  mailbox.Append("INBOX", "a", {});
  mailbox.Append("INBOX", "b", {});
  auto store = mailbox.Open(/*read_only=*/true);
  ASSERT_TRUE(store);
  auto inbox = [&]() -> Folder {
    auto folders = store->ListFolders();
    EXPECT_TRUE(folders.ok()) << folders.status().ToString();
    for (const Folder& f : *folders)
      if (f.IsInbox()) return f;
    ADD_FAILURE() << "no INBOX";
    return Folder{};
  };
  auto flagged = [&](const Folder& f) {
    auto listing = store->ListMessages(f, Detail::kFull);
    EXPECT_TRUE(listing.ok()) << listing.status().ToString();
    size_t n = 0;
    for (const MessageMeta& m : *listing)
      n += std::count(m.flags.begin(), m.flags.end(), "\\Flagged");
    return std::make_pair(listing->size(), n);
  };
  EXPECT_EQ(flagged(inbox()), std::make_pair(size_t{2}, size_t{0}));
  EXPECT_EQ(flagged(inbox()), std::make_pair(size_t{2}, size_t{0}));  // unchanged: the same
  mailbox.SetFlags("INBOX", "a", {"\\Flagged"});
  EXPECT_EQ(flagged(inbox()), std::make_pair(size_t{2}, size_t{1}));  // HIGHESTMODSEQ moved
  mailbox.Append("INBOX", "c", {});
  EXPECT_EQ(flagged(inbox()), std::make_pair(size_t{3}, size_t{1}));
  // Listed again with no listing of folders in between: nothing says the folder is unchanged.
  Folder same = inbox();
  EXPECT_EQ(flagged(same), std::make_pair(size_t{3}, size_t{1}));
  mailbox.SetFlags("INBOX", "b", {"\\Flagged"});
  EXPECT_EQ(flagged(same), std::make_pair(size_t{3}, size_t{2}));
}

// The target store and the map of a pass that dies (as kill -9: _exit, nothing flushed) right
// after its N-th write: a change to the target, or records made durable.
int g_crash_after = -1;
int g_writes = 0;
void Wrote() {
  if (g_crash_after >= 0 && ++g_writes >= g_crash_after) _exit(3);
}
Status After(Status s) {
  Wrote();
  return s;
}

class CrashingWriter : public MessageWriter {
 public:
  explicit CrashingWriter(std::unique_ptr<MessageWriter> w) : w_(std::move(w)) {}
  Status Write(std::string_view chunk) override { return w_->Write(chunk); }
  Result<std::string> Commit() override {
    auto key = w_->Commit();
    Wrote();
    return key;
  }

 private:
  std::unique_ptr<MessageWriter> w_;
};

class CrashingMap : public testing::ForwardingMap {
 public:
  using ForwardingMap::ForwardingMap;
  Status Flush() override { return After(ForwardingMap::Flush()); }
  Status RenameFolder(const std::string& f, const std::string& t, const std::string& tt) override {
    return After(ForwardingMap::RenameFolder(f, t, tt));
  }
  Status ForgetFolder(const std::string& f) override {
    return After(ForwardingMap::ForgetFolder(f));
  }
  Status SaveSynced(const std::string& f, const SyncedFolder& s) override {
    return After(ForwardingMap::SaveSynced(f, s));
  }
  Status SaveFolderState(const std::string& f, const std::string& s) override {
    return After(ForwardingMap::SaveFolderState(f, s));
  }
};

class CrashingStore : public MaildirStore {
 public:
  using MaildirStore::MaildirStore;
  Result<std::unique_ptr<MessageWriter>> BeginAppend(const Folder& f,
                                                     const MessageMeta& m) override {
    auto w = MaildirStore::BeginAppend(f, m);
    if (!w.ok()) return w.status();
    return std::unique_ptr<MessageWriter>(new CrashingWriter(std::move(*w)));
  }
  Status SetFlags(const Folder& f, const std::vector<MessageMeta>& m) override {
    return After(MaildirStore::SetFlags(f, m));
  }
  Status DeleteMessage(const Folder& f, const std::string& k) override {
    return After(MaildirStore::DeleteMessage(f, k));
  }
  Result<std::vector<std::string>> MoveMessages(const Folder& from,
                                                const std::vector<std::string>& keys,
                                                const Folder& to) override {
    // One message at a time, so the pass can die between two of one batch.
    std::vector<std::string> out;
    for (const auto& key : keys) {
      auto moved = MaildirStore::MoveMessages(from, {key}, to);
      if (!moved.ok()) return moved.status();
      out.push_back(moved->front());
      Wrote();
    }
    return out;
  }
  Status RenameFolder(const Folder& f, const Folder& t) override {
    return After(MaildirStore::RenameFolder(f, t));
  }
  Status DeleteFolder(const Folder& f) override { return After(MaildirStore::DeleteFolder(f)); }
};

TEST(DeltaPass, APassKilledAfterAnyWriteEndsAsAnUninterruptedOneWhenRunAgain) {
  for (int crash_after = 1;; ++crash_after) {
    TempDir t;
    MaildirMailbox source(t.path() / "source"), target(t.path() / "target");
    Fill(source);
    {
      DeltaScenario s(source, target, t.path() / "journal.db");
      ASSERT_TRUE(s.Copy().ok());
    }
    FirstChanges(source);
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      g_crash_after = crash_after;
      auto j = Journal::Open((t.path() / "journal.db").string());
      if (!j.ok()) _exit(2);
      auto id = (*j)->Register("Alias=alice", 2, "CN=alice,DC=x");
      auto real_map = (*j)->MessagesOf(*id);
      CrashingMap map(*real_map);
      MailStoreOptions ro;
      ro.read_only = true;
      MaildirStore src((t.path() / "source").string(), ro);
      CrashingStore dst((t.path() / "target").string(), MailStoreOptions{});
      DeltaOptions options;
      options.max_deletions = 50;
      auto stats = SyncMailbox(src, dst, map, options, {});
      _exit(stats.ok() ? 0 : 1);
    }
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    int code = WEXITSTATUS(status);
    ASSERT_TRUE(code == 0 || code == 3) << "the pass failed before its crash " << crash_after;
    DeltaScenario rerun(source, target, t.path() / "journal.db");
    auto stats = rerun.Sync();
    ASSERT_TRUE(stats.ok()) << stats.status().ToString();
    ExpectSame(source.State(), target.State());
    if (::testing::Test::HasFailure()) {
      ADD_FAILURE() << "after a crash at write " << crash_after;
      return;
    }
    // The rerun leaves nothing for a third pass to do.
    auto idle = rerun.Sync();
    ASSERT_TRUE(idle.ok());
    EXPECT_EQ(idle->new_messages + idle->moved + idle->expunged + idle->flags_changed, 0u)
        << "after a crash at write " << crash_after;
    if (code == 0) break;  // the pass finished before its crash: every write was covered
  }
}

}  // namespace
}  // namespace cm
