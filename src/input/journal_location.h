// Where a journal lives (issue 14): `journal = "PATH"` or `"sqlite:PATH"`, a file on this host
// (the embedded default), or `"postgresql://USER@HOST:PORT/DB"`, a database that the runs of
// many hosts share. A password never sits in the URL (it would be in every message and `ps`
// listing that shows the setting); it comes from `journal-credential` or libpq's ~/.pgpass.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace cm {

struct JournalLocation {
  enum class Kind { kSqlite, kPostgres };
  Kind kind = Kind::kSqlite;
  std::string path;            // kSqlite: the database file
  std::string conninfo;        // kPostgres: the URL, without a password
  std::string password;        // kPostgres: the credential's text, never shown
  int64_t lease_seconds = 60;  // kPostgres: how long a run's claim lasts without its heartbeat
  // How messages name it: the file's path, or the URL.
  const std::string& shown() const { return kind == Kind::kSqlite ? path : conninfo; }
  bool postgres() const { return kind == Kind::kPostgres; }
  static JournalLocation File(std::string path) {
    JournalLocation where;
    where.path = std::move(path);
    return where;
  }
};

// Reads a `journal` value. A URL with a password in it is refused (say where it belongs).
Result<JournalLocation> ParseJournalLocation(std::string_view spec);

// Whether a `journal` value names a PostgreSQL database (a text check, for the config's rules:
// which files sit beside it).
bool IsPostgresJournal(std::string_view spec);

}  // namespace cm
