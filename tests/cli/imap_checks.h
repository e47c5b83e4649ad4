// What the IMAP scenario tests read back without crossmove's code: both Dovecot servers through
// tests/imap/compare_mailboxes.py (Python imaplib).
#pragma once

#include <fmt/format.h>

#include <filesystem>
#include <string>
#include <vector>

#include "cli/org.h"

namespace cm::testing {

// The source organization's users (the local parts of their mailboxes).
inline std::vector<std::string> Users(const Org& org) {
  namespace fs = std::filesystem;
  std::vector<std::string> users;
  for (const auto& d : fs::directory_iterator(org.dir() / "source-mail" / "fabrikam.test"))
    users.push_back(d.path().filename().string());
  return users;
}

// Reads both servers and compares every mailbox (tests/imap/compare_mailboxes.py); "" when
// every message is there once, byte for byte, with its flags, keywords, date, folder and
// subscription.
inline std::string CompareOverImap(const Org& org, const std::string& sent = "Sent") {
  std::string differences;
  for (const auto& user : Users(org)) {
    auto r =
        RunProgram({"python3", RepoFile("tests/imap/compare_mailboxes.py"),
                    fmt::format("127.0.0.1:{}", org.ImapPort("source")), user + "@fabrikam.test",
                    fmt::format("127.0.0.1:{}", org.ImapPort("target")), user + "@contoso.test",
                    "--secret-file", (org.dir() / "imap.secret").string(), "--map",
                    "Sent Items=" + sent, "--map", "Deleted Items=Trash"},
                   org.dir());
    if (r.exit_code != 0) differences += r.out + r.err;
  }
  return differences;
}

}  // namespace cm::testing
