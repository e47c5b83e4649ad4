#include "journal/journal.h"

#include <fmt/format.h>
#include <signal.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <limits>
#include <thread>

#include "core/strings.h"
#include "core/timestamp.h"
#include "io/file.h"
#include "journal/run_lock.h"

namespace cm {

namespace {

// 2: messages.digest and messages.appended (verification of the bytes as copied, and repair).
constexpr int kSchemaVersion = 2;

const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs(
  id INTEGER PRIMARY KEY, started TEXT NOT NULL, pid INTEGER NOT NULL, host TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS mailboxes(
  id INTEGER PRIMARY KEY,
  identity TEXT NOT NULL UNIQUE COLLATE NOCASE,
  line INTEGER NOT NULL,
  source_dn TEXT NOT NULL,
  state TEXT NOT NULL DEFAULT 'pending',
  failed_step TEXT NOT NULL DEFAULT '',
  reason TEXT NOT NULL DEFAULT '',
  snapshot TEXT NOT NULL DEFAULT '',
  plan TEXT NOT NULL DEFAULT '',
  updated TEXT NOT NULL,
  holder_run INTEGER, holder_pid INTEGER, holder_host TEXT, holder_since TEXT);
CREATE TABLE IF NOT EXISTS steps(
  id INTEGER PRIMARY KEY, mailbox INTEGER NOT NULL, run INTEGER NOT NULL,
  step TEXT NOT NULL, phase TEXT NOT NULL, at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS messages(
  mailbox INTEGER NOT NULL, folder TEXT NOT NULL, source_key TEXT NOT NULL,
  state TEXT NOT NULL, target_folder TEXT NOT NULL DEFAULT '', target_key TEXT NOT NULL DEFAULT '',
  size INTEGER NOT NULL DEFAULT 0, note TEXT NOT NULL DEFAULT '',
  digest TEXT NOT NULL DEFAULT '', appended INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY(mailbox, folder, source_key));
CREATE TABLE IF NOT EXISTS folders(
  mailbox INTEGER NOT NULL, folder TEXT NOT NULL, state TEXT NOT NULL,
  PRIMARY KEY(mailbox, folder));
CREATE TABLE IF NOT EXISTS synced_folders(
  mailbox INTEGER NOT NULL, folder TEXT NOT NULL, state TEXT NOT NULL, id TEXT NOT NULL,
  target_path TEXT NOT NULL, PRIMARY KEY(mailbox, folder));
CREATE TABLE IF NOT EXISTS stages(
  mailbox INTEGER PRIMARY KEY,
  start_after INTEGER, complete_after INTEGER,
  suspend_when_ready INTEGER NOT NULL DEFAULT 0, sync_interval INTEGER NOT NULL DEFAULT 0,
  suspended INTEGER NOT NULL DEFAULT 0, complete_requested INTEGER NOT NULL DEFAULT 0,
  approve_skipped INTEGER NOT NULL DEFAULT 0, last_sync INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS deltas(
  mailbox INTEGER PRIMARY KEY, at INTEGER NOT NULL, new_messages INTEGER NOT NULL,
  flags_changed INTEGER NOT NULL, expunged INTEGER NOT NULL, moved INTEGER NOT NULL,
  renamed_folders INTEGER NOT NULL, deleted_folders INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS forgotten(
  id INTEGER PRIMARY KEY, identity TEXT NOT NULL, source_dn TEXT NOT NULL, state TEXT NOT NULL,
  messages INTEGER NOT NULL, bytes INTEGER NOT NULL, first_step TEXT NOT NULL,
  last_step TEXT NOT NULL, at TEXT NOT NULL,
  map INTEGER, adopted_by INTEGER);
)sql";

// The times and host names a holder is described by (journal/run_lock.h).
std::string Now() { return UtcNow(); }
// A step's time to the second, as every other time is shown.
std::string ShownTime(const std::string& at) {
  return at.size() > 20 && at[19] == '.' ? at.substr(0, 19) + "Z" : at;
}
// A step's time, to the millisecond: a mailbox of a few messages moves within a second, and its
// time (and the report's throughput) would be 0.
std::string StepTime() {
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  std::string whole = FormatIsoTime(ms / 1000);
  return fmt::format("{}.{:03}Z", whole.substr(0, whole.size() - 1), ms % 1000);
}

// A prepared statement that finalizes itself.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) : db_(db) {
    rc_ = sqlite3_prepare_v2(db, sql, -1, &s_, nullptr);
  }
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt& Bind(int i, const std::string& v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& Bind(int i, int64_t v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  // SQLITE_ROW / SQLITE_DONE, or an error status.
  Result<bool> Step() {
    if (rc_ != SQLITE_OK) return Error();
    int rc = sqlite3_step(s_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return Error();
  }
  std::string Text(int col) const {
    const unsigned char* t = sqlite3_column_text(s_, col);
    return t ? std::string(reinterpret_cast<const char*>(t),
                           static_cast<size_t>(sqlite3_column_bytes(s_, col)))
             : "";
  }
  int64_t Int(int col) const { return sqlite3_column_int64(s_, col); }
  double Real(int col) const { return sqlite3_column_double(s_, col); }
  bool Null(int col) const { return sqlite3_column_type(s_, col) == SQLITE_NULL; }

 private:
  Status Error() const { return Status::IOError(fmt::format("journal: {}", sqlite3_errmsg(db_))); }
  sqlite3* db_;
  sqlite3_stmt* s_ = nullptr;
  int rc_;
};

Status Done(Result<bool> r) { return r.ok() ? Status::Ok() : r.status(); }

// Whether the journal has the table (a read-only journal of an earlier version may not).
Result<bool> HasTable(sqlite3* db, const std::string& name) {
  Stmt has(db, "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?");
  return has.Bind(1, name).Step();
}

// Waits for another connection's write lock in 0.2 ms naps for up to 30 s. SQLite's own
// busy_timeout backs off in steps of up to 100 ms, which parallel workers turned into seconds.
int BusyWait(void*, int attempts) {
  if (attempts >= 150000) return 0;
  ::usleep(200);
  return 1;
}

}  // namespace

std::string_view ToString(MailboxState s) {
  switch (s) {
    case MailboxState::kPending:
      return "pending";
    case MailboxState::kSnapshotted:
      return "snapshotted";
    case MailboxState::kTargetProvisioned:
      return "target-provisioned";
    case MailboxState::kContentCopied:
      return "content-copied";
    case MailboxState::kContentVerified:
      return "content-verified";
    case MailboxState::kSourceCleaned:
      return "source-cleaned";
    case MailboxState::kRoutingVerified:
      return "routing-verified";
    case MailboxState::kRolledBack:
      return "rolled-back";
  }
  return "?";
}

Result<MailboxState> ParseMailboxState(std::string_view text) {
  for (auto s :
       {MailboxState::kPending, MailboxState::kSnapshotted, MailboxState::kTargetProvisioned,
        MailboxState::kContentCopied, MailboxState::kContentVerified, MailboxState::kSourceCleaned,
        MailboxState::kRoutingVerified, MailboxState::kRolledBack}) {
    if (ToString(s) == text) return s;
  }
  return Status::InvalidInput(fmt::format("journal: unknown state '{}'", text));
}

Result<std::unique_ptr<Journal>> Journal::Open(const std::string& path) {
  return OpenWritable(path, /*as_run=*/true);
}

Result<std::unique_ptr<Journal>> Journal::OpenForRequests(const std::string& path) {
  return OpenWritable(path, /*as_run=*/false);
}

Result<std::unique_ptr<Journal>> Journal::OpenWritable(const std::string& path, bool as_run) {
  std::unique_ptr<Journal> j(new Journal());
  j->path_ = path;
  // Every directory value is in it: private like the reports. SQLite gives -wal and -shm the
  // database file's mode; those of an older run are tightened too.
  for (const char* suffix : {"", "-wal", "-shm"}) {
    Status s = *suffix ? TightenIfExists(path + suffix) : MakePrivateFile(path);
    if (!s.ok()) return s.Annotate("journal");
  }
  if (sqlite3_open_v2(path.c_str(), &j->db_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    return Status::IOError(fmt::format("cannot open journal {}: {}", path,
                                       j->db_ ? sqlite3_errmsg(j->db_) : "out of memory"));
  }
  sqlite3_busy_handler(j->db_, BusyWait, nullptr);
  // WAL + NORMAL: a commit survives a process crash; the mail store is synced at step ends.
  CM_RETURN_IF_ERROR(j->Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"));
  CM_RETURN_IF_ERROR(j->Exec(kSchema));
  {
    Stmt q(j->db_, "SELECT value FROM meta WHERE key='schema_version'");
    auto row = q.Step();
    if (!row.ok()) return row.status();
    int version = *row ? std::atoi(q.Text(0).c_str()) : kSchemaVersion;
    if (version == 1) {
      // A journal of an earlier crossmove: its copies have no digest, so verification reads
      // their source again; none counts as appended by us, so none is ever removed in a repair.
      CM_RETURN_IF_ERROR(
          j->Exec("ALTER TABLE messages ADD COLUMN digest TEXT NOT NULL DEFAULT '';"
                  "ALTER TABLE messages ADD COLUMN appended INTEGER NOT NULL DEFAULT 0;"
                  "UPDATE meta SET value='2' WHERE key='schema_version';"));
      version = kSchemaVersion;
    }
    if (version != kSchemaVersion) {
      return Status::InvalidInput(
          fmt::format("journal {} has schema version {}, this crossmove reads {}", path, q.Text(0),
                      kSchemaVersion));
    }
  }
  CM_RETURN_IF_ERROR(j->Exec(
      fmt::format("INSERT OR IGNORE INTO meta VALUES('schema_version','{}')", kSchemaVersion)));
  if (as_run) {
    Stmt run(j->db_, "INSERT INTO runs(started, pid, host) VALUES(?,?,?)");
    CM_RETURN_IF_ERROR(Done(
        run.Bind(1, Now()).Bind(2, static_cast<int64_t>(::getpid())).Bind(3, HostName()).Step()));
    j->run_id_ = sqlite3_last_insert_rowid(j->db_);
  }
  if (const char* crash = std::getenv("CROSSMOVE_CRASH_AFTER_STEP"))
    j->crash_after_ = std::atol(crash);
  return j;
}

Result<std::unique_ptr<Journal>> Journal::OpenReadOnly(const std::string& path) {
  std::unique_ptr<Journal> j(new Journal());
  j->path_ = path;
  j->read_only_ = true;
  // A read-only connection neither writes the database nor checkpoints the WAL of a live run.
  int opened =
      sqlite3_open_v2(path.c_str(), &j->db_, SQLITE_OPEN_READONLY | SQLITE_OPEN_FULLMUTEX, nullptr);
  if (opened != SQLITE_OK) {
    return Status::IOError(fmt::format("cannot open journal {}: {}", path,
                                       j->db_ ? sqlite3_errmsg(j->db_) : "out of memory"));
  }
  sqlite3_busy_handler(j->db_, BusyWait, nullptr);
  Stmt q(j->db_, "SELECT value FROM meta WHERE key='schema_version'");
  auto row = q.Step();
  if (!row.ok()) return row.status();
  int version = *row ? std::atoi(q.Text(0).c_str()) : 0;
  // A version-1 journal is upgraded by the next `run`; its mailbox table reads the same.
  if (version != kSchemaVersion && version != 1) {
    return Status::InvalidInput(
        fmt::format("journal {} has schema version {}, this crossmove reads {}", path, version,
                    kSchemaVersion));
  }
  return j;
}

Journal::MapConnections::~MapConnections() {
  for (sqlite3* db : idle) sqlite3_close(db);
}

Journal::~Journal() {
  if (db_ && read_only_) {
    sqlite3_close(db_);
  } else if (db_) {
    Exec(
        fmt::format("UPDATE mailboxes SET holder_run=NULL, holder_pid=NULL, holder_host=NULL, "
                    "holder_since=NULL "
                    "WHERE holder_run={}",
                    run_id_));
    sqlite3_close(db_);
  }
}

Status Journal::Exec(const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    return Status::IOError(fmt::format("journal {}: {}", path_, msg));
  }
  return Status::Ok();
}

void Journal::PauseHook() {
  static const long pause_ms = [] {
    const char* v = std::getenv("CROSSMOVE_PAUSE_MS");
    return v ? std::atol(v) : 0L;
  }();
  if (pause_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms));
}

void Journal::StepTaken() {
  ++steps_;
  if (crash_after_ >= 0 && steps_ >= crash_after_) ::kill(::getpid(), SIGKILL);
}

namespace {
const char* kSelect =
    "SELECT id, identity, line, source_dn, state, failed_step, reason, snapshot, plan, updated, "
    "holder_run, "
    "holder_pid, holder_host, holder_since FROM mailboxes";

Result<JournalMailbox> Row(Stmt& q) {
  JournalMailbox m;
  m.id = q.Int(0);
  m.identity = q.Text(1);
  m.line = static_cast<unsigned long>(q.Int(2));
  m.source_dn = q.Text(3);
  auto state = ParseMailboxState(q.Text(4));
  if (!state.ok()) return state.status();
  m.state = *state;
  m.failed_step = q.Text(5);
  m.reason = q.Text(6);
  m.snapshot = q.Text(7);
  m.plan = q.Text(8);
  m.updated = q.Text(9);
  if (!q.Null(10)) m.holder = Holder{q.Int(10), q.Int(11), q.Text(12), q.Text(13)}.Describe();
  return m;
}
}  // namespace

Result<std::optional<JournalMailbox>> Journal::Find(const std::string& identity) {
  std::lock_guard<std::recursive_mutex> lock(*mu_);
  Stmt q(db_, (std::string(kSelect) + " WHERE identity=?").c_str());
  q.Bind(1, identity);
  auto row = q.Step();
  if (!row.ok()) return row.status();
  if (!*row) return std::optional<JournalMailbox>();
  auto m = Row(q);
  if (!m.ok()) return m.status();
  return std::optional<JournalMailbox>(std::move(*m));
}

Result<std::vector<JournalMailbox>> Journal::All() {
  std::lock_guard<std::recursive_mutex> lock(*mu_);
  Stmt q(db_, (std::string(kSelect) + " ORDER BY id").c_str());
  std::vector<JournalMailbox> out;
  while (true) {
    auto row = q.Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    auto m = Row(q);
    if (!m.ok()) return m.status();
    out.push_back(std::move(*m));
  }
  return out;
}

Result<int64_t> Journal::Register(const std::string& identity, unsigned long line,
                                  const std::string& source_dn) {
  std::lock_guard<std::recursive_mutex> lock(*mu_);
  CM_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  auto failed = [&](Status s) {
    Exec("ROLLBACK");
    return s;
  };
  Stmt ins(db_,
           "INSERT OR IGNORE INTO mailboxes(identity, line, source_dn, updated) VALUES(?,?,?,?)");
  if (Status s = Done(ins.Bind(1, identity)
                          .Bind(2, static_cast<int64_t>(line))
                          .Bind(3, source_dn)
                          .Bind(4, Now())
                          .Step());
      !s.ok())
    return failed(s);
  bool inserted = sqlite3_changes(db_) > 0;
  Stmt q(db_, "SELECT id FROM mailboxes WHERE identity=?");
  q.Bind(1, identity);
  auto row = q.Step();
  if (!row.ok()) return failed(row.status());
  int64_t id = q.Int(0);
  if (inserted) {
    // Moved before and forgotten: this move takes over the map of the copies that move left.
    Stmt earlier(db_,
                 "SELECT map FROM forgotten WHERE identity=? COLLATE NOCASE AND map IS NOT NULL "
                 "AND adopted_by IS NULL ORDER BY id DESC LIMIT 1");
    earlier.Bind(1, identity);
    auto found = earlier.Step();
    if (!found.ok()) return failed(found.status());
    if (*found) {
      int64_t map = earlier.Int(0);
      for (const char* sql : {"UPDATE messages SET mailbox=? WHERE mailbox=?",
                              "UPDATE folders SET mailbox=? WHERE mailbox=?",
                              "UPDATE synced_folders SET mailbox=? WHERE mailbox=?",
                              "UPDATE forgotten SET adopted_by=? WHERE map=?"}) {
        Stmt move(db_, sql);
        if (Status s = Done(move.Bind(1, id).Bind(2, map).Step()); !s.ok()) return failed(s);
      }
    }
  }
  CM_RETURN_IF_ERROR(Exec("COMMIT"));
  return id;
}

Result<bool> Journal::MovedBefore(int64_t mailbox) {
  std::lock_guard<std::recursive_mutex> lock(*mu_);
  Stmt q(db_, "SELECT 1 FROM forgotten WHERE adopted_by=? LIMIT 1");
  q.Bind(1, mailbox);
  auto row = q.Step();
  if (!row.ok()) return row.status();
  return *row;
}

Status Journal::Claim(int64_t mailbox) {
  std::lock_guard<std::recursive_mutex> lock(*mu_);
  CM_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  auto rollback = [&](Status s) {
    Exec("ROLLBACK");
    return s;
  };
  Stmt q(db_,
         "SELECT holder_run, holder_pid, holder_host, holder_since, identity FROM mailboxes WHERE "
         "id=?");
  q.Bind(1, mailbox);
  auto row = q.Step();
  if (!row.ok()) return rollback(row.status());
  if (!*row) return rollback(Status::NotFound(fmt::format("journal: no mailbox {}", mailbox)));
  if (!q.Null(0) && q.Int(0) != run_id_) {
    // A holder on this host that no longer exists left a stale lock (kill -9): take it over.
    Holder holder{q.Int(0), q.Int(1), q.Text(2), q.Text(3)};
    if (!holder.Gone()) {
      return rollback(Status::Unavailable(
          fmt::format("{} is being moved by {}", q.Text(4), holder.Describe())));
    }
  }
  Stmt up(
      db_,
      "UPDATE mailboxes SET holder_run=?, holder_pid=?, holder_host=?, holder_since=? WHERE id=?");
  Status s = Done(up.Bind(1, run_id_)
                      .Bind(2, static_cast<int64_t>(::getpid()))
                      .Bind(3, HostName())
                      .Bind(4, Now())
                      .Bind(5, mailbox)
                      .Step());
  if (!s.ok()) return rollback(s);
  return Exec("COMMIT");
}

Status Journal::Release(int64_t mailbox) {
  std::lock_guard<std::recursive_mutex> lock(*mu_);
  Stmt up(
      db_,
      "UPDATE mailboxes SET holder_run=NULL, holder_pid=NULL, holder_host=NULL, holder_since=NULL "
      "WHERE id=? AND holder_run=?");
  return Done(up.Bind(1, mailbox).Bind(2, run_id_).Step());
}

Status Journal::Begin(int64_t mailbox, std::string_view step) {
  std::lock_guard<std::recursive_mutex> lock(*mu_);
  Stmt ins(db_, "INSERT INTO steps(mailbox, run, step, phase, at) VALUES(?,?,?,'intent',?)");
  CM_RETURN_IF_ERROR(Done(
      ins.Bind(1, mailbox).Bind(2, run_id_).Bind(3, std::string(step)).Bind(4, StepTime()).Step()));
  StepTaken();
  return Status::Ok();
}

Status Journal::Finish(int64_t mailbox, MailboxState state) {
  std::lock_guard<std::recursive_mutex> lock(*mu_);
  CM_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  Stmt up(db_, "UPDATE mailboxes SET state=?, failed_step='', reason='', updated=? WHERE id=?");
  Status s = Done(up.Bind(1, std::string(ToString(state))).Bind(2, Now()).Bind(3, mailbox).Step());
  Stmt ins(db_, "INSERT INTO steps(mailbox, run, step, phase, at) VALUES(?,?,?,'done',?)");
  if (s.ok())
    s = Done(ins.Bind(1, mailbox)
                 .Bind(2, run_id_)
                 .Bind(3, std::string(ToString(state)))
                 .Bind(4, StepTime())
                 .Step());
  if (!s.ok()) {
    Exec("ROLLBACK");
    return s;
  }
  CM_RETURN_IF_ERROR(Exec("COMMIT"));
  StepTaken();
  return Status::Ok();
}

Status Journal::Hold(int64_t mailbox, const std::string& reason) {
  std::lock_guard<std::recursive_mutex> lock(*mu_);
  Stmt up(db_, "UPDATE mailboxes SET failed_step='', reason=?, updated=? WHERE id=?");
  return Done(up.Bind(1, reason).Bind(2, Now()).Bind(3, mailbox).Step());
}

Status Journal::Fail(int64_t mailbox, std::string_view step, const std::string& reason) {
  std::lock_guard<std::recursive_mutex> lock(*mu_);
  Stmt up(db_, "UPDATE mailboxes SET failed_step=?, reason=?, updated=? WHERE id=?");
  return Done(up.Bind(1, std::string(step)).Bind(2, reason).Bind(3, Now()).Bind(4, mailbox).Step());
}

Status Journal::Forget(int64_t mailbox) {
  std::lock_guard<std::recursive_mutex> lock(*mu_);
  // What the report keeps of it: the totals and step times every report row shows, of this
  // mailbox only (forgetting many must not read the whole journal for each).
  CopiedTotal copied;
  {
    Stmt q(db_,
           "SELECT count(*), coalesce(sum(size), 0) FROM messages WHERE mailbox=? AND "
           "state='copied'");
    q.Bind(1, mailbox);
    auto row = q.Step();
    if (!row.ok()) return row.status();
    if (*row) copied = {static_cast<uint64_t>(q.Int(0)), static_cast<uint64_t>(q.Int(1))};
  }
  StepSpan span;
  {
    Stmt q(db_, "SELECT min(at), max(at) FROM steps WHERE mailbox=?");
    q.Bind(1, mailbox);
    auto row = q.Step();
    if (!row.ok()) return row.status();
    if (*row && !q.Null(0)) span = {ShownTime(q.Text(0)), ShownTime(q.Text(1))};
  }
  CM_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  Stmt keep(db_,
            "INSERT INTO forgotten(identity, source_dn, state, messages, bytes, first_step, "
            "last_step, at, map) SELECT identity, source_dn, state, ?, ?, ?, ?, ?, ? FROM "
            "mailboxes WHERE id=?");
  // Its message map is kept, under an id no mailbox has (rowids are positive): the target still
  // holds those copies, and a later move of the same identity takes the map over (Register), so
  // that it brings them to the source as it is then instead of copying beside them.
  const int64_t kept = -mailbox;
  Status s = Done(keep.Bind(1, static_cast<int64_t>(copied.messages))
                      .Bind(2, static_cast<int64_t>(copied.bytes))
                      .Bind(3, span.first)
                      .Bind(4, span.last)
                      .Bind(5, Now())
                      .Bind(6, kept)
                      .Bind(7, mailbox)
                      .Step());
  for (const char* sql : {"UPDATE messages SET mailbox=? WHERE mailbox=?",
                          "UPDATE folders SET mailbox=? WHERE mailbox=?",
                          "UPDATE synced_folders SET mailbox=? WHERE mailbox=?"}) {
    if (!s.ok()) break;
    Stmt move(db_, sql);
    s = Done(move.Bind(1, kept).Bind(2, mailbox).Step());
  }
  for (const char* sql :
       {"DELETE FROM steps WHERE mailbox=?", "DELETE FROM stages WHERE mailbox=?",
        "DELETE FROM deltas WHERE mailbox=?", "DELETE FROM mailboxes WHERE id=?"}) {
    if (!s.ok()) break;
    Stmt del(db_, sql);
    s = Done(del.Bind(1, mailbox).Step());
  }
  if (!s.ok()) {
    Exec("ROLLBACK");
    return s;
  }
  return Exec("COMMIT");
}

Status Journal::SaveSnapshot(int64_t mailbox, const std::string& snapshot_json,
                             const std::string& plan_json) {
  std::lock_guard<std::recursive_mutex> lock(*mu_);
  Stmt up(db_, "UPDATE mailboxes SET snapshot=?, plan=?, updated=? WHERE id=?");
  return Done(up.Bind(1, snapshot_json).Bind(2, plan_json).Bind(3, Now()).Bind(4, mailbox).Step());
}

namespace {

// The map of one mailbox on a connection of its own, so its batched writes (one transaction per
// 256 records, committed at every Flush) never share a transaction with another worker's.
// The crash hook of copies: CROSSMOVE_CRASH_AFTER_MESSAGES=N kills the process as the N-th
// message of the run is recorded (before the record is written): mid-folder, with appends in
// flight that the server may or may not have committed.
void MessageRecorded() {
  static const long after = [] {
    const char* v = std::getenv("CROSSMOVE_CRASH_AFTER_MESSAGES");
    return v ? std::atol(v) : -1L;
  }();
  static std::atomic<long> seen{0};
  if (after >= 0 && ++seen >= after) ::kill(::getpid(), SIGKILL);
  // CROSSMOVE_INTERRUPT_AFTER_MESSAGES=N: an operator's Ctrl-C as the N-th message is recorded,
  // once (the run stops at its next safe point).
  static const long interrupt = [] {
    const char* v = std::getenv("CROSSMOVE_INTERRUPT_AFTER_MESSAGES");
    return v ? std::atol(v) : -1L;
  }();
  static std::atomic<long> recorded{0};
  if (interrupt >= 0 && ++recorded == interrupt) ::kill(::getpid(), SIGINT);
}

class SqliteMessageMap : public MessageMap {
 public:
  using Pool = std::shared_ptr<Journal::MapConnections>;
  SqliteMessageMap(const std::string& path, int64_t mailbox, Pool pool, bool read_only)
      : mailbox_(mailbox), pool_(std::move(pool)) {
    {
      std::lock_guard lock(pool_->mu);
      if (!pool_->idle.empty()) {
        db_ = pool_->idle.back();
        pool_->idle.pop_back();
        return;
      }
    }
    if (sqlite3_open_v2(path.c_str(), &db_,
                        read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE,
                        nullptr) == SQLITE_OK) {
      sqlite3_busy_handler(db_, BusyWait, nullptr);
      sqlite3_exec(db_, "PRAGMA synchronous=NORMAL", nullptr, nullptr, nullptr);
    }
  }
  ~SqliteMessageMap() override {
    Status flushed = Flush();
    sqlite3_finalize(insert_);
    sqlite3_finalize(delete_);
    if (!db_) return;
    if (!flushed.ok() || !sqlite3_get_autocommit(db_)) {  // not in a clean state: not reused
      sqlite3_close(db_);
      return;
    }
    std::lock_guard lock(pool_->mu);
    pool_->idle.push_back(db_);
  }

  // The whole mailbox's map is read once (one query, not one per folder per pass) and kept
  // current as records are written.
  Result<std::map<std::string, Entry>> Load(const std::string& folder) override {
    if (!loaded_) {
      CM_RETURN_IF_ERROR(Flush());  // nothing buffered may be missing from what is read
      Stmt q(db_,
             "SELECT folder, source_key, state, target_key, digest, appended, target_folder, note, "
             "size FROM messages WHERE mailbox=?");
      q.Bind(1, mailbox_);
      while (true) {
        auto row = q.Step();
        if (!row.ok()) return row.status();
        if (!*row) break;
        Entry e;
        e.state = StateOf(q.Text(2));
        e.target_key = q.Text(3);
        e.digest = q.Text(4);
        e.appended = q.Int(5) != 0;
        e.target_folder = q.Text(6);
        e.note = q.Text(7);
        e.size = static_cast<uint64_t>(q.Int(8));
        cache_[q.Text(0)][q.Text(1)] = e;
      }
      loaded_ = true;
    }
    return cache_[folder];
  }
  Status Copied(const std::string& folder, const std::string& key, const std::string& target_folder,
                const std::string& target_key, uint64_t size, const std::string& digest,
                bool appended) override {
    MessageRecorded();
    return Write({"copied", folder, key, target_folder, target_key, static_cast<int64_t>(size), "",
                  digest, appended});
  }
  Status Refused(const std::string& folder, const std::string& key,
                 const std::string& reason) override {
    return Write({"refused", folder, key, "", "", 0, reason, "", false});
  }
  Status Foreign(const std::string& folder, const std::string& target_key) override {
    return Write({"foreign", folder, "foreign:" + target_key, "", target_key, 0, "", "", false});
  }
  Status Gone(const std::string& folder, const std::string& key) override {
    return Write({"gone", folder, key, "", "", 0, "", "", false});
  }
  Status Repair(const std::string& folder, const std::string& key,
                const std::string& reason) override {
    return Write({"repair", folder, key, "", "", 0, reason, "", false});
  }
  Status Moving(const std::string& folder, const std::string& key, const std::string& target_folder,
                const std::string& target_key, const std::string& fingerprint,
                const std::string& digest, bool appended) override {
    return Write(
        {"moving", folder, key, target_folder, target_key, 0, fingerprint, digest, appended});
  }
  Status Forget(const std::string& folder, const std::string& key) override {
    return Write({kForget, folder, key, "", "", 0, "", "", false});
  }
  Result<std::vector<std::string>> Folders() override {
    CM_RETURN_IF_ERROR(Flush());
    Stmt q(db_,
           "SELECT folder FROM messages WHERE mailbox=?1 UNION SELECT folder FROM synced_folders "
           "WHERE mailbox=?1 ORDER BY 1");
    q.Bind(1, mailbox_);
    std::vector<std::string> out;
    while (true) {
      auto row = q.Step();
      if (!row.ok()) return row.status();
      if (!*row) return out;
      out.push_back(q.Text(0));
    }
  }
  Status RenameFolder(const std::string& from, const std::string& to,
                      const std::string& target_to) override {
    CM_RETURN_IF_ERROR(Flush());
    return InTransaction([&]() -> Status {
      Stmt messages(
          db_,
          "UPDATE OR REPLACE messages SET folder=?3, target_folder=CASE WHEN target_folder='' THEN "
          "'' ELSE ?4 END WHERE mailbox=?1 AND folder=?2");
      CM_RETURN_IF_ERROR(
          Done(messages.Bind(1, mailbox_).Bind(2, from).Bind(3, to).Bind(4, target_to).Step()));
      for (const char* table : {"folders", "synced_folders"}) {
        Stmt other(db_, fmt::format("UPDATE OR REPLACE {} SET folder=?3 WHERE mailbox=?1 AND "
                                    "folder=?2",
                                    table)
                            .c_str());
        CM_RETURN_IF_ERROR(Done(other.Bind(1, mailbox_).Bind(2, from).Bind(3, to).Step()));
      }
      if (loaded_) {
        auto entries = std::move(cache_[from]);
        cache_.erase(from);
        for (auto& [key, e] : entries) {
          if (!e.target_folder.empty()) e.target_folder = target_to;
        }
        cache_[to] = std::move(entries);
      }
      return Status::Ok();
    });
  }
  Status ForgetFolder(const std::string& folder) override {
    CM_RETURN_IF_ERROR(Flush());
    return InTransaction([&]() -> Status {
      for (const char* sql :
           {"DELETE FROM messages WHERE mailbox=? AND folder=? AND state<>'foreign'",
            "DELETE FROM folders WHERE mailbox=? AND folder=?",
            "DELETE FROM synced_folders WHERE mailbox=? AND folder=?"}) {
        Stmt del(db_, sql);
        CM_RETURN_IF_ERROR(Done(del.Bind(1, mailbox_).Bind(2, folder).Step()));
      }
      if (loaded_) {
        std::erase_if(cache_[folder],
                      [](const auto& kv) { return kv.second.state != State::kForeign; });
      }
      return Status::Ok();
    });
  }
  Result<SyncedFolder> Synced(const std::string& folder) override {
    if (!db_) return Status::IOError("journal: cannot open the message map");
    Stmt q(db_, "SELECT state, id, target_path FROM synced_folders WHERE mailbox=? AND folder=?");
    q.Bind(1, mailbox_).Bind(2, folder);
    auto row = q.Step();
    if (!row.ok()) return row.status();
    SyncedFolder out;
    if (!*row) return out;
    out.state = q.Text(0);
    out.id = q.Text(1);
    if (!q.Text(2).empty()) out.target_path = Split(q.Text(2), kPathSeparator);
    return out;
  }
  // Written after the folder's records: a synced state never claims changes the map lacks.
  Status SaveSynced(const std::string& folder, const SyncedFolder& synced) override {
    CM_RETURN_IF_ERROR(Flush());
    Stmt q(db_,
           "INSERT OR REPLACE INTO synced_folders(mailbox, folder, state, id, target_path) "
           "VALUES(?,?,?,?,?)");
    q.Bind(1, mailbox_)
        .Bind(2, folder)
        .Bind(3, synced.state)
        .Bind(4, synced.id)
        .Bind(5, Join(synced.target_path, std::string(1, kPathSeparator)));
    return Done(q.Step());
  }
  Result<std::string> FolderState(const std::string& folder) override {
    if (!db_) return Status::IOError("journal: cannot open the message map");
    Stmt q(db_, "SELECT state FROM folders WHERE mailbox=? AND folder=?");
    q.Bind(1, mailbox_).Bind(2, folder);
    auto row = q.Step();
    if (!row.ok()) return row.status();
    return *row ? q.Text(0) : std::string();
  }
  // Written after the folder's records: a state never claims messages the map lacks.
  Status SaveFolderState(const std::string& folder, const std::string& state) override {
    CM_RETURN_IF_ERROR(Flush());
    Stmt q(db_, "INSERT OR REPLACE INTO folders(mailbox, folder, state) VALUES(?,?,?)");
    q.Bind(1, mailbox_).Bind(2, folder).Bind(3, state);
    auto done = q.Step();
    return done.ok() ? Status::Ok() : done.status();
  }
  // Writes the buffered records in one short transaction: the write lock is held for the
  // inserts only, never while messages are being copied.
  Status Flush() override {
    if (buffer_.empty()) return Status::Ok();
    if (!db_) return Status::IOError("journal: cannot open the message map");
    if (sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK) {
      return Status::IOError(fmt::format("journal: {}", sqlite3_errmsg(db_)));
    }
    if (!insert_ &&
        sqlite3_prepare_v2(
            db_,
            "INSERT OR REPLACE INTO messages(mailbox, folder, source_key, state, target_folder, "
            "target_key, size, note, digest, appended) VALUES(?,?,?,?,?,?,?,?,?,?)",
            -1, &insert_, nullptr) != SQLITE_OK) {
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      return Status::IOError(fmt::format("journal: {}", sqlite3_errmsg(db_)));
    }
    if (!delete_ && sqlite3_prepare_v2(
                        db_, "DELETE FROM messages WHERE mailbox=? AND folder=? AND source_key=?",
                        -1, &delete_, nullptr) != SQLITE_OK) {
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      return Status::IOError(fmt::format("journal: {}", sqlite3_errmsg(db_)));
    }
    for (const Record& r : buffer_) {
      if (std::string_view(r.state) == kForget) {
        sqlite3_reset(delete_);
        sqlite3_bind_int64(delete_, 1, mailbox_);
        sqlite3_bind_text(delete_, 2, r.folder.data(), static_cast<int>(r.folder.size()),
                          SQLITE_STATIC);
        sqlite3_bind_text(delete_, 3, r.key.data(), static_cast<int>(r.key.size()), SQLITE_STATIC);
        if (sqlite3_step(delete_) != SQLITE_DONE) {
          Status err = Status::IOError(fmt::format("journal: {}", sqlite3_errmsg(db_)));
          sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
          return err;
        }
        continue;
      }
      sqlite3_reset(insert_);
      sqlite3_bind_int64(insert_, 1, mailbox_);
      sqlite3_bind_text(insert_, 2, r.folder.data(), static_cast<int>(r.folder.size()),
                        SQLITE_STATIC);
      sqlite3_bind_text(insert_, 3, r.key.data(), static_cast<int>(r.key.size()), SQLITE_STATIC);
      sqlite3_bind_text(insert_, 4, r.state, -1, SQLITE_STATIC);
      sqlite3_bind_text(insert_, 5, r.target_folder.data(),
                        static_cast<int>(r.target_folder.size()), SQLITE_STATIC);
      sqlite3_bind_text(insert_, 6, r.target_key.data(), static_cast<int>(r.target_key.size()),
                        SQLITE_STATIC);
      sqlite3_bind_int64(insert_, 7, r.size);
      sqlite3_bind_text(insert_, 8, r.note.data(), static_cast<int>(r.note.size()), SQLITE_STATIC);
      sqlite3_bind_text(insert_, 9, r.digest.data(), static_cast<int>(r.digest.size()),
                        SQLITE_STATIC);
      sqlite3_bind_int(insert_, 10, r.appended ? 1 : 0);
      if (sqlite3_step(insert_) != SQLITE_DONE) {
        Status err = Status::IOError(fmt::format("journal: {}", sqlite3_errmsg(db_)));
        sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
        return err;
      }
    }
    if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
      return Status::IOError(fmt::format("journal: {}", sqlite3_errmsg(db_)));
    }
    buffer_.clear();
    return Status::Ok();
  }

 private:
  struct Record {
    const char* state;
    std::string folder, key, target_folder, target_key;
    int64_t size;
    std::string note;
    std::string digest;  // hex SHA-256 of the bytes as copied ("" where not known)
    bool appended;       // appended by us, not claimed by fingerprint
  };
  static constexpr const char* kForget = "forget";  // a record that deletes its row
  static constexpr char kPathSeparator = '\x1f';    // between target path components
  static State StateOf(std::string_view st) {
    return st == "copied"    ? State::kCopied
           : st == "refused" ? State::kRefused
           : st == "gone"    ? State::kGone
           : st == "repair"  ? State::kRepair
           : st == "moving"  ? State::kMoving
                             : State::kForeign;
  }
  Status InTransaction(const std::function<Status()>& work) {
    if (!db_) return Status::IOError("journal: cannot open the message map");
    if (sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK)
      return Status::IOError(fmt::format("journal: {}", sqlite3_errmsg(db_)));
    Status s = work();
    if (!s.ok()) {
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      return s;
    }
    if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK)
      return Status::IOError(fmt::format("journal: {}", sqlite3_errmsg(db_)));
    return Status::Ok();
  }
  Status Write(Record r) {
    if (loaded_ && std::string_view(r.state) == kForget) {
      cache_[r.folder].erase(r.key);
    } else if (loaded_) {  // keep the cache equal to what the table will hold
      cache_[r.folder][r.key] = {StateOf(r.state),
                                 r.target_key,
                                 r.digest,
                                 r.appended,
                                 r.target_folder,
                                 r.note,
                                 static_cast<uint64_t>(r.size)};
    }
    buffer_.push_back(std::move(r));
    return buffer_.size() >= 256 ? Flush() : Status::Ok();
  }

  std::vector<Record> buffer_;
  sqlite3* db_ = nullptr;
  sqlite3_stmt* insert_ = nullptr;
  sqlite3_stmt* delete_ = nullptr;
  bool loaded_ = false;
  std::map<std::string, std::map<std::string, Entry>> cache_;  // folder -> source key -> entry
  int64_t mailbox_;
  Pool pool_;
};

}  // namespace

Result<std::map<int64_t, Journal::CopiedTotal>> Journal::CopiedTotals() {
  std::lock_guard<std::recursive_mutex> lock(*mu_);
  Stmt q(db_,
         "SELECT mailbox, count(*), coalesce(sum(size), 0) FROM messages WHERE state='copied' "
         "GROUP BY mailbox");
  std::map<int64_t, CopiedTotal> out;
  while (true) {
    auto row = q.Step();
    if (!row.ok()) return row.status();
    if (!*row) return out;
    out[q.Int(0)] = {static_cast<uint64_t>(q.Int(1)), static_cast<uint64_t>(q.Int(2))};
  }
}

Result<std::vector<Journal::ForgottenMailbox>> Journal::Forgotten() {
  std::lock_guard<std::recursive_mutex> lock(*mu_);
  std::vector<ForgottenMailbox> out;
  // A journal from before `forget` kept them, opened read-only, has no such table: none.
  Stmt exists(db_, "SELECT 1 FROM sqlite_master WHERE type='table' AND name='forgotten'");
  auto found = exists.Step();
  if (!found.ok()) return found.status();
  if (!*found) return out;
  Stmt q(db_,
         "SELECT identity, source_dn, state, messages, bytes, first_step, last_step, at FROM "
         "forgotten ORDER BY id");
  while (true) {
    auto row = q.Step();
    if (!row.ok()) return row.status();
    if (!*row) return out;
    out.push_back({q.Text(0), q.Text(1), q.Text(2), static_cast<uint64_t>(q.Int(3)),
                   static_cast<uint64_t>(q.Int(4)), q.Text(5), q.Text(6), q.Text(7)});
  }
}

Result<std::map<int64_t, Journal::StepSpan>> Journal::StepSpans() {
  std::lock_guard<std::recursive_mutex> lock(*mu_);
  // Each step from its intent to the mailbox's next row in the same run (its done, or the next
  // intent after a failure); a run's last intent without one (a crash) counts for nothing.
  Stmt q(db_,
         "SELECT mailbox, run, phase, at, julianday(at) * 86400.0 FROM steps "
         "ORDER BY mailbox, run, id");
  std::map<int64_t, StepSpan> out;
  int64_t last_mailbox = 0, last_run = 0;
  bool intent_open = false;  // the last row was an intent, at intent_at
  double intent_at = 0;
  while (true) {
    auto row = q.Step();
    if (!row.ok()) return row.status();
    if (!*row) return out;
    int64_t mailbox = q.Int(0), run = q.Int(1);
    if (mailbox != last_mailbox || run != last_run) intent_open = false;
    last_mailbox = mailbox;
    last_run = run;
    StepSpan& span = out[mailbox];
    std::string at = ShownTime(q.Text(3));
    if (span.first.empty()) span.first = at;
    span.last = at;
    double t = q.Real(4);
    if (intent_open && !q.Null(4) && t >= intent_at) span.seconds += t - intent_at;
    intent_open = q.Text(2) == "intent" && !q.Null(4);
    intent_at = t;
  }
}

Result<double> Journal::CopyingSeconds() {
  std::lock_guard<std::recursive_mutex> lock(*mu_);
  // Each copy intent, its end: the same mailbox's next step row in the same run, else the run's
  // last row. In seconds (julianday reads the times with or without milliseconds).
  Stmt q(db_,
         "SELECT julianday(c.at) * 86400.0, julianday(coalesce((SELECT min(n.at) FROM steps n "
         "WHERE n.mailbox=c.mailbox AND n.run=c.run AND n.id>c.id), (SELECT max(r.at) FROM steps "
         "r WHERE r.run=c.run))) * 86400.0 FROM steps c WHERE c.step='copy' AND c.phase='intent'");
  std::vector<std::pair<double, double>> spans;
  while (true) {
    auto row = q.Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    if (q.Null(0) || q.Null(1)) continue;
    double begin = q.Real(0), end = q.Real(1);
    if (end >= begin) spans.emplace_back(begin, end);
  }
  std::sort(spans.begin(), spans.end());
  double total = 0;
  double covered_to = -std::numeric_limits<double>::infinity();
  for (const auto& [begin, end] : spans) {
    double from = std::max(begin, covered_to);
    if (end > from) total += end - from;
    covered_to = std::max(covered_to, end);
  }
  return total;
}

Result<std::string> Journal::FirstRunStarted() {
  std::lock_guard<std::recursive_mutex> lock(*mu_);
  Stmt q(db_, "SELECT started FROM runs ORDER BY id LIMIT 1");
  auto row = q.Step();
  if (!row.ok()) return row.status();
  return *row ? q.Text(0) : std::string();
}

Result<std::vector<std::string>> Journal::RefusedMessages(int64_t mailbox) {
  std::lock_guard<std::recursive_mutex> lock(*mu_);
  Stmt q(db_,
         "SELECT folder, source_key, note FROM messages WHERE mailbox=? AND state='refused' "
         "ORDER BY folder, source_key");
  q.Bind(1, mailbox);
  std::vector<std::string> out;
  while (true) {
    auto row = q.Step();
    if (!row.ok()) return row.status();
    if (!*row) return out;
    out.push_back(fmt::format("{} {}: {}", q.Text(0), q.Text(1), q.Text(2)));
  }
}

Result<std::map<int64_t, MailboxStage>> Journal::Stages() {
  std::lock_guard<std::recursive_mutex> lock(*mu_);
  std::map<int64_t, MailboxStage> out;
  // A journal of an earlier version, opened read-only, has no stages table yet: no stage.
  auto present = HasTable(db_, "stages");
  if (!present.ok()) return present.status();
  if (!*present) return out;
  Stmt q(db_,
         "SELECT mailbox, start_after, complete_after, suspend_when_ready, sync_interval, "
         "suspended, complete_requested, approve_skipped, last_sync FROM stages");
  while (true) {
    auto row = q.Step();
    if (!row.ok()) return row.status();
    if (!*row) return out;
    MailboxStage& st = out[q.Int(0)];
    if (!q.Null(1)) st.start_after = q.Int(1);
    if (!q.Null(2)) st.complete_after = q.Int(2);
    st.suspend_when_ready = q.Int(3) != 0;
    st.sync_interval = q.Int(4);
    st.suspended = q.Int(5) != 0;
    st.complete_requested = q.Int(6) != 0;
    st.approve_skipped = q.Int(7) != 0;
    st.last_sync = q.Int(8);
  }
}

namespace {

// Binds an optional time: NULL when unset.
void BindTime(sqlite3_stmt* stmt, int i, const std::optional<int64_t>& t) {
  if (t) {
    sqlite3_bind_int64(stmt, i, *t);
  } else {
    sqlite3_bind_null(stmt, i);
  }
}

}  // namespace

Status Journal::UpdateStage(int64_t mailbox, const char* set_clause,
                            const std::function<void(sqlite3_stmt*)>& bind) {
  std::lock_guard<std::recursive_mutex> lock(*mu_);
  Stmt ensure(db_, "INSERT INTO stages(mailbox) VALUES(?) ON CONFLICT(mailbox) DO NOTHING");
  CM_RETURN_IF_ERROR(Done(ensure.Bind(1, mailbox).Step()));
  std::string sql = fmt::format("UPDATE stages SET {} WHERE mailbox=?", set_clause);
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK)
    return Status::IOError(fmt::format("journal: {}", sqlite3_errmsg(db_)));
  bind(stmt);
  sqlite3_bind_int64(stmt, sqlite3_bind_parameter_count(stmt), mailbox);
  int rc = sqlite3_step(stmt);
  sqlite3_finalize(stmt);
  if (rc != SQLITE_DONE) return Status::IOError(fmt::format("journal: {}", sqlite3_errmsg(db_)));
  return Status::Ok();
}

Status Journal::SaveSchedule(int64_t mailbox, const MailboxStage& schedule) {
  return UpdateStage(mailbox,
                     "start_after=?, complete_after=?, suspend_when_ready=?, sync_interval=?",
                     [&](sqlite3_stmt* stmt) {
                       BindTime(stmt, 1, schedule.start_after);
                       BindTime(stmt, 2, schedule.complete_after);
                       sqlite3_bind_int64(stmt, 3, schedule.suspend_when_ready);
                       sqlite3_bind_int64(stmt, 4, schedule.sync_interval);
                     });
}

Status Journal::SetSuspended(int64_t mailbox, bool suspended) {
  return UpdateStage(mailbox, "suspended=?",
                     [&](sqlite3_stmt* stmt) { sqlite3_bind_int64(stmt, 1, suspended); });
}

Status Journal::RequestCompletion(int64_t mailbox, bool approve_skipped) {
  // An approval, once given, stays: a later `complete` without it does not take it back.
  return UpdateStage(mailbox, "complete_requested=1, approve_skipped=MAX(approve_skipped, ?)",
                     [&](sqlite3_stmt* stmt) { sqlite3_bind_int64(stmt, 1, approve_skipped); });
}

Status Journal::RecordSync(int64_t mailbox, int64_t when) {
  return UpdateStage(mailbox, "last_sync=?",
                     [&](sqlite3_stmt* stmt) { sqlite3_bind_int64(stmt, 1, when); });
}

Status Journal::RecordDelta(int64_t mailbox, const LastDelta& d) {
  std::lock_guard<std::recursive_mutex> lock(*mu_);
  Stmt up(db_,
          "INSERT OR REPLACE INTO deltas(mailbox, at, new_messages, flags_changed, expunged, "
          "moved, renamed_folders, deleted_folders) VALUES(?,?,?,?,?,?,?,?)");
  up.Bind(1, mailbox).Bind(2, d.at);
  int i = 3;
  for (uint64_t n :
       {d.new_messages, d.flags_changed, d.expunged, d.moved, d.renamed_folders, d.deleted_folders})
    up.Bind(i++, static_cast<int64_t>(n));
  return Done(up.Step());
}

Result<std::map<int64_t, LastDelta>> Journal::LastDeltas() {
  std::lock_guard<std::recursive_mutex> lock(*mu_);
  std::map<int64_t, LastDelta> out;
  // A journal of an earlier version, opened read-only, has no deltas table yet.
  auto present = HasTable(db_, "deltas");
  if (!present.ok()) return present.status();
  if (!*present) return out;
  Stmt q(db_,
         "SELECT mailbox, at, new_messages, flags_changed, expunged, moved, renamed_folders, "
         "deleted_folders FROM deltas");
  while (true) {
    auto row = q.Step();
    if (!row.ok()) return row.status();
    if (!*row) return out;
    LastDelta& d = out[q.Int(0)];
    d.at = q.Int(1);
    d.new_messages = static_cast<uint64_t>(q.Int(2));
    d.flags_changed = static_cast<uint64_t>(q.Int(3));
    d.expunged = static_cast<uint64_t>(q.Int(4));
    d.moved = static_cast<uint64_t>(q.Int(5));
    d.renamed_folders = static_cast<uint64_t>(q.Int(6));
    d.deleted_folders = static_cast<uint64_t>(q.Int(7));
  }
}

std::unique_ptr<MessageMap> Journal::MessagesOf(int64_t mailbox) {
  return std::make_unique<SqliteMessageMap>(path_, mailbox, map_connections_, read_only_);
}

}  // namespace cm
