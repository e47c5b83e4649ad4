#include "journal/sqlite_connection.h"

#include <fmt/format.h>
#include <sqlite3.h>
#include <unistd.h>

namespace cm {

namespace {

class SqliteStatement : public SqlStatement {
 public:
  SqliteStatement(sqlite3* db, const std::string& sql) : db_(db) {
    rc_ = sqlite3_prepare_v2(db, sql.c_str(), -1, &s_, nullptr);
  }
  ~SqliteStatement() override { sqlite3_finalize(s_); }
  SqlStatement& Bind(int i, const std::string& v) override {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  SqlStatement& Bind(int i, int64_t v) override {
    sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  SqlStatement& BindNull(int i) override {
    sqlite3_bind_null(s_, i);
    return *this;
  }
  Result<bool> Step() override {
    if (rc_ != SQLITE_OK) return Error();
    int rc = sqlite3_step(s_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return Error();
  }
  void Reset() override {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  std::string Text(int col) const override {
    const unsigned char* t = sqlite3_column_text(s_, col);
    return t ? std::string(reinterpret_cast<const char*>(t),
                           static_cast<size_t>(sqlite3_column_bytes(s_, col)))
             : "";
  }
  int64_t Int(int col) const override { return sqlite3_column_int64(s_, col); }
  bool Null(int col) const override { return sqlite3_column_type(s_, col) == SQLITE_NULL; }

 private:
  Status Error() const { return Status::IOError(fmt::format("journal: {}", sqlite3_errmsg(db_))); }
  sqlite3* db_;
  sqlite3_stmt* s_ = nullptr;
  int rc_;
};

// Waits for another connection's write lock in 0.2 ms naps for up to 30 s. SQLite's own
// busy_timeout backs off in steps of up to 100 ms, which parallel workers turned into seconds.
int BusyWait(void*, int attempts) {
  if (attempts >= 150000) return 0;
  ::usleep(200);
  return 1;
}

class SqliteConnection : public SqlConnection {
 public:
  explicit SqliteConnection(sqlite3* db) : db_(db) {}
  ~SqliteConnection() override { sqlite3_close(db_); }
  Dialect dialect() const override { return Dialect::kSqlite; }
  Status Exec(const std::string& sql) override {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err ? err : sqlite3_errmsg(db_);
      sqlite3_free(err);
      return Status::IOError(fmt::format("journal: {}", msg));
    }
    return Status::Ok();
  }
  std::unique_ptr<SqlStatement> Prepare(const std::string& sql) override {
    return std::make_unique<SqliteStatement>(db_, sql);
  }
  Status BeginWrite() override { return Exec("BEGIN IMMEDIATE"); }
  bool InTransaction() const override { return !sqlite3_get_autocommit(db_); }
  Result<bool> HasTable(const std::string& name) override {
    auto has = Prepare("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?");
    return has->Bind(1, name).Step();
  }

 private:
  sqlite3* db_;
};

}  // namespace

Result<std::unique_ptr<SqlConnection>> OpenSqlite(const std::string& path, bool read_only) {
  sqlite3* db = nullptr;
  int flags = read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  if (sqlite3_open_v2(path.c_str(), &db, flags | SQLITE_OPEN_FULLMUTEX, nullptr) != SQLITE_OK) {
    std::string why = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return Status::IOError(fmt::format("cannot open journal {}: {}", path, why));
  }
  sqlite3_busy_handler(db, BusyWait, nullptr);
  return std::unique_ptr<SqlConnection>(std::make_unique<SqliteConnection>(db));
}

}  // namespace cm
