#include "journal/postgres_connection.h"

#include <fmt/format.h>
#include <libpq-fe.h>

#include <cctype>
#include <cstdlib>
#include <vector>

namespace cm {

std::string PostgresParameters(const std::string& sql, int* count) {
  std::string out;
  out.reserve(sql.size() + 16);
  int next = 0, highest = 0;
  char quote = 0;
  for (size_t i = 0; i < sql.size(); ++i) {
    char c = sql[i];
    if (quote) {
      if (c == quote) quote = 0;
      out += c;
      continue;
    }
    if (c == '\'' || c == '"') {
      quote = c;
      out += c;
      continue;
    }
    if (c != '?') {
      out += c;
      continue;
    }
    size_t digits = i + 1;
    while (digits < sql.size() && std::isdigit(static_cast<unsigned char>(sql[digits]))) ++digits;
    int index = digits > i + 1 ? std::atoi(sql.substr(i + 1, digits - i - 1).c_str()) : ++next;
    if (digits > i + 1) next = index;
    highest = std::max(highest, index);
    out += fmt::format("${}", index);
    i = digits - 1;
  }
  if (count) *count = highest;
  return out;
}

namespace {

// Parameters go as text with their type named (int8, text): PostgreSQL cannot infer the type of
// one in a select list (INSERT ... SELECT ?, ...), and would take it as text.
constexpr Oid kInt8 = 20, kText = 25;

// Opens the connection again when the server ended it (a restart, a worker whose session was
// ended when another took over its mailboxes), with the session's settings; false when it
// cannot. A transaction that was open is gone with the old session: the caller's statement
// fails, and the next one runs on the new session.
bool Recover(PGconn* conn, const std::vector<std::string>& session_settings);

class PostgresStatement : public SqlStatement {
 public:
  PostgresStatement(PGconn* conn, const std::string& sql,
                    const std::vector<std::string>* session_settings)
      : conn_(conn), session_settings_(session_settings) {
    sql_ = PostgresParameters(sql, &count_);
    values_.resize(static_cast<size_t>(count_));
    set_.assign(static_cast<size_t>(count_), false);
    types_.assign(static_cast<size_t>(count_), 0);
  }
  ~PostgresStatement() override { PQclear(result_); }
  SqlStatement& Bind(int i, const std::string& v) override { return Set(i, v, kText, true); }
  SqlStatement& Bind(int i, int64_t v) override { return Set(i, std::to_string(v), kInt8, true); }
  SqlStatement& BindNull(int i) override { return Set(i, "", 0, false); }
  Result<bool> Step() override {
    if (!result_) {
      std::vector<const char*> values(static_cast<size_t>(count_), nullptr);
      for (size_t i = 0; i < values.size(); ++i) values[i] = set_[i] ? values_[i].c_str() : nullptr;
      bool idle = PQtransactionStatus(conn_) == PQTRANS_IDLE;
      result_ = PQexecParams(conn_, sql_.c_str(), count_, types_.data(), values.data(), nullptr,
                             nullptr, 0);
      ExecStatusType st = PQresultStatus(result_);
      if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK && idle &&
          PQstatus(conn_) == CONNECTION_BAD && Recover(conn_, *session_settings_)) {
        // Outside a transaction: the statement alone is run again, on the new session.
        PQclear(result_);
        result_ = PQexecParams(conn_, sql_.c_str(), count_, types_.data(), values.data(), nullptr,
                               nullptr, 0);
        st = PQresultStatus(result_);
      }
      if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        Status error = Status::IOError(
            fmt::format("journal: {}",
                        Trimmed(result_ ? PQresultErrorMessage(result_) : PQerrorMessage(conn_))));
        PQclear(result_);
        result_ = nullptr;
        return error;
      }
      row_ = -1;
    }
    ++row_;
    return row_ < PQntuples(result_);
  }
  void Reset() override {
    PQclear(result_);
    result_ = nullptr;
    set_.assign(set_.size(), false);
    types_.assign(types_.size(), 0);
  }
  std::string Text(int col) const override {
    return std::string(PQgetvalue(result_, row_, col),
                       static_cast<size_t>(PQgetlength(result_, row_, col)));
  }
  int64_t Int(int col) const override { return std::atoll(PQgetvalue(result_, row_, col)); }
  bool Null(int col) const override { return PQgetisnull(result_, row_, col) != 0; }

  // libpq's message on one line: its lines ("server closed the connection unexpectedly\n\tThis
  // probably means ...") joined by "; ".
  static std::string Trimmed(std::string message) {
    while (!message.empty() && std::isspace(static_cast<unsigned char>(message.back())))
      message.pop_back();
    std::string out;
    for (size_t i = 0; i < message.size(); ++i) {
      if (message[i] != '\n') {
        out += message[i];
        continue;
      }
      while (i + 1 < message.size() && std::isspace(static_cast<unsigned char>(message[i + 1])))
        ++i;
      out += "; ";
    }
    return out;
  }

 private:
  SqlStatement& Set(int i, std::string value, Oid type, bool set) {
    if (i >= 1 && i <= count_) {  // one the SQL does not name is dropped, as SQLite does
      values_[static_cast<size_t>(i - 1)] = std::move(value);
      types_[static_cast<size_t>(i - 1)] = type;
      set_[static_cast<size_t>(i - 1)] = set;
    }
    return *this;
  }
  PGconn* conn_;
  const std::vector<std::string>* session_settings_;
  std::string sql_;
  int count_ = 0;
  std::vector<std::string> values_;
  std::vector<bool> set_;
  std::vector<Oid> types_;
  PGresult* result_ = nullptr;
  int row_ = -1;
};

class PostgresConnection : public SqlConnection {
 public:
  explicit PostgresConnection(PGconn* conn) : conn_(conn) {}
  ~PostgresConnection() override { PQfinish(conn_); }
  Dialect dialect() const override { return Dialect::kPostgres; }
  Status Exec(const std::string& sql) override {
    bool idle = PQtransactionStatus(conn_) == PQTRANS_IDLE;
    PGresult* r = PQexec(conn_, sql.c_str());
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && idle &&
        PQstatus(conn_) == CONNECTION_BAD && sql != "ROLLBACK" && sql != "COMMIT" &&
        Recover(conn_, session_settings_)) {
      PQclear(r);
      r = PQexec(conn_, sql.c_str());
      st = PQresultStatus(r);
    }
    Status s = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK
                   ? Status::Ok()
                   : Status::IOError(fmt::format(
                         "journal: {}", PostgresStatement::Trimmed(r ? PQresultErrorMessage(r)
                                                                     : PQerrorMessage(conn_))));
    PQclear(r);
    return s;
  }
  std::unique_ptr<SqlStatement> Prepare(const std::string& sql) override {
    return std::make_unique<PostgresStatement>(conn_, sql, &session_settings_);
  }
  // SET statements the session keeps, made again on a new session after Recover.
  Status Setting(const std::string& sql) {
    CM_RETURN_IF_ERROR(Exec(sql));
    session_settings_.push_back(sql);
    return Status::Ok();
  }
  Status BeginWrite() override { return Exec("BEGIN"); }
  bool InTransaction() const override { return PQtransactionStatus(conn_) != PQTRANS_IDLE; }
  Result<bool> HasTable(const std::string& name) override {
    auto has = Prepare(
        "SELECT 1 FROM information_schema.tables WHERE table_schema=current_schema() AND "
        "table_name=?");
    return has->Bind(1, name).Step();
  }

 private:
  PGconn* conn_;
  std::vector<std::string> session_settings_;
};

bool Recover(PGconn* conn, const std::vector<std::string>& session_settings) {
  PQreset(conn);
  if (PQstatus(conn) != CONNECTION_OK) return false;
  for (const std::string& sql : session_settings) {
    PGresult* r = PQexec(conn, sql.c_str());
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    if (!ok) return false;
  }
  return true;
}

// "NOTICE: relation already exists, skipping" and the like are not for the operator.
void Quiet(void*, const char*) {}

}  // namespace

Result<std::unique_ptr<SqlConnection>> OpenPostgres(const std::string& conninfo,
                                                    const std::string& password, bool read_only,
                                                    int64_t idle_timeout_seconds) {
  std::vector<const char*> keys = {"dbname", "application_name", "connect_timeout"};
  std::vector<const char*> values = {conninfo.c_str(), "crossmove", "10"};
  if (!password.empty()) {
    keys.push_back("password");
    values.push_back(password.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  PGconn* conn = PQconnectdbParams(keys.data(), values.data(), /*expand_dbname=*/1);
  if (!conn) return Status::Unavailable("cannot reach the journal: out of memory");
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string why = PostgresStatement::Trimmed(PQerrorMessage(conn));
    PQfinish(conn);
    return Status::Unavailable(fmt::format("cannot reach the journal: {}", why));
  }
  PQsetNoticeProcessor(conn, Quiet, nullptr);
  auto db = std::make_unique<PostgresConnection>(conn);
  // Text times compare as text and names sort byte by byte, as in SQLite; UTC throughout.
  CM_RETURN_IF_ERROR(db->Setting("SET TIME ZONE 'UTC'"));
  if (read_only)
    CM_RETURN_IF_ERROR(db->Setting("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY"));
  if (idle_timeout_seconds > 0) {
    CM_RETURN_IF_ERROR(db->Setting(
        fmt::format("SET idle_in_transaction_session_timeout = '{}s'", idle_timeout_seconds)));
  }
  return std::unique_ptr<SqlConnection>(std::move(db));
}

}  // namespace cm
