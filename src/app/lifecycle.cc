#include "app/lifecycle.h"

#include <fmt/format.h>

#include <algorithm>
#include <mutex>
#include <set>
#include <thread>

#include "app/bounces.h"
#include "app/continuity.h"
#include "app/migration_context.h"
#include "app/stop_signal.h"
#include "core/proxy_address.h"
#include "core/strings.h"
#include "core/timestamp.h"
#include "journal/serialize.h"

namespace cm {

namespace {

using Clock = std::chrono::steady_clock;

// The table: one row per transition, in the order a mailbox takes them.
constexpr LifecycleStep kSteps[] = {
    {"snapshot", MailboxState::kPending, MailboxState::kSnapshotted, TakeSnapshot},
    {"provision", MailboxState::kSnapshotted, MailboxState::kTargetProvisioned, ProvisionTarget},
    {"copy", MailboxState::kTargetProvisioned, MailboxState::kContentCopied, CopyContent},
    {"verify", MailboxState::kContentCopied, MailboxState::kContentVerified, VerifyContent},
    {"cleanup", MailboxState::kContentVerified, MailboxState::kSourceCleaned, CleanUpSource},
    {"routing", MailboxState::kSourceCleaned, MailboxState::kRoutingVerified, ProveRouting},
};
constexpr const LifecycleStep& kCleanupStep = kSteps[4];
constexpr const LifecycleStep& kRoutingStep = kSteps[5];
// A synced mailbox's incremental pass: it stays where it is, its content synced again.
constexpr LifecycleStep kSyncStep = {"sync", MailboxState::kContentVerified,
                                     MailboxState::kContentVerified, SyncContent};

// What the journal holds of a mailbox just claimed, where another run took it further than this
// run found it when it planned.
bool TakeUpJournaled(MigrationContext& ctx, MailboxWork& w) {
  auto now = ctx.journal->Find(w.jm.identity);
  Status s = !now.ok() ? now.status()
             : !*now   ? Status::NotFound("the mailbox is no longer in the journal")
                       : AdoptJournaled(w, std::move(**now));
  if (s.ok()) return true;
  w.row.failure = s.message();
  ctx.journal->Release(w.jm.id);
  return false;
}

// Takes the mailbox for this run. One held by another live run is that run's work: skipped,
// not failed (SPEC §5), so neither the exit code nor the report counts it as a failure.
// The mail server of a store, for the per-server caps: "imap://host:port" (what comes before
// the path), or the store as written for a Maildir tree on this host's disk.
std::string ServerOfStore(const std::string& store) {
  size_t scheme = store.find("://");
  if (scheme == std::string::npos) return "maildir (this host)";
  size_t path = store.find('/', scheme + 3);
  std::string server = path == std::string::npos ? store : store.substr(0, path);
  size_t at = server.rfind('@');  // a user in the URL is not the server
  return at == std::string::npos ? server : server.substr(0, scheme + 3) + server.substr(at + 1);
}

// What a mailbox's move uses, with the caps on moves at once (Exchange's MaxActiveMovesPer*).
std::vector<Journal::ClaimCap> MoveCaps(const MigrationContext& ctx, const MailboxWork& w) {
  const Config& c = ctx.config;
  std::vector<Journal::ClaimCap> caps;
  if (const DatabaseConfig* db = c.SourceDatabaseFor(w.snapshot.source.First(c.profile.home_mdb))) {
    caps.push_back({"source database " + db->name, c.max_moves_per_source_database,
                    "max-moves-per-source-database"});
    caps.push_back({"source server " + ServerOfStore(db->store), c.max_moves_per_source_server,
                    "max-moves-per-source-server"});
  }
  if (const DatabaseConfig* db = c.TargetDatabaseFor(w.plan.target_database_dn)) {
    caps.push_back({"target database " + db->name, c.max_moves_per_target_database,
                    "max-moves-per-target-database"});
    caps.push_back({"target server " + ServerOfStore(db->store), c.max_moves_per_target_server,
                    "max-moves-per-target-server"});
  }
  return caps;
}

bool ClaimOrSkip(MigrationContext& ctx, MailboxWork& w, bool move = false) {
  auto caps = move ? MoveCaps(ctx, w) : std::vector<Journal::ClaimCap>{};
  Status s = ctx.journal->Claim(w.jm.id, caps);
  // At a cap on moves at once: this worker thread waits for a place (one ends when a move
  // releases its mailbox, or when a dead worker's lease runs out).
  while (s.code() == Status::Code::kResourceExhausted && !StopRequested()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    s = ctx.journal->Claim(w.jm.id, caps);
  }
  if (s.code() == Status::Code::kResourceExhausted) {
    w.row.interrupted = true;  // stopped while it waited: the next run takes it
    return false;
  }
  if (s.ok()) {
    w.held_elsewhere = false;
    w.row.skipped.clear();
    return TakeUpJournaled(ctx, w);
  }
  if (s.code() != Status::Code::kUnavailable) {
    w.row.failure = s.message();
    return false;
  }
  auto now = ctx.journal->Find(w.jm.identity);
  w.row.skipped =
      now.ok() && *now && !(*now)->holder.empty() ? "held by " + (*now)->holder : s.message();
  w.held_elsewhere = true;
  return false;
}

// One step: intent, work, done. Returns false when the mailbox stops.
bool TakeStep(MigrationContext& ctx, MailboxWork& w, const LifecycleStep& step,
              RunProgress& progress) {
  if (StopRequested()) {  // a safe point: the mailbox stays in its state, the next run goes on
    w.row.interrupted = true;
    return false;
  }
  Status s = ctx.journal->Begin(w.jm.id, step.name);
  Journal::PauseHook();
  if (s.ok()) s = step.work(ctx, w, progress);
  if (s.ok()) s = ctx.journal->Finish(w.jm.id, step.to);
  Journal::PauseHook();
  if (!s.ok() && StopRequested()) {
    // Stopped, not failed: the step's intent is journaled and the next run does it again
    // (a copy continues from the messages the journal records).
    w.row.interrupted = true;
    return false;
  }
  if (!s.ok() && IsLostClaim(s)) {
    // Another worker took the mailbox over (this one's lease ran out): its work, not a failure
    // of the mailbox. This pass waits for it as for any mailbox another worker holds, and
    // writes nothing of it (its records are the other's now).
    ctx.log->StateChange(w.jm.identity, "taken over", s.message());
    w.row.skipped = "taken over by another worker";
    w.held_elsewhere = true;
    return false;
  }
  if (!s.ok() && !w.hold.empty()) {
    // Held, not failed: the mailbox stays where it was (the step's intent is journaled and the
    // next pass does it again), waiting for the operator's approval.
    ctx.log->StateChange(w.jm.identity, "held", fmt::format("{}: {}", step.name, w.hold));
    w.row.waiting = "held by the deletions guard: " + w.hold;
    w.needs_approval = true;
    ctx.journal->Hold(w.jm.id, w.row.waiting);
    return false;
  }
  if (!s.ok()) {
    std::string failed = w.failed_part.empty() ? std::string(step.name) : w.failed_part;
    ctx.journal->Fail(w.jm.id, failed, s.message());
    ctx.log->StateChange(w.jm.identity, "failed", fmt::format("{}: {}", failed, s.message()));
    w.row.failure = fmt::format("{}: {}", failed, s.message());
    w.failed_unreachable = s.code() == Status::Code::kUnavailable && !ServersAnswer(ctx, w);
    return false;
  }
  w.jm.state = step.to;
  ctx.log->StateChange(w.jm.identity, ToString(step.to));
  return true;
}

}  // namespace

std::string_view ToString(LifecycleStage stage) {
  switch (stage) {
    case LifecycleStage::kQueued:
      return "queued";
    case LifecycleStage::kSyncing:
      return "syncing";
    case LifecycleStage::kSynced:
      return "synced";
    case LifecycleStage::kCompleting:
      return "completing";
    case LifecycleStage::kCompleted:
      return "completed";
    case LifecycleStage::kFailed:
      return "failed";
    case LifecycleStage::kSuspended:
      return "suspended";
    case LifecycleStage::kRolledBack:
      return "rolled-back";
  }
  return "?";
}

bool IsGraded(const JournalMailbox& jm) { return !jm.failed() || jm.failed_step == "complete"; }

std::string UngradedNote(size_t ungraded) {
  return fmt::format("{} not graded until a run moves {}", CountOf(ungraded, "failed mailbox"),
                     ungraded == 1 ? "it" : "them");
}

LifecycleStage StageOf(const JournalMailbox& jm, const MailboxStage& stage) {
  if (jm.state == MailboxState::kRolledBack) return LifecycleStage::kRolledBack;
  if (jm.failed()) return LifecycleStage::kFailed;
  if (jm.state == MailboxState::kRoutingVerified) return LifecycleStage::kCompleted;
  if (stage.suspended) return LifecycleStage::kSuspended;
  switch (jm.state) {
    case MailboxState::kPending:
      return LifecycleStage::kQueued;
    case MailboxState::kContentVerified:
      return LifecycleStage::kSynced;
    case MailboxState::kSourceCleaned:
      return LifecycleStage::kCompleting;
    default:
      return LifecycleStage::kSyncing;
  }
}

ConsistencyGrade MailboxGrade(const Journal::CopiedTotal& copied, size_t refused) {
  return GradeOf(copied.messages + refused, refused);
}

bool CompletionDue(const MailboxStage& stage, int64_t now) {
  if (stage.complete_requested) return true;
  if (stage.suspend_when_ready) return false;
  return !stage.complete_after || now >= *stage.complete_after;
}

MailboxStage ScheduleOf(const Config& config, const UsersFileRow& row) {
  MailboxStage schedule;
  schedule.start_after = row.start_after ? row.start_after : config.start_after;
  schedule.complete_after = row.complete_after ? row.complete_after : config.complete_after;
  schedule.suspend_when_ready = config.suspend_when_ready;
  schedule.sync_interval = config.incremental_sync_interval_seconds;
  return schedule;
}

MailboxStage EffectiveSchedule(const Config& config, const UsersFileRow& row,
                               const MailboxStage* recorded, MailboxState state, bool& kept) {
  MailboxStage schedule = ScheduleOf(config, row);
  bool run_names_schedule =
      config.start_after || config.complete_after || config.suspend_when_ready;
  kept =
      recorded && recorded->staged() && !run_names_schedule && state < MailboxState::kSourceCleaned;
  if (kept) {
    if (!row.start_after) schedule.start_after = recorded->start_after;
    if (!row.complete_after) schedule.complete_after = recorded->complete_after;
    schedule.suspend_when_ready = recorded->suspend_when_ready;
  }
  return schedule;
}

std::string ScheduleNote(const MailboxStage& schedule, int64_t now) {
  if (!schedule.staged()) return "";
  std::string start =
      schedule.start_after && now < *schedule.start_after
          ? fmt::format("starts after {}, then syncs", FormatIsoTime(*schedule.start_after))
          : "syncs now";
  int64_t synced_at = std::max(now, schedule.start_after.value_or(now));
  return start + "; " +
         (schedule.suspend_when_ready ? std::string("then waits for `crossmove complete`")
          : !CompletionDue(schedule, synced_at)
              ? fmt::format("completes after {}", FormatIsoTime(*schedule.complete_after))
              : std::string("completes once synced"));
}

std::string CompletionNote(MailboxState state, const MailboxStage& stage, int64_t now) {
  if (state >= MailboxState::kSourceCleaned) return "";
  if (!stage.staged() && !stage.complete_requested) return "";
  if (stage.suspended) return "suspended: `crossmove resume` lets it go on";
  if (stage.complete_requested || CompletionDue(stage, now)) return "completes at the next run";
  if (stage.suspend_when_ready) return "waits for `crossmove complete`";
  return fmt::format("completes after {}", FormatIsoTime(*stage.complete_after));
}

int64_t NextDueOf(MailboxState state, const MailboxStage& stage, int64_t now) {
  if (stage.suspended) return 0;
  if (state == MailboxState::kPending)
    return stage.start_after && now < *stage.start_after ? *stage.start_after : now;
  if (state < MailboxState::kContentVerified || state == MailboxState::kSourceCleaned) return now;
  if (state != MailboxState::kContentVerified) return 0;
  if (CompletionDue(stage, now)) return now;
  int64_t next_sync = stage.last_sync + stage.sync_interval;
  if (stage.complete_after && !stage.suspend_when_ready)
    return std::min(next_sync, *stage.complete_after);
  return next_sync;
}

const LifecycleStep* NextStepFrom(MailboxState state) {
  for (const auto& step : kSteps) {
    if (step.from == state) return &step;
  }
  return nullptr;
}

std::string_view NextStepName(MailboxState state) {
  const LifecycleStep* step = NextStepFrom(state);
  return step ? step->name : "";
}

Status TakeSnapshot(MigrationContext& ctx, MailboxWork& w, RunProgress& progress) {
  auto location = ctx.stores.SourceLocation(w.snapshot.source);
  if (!location.ok()) return location.status();
  w.snapshot.store = *location;
  auto store = SourceStoreOf(ctx, w);
  if (!store.ok()) return store.status();
  auto folders = (*store)->ListFolders();
  if (!folders.ok()) return folders.status();
  w.snapshot.folders.clear();
  for (const auto& f : *folders) {
    if (!f.selectable) continue;
    if (f.messages >= 0 && f.bytes >= 0) {  // counted by the folder listing (IMAP STATUS)
      w.snapshot.folders.push_back(
          {f.Name(), static_cast<uint64_t>(f.messages), static_cast<uint64_t>(f.bytes)});
      continue;
    }
    auto messages = (*store)->ListMessages(f, Detail::kNames);
    if (!messages.ok()) return messages.status();
    FolderSnapshot fs{f.Name(), messages->size(), 0};
    for (const auto& m : *messages) fs.bytes += m.size;
    w.snapshot.folders.push_back(fs);
  }
  uint64_t size = 0;
  for (const auto& f : w.snapshot.folders) size += f.bytes;
  progress.Sized(size);
  return ctx.journal->SaveSnapshot(w.jm.id, SnapshotToJson(w.snapshot),
                                   PlanToJsonValue(w.plan).dump());
}

Status ProvisionTarget(MigrationContext& ctx, MailboxWork& w, RunProgress&) {
  return ApplyPlanOps(ctx, w, w.plan.provision);
}

Status CopyContent(MigrationContext& ctx, MailboxWork& w, RunProgress& progress) {
  w.copied_in_this_run = true;
  // Moved before, rolled back and forgotten: the target still holds the copies of that move,
  // and the source has changed since (flags, moves, deletions). A delta pass brings those copies
  // to the source as it is now; a copy of new mail only would leave them beside new copies.
  auto moved_before = ctx.journal->MovedBefore(w.jm.id);
  if (!moved_before.ok()) return moved_before.status();
  return CopyPass(ctx, w, progress, *moved_before ? PassKind::kChanges : PassKind::kNewMessages)
      .status();
}

Status VerifyContent(MigrationContext& ctx, MailboxWork& w, RunProgress&) {
  auto src = SourceStoreOf(ctx, w);
  if (!src.ok()) return src.status();
  auto dst = TargetStoreOf(ctx, w);
  if (!dst.ok()) return dst.status();
  auto map = ctx.journal->MessagesOf(w.jm.id);
  auto mode = ParseVerifyMode(ctx.config.verify);
  if (!mode.ok()) return mode.status();
  auto report = VerifyMailbox(**src, **dst, *map, *mode, ctx.stores.target_names());
  if (!report.ok()) return report.status();
  if (!report->duplicates.empty()) {
    // Every message once: a second landing of one of our copies goes, and the report says so.
    CM_RETURN_IF_ERROR(map->MayWrite());
    CM_RETURN_IF_ERROR(RemoveDuplicates(**dst, report->duplicates));
    for (const DuplicateCopy& d : report->duplicates) {
      w.row.repaired.push_back(fmt::format("{} {}: a second copy ({}) removed", d.source_folder,
                                           d.source_key, d.target_key));
      ctx.log->DuplicateRemoved(w.jm.identity, d.source_folder, d.source_key, d.target_key);
    }
  }
  // A sync pass ends here: the next one of a synced mailbox is due an interval after it.
  if (report->ok()) {
    w.verified_in_this_run = true;
    return ctx.journal->RecordSync(w.jm.id, UnixNow());
  }
  std::vector<std::string> first(
      report->problems.begin(),
      report->problems.begin() + static_cast<long>(std::min<size_t>(5, report->problems.size())));
  std::string repair;
  if (!report->bad.empty()) {
    // Bad copies are removed (ours only) and marked, and the mailbox goes back to before the
    // copy, so the next run copies them again, verifies and only then cleans up.
    auto marked = MarkForRepair(**dst, *map, report->bad);
    if (!marked.ok()) return marked.status().Annotate("preparing the repair");
    CM_RETURN_IF_ERROR(ctx.journal->Finish(w.jm.id, MailboxState::kTargetProvisioned));
    w.jm.state = MailboxState::kTargetProvisioned;  // what the report and status say
    repair = fmt::format("; the next `run` or `complete` copies {} of them again", *marked);
  }
  return Status::Constraint(
      fmt::format("{} in {}: {}{}", CountOf(report->problems.size(), "problem"),
                  CountOf(report->messages, "message"), Join(first, "; "), repair));
}

Status SyncContent(MigrationContext& ctx, MailboxWork& w, RunProgress& progress) {
  auto pass = CopyPass(ctx, w, progress, PassKind::kChanges);
  if (!pass.ok()) return pass.status();
  return VerifyContent(ctx, w, progress);
}

namespace {

// The cleanup was planned from the source object as it was snapshotted, and a staged move may
// sync for weeks before it completes. An address the object gained since (a new proxy address)
// is in no plan: the cleanup would remove it with the object, or leave it on an object no mail
// reaches the new mailbox by. So the mailbox stops, naming it, unless the new mailbox in the
// target holds it already (added there by the administrator); removing it from the source
// also lets the completion go on.
Status CheckNoAddressGainedSinceTheSnapshot(MigrationContext& ctx, const MailboxWork& w) {
  const AttributeProfile& profile = ctx.config.profile;
  std::lock_guard lock(ctx.directory_mu);
  auto now = ctx.orgs.source->Read(w.snapshot.source.dn());
  // Gone: a cleanup a crash interrupted removed it already (the rerun finishes that cleanup).
  if (!now.ok() && now.status().code() == Status::Code::kNotFound) return Status::Ok();
  if (!now.ok()) return now.status().Annotate("reading the source object before its cleanup");
  std::set<std::string> known;
  for (const auto& a : OldAddresses(w.snapshot.source, profile)) known.insert(AsciiLower(a));
  // What the cleanup itself writes to the source (a crash may have left some of it applied).
  for (const DirectoryOp& op : w.plan.cleanup_ops) {
    if (op.side != Side::kSource) continue;
    for (const Modification& m : op.mods) {
      for (const auto& v : m.values) {
        known.insert(AsciiLower(v));
        known.insert(AsciiLower("X500:" + v));
        if (auto proxy = ProxyAddress::Parse(v); proxy.ok())
          known.insert(AsciiLower(proxy->IsX500() ? "X500:" + proxy->address() : proxy->address()));
      }
    }
  }
  std::vector<std::string> gained;
  for (const auto& a : OldAddresses(*now, profile)) {
    if (!known.count(AsciiLower(a))) gained.push_back(a);
  }
  if (gained.empty()) return Status::Ok();
  auto target = ctx.orgs.target->Read(w.plan.target_dn);
  if (!target.ok() && target.status().code() != Status::Code::kNotFound) return target.status();
  std::set<std::string> held;
  if (target.ok()) {
    for (const auto& a : OldAddresses(*target, profile)) held.insert(AsciiLower(a));
  }
  std::erase_if(gained, [&](const std::string& a) { return held.count(AsciiLower(a)) > 0; });
  if (gained.empty()) return Status::Ok();
  return Status::Constraint(fmt::format(
      "nothing was cleaned up: the source object gained {} since it was snapshotted ({}), which "
      "the cleanup would leave without an owner; add {} to the new mailbox {} (proxyAddresses), "
      "or remove {} from the source, then run `crossmove complete` again",
      CountOf(gained.size(), "address", "addresses"), Join(gained, ", "),
      gained.size() == 1 ? "it" : "them", w.plan.target_dn, gained.size() == 1 ? "it" : "them"));
}

}  // namespace

Status CleanUpSource(MigrationContext& ctx, MailboxWork& w, RunProgress& progress) {
  // The final delta carries every change since the content was copied: flags, expunges, moves,
  // renames. Only a one-shot move whose copy this very run finished moments ago sends just the
  // mail that arrived since. Whether the mailbox is staged is not the test: `complete` (or a
  // later run) without the schedule's flags completes a mailbox synced days ago all the same.
  bool changes = w.stage.staged() || w.stage.complete_requested || !w.copied_in_this_run;
  auto delta = CopyPass(ctx, w, progress, changes ? PassKind::kChanges : PassKind::kNewMessages);
  if (!delta.ok()) {
    w.failed_part = "final delta";  // the source is untouched: not a failed cleanup
    return delta.status();
  }
  // The target was verified when it was synced, perhaps days ago: before the source is touched
  // it is verified again, as it is now (a copy lost or damaged since fails the mailbox and is
  // repaired by the next run, as after any failed verification). Not twice in one run: a run
  // that verified it moments ago treats the final delta as a one-shot move does.
  if (changes && !w.verified_in_this_run) {
    if (Status verified = VerifyContent(ctx, w, progress); !verified.ok()) {
      w.failed_part = "verify";
      return verified.Annotate("the target after the final delta");
    }
  }
  CM_RETURN_IF_ERROR(CheckNoAddressGainedSinceTheSnapshot(ctx, w));
  Journal::PauseHook();
  Status cleaned = ApplyPlanOps(ctx, w, w.plan.cleanup_ops);
  w.cleaned_at = Clock::now();
  return cleaned;
}

Status ProveRouting(MigrationContext& ctx, MailboxWork& w, RunProgress& progress) {
  auto sweep = CopyPass(ctx, w, progress);
  if (!sweep.ok()) return sweep.status();
  if (!ctx.routing_model) return Status::Internal("no routing model to prove routing against");
  const Result<RoutingModel>& model = *ctx.routing_model;
  if (!model.ok()) return model.status();
  std::vector<std::string> wrong;
  for (const auto& c : CheckContinuity(*model, w.jm, w.snapshot, w.plan, ctx.config.profile)) {
    if (!c.as_expected)
      wrong.push_back(
          fmt::format("{} ({}: {})", c.address, ToString(c.route.outcome), c.route.detail));
  }
  if (!wrong.empty())
    return Status::Constraint("addresses do not route as predicted: " + Join(wrong, "; "));
  return Status::Ok();
}

namespace {

// Whether the mailbox's consistency grade lets it complete now. Investigate waits for
// `complete --approve-skipped` (w.row.waiting); Poor never completes: it is recorded as the
// completion's failure, so status, the report and the exit code say so. The grade gates staged
// moves and `complete`; a one-shot run (no staged setting) completes as it always did, with
// bad-item-limit alone deciding how many refusals a move may have.
bool GradeAllowsCompletion(MigrationContext& ctx, MailboxWork& w) {
  if (!w.stage.staged() && !w.stage.complete_requested) return true;
  auto totals = ctx.journal->CopiedTotals();
  auto refused = ctx.journal->RefusedMessages(w.jm.id);
  if (!totals.ok() || !refused.ok()) {
    w.row.failure = "complete: " + (!totals.ok() ? totals.status() : refused.status()).message();
    return false;
  }
  auto copied = totals->find(w.jm.id);
  ConsistencyGrade grade = MailboxGrade(
      copied == totals->end() ? Journal::CopiedTotal{} : copied->second, refused->size());
  std::string skipped =
      fmt::format("{} of {} messages skipped (refused by the target)", refused->size(),
                  refused->size() + (copied == totals->end() ? 0 : copied->second.messages));
  if (grade == ConsistencyGrade::kPoor) {
    std::string reason = fmt::format("consistency grade Poor: {}; it never completes", skipped);
    ctx.journal->Fail(w.jm.id, "complete", reason);
    ctx.log->StateChange(w.jm.identity, "failed", "complete: " + reason);
    w.row.failure = "complete: " + reason;
    return false;
  }
  if (grade == ConsistencyGrade::kInvestigate && !w.stage.approve_skipped) {
    w.row.waiting = fmt::format(
        "synced; consistency grade Investigate ({}): completes after `crossmove complete "
        "--approve-skipped`",
        skipped);
    w.needs_approval = true;
    return false;
  }
  return true;
}

// What a synced mailbox that does not complete now waits for.
std::string WaitingFor(const MailboxStage& stage) {
  if (stage.suspend_when_ready && !stage.complete_requested)
    return "synced; waits for `crossmove complete` (suspend-when-ready)";
  if (stage.complete_after)
    return fmt::format("synced; completes at the first run after {}",
                       FormatIsoTime(*stage.complete_after));
  return "synced";
}

}  // namespace

Status AdoptJournaled(MailboxWork& w, JournalMailbox now, bool always) {
  // This run's own progress is in `w` already (each step it takes sets w.jm.state).
  if (now.state == w.jm.state && !always) return Status::Ok();
  if (!now.snapshot.empty()) {
    auto snapshot = SnapshotFromJson(now.snapshot);
    if (!snapshot.ok()) return snapshot.status();
    auto plan = PlanFromJson(nlohmann::json::parse(now.plan, nullptr, false));
    if (!plan.ok()) return plan.status();
    w.snapshot = std::move(*snapshot);
    w.plan = std::move(*plan);
  }
  w.jm = std::move(now);
  return Status::Ok();
}

void MoveMailbox(MigrationContext& ctx, MailboxWork& w, RunProgress& progress) {
  auto started = Clock::now();
  int64_t now = UnixNow();
  if (w.stage.suspended) {
    w.row.waiting = "suspended: `crossmove resume` lets it go on";
    return;
  }
  if (w.jm.state == MailboxState::kPending && w.stage.start_after && now < *w.stage.start_after) {
    w.row.waiting = fmt::format("queued: starts after {}", FormatIsoTime(*w.stage.start_after));
    w.next_due = *w.stage.start_after;
    return;
  }
  if (!ClaimOrSkip(ctx, w, /*move=*/true)) return;
  bool ok = true, synced_now = false;
  while (ok && w.jm.state < MailboxState::kContentVerified) {
    const LifecycleStep* step = NextStepFrom(w.jm.state);
    if (!step) break;
    ok = TakeStep(ctx, w, *step, progress);
    synced_now = ok && w.jm.state == MailboxState::kContentVerified;
  }
  if (ok && w.jm.state == MailboxState::kContentVerified) {
    if (synced_now) w.stage.last_sync = UnixNow();
    if (CompletionDue(w.stage, now)) {
      if (GradeAllowsCompletion(ctx, w)) TakeStep(ctx, w, kCleanupStep, progress);
    } else {
      bool synced_in_pass = synced_now;
      if (!synced_now && now >= NextDueOf(w.jm.state, w.stage, now)) {
        ok = TakeStep(ctx, w, kSyncStep, progress);
        if (ok) w.stage.last_sync = UnixNow();
        synced_in_pass = true;
      }
      if (ok) {
        w.row.waiting = WaitingFor(w.stage);
        w.next_due = NextDueOf(w.jm.state, w.stage, UnixNow());
        // Held by an earlier pass (the deletions guard) and not synced again in this one: it
        // still waits for the operator's approval, and the exit code says so.
        if (!synced_in_pass && !w.jm.failed() && !w.jm.reason.empty()) {
          w.hold = w.jm.reason;
          w.row.waiting = w.jm.reason;
          w.needs_approval = true;
        }
      }
    }
  }
  if (!ctx.stores_open_to_sweep) CloseStores(w);
  w.row.seconds += std::chrono::duration<double>(Clock::now() - started).count();
  ctx.journal->Release(w.jm.id);
}

void SweepAndProve(MigrationContext& ctx, MailboxWork& w, RunProgress& progress) {
  bool cleaned =
      w.jm.state == MailboxState::kSourceCleaned || w.jm.state == MailboxState::kRoutingVerified;
  // Once: by the run that cleaned the source up (or resumes after a crash before the proof). A
  // mailbox proven in an earlier run is not swept again: the old mailbox no longer receives
  // mail, and a message moved there since (by hand) would only be copied a second time.
  bool sweep = cleaned && !w.already_done && w.row.failure.empty() && w.row.skipped.empty();
  if (sweep && StopRequested()) {
    w.row.interrupted = w.jm.state != MailboxState::kRoutingVerified;
    sweep = false;
  }
  if (sweep) {
    // Mail an MTA resolved to the old mailbox just before its cleanup may still be on its way.
    auto due = w.cleaned_at + std::chrono::seconds(ctx.config.sweep_delay_seconds);
    if (w.cleaned_at != Clock::time_point{} && Clock::now() < due)
      std::this_thread::sleep_until(due);
    if (ClaimOrSkip(ctx, w)) {
      // Another worker may have swept and proven it since this pass cleaned it up.
      if (w.jm.state != MailboxState::kRoutingVerified) TakeStep(ctx, w, kRoutingStep, progress);
      CloseStores(w);
      ctx.journal->Release(w.jm.id);
    }
  }
  CloseStores(w);  // kept open from the move (stores_open_to_sweep), and not swept
}

}  // namespace cm
