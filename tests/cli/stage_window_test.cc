// A staged move's whole window (issue 13), end to end: an initial sync with suspend-when-ready,
// the user working in the old mailbox (new mail, APPEND, flags and keywords, expunges, a MOVE, a
// RENAME and a DELETE of a folder), a sync pass, more changes, `complete`. Compiled twice:
//  - on two Dovecot servers, two OpenLDAP servers and the source organization's Postfix (mail
//    to the old addresses goes through Postfix throughout; the target is read back over IMAP by
//    tests/imap/compare_mailboxes.py; the directory by ldapsearch);
//  - on the embedded default, Maildir stores and LDIF files (the user's mail program is
//    tests/maildir/maildir_actions.py, new mail is delivered into the Maildir as an LDA does;
//    the trees are compared file by file: bytes, flags, keywords, mtime).
// After every pass the target must equal the source as it is then; the source directory is
// untouched until `complete`; every message delivered to an old mailbox during the window is in
// the new mailbox exactly once at the end. Nothing here goes through crossmove's code but the
// binary itself.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>

#include "cli/imap_checks.h"
#include "cli/org.h"
#include "cli/source_mta.h"

namespace cm {
namespace {

using testing::CompareOverImap;
using testing::Found;
using testing::MessageIds;
using testing::OldAddresses;
using testing::Org;
using testing::RepoFile;
using testing::RunProgram;
using testing::SourceMta;
using testing::Users;
namespace fs = std::filesystem;

constexpr bool kImap = testing::kStores == testing::Stores::kImap;

fs::path SourceTree(const Org& org, const std::string& user) {
  return org.dir() / "source-mail" / "fabrikam.test" / user;
}

const std::vector<std::string> kSync = {"run", "--suspend-when-ready",
                                        "--incremental-sync-interval", "0"};

// A mailbox's messages as the user's mail program names them: IMAP folder -> the Message-IDs
// in it (over IMAP: mailbox_digest.py --message-ids, folders back from its Maildir form; in
// files: maildir_actions.py --message-ids).
std::map<std::string, std::vector<std::string>> MessagesOf(const Org& org, const std::string& side,
                                                           const std::string& user) {
  std::vector<std::string> argv;
  if (kImap) {
    argv = {"python3",
            RepoFile("tests/imap/mailbox_digest.py"),
            fmt::format("127.0.0.1:{}", org.ImapPort(side)),
            (org.dir() / "imap.secret").string(),
            "--message-ids",
            user + (side == "source" ? "@fabrikam.test" : "@contoso.test")};
  } else {
    fs::path tree = side == "source" ? SourceTree(org, user)
                                     : org.dir() / "target-mail" / "contoso.test" / user;
    argv = {"python3", RepoFile("tests/maildir/maildir_actions.py"), tree.string(),
            "--message-ids"};
  }
  auto r = RunProgram(argv, org.dir());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& line : Split(r.out, '\n')) {
    auto cells = Split(line, '|');
    if (kImap && cells.size() == 3) {
      std::string folder = cells[1] == "INBOX" ? "INBOX" : cells[1].substr(1);
      std::replace(folder.begin(), folder.end(), '.', '/');
      out[folder].push_back(cells[2]);
    } else if (!kImap && cells.size() == 2) {
      out[cells[0]].push_back(cells[1]);
    }
  }
  return out;
}
std::map<std::string, std::vector<std::string>> SourceMessages(const Org& org,
                                                               const std::string& user) {
  return MessagesOf(org, "source", user);
}

// Runs the user's mail program (tests/imap/user_actions.py over IMAP, or
// tests/maildir/maildir_actions.py on the files); "" when every action succeeded.
std::string Act(const Org& org, const std::string& user, const std::vector<std::string>& actions) {
  std::vector<std::string> argv =
      kImap
          ? std::vector<std::string>{"python3", RepoFile("tests/imap/user_actions.py"),
                                     fmt::format("127.0.0.1:{}", org.ImapPort("source")),
                                     (org.dir() / "imap.secret").string(), user + "@fabrikam.test"}
          : std::vector<std::string>{"python3", RepoFile("tests/maildir/maildir_actions.py"),
                                     SourceTree(org, user).string()};
  argv.insert(argv.end(), actions.begin(), actions.end());
  auto r = RunProgram(argv, org.dir());
  return r.exit_code == 0 ? "" : user + ": " + r.err + r.out;
}

// A message file of the test's own, for APPEND.
std::string MessageFile(const Org& org, const std::string& name) {
  fs::path file = org.dir() / (name + ".eml");
  testing::Spit(file, fmt::format("From: someone@elsewhere.test\r\nSubject: {0}\r\n"
                                  "Message-ID: <{0}@appended.test>\r\n\r\nappended {0}\r\n",
                                  name));
  return file.string();
}

// Every target mailbox against its source as it is now; "" when equal.
std::string Compare(const Org& org) {
  if (kImap) return CompareOverImap(org);
  std::string out;
  for (const auto& user : Users(org)) {
    auto source = testing::MailOf(SourceTree(org, user), /*as_target_names=*/true);
    auto target = org.TargetMail(user);
    if (source != target) out += user + ":\n" + testing::Difference(target, source);
  }
  return out;
}

// One message, not one delivered during the window, from the first folder (in `order`) that has one
// left; taken out of `pool` so that no message is changed twice in one round.
std::string Take(std::map<std::string, std::vector<std::string>>& pool,
                 const std::vector<std::string>& order, std::string& folder) {
  for (const auto& f : order) {
    auto& ids = pool[f];
    for (size_t i = 0; i < ids.size(); ++i) {
      if (ids[i].find("@crossmove.test>") != std::string::npos) continue;
      std::string id = ids[i];
      ids.erase(ids.begin() + static_cast<long>(i));
      folder = f;
      return id;
    }
  }
  folder.clear();
  return "";
}

TEST(StageWindow, EveryPassLeavesTheTargetEqualToTheSourceAndWindowMailArrivesOnce) {
  Org org(3, 60, "CreateSourceContact");
  CM_ASSERT_ORG(org);
  std::optional<SourceMta> mta;
  if (kImap) {
    mta.emplace(org);
    CM_ASSERT_MTA(*mta);
  }
  // Over IMAP: every SMTP address of every mailbox, through Postfix. In files: one message into
  // each INBOX, as a local delivery agent writes it.
  std::vector<std::string> addresses;
  std::map<std::string, std::string> alias_of;
  if (kImap) {
    for (const auto& [address, alias] : OldAddresses(org)) {
      addresses.push_back(address);
      alias_of[address] = alias;
    }
  } else {
    for (const auto& user : Users(org)) {
      addresses.push_back(user);
      alias_of[user] = user;
    }
  }
  ASSERT_GE(addresses.size(), 3u);
  std::vector<std::pair<std::string, std::string>> sent;  // Message-ID, address
  auto send = [&](const std::string& tag) {
    for (size_t n = 0; n < addresses.size(); ++n)
      sent.push_back({fmt::format("<{}-{}@crossmove.test>", tag, n), addresses[n]});
    if (!kImap) {
      for (size_t n = 0; n < addresses.size(); ++n) {
        fs::path file = org.dir() / fmt::format("{}-{}.eml", tag, n);
        testing::Spit(file, fmt::format("From: sender@elsewhere.test\r\nSubject: {0} {1}\r\n"
                                        "Message-ID: <{0}-{1}@crossmove.test>\r\n\r\nto {2}\r\n",
                                        tag, n, addresses[n]));
        EXPECT_EQ(Act(org, addresses[n], {"append|INBOX|" + file.string() + "||1700000300"}), "");
      }
      return;
    }
    auto codes = mta->Send(tag, addresses);
    for (size_t n = 0; n < addresses.size(); ++n)
      EXPECT_EQ(codes[addresses[n]], 250) << tag << " to " << addresses[n];
    ASSERT_EQ(mta->Flush(), "");
  };
  const std::string source_directory = org.DirectoryText("source");

  // A message in each folder the user renames and deletes later: folders are recognised by
  // their messages (Dovecot 2.3 offers no MAILBOXID). An empty folder renamed leaves an empty
  // one under the old name; a special-use one (Drafts) is never deleted in the target.
  for (const auto& user : Users(org)) {
    EXPECT_EQ(Act(org, user,
                  {"append|Kunden &- Partner|" + MessageFile(org, user + "-0") + "||1690000000",
                   "append|Old Projects|" + MessageFile(org, user + "-00") + "|\\Seen|1690000100"}),
              "");
  }
  send("window-a");  // before the first sync: in the old mailboxes
  auto first = org.Run(kSync);
  ASSERT_EQ(first.exit_code, 0) << first.err << first.out;
  EXPECT_EQ(Compare(org), "") << "after the initial sync";
  EXPECT_EQ(org.DirectoryText("source"), source_directory) << "the sync wrote to the source";

  // Round 1, each user: APPEND (into INBOX and into a new folder), flags and keywords set and
  // cleared, an expunge, a MOVE, a RENAME and a DELETE of a folder; and mail through Postfix.
  for (const auto& user : Users(org)) {
    auto pool = SourceMessages(org, user);
    pool.erase("Kunden &- Partner");  // renamed below
    pool.erase("Old Projects");       // deleted below
    const std::vector<std::string> order = {"INBOX", "Sent Items", "Archive/2023",
                                            "Archive/2024/Q1", "Deleted Items"};
    std::string f1, f2, f3, f4, f5;
    std::string seen = Take(pool, order, f1), labelled = Take(pool, order, f2),
                cleared = Take(pool, order, f3), gone = Take(pool, order, f4),
                moved = Take(pool, {"INBOX", "Sent Items"}, f5);
    ASSERT_FALSE(seen.empty() || labelled.empty() || cleared.empty() || gone.empty() ||
                 moved.empty())
        << user << " has too few messages";
    EXPECT_EQ(Act(org, user,
                  {"append|INBOX|" + MessageFile(org, user + "-1") + "|\\Seen|1700000000",
                   "append|Projects/New|" + MessageFile(org, user + "-2") + "|\\Flagged|1700000100",
                   "flags|" + f1 + "|" + seen + "|\\Seen \\Flagged",
                   "flags|" + f2 + "|" + labelled + "|$Label1 \\Answered",
                   "flags|" + f3 + "|" + cleared + "|", "expunge|" + f4 + "|" + gone,
                   "move|" + f5 + "|" + moved + "|Archive/2023",
                   "rename|Kunden &- Partner|Partners", "delete|Old Projects"}),
              "");
  }
  send("window-b");
  auto second = org.Run(kSync);
  ASSERT_EQ(second.exit_code, 0) << second.err << second.out;
  EXPECT_EQ(Compare(org), "") << "after the first sync pass";
  EXPECT_EQ(org.DirectoryText("source"), source_directory) << "a sync pass wrote to the source";
  // status says what the pass carried: for each mailbox at least the changes above.
  auto status = nlohmann::json::parse(org.Run({"status", "--json"}).out);
  for (const auto& m : status["mailboxes"]) {
    EXPECT_EQ(m["stage"], "synced") << m.dump();
    const auto& d = m["last_delta"];
    ASSERT_TRUE(d.is_object()) << m.dump();
    EXPECT_GE(d["new"].get<int>(), 2) << m.dump();  // two APPENDs, Postfix's mail
    EXPECT_GE(d["flags"].get<int>(), 3) << m.dump();
    EXPECT_EQ(d["expunged"], 2) << m.dump();  // one expunged, one in the deleted folder
    EXPECT_EQ(d["moved"], 1) << m.dump();
    EXPECT_EQ(d["renamed_folders"], 1) << m.dump();
    EXPECT_EQ(d["deleted_folders"], 1) << m.dump();
  }

  // Round 2: the moved message's flags, another expunge and move, a folder with a child renamed.
  for (const auto& user : Users(org)) {
    auto pool = SourceMessages(org, user);
    std::string f1, f2, f3;
    std::string flagged = Take(pool, {"Archive/2023", "INBOX"}, f1),
                gone = Take(pool, {"Partners", "INBOX", "Sent Items"}, f2),
                moved = Take(pool, {"Sent Items", "INBOX"}, f3);
    ASSERT_FALSE(flagged.empty() || gone.empty() || moved.empty()) << user;
    EXPECT_EQ(
        Act(org, user,
            {"flags|" + f1 + "|" + flagged + "|\\Seen $Important", "expunge|" + f2 + "|" + gone,
             "move|" + f3 + "|" + moved + "|Partners", "rename|Archive/2024|Archive/Old",
             "append|Partners|" + MessageFile(org, user + "-3") + "||1700000200"}),
        "");
  }
  send("window-c");  // still in the old mailboxes: the final delta of `complete` carries it
  EXPECT_EQ(org.DirectoryText("source"), source_directory);
  auto complete = org.Run({"complete", "--all"});
  ASSERT_EQ(complete.exit_code, 0) << complete.err << complete.out;
  EXPECT_EQ(Compare(org), "") << "after complete";
  EXPECT_NE(org.DirectoryText("source"), source_directory) << "complete cleaned up nothing";
  status = nlohmann::json::parse(org.Run({"status", "--json"}).out);
  for (const auto& m : status["mailboxes"]) EXPECT_EQ(m["stage"], "completed") << m.dump();

  if (kImap) send("window-d");  // after the move: Postfix forwards to the new mailboxes
  Found target;
  for (const auto& user : Users(org)) {
    for (const auto& [folder, ids] : MessagesOf(org, "target", user)) {
      for (const auto& id : ids) {
        ++target.count[id];
        target.owner[id] = user;
      }
    }
  }
  size_t lost = 0, duplicated = 0, elsewhere = 0;
  std::string details;
  for (const auto& [id, address] : sent) {
    int copies = target.count[id];
    lost += copies == 0;
    duplicated += copies > 1;
    elsewhere += copies == 1 && target.owner[id] != alias_of[address];
    if (copies != 1) details += fmt::format("{} to {}: {} copies\n", id, address, copies);
  }
  EXPECT_EQ(sent.size(), (kImap ? 4 : 3) * addresses.size());
  EXPECT_EQ(lost, 0u) << details;
  EXPECT_EQ(duplicated, 0u) << details;
  EXPECT_EQ(elsewhere, 0u);
  if (kImap) {
    // The last batch went straight to the new mailboxes: not one is in an old one.
    Found source = MessageIds(org, "source");
    for (size_t n = 0; n < addresses.size(); ++n)
      EXPECT_EQ(source.count[fmt::format("<window-d-{}@crossmove.test>", n)], 0) << addresses[n];
  }
  auto verify = kImap ? org.Run({"verify", "--mta", mta->url()}) : org.Run({"verify"});
  EXPECT_EQ(verify.exit_code, 0) << verify.out;
}

}  // namespace
}  // namespace cm
