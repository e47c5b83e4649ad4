// The journal's tests run on both backends (CROSSMOVE_TEST_JOURNAL, tests/cli/org.h): an SQLite
// file in a folder of the test's own, or a database of its own on a PostgreSQL server that the
// test process starts (scripts/pg-server; prefix pg_).
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "cli/org.h"
#include "input/journal_location.h"
#include "journal/postgres_connection.h"
#include "journal/sqlite_connection.h"
#include "mailstore/temp_dir.h"

namespace cm::testing {

class TestJournal {
 public:
  TestJournal() {
    if (kJournal == JournalBackend::kSqlite) {
      where_ = JournalLocation::File(dir_ / "j.db");
      return;
    }
    PgServer& server = Server();
    where_.kind = JournalLocation::Kind::kPostgres;
    where_.conninfo = server.Url(server.NewDatabase());
    where_.password = PgServer::Password();
    error_ = server.error();
  }
  // Empty when the journal's database is ready.
  const std::string& error() const { return error_; }
  const JournalLocation& where() const { return where_; }
  // Runs SQL on the journal's database from a connection of its own, as another program would
  // (to put the journal into a state a test needs).
  Status Tamper(const std::string& sql) const {
    auto db = kJournal == JournalBackend::kSqlite
                  ? OpenSqlite(where_.path, false)
                  : OpenPostgres(where_.conninfo, where_.password, false);
    if (!db.ok()) return db.status();
    return (*db)->Exec(sql);
  }

 private:
  static PgServer& Server() {
    static PgServer server;  // one per test process, stopped at its exit
    return server;
  }
  TempDir dir_;
  JournalLocation where_;
  std::string error_;
};

}  // namespace cm::testing
