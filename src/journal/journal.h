// The journal (SPEC §5): one database per migration (an SQLite file, or a PostgreSQL database
// that many hosts share: input/journal_location.h) that records, for each mailbox, its state, its
// snapshot, its plan and the per-message map. Every step is written before it starts (intent) and
// after it ends (done), so a rerun after any crash, kill -9 included, finishes the work without
// repeating a side effect. It holds no secret.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/status.h"
#include "input/journal_location.h"
#include "journal/advisory_locks.h"
#include "journal/sql.h"
#include "mailstore/copy_engine.h"

namespace cm {

enum class MailboxState {
  kPending,
  kSnapshotted,
  kTargetProvisioned,
  kContentCopied,
  kContentVerified,
  kSourceCleaned,
  kRoutingVerified,
  kRolledBack,
};
std::string_view ToString(MailboxState state);

// A run that held a mailbox on a shared journal and no longer does (its lease ran out, another
// worker took it over): what a step, a write or a message map of it then returns. Not a failure
// of the mailbox: the other worker goes on with it.
Status LostClaim(std::string_view what);
bool IsLostClaim(const Status& status);
Result<MailboxState> ParseMailboxState(std::string_view text);

struct JournalMailbox {
  int64_t id = 0;
  std::string identity;  // the users-file identity, as written
  unsigned long line = 0;
  std::string source_dn;
  MailboxState state = MailboxState::kPending;  // the last step completed
  std::string failed_step;  // set when the next step failed; the state stays where it was
  std::string reason;
  bool failed() const { return !failed_step.empty(); }
  std::string snapshot;  // JSON: the source object and its folders (what rollback restores)
  std::string plan;      // JSON: the planned operations and names
  std::string updated;   // ISO 8601 UTC
  std::string holder;    // "run 3 (pid 123 on host) since ..." when held
};

// What a staged move (issue 13) records of a mailbox beside its state: the schedule the last run
// gave it (from the config and its users-file row), the operator's requests, and when its
// content was last synced. Times are seconds since the epoch; 0 / unset: none.
struct MailboxStage {
  std::optional<int64_t> start_after, complete_after;
  bool suspend_when_ready = false;
  int64_t sync_interval = 0;        // seconds between sync passes of a synced mailbox
  bool suspended = false;           // `crossmove suspend`; `resume` clears it
  bool complete_requested = false;  // `crossmove complete`
  bool approve_skipped = false;     // `complete --approve-skipped`: Investigate may complete
  int64_t last_sync = 0;            // the last sync pass whose content verified
  // Whether a schedule asks to wait at all: without one a run completes at once (one-shot).
  bool staged() const { return start_after || complete_after || suspend_when_ready; }
  bool operator==(const MailboxStage&) const = default;
};

// What the last delta pass of a mailbox carried to the target (issue 13), as `status` shows it.
struct LastDelta {
  int64_t at = 0;  // seconds since the epoch
  uint64_t new_messages = 0, flags_changed = 0, expunged = 0, moved = 0, renamed_folders = 0,
           deleted_folders = 0;
};

// Thread-safe: one Journal serves every worker of a run.
class Journal {
 public:
  // Opens (creating) the journal and registers this process as a run.
  static Result<std::unique_ptr<Journal>> Open(const JournalLocation& where);
  // Opens an existing journal for a command that only records requests or forgets mailboxes
  // (`complete`, `suspend`, `resume`, `forget`): it writes, but is not a run (the runs are what
  // the report numbers: a `complete` is one run, its pass). run_id() is 0; nothing is claimed.
  static Result<std::unique_ptr<Journal>> OpenForRequests(const JournalLocation& where);
  // Opens an existing journal for reading only (`plan`, `status`, `verify`): no run is
  // registered and nothing in the file changes. Writes through it fail. run_id() is 0.
  static Result<std::unique_ptr<Journal>> OpenReadOnly(const JournalLocation& where);
  // The same, for a journal named as the `journal` setting names it (a file path, sqlite:PATH,
  // or a PostgreSQL URL that needs no password).
  static Result<std::unique_ptr<Journal>> Open(const std::string& spec);
  static Result<std::unique_ptr<Journal>> OpenForRequests(const std::string& spec);
  static Result<std::unique_ptr<Journal>> OpenReadOnly(const std::string& spec);
  // Whether a journal is there to open: the file exists, or the database has the journal's
  // tables (a PostgreSQL server that cannot be reached is an error).
  static Result<bool> Exists(const JournalLocation& where);
  ~Journal();

  int64_t run_id() const { return run_id_; }
  // Whether other runs may work on it at the same time (a PostgreSQL journal's workers).
  bool shared() const { return where_.postgres(); }
  const std::string& path() const { return where_.shown(); }

  Result<std::optional<JournalMailbox>> Find(const std::string& identity);
  Result<std::vector<JournalMailbox>> All();
  // Records a mailbox the first time it is seen (state pending); returns its id either way.
  Result<int64_t> Register(const std::string& identity, unsigned long line,
                           const std::string& source_dn);

  // Takes a mailbox for this run; fails (kUnavailable) naming the live run that holds it and
  // since when. On a shared (PostgreSQL) journal a claim is a lease the run renews by heartbeat
  // (worker-lease, default 60 s): one whose holder stopped renewing it (killed, its host
  // lost) is taken over, that holder's session ended; and a per-mailbox guard (a session
  // advisory lock) makes two runs on one mailbox impossible. Every step this run then writes
  // checks that it still holds the mailbox (StillHeld).
  //
  // `caps`: what the mailbox's move uses ("target-database DB-01") and how many moves may use it
  // at once, over every run of the journal; a claim that would exceed one is kResourceExhausted
  // (the mailbox waits, it has not failed). Claims are counted while held (a dead holder's until
  // its lease runs out).
  struct ClaimCap {
    std::string resource;
    int max = 0;          // 0: no cap
    std::string setting;  // named when it binds ("max-moves-per-target-database")
  };
  Status Claim(int64_t mailbox, const std::vector<ClaimCap>& caps = {});
  // A shared journal's run: called at every tick of its heartbeat (2 s at most) with how many
  // workers (runs, this one included) beat within the last three ticks, on the database's clock;
  // what the workers share evenly (max-bytes-per-second) is divided by it.
  void OnHeartbeat(std::function<void(int live_workers)> callback);
  // What a run appended so far (its message maps count it; its heartbeat records it).
  struct Appended {
    std::atomic<uint64_t> messages{0}, bytes{0};
  };
  Status Release(int64_t mailbox);
  // kUnavailable when this run held the mailbox and another has taken it over since.
  Status StillHeld(int64_t mailbox);

  // Step bookkeeping: Begin records the intent, Finish the new state. Both count as journal
  // steps for the crash hook.
  Status Begin(int64_t mailbox, std::string_view step);
  Status Finish(int64_t mailbox, MailboxState state);
  // Records that `step` failed; the state stays, so a rerun retries that step.
  Status Fail(int64_t mailbox, std::string_view step, const std::string& reason);
  // Why the mailbox waits for the operator (not a failure: failed_step stays empty), until its
  // next step finishes: what `status` shows of a pass the deletions guard held.
  Status Hold(int64_t mailbox, const std::string& reason);
  Status SaveSnapshot(int64_t mailbox, const std::string& snapshot_json,
                      const std::string& plan_json);

  // Removes a mailbox and what was recorded of its steps, so that the next run sees it as new;
  // what it was (state, totals, step times) is kept for the report, and its message map for a
  // later move of the same identity (Register takes it over: MovedBefore). The caller decides
  // whether that is safe (app/journal_commands.h: RunForget).
  Status Forget(int64_t mailbox);
  // Whether this mailbox took over the message map of an earlier, forgotten move of its
  // identity: its target holds those copies, which its copy brings to the source as it is now.
  Result<bool> MovedBefore(int64_t mailbox);
  struct ForgottenMailbox {
    std::string identity, source_dn, state;  // state when forgotten ("rolled-back")
    uint64_t messages = 0, bytes = 0;        // what its runs had copied
    std::string first_step, last_step;       // as StepSpan
    std::string forgotten_at;                // ISO 8601 UTC
  };
  // Every mailbox forgotten, oldest first.
  Result<std::vector<ForgottenMailbox>> Forgotten();
  // What every run together copied of each mailbox (by mailbox id): the report's cumulative
  // counts, however many runs an interruption split the move into.
  struct CopiedTotal {
    uint64_t messages = 0;
    uint64_t bytes = 0;
  };
  Result<std::map<int64_t, CopiedTotal>> CopiedTotals();
  // The moves at once per resource a claim counts against a cap ("target database DB1", "source
  // server imap://…"): the mailboxes a live run holds with it (on a shared journal, a run whose
  // lease has not run out).
  Result<std::map<std::string, int64_t>> MovesAtOnce();
  // When each mailbox's first step began and its last step ended, in any run (ISO 8601 UTC).
  struct StepSpan {
    std::string first, last;  // its first and last step's times
    double seconds = 0;       // spent in its steps, over every run
  };
  Result<std::map<int64_t, StepSpan>> StepSpans();
  // Wall-clock seconds during which some mailbox was copying, over every run: the union of the
  // copy steps' spans (intent to the mailbox's next step in that run, or to that run's last step
  // when it stopped mid-copy), so parallel copies count once.
  Result<double> CopyingSeconds();
  // When the journal's first run started (ISO 8601 UTC): the migration's start.
  Result<std::string> FirstRunStarted();

  // Staged moves (issue 13). The stage records live beside the mailboxes (a table a journal of
  // an earlier version gets when a run opens it), so such a journal opens and resumes; each
  // write changes only its own fields, so `complete` and `suspend` can record a request while
  // a run goes on.
  Result<std::map<int64_t, MailboxStage>> Stages();
  // The schedule fields (start_after, complete_after, suspend_when_ready, sync_interval).
  Status SaveSchedule(int64_t mailbox, const MailboxStage& schedule);
  Status SetSuspended(int64_t mailbox, bool suspended);
  Status RequestCompletion(int64_t mailbox, bool approve_skipped);
  Status RecordSync(int64_t mailbox, int64_t when);
  // The last delta pass's counts per mailbox (a journal without the table: none).
  Status RecordDelta(int64_t mailbox, const LastDelta& delta);
  Result<std::map<int64_t, LastDelta>> LastDeltas();

  // Every message of a mailbox the target refused, in any run: "folder key: reason".
  Result<std::vector<std::string>> RefusedMessages(int64_t mailbox);

  // The pause hook of tests: CROSSMOVE_PAUSE_MS=N sleeps N ms (called after every step's intent
  // and end, and after a cleanup's final pass, before its directory writes), so that a test can
  // send mail into every window of a move.
  static void PauseHook();

  // The per-message map of one mailbox, for the copy engine.
  std::unique_ptr<MessageMap> MessagesOf(int64_t mailbox);

  // (Internal) connections of finished message maps, reused by the next: opening one reads the
  // schema again, which cost more than a whole move of an empty mailbox.
  struct MapConnections {
    std::mutex mu;
    std::vector<std::unique_ptr<SqlConnection>> idle;
  };

 private:
  Journal() = default;
  Status Exec(const std::string& sql);
  std::unique_ptr<SqlStatement> Prepare(const std::string& sql) { return db_->Prepare(sql); }
  // Creates the mailbox's stage record if need be and runs "UPDATE stages SET `set_clause`";
  // `bind` binds the clause's parameters, the mailbox is bound last (as parameter `last`).
  Status UpdateStage(int64_t mailbox, const char* set_clause, int last,
                     const std::function<void(SqlStatement&)>& bind);
  void StepTaken();  // the crash hook: CROSSMOVE_CRASH_AFTER_STEP=N kills the process after step N
  void StartHeartbeat();  // a shared journal's run: renews its leases
  void StopHeartbeat();

  // One connection shared by the run's worker threads: every call holds this lock, so a
  // multi-statement transaction (Claim, Finish) is never interleaved with another thread's.
  std::shared_ptr<std::recursive_mutex> mu_ = std::make_shared<std::recursive_mutex>();
  std::unique_ptr<SqlConnection> db_;
  JournalLocation where_;
  std::shared_ptr<MapConnections> map_connections_ = std::make_shared<MapConnections>();
  int64_t run_id_ = 0;
  static Result<std::unique_ptr<Journal>> OpenWritable(const JournalLocation& where, bool as_run);
  bool read_only_ = false;
  // Shared journal: the mailboxes this run holds, its leases' length.
  std::set<int64_t> held_;
  // Until when (steady clock, ms) this run's leases are surely valid: the start of its last
  // renewal that succeeded plus two thirds of the lease. Past it, its message maps refuse to
  // write (self-fencing: a worker stalled longer than its lease, SIGSTOP or a frozen VM, must
  // not append beside the worker that took over).
  std::shared_ptr<std::atomic<int64_t>> lease_deadline_ = std::make_shared<std::atomic<int64_t>>(0);
  // What this run appended (its message maps count it), written with every heartbeat so that
  // `status` shows each worker's throughput.
  std::shared_ptr<Appended> appended_ = std::make_shared<Appended>();
  void LeaseRenewedAt(std::chrono::steady_clock::time_point started);
  // Seconds since the epoch by the database's clock (leases are compared on one clock, whatever
  // the workers' hosts say the time is).
  std::string EpochNowSql() const;
  int64_t lease_seconds_ = 60;
  static constexpr int64_t kMailboxGuardKey = advisory::kMailboxGuards;
  std::thread heartbeat_;
  std::mutex heartbeat_mu_;
  std::condition_variable heartbeat_cv_;
  bool heartbeat_stop_ = false;
  std::function<void(int)> on_heartbeat_;  // guarded by heartbeat_mu_
  long crash_after_ = -1;
  long steps_ = 0;
};

}  // namespace cm
