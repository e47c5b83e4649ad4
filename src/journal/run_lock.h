// One writer per journal (SPEC §5 "a mailbox is never moved by two runs at once"): `run` and
// `rollback` hold an exclusive lock on JOURNAL.lock for their whole life, so a second one on the
// same journal waits for the first (--wait) or is refused at once with the holder's name. The
// lock is flock(2) (io/file_lock.h): the kernel drops it when the holder dies, kill -9 included,
// so a crashed run never blocks the next. Read-only commands (status, plan, verify) never take
// it. The holder's description is the same one the journal gives for a held mailbox.
// A PostgreSQL journal (issue 14) has no file to lock: its run lock is a session advisory lock
// on a connection the holder keeps open, which the server drops when that connection ends (the
// holder's death included), and the description lives in the database beside it.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "core/status.h"
#include "input/journal_location.h"
#include "io/file_lock.h"
#include "journal/sql.h"

namespace cm {

// Who holds a journal or a mailbox: a run of crossmove, its process and host, and since when.
struct Holder {
  int64_t run = 0;  // 0 while the run has no id yet (its journal is being opened)
  int64_t pid = 0;
  std::string host;
  std::string since;  // ISO 8601 UTC
  // "run 3 (pid 123 on host) since 2026-12-01T20:00:00Z"
  std::string Describe() const;
  // This process, now.
  static Holder Me(int64_t run);
  // Whether the holder's process is certainly gone: it ran on this host and its pid no longer
  // exists. A holder on another host is taken to be alive.
  bool Gone() const;
};

std::string HostName();
std::string UtcNow();  // ISO 8601, seconds

class RunLock {
 public:
  // Takes the lock of the journal at `journal_path`. Without `wait`, a held lock is
  // kUnavailable naming the holder; with it, `waiting` is told the holder once and the call
  // blocks until the lock is free.
  // `shared` (a PostgreSQL journal's runs: workers): any number hold it at once, and exclude
  // the exclusive holders (rollback, forget). A journal file's lock is always exclusive.
  static Result<RunLock> Acquire(const JournalLocation& journal, bool wait,
                                 const std::function<void(const std::string& holder)>& waiting,
                                 bool shared = false);
  static Result<RunLock> Acquire(const std::string& journal_path, bool wait,
                                 const std::function<void(const std::string& holder)>& waiting) {
    return Acquire(JournalLocation::File(journal_path), wait, waiting);
  }
  // Names the run (once the journal has given it an id) in what a refused command prints.
  Status SetRun(int64_t run_id);
  // A shared journal's places among each server's connections (SharedConnectionSlots in
  // mailstore/imap_store.h): advisory locks of this lock's session, which lasts as long as the
  // run, preflight included, so a dead worker's places come free with its session. A session
  // takes its own lock again: a process asks once per place. A journal file's run takes every
  // place (it is the only run).
  Result<bool> TryTakeConnectionPlace(const std::string& server, int place);
  void ReleaseConnectionPlace(const std::string& server, int place);
  bool shared() const { return shared_; }
  // The description of the run holding the journal's lock now, "" when none (for status).
  static std::string HolderOf(const JournalLocation& journal);
  static std::string HolderOf(const std::string& journal_path) {
    return HolderOf(JournalLocation::File(journal_path));
  }

  RunLock(RunLock&&) = default;
  RunLock& operator=(RunLock&&) = default;
  // Clears the description: a refused command never names a run that has ended.
  ~RunLock();

 private:
  RunLock(FileLock lock, Holder me) : lock_(std::move(lock)), me_(std::move(me)) {}
  RunLock(std::unique_ptr<SqlConnection> db, Holder me) : db_(std::move(db)), me_(std::move(me)) {}
  Status Describe(const Holder& holder, bool held);
  FileLock lock_;
  std::unique_ptr<SqlConnection> db_;  // PostgreSQL: the session that holds the advisory lock
  std::unique_ptr<std::mutex> db_mu_ = std::make_unique<std::mutex>();  // db_ for many threads
  bool shared_ = false;
  Holder me_;
};

}  // namespace cm
