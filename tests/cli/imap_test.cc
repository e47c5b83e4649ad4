// What only IMAP stores do, end to end against two real Dovecot servers: content read back from
// both servers, special-use folders, a run killed mid-folder, refusals, a connection cut mid-
// APPEND, TLS, logins, servers without LITERAL+ or with compression, delta passes.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <set>

#include "cli/imap_checks.h"
#include "cli/org.h"
#include "mailstore/hostile_server.h"

namespace cm {
namespace {

using testing::CompareOverImap;
using testing::Org;
using testing::RepoFile;
using testing::RunProgram;
using testing::Slurp;
using testing::Spit;
using testing::Users;
namespace fs = std::filesystem;

// Every target mailbox against its source tree, message for message.
std::string CompareEachMailbox(const Org& org) {
  std::string out;
  for (const auto& user : Users(org)) {
    auto source = testing::MailOf(org.dir() / "source-mail" / "fabrikam.test" / user, true);
    auto target = org.TargetMail(user);
    if (source != target || testing::Total(source) == 0)
      out += user + ":\n" + testing::Difference(target, source);
  }
  return out;
}

// A source Maildir folder written as Dovecot would (the source server finds it on its own).
void AddFolder(const Org& org, const std::string& user, const std::string& dir_name,
               const std::vector<std::string>& bodies) {
  fs::path d = org.dir() / "source-mail" / "fabrikam.test" / user / dir_name;
  for (const char* sub : {"cur", "new", "tmp"}) fs::create_directories(d / sub);
  Spit(d / "maildirfolder", "");
  for (size_t i = 0; i < bodies.size(); ++i)
    Spit(d / "cur" / fmt::format("{}.M{}P7.test,S={}:2,S", 1690000000 + i, i, bodies[i].size()),
         bodies[i]);
  RunProgram({"chown", "-R", "vmail:vmail", d.string()}, org.dir());
}

// A proxy in front of a server (tests/imap/tcp_proxy.py), stopped at the end of the test.
class Proxy {
 public:
  Proxy(const Org& org, int server_port, const std::vector<std::string>& options = {})
      : state_(org.dir() / fmt::format("proxy-{}", server_port)) {
    fs::create_directories(state_);
    std::vector<std::string> argv = {"python3", RepoFile("tests/imap/tcp_proxy.py"),
                                     state_.string(), std::to_string(server_port)};
    argv.insert(argv.end(), options.begin(), options.end());
    ok_ = RunProgram(argv, org.dir()).exit_code == 0;
    port_ = ok_ ? std::stoi(Slurp(state_ / "port")) : 0;
  }
  ~Proxy() {
    for (int i = 0; i < 50 && !fs::exists(state_ / "pid"); ++i) usleep(20000);
    if (fs::exists(state_ / "pid")) kill(std::stoi(Slurp(state_ / "pid")), SIGKILL);
  }
  bool ok() const { return ok_; }
  int port() const { return port_; }
  bool cut() const { return fs::exists(state_ / "cut"); }
  std::string client_log() const { return Slurp(state_ / "client.log"); }

 private:
  fs::path state_;
  bool ok_ = false;
  int port_ = 0;
};

// Points a side's store at another port (a proxy).
bool PointStoreAt(const Org& org, const std::string& side, int port) {
  return org.EditConfig(fmt::format("imap://%u@127.0.0.1:{}/", org.ImapPort(side)),
                        fmt::format("imap://%u@127.0.0.1:{}/", port));
}

TEST(Imap, EveryFolderArrivesByteForByteIntoTheTargetsSentFolder) {
  Org org(3, 150, "CreateSourceContact");
  CM_ASSERT_ORG(org);
  // The target marks its own \Sent folder; the source names its "Sent Items". Deep nesting,
  // non-ASCII letters, '&' and spaces in one more folder of one mailbox.
  ASSERT_EQ(org.RestartDovecot("target", {"--sent", "Sent Messages"}), "");
  AddFolder(org, "alice.adams", ".Archive.2024.Q1.&AMk-quipe &- Co.Tief.Tiefer.Am tiefsten",
            {"Message-ID: <deep1@x>\r\nSubject: deep\r\n\r\nfive levels down\r\n",
             "Message-ID: <deep2@x>\r\nSubject: deeper\r\n\r\n\xc3\xa9t\xc3\xa9\r\n"});
  auto r = org.Run({"run"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_EQ(CompareOverImap(org, "Sent Messages"), "");
  // The target's folder of that use took the mail; no "Sent Items" was made beside it.
  auto target = org.TargetMail("alice.adams");
  size_t sent = 0, sent_items = 0, deep = 0;
  for (const auto& [k, n] : target) {
    sent += k.starts_with(".Sent Messages|") ? n : 0;
    sent_items += k.starts_with(".Sent Items|") ? n : 0;
    deep += k.starts_with(".Archive.2024.Q1.&AMk-quipe &- Co.Tief.Tiefer.Am tiefsten|") ? n : 0;
  }
  EXPECT_GT(sent, 0u);
  EXPECT_EQ(sent_items, 0u);
  EXPECT_EQ(deep, 2u);
}

TEST(Imap, ARunKilledMidFolderResumesWithoutDuplicates) {
  Org pristine(2, 80, "CreateSourceContact");
  CM_ASSERT_ORG(pristine);
  // Killed as the Nth message is recorded: batches of 4 are in flight, some committed by the
  // server and never recorded.
  for (int n : {1, 6, 23, 57}) {
    Org org(pristine);
    CM_ASSERT_ORG(org);
    auto crashed =
        org.Run({"run", "--parallel", "1"}, {fmt::format("CROSSMOVE_CRASH_AFTER_MESSAGES={}", n)});
    ASSERT_EQ(crashed.exit_code, 137) << "after " << n << ": " << crashed.err;
    auto rerun = org.Run({"run"});
    ASSERT_EQ(rerun.exit_code, 0) << "after " << n << ": " << rerun.err << rerun.out;
    EXPECT_EQ(CompareEachMailbox(org), "") << "killed after " << n << " messages";
  }
}

TEST(Imap, AMessageTheTargetRefusesIsCountedAgainstTheLimitAndNamed) {
  Org org(2, 120, "CreateSourceContact");
  CM_ASSERT_ORG(org);
  // About 5% of the generated messages carry a 20-60 KB attachment.
  ASSERT_EQ(org.RestartDovecot("target", {"--max-mail-size", "20000"}), "");
  auto refused = org.Run({"run"});
  EXPECT_EQ(refused.exit_code, 1) << refused.out << refused.err;
  auto status = nlohmann::json::parse(org.Run({"status", "--json"}).out);
  bool over_limit = false;
  for (const auto& m : status["mailboxes"]) {
    if (m["failed_step"] == "copy")
      over_limit |= m["reason"].get<std::string>().find("bad-item-limit 0") != std::string::npos;
  }
  EXPECT_TRUE(over_limit) << status.dump(2);

  auto tolerated = org.Run({"run", "--bad-item-limit", "100"});
  ASSERT_EQ(tolerated.exit_code, 0) << tolerated.out << tolerated.err;
  // The report names each refused message, its folder and the server's reason.
  std::string report = org.Read("crossmove-report.csv");
  EXPECT_NE(report.find("[LIMIT]"), std::string::npos) << report;
  size_t big = 0;
  for (const auto& user : Users(org)) {
    auto source = testing::MailOf(org.dir() / "source-mail" / "fabrikam.test" / user, true);
    auto target = org.TargetMail(user);
    for (const auto& [k, n] : source) {
      // Everything under the limit arrived; everything over it is in the report.
      if (target.count(k)) continue;
      ++big;
    }
  }
  EXPECT_GT(big, 0u);
  EXPECT_EQ(testing::Occurrences(report, "[LIMIT]"), big) << report;
}

// Moves the organization while a proxy cuts the target connection after `bytes`: the run
// completes, the cut happened, and every mailbox arrived whole, once.
void MoveThroughACut(const Org& org, const std::string& bytes) {
  Proxy proxy(org, org.ImapPort("target"), {"--cut-after", bytes});
  ASSERT_TRUE(proxy.ok());
  ASSERT_TRUE(PointStoreAt(org, "target", proxy.port()));
  auto r = org.Run({"run"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_TRUE(proxy.cut()) << "the connection was never cut";
  EXPECT_EQ(CompareEachMailbox(org), "");
}

TEST(Imap, AConnectionCutMidAppendIsRetriedWithoutADuplicate) {
  Org org(1, 60, "CreateSourceContact");
  CM_ASSERT_ORG(org);
  MoveThroughACut(org, "60000");
}

// A large message streams alone; a proxy cuts the target connection mid-APPEND (after 8 MB):
// the pass starts again on a new connection and the message arrives whole, once.
TEST(Imap, ATargetCutDuringALargeAppendResumesTheMessageFromItsStart) {
  Org org(1, 5, "CreateSourceContact");
  CM_ASSERT_ORG(org);
  std::vector<std::string> big;
  for (uint32_t k = 0; k < 3; ++k) big.push_back(testing::MakeMessage(100 + k, (5u << 20) + k));
  AddFolder(org, Users(org)[0], ".Large", big);
  MoveThroughACut(org, "8000000");
}

// A source server that lies (tests/imap/hostile_imap.py): every lie fails the mailbox with the
// server's mistake named, before anything is cleaned up; the honest server then completes it,
// and the target holds the server's exact bytes (read back over IMAP by mailbox_digest.py).
TEST(Imap, ASourceThatLiesFailsTheMailboxAndNothingIsCleanedUp) {
  Org org(1, 1, "CreateSourceContact");
  CM_ASSERT_ORG(org);
  const std::string user = Users(org)[0];
  const std::string user_dn = "CN=Alice Adams,OU=People,DC=fabrikam,DC=test";
  ASSERT_TRUE(org.Directory("source")->Read(user_dn).ok()) << user;
  std::vector<testing::Msg> mail = {{1, testing::MakeMessage(1, 1200)},
                                    {2, testing::MakeMessage(2, (2u << 20) + 333)},
                                    {3, testing::MakeMessage(3, 4000)}};
  // Every scenario on one port: the journal keeps the store a mailbox was snapshotted with.
  const int port = testing::FreePort();
  ASSERT_TRUE(org.EditConfig(fmt::format("imap://%u@127.0.0.1:{}/", org.ImapPort("source")),
                             fmt::format("imap://%u@127.0.0.1:{}/", port)));
  struct Lie {
    nlohmann::json faults;
    std::string says;
  };
  // In this order: each lie must meet messages not copied yet (the large one first).
  for (const Lie& lie : std::vector<Lie>{
           {{{"reorder", "reverse"}, {"partial_origin_lie", true}}, "origin"},
           {{{"ok_only", true}}, "though it still lists it"},
           {{{"omit_uids", {2}}, {"apply_to_listing", true}}, "but the server listed only"},
           {{{"wrong_uid", {{"3", 1}}}}, "which was not asked for"},
           {{{"omit_uids", {3}}}, "though it still lists it"},
           {{{"size_lie", {{"3", -7}}}}, "listed it as"}}) {
    SCOPED_TRACE(lie.faults.dump());
    testing::HostileServer server("INBOX", mail, lie.faults, {}, port);
    ASSERT_EQ(server.port(), port);
    auto r = org.Run({"run"});
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_NE((r.out + r.err).find(lie.says), std::string::npos) << r.out << r.err;
    EXPECT_EQ(r.out.find("1 of 1 mailboxes moved"), std::string::npos) << r.out;
    EXPECT_TRUE(org.Directory("source")->Read(user_dn).ok()) << "cleaned up after a bad copy";
  }
  testing::HostileServer honest("INBOX", mail, {{"reorder", "reverse"}, {"interleave", true}}, {},
                                port);
  ASSERT_EQ(honest.port(), port);
  auto done = org.Run({"run"});
  ASSERT_EQ(done.exit_code, 0) << done.out << done.err;
  EXPECT_FALSE(org.Directory("source")->Read(user_dn).ok());
  std::set<std::string> want, got;
  for (const auto& m : mail) {
    fs::path f = org.dir() / fmt::format("message-{}", m.uid);
    Spit(f, m.bytes);
    want.insert(testing::Sha256(f));
  }
  for (const auto& [line, n] : org.TargetMail(user)) {
    auto parts = Split(line, '|');
    ASSERT_GE(parts.size(), 2u) << line;
    EXPECT_EQ(parts[0], "INBOX") << line;
    EXPECT_EQ(n, 1) << line;
    got.insert(parts[1]);
  }
  EXPECT_EQ(got, want);
}

TEST(Imap, UnchangedFoldersCostNoListingInTheDeltaPasses) {
  Org org(1, 60, "CreateSourceContact");
  CM_ASSERT_ORG(org);
  Proxy proxy(org, org.ImapPort("source"));
  ASSERT_TRUE(proxy.ok());
  ASSERT_TRUE(PointStoreAt(org, "source", proxy.port()));
  ASSERT_EQ(org.Run({"run"}).exit_code, 0);
  // Each folder is listed once, by the copy (the snapshot's counts come from STATUS): the
  // verification's LIST-STATUS shows every folder's UIDVALIDITY, UIDNEXT, MESSAGES and
  // HIGHESTMODSEQ as they were before that listing, so it is still the folder; the final delta
  // pass and the sweep learn the same from one LIST-STATUS each, and list no folder.
  std::string sent = proxy.client_log();
  size_t folders = 0;
  for (const auto& d : fs::recursive_directory_iterator(org.dir() / "source-mail"))
    folders += d.is_directory() && d.path().filename() == "cur";
  EXPECT_EQ(testing::Occurrences(sent, "UID FETCH 1:* "), folders) << sent.substr(0, 2000);
  EXPECT_EQ(testing::Occurrences(sent, "LIST \"\" \"*\" RETURN"),
            5u);  // snapshot, copy, verify, delta, sweep
  // Two logins: the preflight's (before anything is written), and one for the move from its
  // snapshot to its sweep (a pass whose every mailbox has a worker keeps the connection).
  EXPECT_EQ(testing::Occurrences(sent, " AUTHENTICATE ") + testing::Occurrences(sent, " LOGIN "),
            2u)
      << sent.substr(0, 2000);
}

// Verification reads the target back with what it holds of each copy (flags, date, size) in
// the same pass as the bytes, and large copies by partial fetches after listing them: whatever
// happened to the target's files since the sync is found, in small and large messages alike,
// before any source is touched, and the next run repairs it. Checked on the files themselves.
TEST(Imap, CompleteFindsEveryChangeTheTargetsFilesTookSinceTheSync) {
  Org org(1, 30, "CreateSourceContact");
  CM_ASSERT_ORG(org);
  auto body_of = [](size_t size, char fill) {
    std::string b = "Message-ID: <big-" + std::string(1, fill) + "@x>\r\nSubject: big\r\n\r\n";
    while (b.size() + 80 <= size) b += std::string(78, fill) + "\r\n";
    b += std::string(size - b.size() - 2, fill) + "\r\n";
    return b;
  };
  // 3 MiB (read in 1 MiB parts), 700 KB (listed first: may not fit one part as the target
  // stores it), 2 MiB.
  AddFolder(org, "alice.adams", ".Big",
            {body_of(3u << 20, 'a'), body_of(700000, 'b'), body_of(2u << 20, 'c')});
  std::string source_before = org.DirectoryText("source");
  auto sync = org.Run({"run", "--suspend-when-ready"});
  ASSERT_EQ(sync.exit_code, 0) << sync.err << sync.out;
  ASSERT_EQ(CompareEachMailbox(org), "");

  fs::path mail = org.dir() / "target-mail" / "contoso.test" / "alice.adams";
  auto files_of = [](const fs::path& cur) {
    std::vector<fs::path> files;
    for (const auto& f : fs::directory_iterator(cur)) files.push_back(f.path());
    std::sort(files.begin(), files.end(), [](const fs::path& a, const fs::path& b) {
      return fs::file_size(a) > fs::file_size(b);
    });
    return files;
  };
  // One letter changed at about `share` of the file (Dovecot keeps its files with LF line ends:
  // a line end changed would change the size the server has on record for the message).
  auto flip = [](const fs::path& file, double share) {
    std::string bytes = Slurp(file);
    size_t at = static_cast<size_t>(static_cast<double>(bytes.size()) * share);
    while (at < bytes.size() && !std::isalpha(static_cast<unsigned char>(bytes[at]))) ++at;
    ASSERT_LT(at, bytes.size()) << file;
    bytes[at] ^= 0x01;
    Spit(file, bytes);
  };
  std::vector<fs::path> big = files_of(mail / ".Big" / "cur");
  ASSERT_EQ(big.size(), 3u);
  flip(big[0], 0.95);  // in the last 1 MiB part of the 3 MiB message
  fs::remove(big[1]);  // the 2 MiB message lost
  flip(big[2], 0.9);   // the 700 KB message
  std::vector<fs::path> inbox = files_of(mail / "cur");
  ASSERT_FALSE(inbox.empty());
  flip(inbox[0], 0.5);  // a small message
  auto complete = org.Run({"complete", "--all"});
  EXPECT_EQ(complete.exit_code, 1) << complete.err << complete.out;
  std::string said = complete.out + complete.err;
  EXPECT_EQ(testing::Occurrences(said, "content differs"), 3u) << said;
  EXPECT_EQ(testing::Occurrences(said, "missing from target Big"), 1u) << said;
  EXPECT_EQ(org.DirectoryText("source"), source_before) << "a source was touched";

  auto repaired = org.Run({"complete", "--all"});
  ASSERT_EQ(repaired.exit_code, 0) << repaired.err << repaired.out;
  EXPECT_NE(org.DirectoryText("source"), source_before);
  EXPECT_EQ(CompareEachMailbox(org), "") << "every message as in the source, once";
}

TEST(Imap, ServersWithoutLiteralPlusOrWithCompressionGetTheSameMail) {
  for (std::string option : {"--no-literal-plus", "--compress"}) {
    Org org(1, 40, "CreateSourceContact");
    CM_ASSERT_ORG(org);
    ASSERT_EQ(org.RestartDovecot("target", {option}), "");
    ASSERT_EQ(org.RestartDovecot("source", {option}), "");
    Proxy proxy(org, org.ImapPort("target"));
    ASSERT_TRUE(proxy.ok());
    ASSERT_TRUE(PointStoreAt(org, "target", proxy.port()));
    auto r = org.Run({"run"});
    ASSERT_EQ(r.exit_code, 0) << option << ": " << r.err << r.out;
    EXPECT_EQ(CompareEachMailbox(org), "") << option;
    std::string sent = proxy.client_log();
    if (option == "--compress") {
      EXPECT_NE(sent.find("COMPRESS DEFLATE\r\n"), std::string::npos);
    } else {
      // Every literal waited for the server's "+": none was sent as {n+}.
      EXPECT_EQ(sent.find("+}\r\n"), std::string::npos);
      EXPECT_NE(sent.find("}\r\n"), std::string::npos);
    }
  }
}

TEST(Imap, TlsIsVerifiedUnlessAnAdministratorSaysOtherwise) {
  Org org(1, 20, "CreateSourceContact");
  CM_ASSERT_ORG(org);
  // The target by imaps (TLS from the first byte), the source by STARTTLS on its plain port;
  // both servers have self-signed certificates.
  int source_tls = testing::FreePort(), target_tls = testing::FreePort();
  ASSERT_EQ(org.RestartDovecot("source", {"--imaps", std::to_string(source_tls)}), "");
  ASSERT_EQ(org.RestartDovecot("target", {"--imaps", std::to_string(target_tls)}), "");
  Proxy source_proxy(org, org.ImapPort("source"));
  ASSERT_TRUE(source_proxy.ok());
  std::string source_store = fmt::format("imap://%u@127.0.0.1:{}/\"", source_proxy.port());
  std::string target_store = fmt::format("imaps://%u@127.0.0.1:{}/\"", target_tls);
  ASSERT_TRUE(
      org.EditConfig(fmt::format("imap://%u@127.0.0.1:{}/\"", org.ImapPort("source")),
                     source_store + "\nstarttls = true\nca-file = \"dovecot/source/cert.pem\""));
  ASSERT_TRUE(org.EditConfig(fmt::format("imap://%u@127.0.0.1:{}/\"", org.ImapPort("target")),
                             target_store));
  std::string before = org.DirectoryText("target");
  auto untrusted = org.Run({"run"});
  EXPECT_EQ(untrusted.exit_code, 3) << untrusted.out << untrusted.err;
  EXPECT_NE(untrusted.err.find(fmt::format("127.0.0.1:{}", target_tls)), std::string::npos);
  EXPECT_NE(untrusted.err.find("certificate"), std::string::npos) << untrusted.err;
  EXPECT_EQ(org.DirectoryText("target"), before);
  EXPECT_FALSE(fs::exists(org.dir() / "crossmove.journal"));

  ASSERT_TRUE(org.EditConfig(target_store, target_store + "\ntls-verify = false"));
  auto unchecked = org.Run({"run"});
  ASSERT_EQ(unchecked.exit_code, 0) << unchecked.err << unchecked.out;
  EXPECT_NE(unchecked.err.find("tls-verify = false: the certificates of imaps://"),
            std::string::npos)
      << unchecked.err;
  EXPECT_EQ(CompareEachMailbox(org), "");
  // The source's login went inside TLS: nothing after STARTTLS is readable on the wire.
  std::string wire = source_proxy.client_log();
  EXPECT_NE(wire.find("STARTTLS\r\n"), std::string::npos);
  EXPECT_EQ(wire.find("AUTHENTICATE"), std::string::npos);
}

TEST(Imap, AWrongAdminPasswordIsAProblemBeforeAnythingIsWritten) {
  Org org(2, 20, "CreateSourceContact");
  CM_ASSERT_ORG(org);
  Spit(org.dir() / "imap.secret", "not-the-password\n");
  std::string source = org.DirectoryText("source"), target = org.DirectoryText("target");
  auto r = org.Run({"run"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("users.csv:3: source mailbox"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("AUTHENTICATE PLAIN as migrator for alice.adams@fabrikam.test"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("not-the-password"), std::string::npos) << "the secret was printed";
  EXPECT_EQ(org.DirectoryText("source"), source);
  EXPECT_EQ(org.DirectoryText("target"), target);
  EXPECT_FALSE(fs::exists(org.dir() / "crossmove.journal"));
}

// `plan` logs in as `run` does: a wrong admin password fails the plan (source mailboxes and the
// target server's admin login), not the run that follows it.
TEST(Imap, PlanLogsInToEveryStoreAsRunDoes) {
  Org org(2, 4, "CreateSourceContact");
  CM_ASSERT_ORG(org);
  auto good = org.Run({"plan"});
  ASSERT_EQ(good.exit_code, 0) << good.err << good.out;
  Spit(org.dir() / "imap.secret", "not-the-password\n");
  auto r = org.Run({"plan"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("users.csv:3: source mailbox"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(".store: admin 'migrator' cannot log in to imap://"), std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("not-the-password"), std::string::npos) << "the secret was printed";
}

TEST(Imap, AServerThatIsDownIsExitThree) {
  Org org(1, 10, "CreateSourceContact");
  CM_ASSERT_ORG(org);
  ASSERT_TRUE(PointStoreAt(org, "source", testing::FreePort()));
  auto r = org.Run({"run"});
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_NE(r.err.find("cannot connect"), std::string::npos) << r.err;
}

TEST(Imap, UsersCanLogInWithTheirOwnPasswordsWhereThereIsNoAdmin) {
  Org org(2, 30, "MailEnableSourceAccount");
  CM_ASSERT_ORG(org);
  // Each user's own password, on both servers; crossmove reads them from a 0600 file.
  std::string table, source_users, target_users;
  for (const auto& user : Users(org)) {
    table += fmt::format("{0}@fabrikam.test:src-{0}\n{0}@contoso.test:dst-{0}\n", user);
    source_users += fmt::format("{0}@fabrikam.test:{{PLAIN}}src-{0}\n", user);
    target_users += fmt::format("{0}@contoso.test:{{PLAIN}}dst-{0}\n", user);
  }
  Spit(org.dir() / "dovecot" / "source" / "users", source_users);
  Spit(org.dir() / "dovecot" / "target" / "users", target_users);
  ASSERT_EQ(org.RestartDovecot("source"), "");
  ASSERT_EQ(org.RestartDovecot("target"), "");
  Spit(org.dir() / "passwords", table);
  fs::permissions(org.dir() / "passwords", fs::perms::owner_read | fs::perms::owner_write);
  const std::string admin = "admin = \"migrator\"\ncredential = \"file:imap.secret\"";
  ASSERT_TRUE(org.EditConfig(admin, "user-credentials = \"file:passwords\""));
  ASSERT_TRUE(org.EditConfig(admin, "user-credentials = \"file:passwords\""));
  auto r = org.Run({"run"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_EQ(CompareEachMailbox(org), "");
}

TEST(Imap, MaildirAndImapStoresMoveIntoEachOther) {
  // Maildir -> IMAP: the source read from its files, the target a server.
  Org to_imap(2, 60, "CreateSourceContact");
  CM_ASSERT_ORG(to_imap);
  ASSERT_TRUE(to_imap.EditConfig(fmt::format("imap://%u@127.0.0.1:{}/", to_imap.ImapPort("source")),
                                 "maildir:source-mail/%d/%n"));
  // A message with bare LF line ends, as some MTAs deliver: sent as it is; the server counts
  // (and serves) its line ends as CRLF, which verification must allow for.
  const std::string lf = "Message-ID: <lf@x>\nSubject: LF only\n\nline one\nline two\n";
  AddFolder(to_imap, "alice.adams", ".Unix", {lf});
  auto r = to_imap.Run({"run"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  fs::remove_all(to_imap.dir() / "source-mail" / "fabrikam.test" / "alice.adams" / ".Unix");
  std::string crlf_sha;
  for (const auto& [k, n] : to_imap.TargetMail("alice.adams")) {
    if (k.starts_with(".Unix|")) crlf_sha = k.substr(6, 64);
  }
  std::string crlf;
  for (char c : lf) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  Spit(to_imap.dir() / "lf-as-crlf", crlf);
  EXPECT_EQ(crlf_sha, testing::Sha256(to_imap.dir() / "lf-as-crlf"));
  std::string rest;
  for (const auto& user : Users(to_imap)) {
    auto source = testing::MailOf(to_imap.dir() / "source-mail" / "fabrikam.test" / user, true);
    auto target = to_imap.TargetMail(user);
    std::erase_if(target, [](const auto& e) { return e.first.starts_with(".Unix|"); });
    if (source != target) rest += user + ":\n" + testing::Difference(target, source);
  }
  EXPECT_EQ(rest, "");

  // IMAP -> Maildir: the source a server, the target files.
  Org to_maildir(2, 60, "CreateSourceContact");
  CM_ASSERT_ORG(to_maildir);
  ASSERT_TRUE(
      to_maildir.EditConfig(fmt::format("imap://%u@127.0.0.1:{}/", to_maildir.ImapPort("target")),
                            "maildir:maildir-target/%d/%n"));
  r = to_maildir.Run({"run"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  for (const auto& user : Users(to_maildir)) {
    auto source = testing::MailOf(to_maildir.dir() / "source-mail" / "fabrikam.test" / user, true);
    auto target = testing::MailOf(to_maildir.dir() / "maildir-target" / "contoso.test" / user);
    EXPECT_TRUE(source == target) << user << "\n" << testing::Difference(target, source);
  }
}

}  // namespace
}  // namespace cm
