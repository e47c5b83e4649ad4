#include <fmt/format.h>
#include <signal.h>

#include <atomic>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <thread>

#include "app/bounces.h"
#include "app/continuity.h"
#include "app/journal_access.h"
#include "app/lifecycle.h"
#include "app/migration_context.h"
#include "app/migration_pass.h"
#include "app/migration_report.h"
#include "app/preflight.h"
#include "app/report.h"
#include "app/run_progress.h"
#include "app/stop_signal.h"
#include "core/dn.h"
#include "core/planner.h"
#include "core/strings.h"
#include "core/timestamp.h"
#include "io/byte_rate.h"
#include "journal/journal.h"
#include "journal/run_lock.h"
#include "mailstore/imap_store.h"

namespace cm {

namespace {

// Per mailbox, what this run did, for `run --json`.
nlohmann::json MailboxResults(const std::vector<ReportRow>& rows) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : rows) {
    out.push_back({{"identity", r.identity},
                   {"state", r.state},
                   {"target", r.target_primary_smtp},
                   {"failure", r.failure},
                   {"skipped", r.skipped},
                   {"messages", r.messages},
                   {"bytes", r.bytes},
                   {"seconds", r.seconds},
                   {"stage", r.stage},
                   {"grade", r.grade},
                   {"waiting", r.waiting}});
  }
  return out;
}

// The places among each server's connections (max-connections), shared with the other workers
// through the run lock's session (mailstore/imap_store.h), from the preflight on.
class RunConnectionPlaces : public SharedConnectionSlots {
 public:
  explicit RunConnectionPlaces(RunLock& lock) : lock_(&lock) {}
  Result<bool> TryTake(const std::string& server, int place) override {
    std::lock_guard lock(mu_);
    if (!lock_) return true;
    return lock_->TryTakeConnectionPlace(server, place);
  }
  void Release(const std::string& server, int place) override {
    std::lock_guard lock(mu_);
    if (lock_) lock_->ReleaseConnectionPlace(server, place);
  }
  void Detach() {
    std::lock_guard lock(mu_);
    lock_ = nullptr;
  }

 private:
  std::mutex mu_;
  RunLock* lock_;
};

bool SameSchedule(const MailboxStage& a, const MailboxStage& b) {
  return a.start_after == b.start_after && a.complete_after == b.complete_after &&
         a.suspend_when_ready == b.suspend_when_ready && a.sync_interval == b.sync_interval;
}

// One pass: what is due of every mailbox of the users file (or of `options.only`), then the
// report. Sets `next_due` to the earliest time a mailbox has something to do next (0: none).
// Workers on a shared journal (issue 14): a mailbox that another live worker held when this
// pass came to it is that worker's until it is done, or until that worker stops renewing its
// lease (killed, its host lost) and this one takes it over from its journaled step. The pass
// comes back to such mailboxes every second, so that each worker returns only when the whole
// batch is done, failed or waits (or on Ctrl-C).
void AwaitOtherWorkers(MigrationContext& ctx, std::vector<MailboxWork>& work,
                       RunProgress& progress) {
  while (!StopRequested()) {
    bool waiting = false;
    for (auto& w : work) waiting = waiting || w.held_elsewhere;
    if (!waiting) return;
    for (int nap = 0; nap < 10 && !StopRequested(); ++nap)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    for (auto& w : work) {
      if (!w.held_elsewhere || StopRequested()) continue;
      auto now = ctx.journal->Find(w.jm.identity);
      if (now.ok() && *now && (*now)->holder.empty() &&
          (*now)->state >= MailboxState::kSourceCleaned) {
        // Moved by the other worker: proven already, or left for a sweep this pass can make.
        w.held_elsewhere = false;
        w.row.skipped.clear();
        if (Status s = AdoptJournaled(w, **now); !s.ok()) w.row.failure = s.message();
        w.already_done = w.jm.state != MailboxState::kSourceCleaned;
        continue;
      }
      w.row.skipped.clear();
      MoveMailbox(ctx, w, progress);
    }
  }
}

int MigrationPass(const Config& config, const PassOptions& options, Console console,
                  RunLock& run_lock, int64_t& next_due) {
  next_due = 0;
  Problems problems;
  Preflight pre;
  std::optional<Status> fatal;
  // The validation `plan` makes (app/preflight.h); journaled mailboxes continue from their state.
  if (!PrepareRun(config, /*for_run=*/true, console.err, pre, problems, fatal,
                  /*journaled_only=*/!options.only.empty())) {
    if (fatal) {
      if (fatal->code() == Status::Code::kUnavailable)
        return Unreachable(*fatal, console, options.json);
      PrintError(fatal->message(), options.json, console);
      return kExitUsage;
    }
    ReportProblems(problems, options.json, console);
    return pre.unreachable ? kExitUnreachable : kExitUsage;
  }
  const UsersFile& users = pre.users;
  const Batch& batch = pre.batch;
  std::map<std::string, const JournaledMove*, ILess> by_identity;
  for (const auto& l : pre.journaled) by_identity[l.jm.identity] = &l;

  MigrationContext ctx{
      config, console, std::move(pre.orgs), nullptr, nullptr, std::move(pre.stores), {}, nullptr};
  auto journal = OpenJournal(config, JournalMode::kRun);
  if (!journal.ok()) {
    console.err << "crossmove: " << journal.status().message() << "\n";
    return kExitUsage;
  }
  ctx.journal = std::move(*journal);
  // Workers of one migration share each server's max-bytes-per-second evenly.
  ctx.journal->OnHeartbeat(SetByteRateShare);
  ctx.approve_deletions = options.approve_deletions;
  (void)run_lock.SetRun(ctx.journal->run_id());  // best effort: only names the run to others
  auto log = EventLog::Open(config.event_log, ctx.journal->run_id());
  if (!log.ok()) {
    console.err << "crossmove: " << log.status().message() << "\n";
    return kExitUsage;
  }
  ctx.log = std::move(*log);

  // The work list, in users-file order.
  auto stages = ctx.journal->Stages();
  if (!stages.ok()) {
    console.err << "crossmove: " << stages.status().message() << "\n";
    return kExitUsage;
  }
  std::set<int64_t> only(options.only.begin(), options.only.end());
  std::vector<MailboxWork> work;
  size_t kept_schedules = 0;  // staged mailboxes whose journaled schedule this run keeps
  std::map<std::string, size_t, ILess> planned;
  for (size_t i = 0; i < batch.mailboxes.size(); ++i) {
    planned[JournalIdentity(users.identity_column, batch.mailboxes[i].row.identity)] = i;
  }
  for (const auto& row : users.rows) {
    std::string key = JournalIdentity(users.identity_column, row.identity);
    MailboxWork w;
    auto journaled = by_identity.find(key);
    if (journaled == by_identity.end() && !only.empty()) continue;  // not planned (PrepareRun)
    if (auto it = journaled; it != by_identity.end()) {
      auto fresh_state = ctx.journal->Find(key);
      w.jm = fresh_state.ok() && *fresh_state ? **fresh_state : it->second->jm;
      w.snapshot = it->second->snapshot;
      w.plan = it->second->plan;
    } else {
      const PlannedMailbox& m = batch.mailboxes[planned.at(key)];
      auto id = ctx.journal->Register(key, row.line, m.source.dn());
      if (!id.ok()) {
        console.err << "crossmove: " << id.status().message() << "\n";
        return kExitUsage;
      }
      auto jm = ctx.journal->Find(key);
      if (!jm.ok() || !*jm) return kExitUsage;
      w.jm = **jm;
      w.plan = m.plan;
      w.snapshot.source = m.source;
      if (!w.jm.snapshot.empty()) {
        // Another worker snapshotted it since this one planned (a shared journal): its
        // snapshot and plan are the mailbox's.
        if (Status s = AdoptJournaled(w, w.jm, /*always=*/true); !s.ok()) {
          console.err << "crossmove: " << s.message() << "\n";
          return kExitUsage;
        }
      }
      for (const auto& match : m.target_matches) {
        for (const auto& op : m.plan.provision) {
          if (op.kind == DirectoryOp::Kind::kDelete && DnEquals(op.dn, match.dn()))
            w.snapshot.replaced_target_objects.push_back(match);
        }
      }
    }
    if (!only.empty() && !only.count(w.jm.id)) continue;
    // The schedule from this run's settings and the row, or the journaled one (lifecycle.h
    // EffectiveSchedule); the operator's requests from the journal.
    auto recorded = stages->find(w.jm.id);
    w.stage = recorded == stages->end() ? MailboxStage{} : recorded->second;
    bool kept = false;
    MailboxStage schedule = EffectiveSchedule(
        config, row, recorded == stages->end() ? nullptr : &recorded->second, w.jm.state, kept);
    kept_schedules += kept && !w.stage.complete_requested;  // `complete` itself needs no hint
    if (recorded == stages->end() ? schedule.staged() : !SameSchedule(w.stage, schedule)) {
      if (Status s = ctx.journal->SaveSchedule(w.jm.id, schedule); !s.ok()) {
        console.err << "crossmove: " << s.message() << "\n";
        return kExitUsage;
      }
    }
    w.stage.start_after = schedule.start_after;
    w.stage.complete_after = schedule.complete_after;
    w.stage.suspend_when_ready = schedule.suspend_when_ready;
    w.stage.sync_interval = schedule.sync_interval;
    w.row = {key,
             w.plan.source_dn,
             w.plan.target_dn,
             w.plan.target_primary_smtp,
             std::string(ToString(w.plan.cleanup)),
             "",
             "",
             0,
             0,
             0,
             {},
             ""};
    w.priority = row.priority;
    work.push_back(std::move(w));
  }

  if (kept_schedules) {
    console.err << fmt::format(
        "crossmove: {} the schedule journaled when {} staged (this run names none): "
        "`crossmove complete` cuts over now, a run with start-after / complete-after / "
        "suspend-when-ready changes it\n",
        kept_schedules == 1 ? "1 mailbox keeps" : fmt::format("{} mailboxes keep", kept_schedules),
        kept_schedules == 1 ? "it was" : "they were");
  }

  // Loud before anything moves: the old addresses a Delete* cleanup leaves to bounce.
  std::vector<MailboxPlan> work_plans;
  for (const auto& w : work) work_plans.push_back(w.plan);
  AcceptedDomains domains = DomainsOf(config, work_plans);
  BounceCount bounces;
  for (const auto& w : work) {
    if (w.jm.state < MailboxState::kSourceCleaned)
      bounces.Add(AddressesThatWillBounce(w.snapshot.source, w.plan, domains, config.profile),
                  w.plan.cleanup);
  }
  if (std::string warning = BounceWarning(bounces); !warning.empty())
    console.err << "crossmove: " << warning << "\n";

  StopSignals stop_signals;
  std::vector<MailboxState> states_before;  // what the pass found, to tell whether it did anything
  for (const auto& w : work) states_before.push_back(w.jm.state);
  uint64_t known_bytes = 0;
  size_t known = 0;
  for (auto& w : work) {
    w.already_done = w.jm.state == MailboxState::kRoutingVerified;
    if (w.snapshot.folders.empty() && w.jm.state == MailboxState::kPending) continue;
    for (const auto& f : w.snapshot.folders) known_bytes += f.bytes;
    ++known;
  }
  RunProgress progress(console, work.size(), known_bytes, known);
  // One line per mailbox when this run is done with it, with the state it ends in.
  auto Announce = [&](MailboxWork& w) {
    if (w.announced) return;
    w.announced = true;
    std::string outcome =
        !w.row.failure.empty()   ? "FAILED " + EscapeControlCharacters(w.row.failure)
        : !w.row.skipped.empty() ? "SKIPPED: " + w.row.skipped
        : w.row.interrupted
            ? fmt::format("stopped after {} (the next run resumes there)", ToString(w.jm.state))
        : !w.row.waiting.empty() ? w.row.waiting
        : w.already_done && w.row.messages == 0
            ? fmt::format("already done ({})", ToString(w.jm.state))
            : std::string(ToString(w.jm.state));
    progress.MailboxDone(w.plan.alias, outcome, w.row.messages, w.row.bytes);
  };
  // `parallel` mailboxes at once (-MaxThreads); each worker takes the next mailbox by priority
  // (the users file's Priority column, highest first), then in file order.
  std::vector<size_t> order(work.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return work[a].priority > work[b].priority; });
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i = next++; i < work.size(); i = next++) {
      MailboxWork& w = work[order[i]];
      if (w.jm.state == MailboxState::kRolledBack) {
        // Skipped, not failed, as `plan` shows it: a rollback is the operator's decision.
        w.row.skipped =
            "rolled back: `crossmove forget IDENTITY`, then `run --allow-merge`, moves it again";
      } else if (StopRequested() && w.jm.state < MailboxState::kSourceCleaned) {
        w.row.interrupted = true;  // not started: the next run takes it
      } else if (w.jm.state < MailboxState::kSourceCleaned) {
        MoveMailbox(ctx, w, progress);
      }
      progress.Moved();
      // A mailbox that stops here is told now; the others once their routing is proven (and
      // one another worker holds once this pass is done waiting for it).
      if (!w.held_elsewhere && (!w.row.failure.empty() || !w.row.skipped.empty() ||
                                w.row.interrupted || !w.row.waiting.empty()))
        Announce(w);
    }
  };
  size_t threads = std::min<size_t>(static_cast<size_t>(std::max(1, config.parallel)), work.size());
  ctx.stores_open_to_sweep = work.size() <= threads;
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  if (ctx.journal->shared()) AwaitOtherWorkers(ctx, work, progress);

  // Sweep (mail that reached the source during the cleanup) and the proof of continuity.
  std::vector<Snapshot> snapshots;
  std::vector<MailboxPlan> plans;
  for (const auto& w : work) {
    snapshots.push_back(w.snapshot);
    plans.push_back(w.plan);
  }
  auto model = BuildModel(ctx.orgs, config, snapshots, plans);
  ctx.routing_model = &model;
  // The sweeps run `parallel` at once too; the model is read-only.
  next = 0;
  auto prover = [&] {
    for (size_t i = next++; i < work.size(); i = next++) {
      SweepAndProve(ctx, work[i], progress);
      Announce(work[i]);
    }
  };
  pool.clear();
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(prover);
  prover();
  for (auto& t : pool) t.join();
  progress.Finished();

  RunReport report = NewMigrationReport(
      *ctx.journal, config,
      fmt::format("crossmove migration report: {} (run {})", users.path, ctx.journal->run_id()),
      fmt::format("source {} -> target {}", ctx.orgs.source_base, ctx.orgs.target_base));
  report.samples = progress.samples();
  report.seconds = progress.elapsed();
  size_t failed = 0, moved = 0, skipped = 0, failed_unreachable = 0, investigate = 0;
  uint64_t messages = 0, bytes = 0;  // this run's
  nlohmann::json skipped_rows = nlohmann::json::array();
  std::set<std::string> holders;
  // What every run together copied, stages and grades from the journal as this pass leaves it:
  // the report is the migration's, not this invocation's.
  MigrationReportBuilder builder(*ctx.journal, config, domains);
  size_t synced = 0, suspended = 0, held = 0;
  std::set<int64_t> reported;
  for (auto& w : work) {
    w.row.state = std::string(ToString(w.jm.state));
    builder.Annotate(w.row, w.jm, &w.snapshot, &w.plan);
    failed += !w.row.failure.empty();
    failed_unreachable += !w.row.failure.empty() && w.failed_unreachable;
    if (!w.row.skipped.empty()) {
      ++skipped;
      skipped_rows.push_back({{"identity", w.jm.identity}, {"reason", w.row.skipped}});
      holders.insert(w.row.skipped);
    }
    moved += w.jm.state == MailboxState::kRoutingVerified;
    // A suspended mailbox is synced, but waits for `resume`, not for a due time: told apart.
    bool waits = w.jm.state == MailboxState::kContentVerified && w.row.failure.empty();
    held += waits && !w.hold.empty();
    suspended += waits && w.hold.empty() && w.stage.suspended;
    investigate += waits && w.hold.empty() && !w.stage.suspended && w.needs_approval;
    synced += waits && w.hold.empty() && !w.stage.suspended && !w.needs_approval;
    if (w.next_due > 0) next_due = next_due ? std::min(next_due, w.next_due) : w.next_due;
    messages += w.row.messages;
    bytes += w.row.bytes;
    report.rows.push_back(builder.Cumulative(w.row, w.jm.id));
    reported.insert(w.jm.id);
  }
  builder.Finish(report, reported, pre.journaled);
  // A pass of a watch that changed nothing (no state, no message, no failure) keeps no dated
  // copy: a weekend of sync passes a minute apart would leave thousands of alike pages.
  bool eventful = !options.watch;
  for (size_t i = 0; i < work.size(); ++i) {
    const MailboxWork& w = work[i];
    eventful |= w.jm.state != states_before[i] || w.row.messages > 0 || !w.row.failure.empty() ||
                !w.hold.empty() || w.row.interrupted;
  }
  auto [report_base, dated] = WriteMigrationReport(config, report, console.err, eventful);
  std::string summary = fmt::format(
      "{} of {} mailboxes moved and verified, {}{} failed{}; {} messages ({:.1f} MB) copied in "
      "{:.1f} s. Report: {}.html{}",
      moved, work.size(),
      (synced ? fmt::format(
                    "{} synced (not completed yet{}), ", synced,
                    next_due ? "; next due (a sync or a start) " + FormatIsoTime(next_due) : "")
              : std::string()) +
          (suspended ? fmt::format("{} suspended (until `crossmove resume`), ", suspended)
                     : std::string()) +
          (held ? fmt::format("{} held by the deletions guard (until `crossmove complete "
                              "--approve-deletions`), ",
                              held)
                : std::string()) +
          (investigate ? fmt::format("{} waiting for approval of skipped messages (`crossmove "
                                     "complete --approve-skipped`), ",
                                     investigate)
                       : std::string()),
      failed,
      skipped ? fmt::format(", {} skipped ({})", skipped,
                            Join(std::vector<std::string>(holders.begin(), holders.end()), "; "))
              : std::string(),
      messages, static_cast<double>(bytes) / 1e6, progress.elapsed(), report_base,
      dated.empty() ? " (this pass changed nothing: no dated copy)"
                    : " (this run's: " + dated + ".html)");
  size_t interrupted = 0;
  for (const auto& w : work) interrupted += w.row.interrupted;
  if (StopRequested()) {
    summary = fmt::format(
        "Interrupted by {}: stopped at a safe point ({} mailboxes not finished; the journal "
        "records every step and message done). {}\nTo resume, run the same command again: "
        "`crossmove ... run` continues each mailbox from its journaled step.",
        StopSignalNumber() == SIGTERM ? "SIGTERM" : "SIGINT", interrupted, summary);
  }
  if (options.json) {
    nlohmann::json j = {
        {"moved", moved},
        {"synced", synced},
        {"suspended", suspended},
        {"held", held},
        {"awaiting_approval_of_skipped", investigate},
        {"next_due", next_due ? nlohmann::json(FormatIsoTime(next_due)) : nlohmann::json()},
        {"grade", report.grade},
        {"interrupted", StopRequested()},
        {"unfinished", interrupted},
        {"failed", failed},
        {"skipped", skipped},
        {"skipped_mailboxes", skipped_rows},  // identity and who holds it
        {"messages", messages},
        {"bytes", bytes},
        {"addresses_that_will_bounce", bounces.addresses},
        {"mailboxes", MailboxResults(report.rows)},
        {"report", report_base + ".html"},
        {"run_report", dated.empty() ? nlohmann::json() : nlohmann::json(dated + ".html")}};
    console.out << j.dump(2) << "\n";
  } else {
    console.out << summary << "\n";
  }
  if (StopRequested()) return kExitInterrupted;
  // A server down or broken off for every mailbox that failed: each stays at its journaled
  // step and a later run goes on, as when a server is down before the pass.
  if (failed) return failed == failed_unreachable ? kExitUnreachable : kExitSomeFailed;
  return held + investigate ? kExitNeedsApproval : kExitOk;
}

// Sleeps until `due` (seconds since the epoch). Wakes early on SIGINT / SIGTERM (returns false)
// and when an operator's request (`complete`, `suspend`, `resume`) changes the journal's
// stages, which it reads every 2 seconds without a lock.
bool SleepUntilDue(const Config& config, int64_t due, Console console) {
  StopSignals stop_signals;
  auto stages_of = [&]() -> std::map<int64_t, MailboxStage> {
    auto journal = OpenJournal(config, JournalMode::kReadOnly);
    if (!journal.ok()) return {};
    auto stages = (*journal)->Stages();
    return stages.ok() ? std::move(*stages) : std::map<int64_t, MailboxStage>{};
  };
  std::map<int64_t, MailboxStage> before = stages_of();
  due = std::max(due, UnixNow() + 1);  // an interval of 0 syncs as often as it can, not in a spin
  console.err << fmt::format("crossmove: watching; next due {}\n", FormatIsoTime(due));
  for (int tick = 1; UnixNow() < due; ++tick) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    if (StopRequested()) return false;
    if (tick % 10 == 0 && stages_of() != before) return true;
  }
  return true;
}

}  // namespace

int Migrate(const Config& config, const PassOptions& options, Console console) {
  // Under --watch the interval is the pause between a mailbox's syncs: below a minute it would
  // keep both servers busy without pause. From cron, 0 means "sync at every run", which is fine.
  if (options.watch && config.incremental_sync_interval_seconds < 60) {
    Problem problem = config.ProblemWith(
        "incremental-sync-interval",
        fmt::format("{} s is too short for --watch, which would sync every mailbox again without "
                    "pause; set 1m or more (a cron-driven `run` without --watch may use 0: it "
                    "syncs at every call)",
                    config.incremental_sync_interval_seconds));
    PrintError(problem.ToString(), options.json, console);
    return kExitUsage;
  }
  if (Status s = MakeJournalFolder(config.journal); !s.ok()) {
    PrintError(s.message(), options.json, console);
    return kExitUsage;
  }
  int refused = kExitUsage;
  std::optional<RunLock> run_lock =
      LockJournal(config, options.wait, console, refused, /*json=*/false,
                  /*shared=*/true);
  if (!run_lock) return refused;
  std::shared_ptr<RunConnectionPlaces> places;
  if (run_lock->shared()) {
    places = std::make_shared<RunConnectionPlaces>(*run_lock);
    ShareConnectionSlots(places);
  }
  struct Unshare {
    std::shared_ptr<RunConnectionPlaces> places;
    ~Unshare() {
      ShareConnectionSlots(nullptr);
      if (places) places->Detach();  // a store that outlives the run releases nothing
    }
  } unshare{places};
  while (true) {
    int64_t next_due = 0;
    int code = MigrationPass(config, options, console, *run_lock, next_due);
    // A server down before the pass ends the watch (next_due is 0: nothing was looked at); one
    // that went down during it does not: the next due pass tries again.
    if (!options.watch || code == kExitInterrupted || code == kExitUsage || next_due == 0)
      return code;
    if (!SleepUntilDue(config, next_due, console)) {
      console.err << "crossmove: watch stopped by a signal; run `crossmove run --watch` again to "
                     "go on\n";
      return kExitInterrupted;
    }
  }
}

}  // namespace cm
