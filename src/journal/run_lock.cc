#include "journal/run_lock.h"

#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <thread>

#include "core/strings.h"
#include "core/timestamp.h"
#include "io/file.h"
#include "journal/advisory_locks.h"
#include "journal/postgres_connection.h"

namespace cm {

std::string HostName() {
  char h[256] = "localhost";
  ::gethostname(h, sizeof(h) - 1);
  return h;
}

std::string UtcNow() {
  auto t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string Holder::Describe() const {
  return fmt::format("{} (pid {} on {}) since {}",
                     run ? fmt::format("run {}", run) : std::string("a run starting up"), pid, host,
                     since);
}

Holder Holder::Me(int64_t run) { return {run, ::getpid(), HostName(), UtcNow()}; }

bool Holder::Gone() const {
  return host == HostName() && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
}

namespace {

std::string LockPath(const std::string& journal_path) { return journal_path + ".lock"; }

// The lock file holds "run=N pid=P host=H since=T" (one line, written by the holder).
std::string Serialize(const Holder& h) {
  return fmt::format("run={} pid={} host={} since={}\n", h.run, h.pid, h.host, h.since);
}

// The holder a Serialize line names.
Holder Parse(const std::string& line) {
  Holder h;
  for (const auto& field : Split(Trim(line), ' ')) {
    size_t eq = field.find('=');
    if (eq == std::string::npos) continue;
    std::string key = field.substr(0, eq), value = field.substr(eq + 1);
    if (key == "run") h.run = std::atoll(value.c_str());
    if (key == "pid") h.pid = std::atoll(value.c_str());
    if (key == "host") h.host = value;
    if (key == "since") h.since = value;
  }
  return h;
}

std::string DescribeFile(const std::string& lock_path) {
  // The holder writes its line right after taking the lock: a reader that comes in between
  // sees an empty file and looks again briefly.
  for (int attempt = 0; attempt < 20; ++attempt) {
    auto text = ReadWholeFile(lock_path);
    if (text.ok() && !text->empty()) {
      return Parse(*text).Describe();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return "another run (it has not said which yet)";
}

}  // namespace

namespace {

// The advisory lock's key (any 64-bit number no other program on the database uses: "crossmove"
// in a hash), and the table its holder describes itself in.
constexpr int64_t kRunLockKey = advisory::kRunLock;
constexpr const char* kHolderTable =
    "CREATE TABLE IF NOT EXISTS run_holder(id INTEGER PRIMARY KEY, holder TEXT NOT NULL)";

// The workers of a shared journal: the runs whose heartbeat is recent ("" when none is).
std::string DescribeWorkers(SqlConnection& db) {
  auto q = db.Prepare(
      "SELECT r.id, r.pid, r.host, r.started, r.heartbeat, (SELECT count(*) FROM mailboxes m WHERE "
      "m.holder_run = r.id), coalesce(r.appended_messages, 0), coalesce(r.appended_bytes, 0) "
      "FROM runs r WHERE r.heartbeat IS NOT NULL AND r.heartbeat >= ? ORDER BY r.id");
  auto t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now() -
                                                std::chrono::minutes(3));
  std::tm tm{};
  gmtime_r(&t, &tm);
  char since[32];
  std::strftime(since, sizeof(since), "%Y-%m-%dT%H:%M:%S", &tm);
  q->Bind(1, std::string(since));
  std::vector<std::string> workers;
  while (true) {
    auto row = q->Step();
    if (!row.ok() || !*row) break;
    std::string beat = q->Text(4);
    if (beat.size() > 20 && beat[19] == '.') beat = beat.substr(0, 19) + "Z";
    // Its throughput: what it appended over the time from its start to its last heartbeat.
    auto started = ParseIsoTime(q->Text(3)), last = ParseIsoTime(beat);
    double bytes = static_cast<double>(q->Int(7));
    int64_t seconds = started.ok() && last.ok() ? *last - *started : 0;
    std::string rate = seconds > 0 ? fmt::format(", {:.1f} MB/s", bytes / 1e6 / seconds) : "";
    workers.push_back(fmt::format(
        "{}, last heartbeat {}, holding {}, {} appended ({:.1f} MB){}",
        Holder{q->Int(0), q->Int(1), q->Text(2), q->Text(3)}.Describe(), beat,
        q->Int(5) == 1 ? std::string("1 mailbox") : fmt::format("{} mailboxes", q->Int(5)),
        q->Int(6) == 1 ? std::string("1 message") : fmt::format("{} messages", q->Int(6)),
        bytes / 1e6, rate));
  }
  if (workers.empty()) return "";
  return fmt::format("{} {}: {}", workers.size(), workers.size() == 1 ? "worker" : "workers",
                     Join(workers, "; "));
}

std::string DescribeRow(SqlConnection& db) {
  auto has = db.HasTable("run_holder");
  if (!has.ok() || !*has) return "another run (it has not said which yet)";
  auto q = db.Prepare("SELECT holder FROM run_holder WHERE id=1");
  auto row = q->Step();
  if (row.ok() && *row && !q->Text(0).empty()) {
    return Parse(q->Text(0)).Describe();
  }
  if (auto has = db.HasTable("runs"); has.ok() && *has) {
    if (std::string workers = DescribeWorkers(db); !workers.empty()) return workers;
  }
  return "another run (it has not said which yet)";
}

Result<bool> TryAdvisoryLock(SqlConnection& db, bool wait, bool shared) {
  std::string fn = fmt::format("pg_{}advisory_lock{}", wait ? "" : "try_", shared ? "_shared" : "");
  auto q =
      db.Prepare(wait ? fmt::format("SELECT {}(?), true", fn) : fmt::format("SELECT {}(?)", fn));
  q->Bind(1, kRunLockKey);
  auto row = q->Step();
  if (!row.ok()) return row.status();
  std::string got = q->Text(wait ? 1 : 0);
  return got == "t" || got == "true";
}

}  // namespace

Result<RunLock> RunLock::Acquire(const JournalLocation& journal, bool wait,
                                 const std::function<void(const std::string&)>& waiting,
                                 bool shared) {
  if (journal.postgres()) {
    auto db = OpenPostgres(journal.conninfo, journal.password, /*read_only=*/false);
    if (!db.ok()) return db.status();
    auto got = TryAdvisoryLock(**db, false, shared);
    if (!got.ok()) return got.status();
    if (!*got) {
      std::string holder = DescribeRow(**db);
      if (!wait) {
        return Status::Unavailable(
            fmt::format("the journal {} is in use by {}", journal.shown(), holder));
      }
      if (waiting) waiting(holder);
      got = TryAdvisoryLock(**db, true, shared);
      if (!got.ok()) return got.status();
    }
    // Under the lock the journal's schema is created under: workers starting at once would
    // otherwise race to create the table.
    CM_RETURN_IF_ERROR(InWriteTransaction(**db, [&] {
      return (*db)->Exec(
          fmt::format("SELECT pg_advisory_xact_lock({}); {}", advisory::kSchema, kHolderTable));
    }));
    RunLock run_lock(std::move(*db), Holder::Me(0));
    run_lock.shared_ = shared;
    CM_RETURN_IF_ERROR(run_lock.Describe(run_lock.me_, true));
    return run_lock;
  }
  const std::string& journal_path = journal.path;
  std::string path = LockPath(journal_path);
  auto lock = FileLock::Acquire(path, /*wait=*/false);
  if (!lock.ok() && lock.status().code() == Status::Code::kUnavailable) {
    std::string holder = DescribeFile(path);
    if (!wait) {
      return Status::Unavailable(
          fmt::format("the journal {} is in use by {}", journal_path, holder));
    }
    if (waiting) waiting(holder);
    lock = FileLock::Acquire(path, /*wait=*/true);
  }
  if (!lock.ok()) return lock.status();
  RunLock run_lock(std::move(*lock), Holder::Me(0));
  CM_RETURN_IF_ERROR(run_lock.Describe(run_lock.me_, true));
  return run_lock;
}

Status RunLock::Describe(const Holder& holder, bool held) {
  std::string line = held ? Serialize(holder) : "";
  if (!db_) return lock_.Describe(line);
  if (shared_) return Status::Ok();  // workers are described by their heartbeats (runs)
  auto up = db_->Prepare(
      "INSERT INTO run_holder(id, holder) VALUES(1, ?) ON CONFLICT(id) DO UPDATE SET "
      "holder=excluded.holder");
  return Run(up->Bind(1, line));
}

Status RunLock::SetRun(int64_t run_id) {
  std::lock_guard lock(*db_mu_);
  me_.run = run_id;
  return Describe(me_, true);
}

Result<bool> RunLock::TryTakeConnectionPlace(const std::string& server, int place) {
  if (!db_) return true;
  std::lock_guard lock(*db_mu_);
  auto q = db_->Prepare("SELECT pg_try_advisory_lock(?::integer, ?::integer)");
  auto row = q->Bind(1, int64_t{advisory::ConnectionPlaces(server)}).Bind(2, int64_t{place}).Step();
  if (!row.ok()) return row.status();
  return *row && q->Text(0) == "t";
}

void RunLock::ReleaseConnectionPlace(const std::string& server, int place) {
  if (!db_) return;
  std::lock_guard lock(*db_mu_);
  auto q = db_->Prepare("SELECT pg_advisory_unlock(?::integer, ?::integer)");
  (void)q->Bind(1, int64_t{advisory::ConnectionPlaces(server)}).Bind(2, int64_t{place}).Step();
}

RunLock::~RunLock() {
  if (lock_.held() || db_) (void)Describe(me_, false);
}

std::string RunLock::HolderOf(const JournalLocation& journal) {
  if (journal.postgres()) {
    auto db = OpenPostgres(journal.conninfo, journal.password, /*read_only=*/true);
    if (!db.ok()) return "";
    // Held: some session has the lock granted (this one takes nothing).
    auto q = (*db)->Prepare(
        "SELECT 1 FROM pg_locks WHERE locktype='advisory' AND granted AND database=(SELECT oid "
        "FROM pg_database WHERE datname=current_database()) AND classid::bigint=? AND "
        "objid::bigint=? AND "
        "objsubid=1");
    q->Bind(1, kRunLockKey >> 32).Bind(2, kRunLockKey & 0xffffffff);
    auto row = q->Step();
    if (!row.ok() || !*row) return "";
    return DescribeRow(**db);
  }
  std::string path = LockPath(journal.path);
  return FileLock::IsHeld(path) ? DescribeFile(path) : "";
}

}  // namespace cm
