// The source organization's MTA for tests of mail continuity (SPEC §7): a real Postfix that
// looks recipients up in the source directory and delivers by LMTP into the source Dovecot or
// forwards to the target's; and what tests read back without crossmove's code (the fixture's
// addresses, the Message-IDs in each side's mailboxes over IMAP).
#pragma once

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "cli/org.h"
#include "core/proxy_address.h"

namespace cm::testing {

namespace fs = std::filesystem;

// The source organization's MTA (scripts/postfix-server), stopped with the test.
class SourceMta {
 public:
  explicit SourceMta(const Org& org) : org_(org), dir_(org.dir() / "postfix") {
    port_ = testing::FreePort();
    std::vector<std::string> argv = {RepoFile("scripts/postfix-server"),
                                     "start",
                                     dir_.string(),
                                     std::to_string(port_),
                                     "--ldap",
                                     org.url("source"),
                                     "--base",
                                     "DC=fabrikam,DC=test",
                                     "--domains",
                                     "fabrikam.test,fabrikam-legacy.test",
                                     "--source-lmtp",
                                     std::to_string(org.LmtpPort("source")),
                                     "--target",
                                     fmt::format("contoso.test={}", org.LmtpPort("target"))};
    // Active Directory answers no anonymous search: Postfix binds as the organization's admin.
    if (testing::kBackend == testing::Backend::kSamba) {
      argv.insert(argv.end(), {"--bind", "Administrator@FABRIKAM.TEST", "--secret-file",
                               (org.dir() / "directory.secret").string()});
    }
    auto r = RunProgram(argv, org.dir());
    error_ = r.exit_code == 0 ? "" : r.err + r.out;
  }
  ~SourceMta() { RunProgram({RepoFile("scripts/postfix-server"), "kill", dir_.string()}, dir_); }
  const std::string& error() const { return error_; }
  std::string url() const { return fmt::format("smtp://127.0.0.1:{}", port_); }
  // What Postfix logged (deliveries: "to=<...>, relay=127.0.0.1[127.0.0.1]:PORT ... status=sent").
  std::string Log() const { return Slurp(dir_ / "maillog"); }
  // Waits until every accepted message has been delivered.
  std::string Flush() const {
    auto r = RunProgram({RepoFile("scripts/postfix-server"), "flush", dir_.string()}, org_.dir());
    return r.exit_code == 0 ? "" : r.err;
  }
  // Sends one message to each address: address -> the server's code.
  std::map<std::string, int> Send(const std::string& tag,
                                  const std::vector<std::string>& addresses) const {
    std::vector<std::string> argv = {"python3", RepoFile("tests/imap/smtp_send.py"),
                                     fmt::format("127.0.0.1:{}", port_), tag};
    argv.insert(argv.end(), addresses.begin(), addresses.end());
    auto r = RunProgram(argv, org_.dir());
    std::map<std::string, int> codes;
    for (const auto& line : Split(r.out, '\n')) {
      auto cells = Split(line, '\t');
      if (cells.size() == 3) codes[cells[1]] = std::stoi(cells[2]);
    }
    return codes;
  }

 private:
  const Org& org_;
  fs::path dir_;
  int port_ = 0;
  std::string error_;
};

// Every SMTP address of every source mailbox as the fixture had it, with its mailbox's alias;
// the primary also in capitals, as senders write it.
inline std::vector<std::pair<std::string, std::string>> OldAddresses(const Org& org) {
  std::vector<std::pair<std::string, std::string>> out;
  auto fixture = LdifDirectory::Open((org.dir() / "source.ldif").string(), true);
  if (!fixture.ok()) return out;
  auto users = (*fixture)->Search("OU=People,DC=fabrikam,DC=test", Scope::kOneLevel,
                                  Filter::Present("homeMDB"));
  if (!users.ok()) return out;
  for (const auto& u : *users) {
    std::string alias = u.First("mailNickname");
    for (const auto& value : u.Get("proxyAddresses")) {
      auto p = ProxyAddress::Parse(value);
      if (!p.ok() || !p->IsSmtp()) continue;
      out.push_back({p->address(), alias});
      if (p->primary()) out.push_back({AsciiUpper(p->address()), alias});
    }
  }
  return out;
}

// Message-ID -> how many times it is in a side's mailboxes, and in whose.
struct Found {
  std::map<std::string, int> count;
  std::map<std::string, std::string> owner;  // Message-ID -> alias (local part of the user)
};
inline Found MessageIds(const Org& org, const std::string& side) {
  Found found;
  fs::path root =
      org.dir() / (side + "-mail") / (side == "source" ? "fabrikam.test" : "contoso.test");
  std::vector<std::string> argv = {"python3", RepoFile("tests/imap/mailbox_digest.py"),
                                   fmt::format("127.0.0.1:{}", org.ImapPort(side)),
                                   (org.dir() / "imap.secret").string(), "--message-ids"};
  for (const auto& d : fs::directory_iterator(root)) {
    argv.push_back(fmt::format("{}@{}", d.path().filename().string(),
                               side == "source" ? "fabrikam.test" : "contoso.test"));
  }
  auto r = RunProgram(argv, org.dir());
  for (const auto& line : Split(r.out, '\n')) {
    auto cells = Split(line, '|');
    if (cells.size() != 3) continue;
    ++found.count[cells[2]];
    found.owner[cells[2]] = cells[0].substr(0, cells[0].find('@'));
  }
  return found;
}

}  // namespace cm::testing

#define CM_ASSERT_MTA(mta) ASSERT_EQ((mta).error(), "") << "Postfix did not start"
