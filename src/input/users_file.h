// The users file (SPEC §3): what `Get-Mailbox | Export-Csv` writes. It only identifies mailboxes;
// every attribute is read live from the source directory afterwards.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/problem.h"
#include "core/status.h"

namespace cm {

// Identity columns in precedence order: the first one present in the header is the key.
inline constexpr std::string_view kIdentityColumns[] = {
    "Identity", "DistinguishedName", "PrimarySmtpAddress", "UserPrincipalName", "SamAccountName",
    "Alias",    "ExchangeGuid"};

struct UsersFileRow {
  unsigned long line = 0;  // physical line where the record starts
  std::string identity;
  // Per-row overrides of the run's parameters (empty cell: no override).
  std::optional<std::string> target_database;
  std::optional<std::string> cleanup;
  std::optional<std::string> nt_account_ou;
  // Staged moves (issue 13): StartAfter / CompleteAfter, seconds since the epoch.
  std::optional<int64_t> start_after;
  std::optional<int64_t> complete_after;
  // Priority (issue 14; New-MoveRequest -Priority): the order workers claim mailboxes in,
  // highest first, then in file order. 0 Lowest .. 3 Normal (the default) .. 7 Emergency.
  int priority = 3;
};

// Exchange's move priorities, lowest first: Lowest, Lower, Low, Normal, High, Higher, Highest,
// Emergency. Their index, or an error naming them.
Result<int> ParseMovePriority(std::string_view text);

struct UsersFile {
  std::string path;
  std::string identity_column;
  std::vector<UsersFileRow> rows;
};

// The delimiter to pass when none was chosen: ',' unless the header has ';' and no ','
// (Export-Csv -UseCulture in much of Europe).
inline constexpr char kDetectDelimiter = '\0';

// Parses the file's bytes. Problems that make the whole file unreadable (encoding, quoting, no
// identity column) return an error; row problems (a syntax error, empty identity, duplicates,
// bad override values) are appended to `problems` and the row is left out, so every one is
// reported.
Result<UsersFile> ParseUsersFile(std::string_view bytes, std::string_view path, char delimiter,
                                 Problems& problems);
Result<UsersFile> ReadUsersFile(const std::string& path, char delimiter, Problems& problems);

}  // namespace cm
