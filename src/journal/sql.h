// The journal's seam to its database (issue 14): one connection and its statements, with an
// SQLite backend (the embedded default, a file) and a PostgreSQL one (libpq, shared by many
// hosts). The journal's logic and its SQL are written once, in the dialect both speak (`?`
// parameters, INSERT ... ON CONFLICT, RETURNING); what differs (opening, the schema's types,
// how a write transaction begins, row locks, the catalogue) is behind this interface.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace cm {

// A prepared statement: bind (1-based, as `?N` counts), then Step() through its rows.
class SqlStatement {
 public:
  virtual ~SqlStatement() = default;
  virtual SqlStatement& Bind(int index, const std::string& value) = 0;
  virtual SqlStatement& Bind(int index, int64_t value) = 0;
  virtual SqlStatement& BindNull(int index) = 0;
  SqlStatement& Bind(int index, const std::optional<int64_t>& value) {
    return value ? Bind(index, *value) : BindNull(index);
  }
  // true: a row is there to read; false: done; an error status otherwise.
  virtual Result<bool> Step() = 0;
  // Makes the statement ready to run again (its bindings cleared).
  virtual void Reset() = 0;
  virtual std::string Text(int column) const = 0;
  virtual int64_t Int(int column) const = 0;
  virtual bool Null(int column) const = 0;
};

class SqlConnection {
 public:
  enum class Dialect { kSqlite, kPostgres };
  virtual ~SqlConnection() = default;
  virtual Dialect dialect() const = 0;
  // Runs statements without parameters or results (one or several, `;`-separated).
  virtual Status Exec(const std::string& sql) = 0;
  // The statement is prepared when first stepped: errors come from Step().
  virtual std::unique_ptr<SqlStatement> Prepare(const std::string& sql) = 0;
  // A transaction that will write: SQLite takes the write lock at once (BEGIN IMMEDIATE), so two
  // writers never deadlock on an upgrade; PostgreSQL locks rows as it goes (see ForUpdate).
  virtual Status BeginWrite() = 0;
  Status Commit() { return Exec("COMMIT"); }
  void Rollback() { (void)Exec("ROLLBACK"); }
  // Whether a transaction is open (a connection given back to a pool must have none).
  virtual bool InTransaction() const = 0;
  virtual Result<bool> HasTable(const std::string& name) = 0;
  // What follows a SELECT that reads a row the same transaction will change: " FOR UPDATE" on
  // PostgreSQL, nothing on SQLite (BEGIN IMMEDIATE already excludes every other writer).
  std::string_view ForUpdate() const {
    return dialect() == Dialect::kPostgres ? " FOR UPDATE" : "";
  }
};

// Runs `work` in a write transaction: committed when it returns Ok, rolled back otherwise.
template <typename Work>
Status InWriteTransaction(SqlConnection& db, Work&& work) {
  CM_RETURN_IF_ERROR(db.BeginWrite());
  Status s = work();
  if (!s.ok()) {
    db.Rollback();
    return s;
  }
  return db.Commit();
}

// Steps a statement that returns no rows (or whose rows do not matter).
inline Status Run(SqlStatement& statement) {
  auto r = statement.Step();
  return r.ok() ? Status::Ok() : r.status();
}

// Runs an INSERT ... RETURNING id to its end (SQLite keeps a write statement in progress until
// then, and a transaction cannot commit over it): the id, or none when nothing was inserted.
inline Result<std::optional<int64_t>> InsertedId(SqlStatement& insert) {
  auto row = insert.Step();
  if (!row.ok()) return row.status();
  if (!*row) return std::optional<int64_t>();
  int64_t id = insert.Int(0);
  auto end = insert.Step();
  if (!end.ok()) return end.status();
  return std::optional<int64_t>(id);
}

}  // namespace cm
