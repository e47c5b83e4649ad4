#include "app/lifecycle.h"

#include <fmt/format.h>

#include <algorithm>
#include <thread>

#include "app/continuity.h"
#include "app/migration_context.h"
#include "app/stop_signal.h"
#include "core/strings.h"

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
constexpr const LifecycleStep& kRoutingStep = kSteps[5];

// Takes the mailbox for this run. One held by another live run is that run's work: skipped,
// not failed (SPEC §5), so neither the exit code nor the report counts it as a failure.
bool ClaimOrSkip(MigrationContext& ctx, MailboxWork& w) {
  Status s = ctx.journal->Claim(w.jm.id);
  if (s.ok()) return true;
  if (s.code() != Status::Code::kUnavailable) {
    w.row.failure = s.message();
    return false;
  }
  auto now = ctx.journal->Find(w.jm.identity);
  w.row.skipped =
      now.ok() && *now && !(*now)->holder.empty() ? "held by " + (*now)->holder : s.message();
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
  if (!s.ok()) {
    ctx.journal->Fail(w.jm.id, step.name, s.message());
    ctx.log->StateChange(w.jm.identity, "failed", fmt::format("{}: {}", step.name, s.message()));
    w.row.failure = fmt::format("{}: {}", step.name, s.message());
    return false;
  }
  w.jm.state = step.to;
  ctx.log->StateChange(w.jm.identity, ToString(step.to));
  return true;
}

}  // namespace

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
  return CopyPass(ctx, w, progress).status();
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
  if (report->ok()) return Status::Ok();
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
    repair = fmt::format("; the next run copies {} of them again", *marked);
  }
  return Status::Constraint(fmt::format("{} problems in {} messages: {}{}", report->problems.size(),
                                        report->messages, Join(first, "; "), repair));
}

Status CleanUpSource(MigrationContext& ctx, MailboxWork& w, RunProgress& progress) {
  auto delta = CopyPass(ctx, w, progress);
  if (!delta.ok()) return delta.status();
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

void MoveMailbox(MigrationContext& ctx, MailboxWork& w, RunProgress& progress) {
  auto started = Clock::now();
  if (!ClaimOrSkip(ctx, w)) return;
  while (w.jm.state < MailboxState::kSourceCleaned) {
    const LifecycleStep* step = NextStepFrom(w.jm.state);
    if (!step || !TakeStep(ctx, w, *step, progress)) break;
  }
  CloseStores(w);
  w.row.seconds += std::chrono::duration<double>(Clock::now() - started).count();
  ctx.journal->Release(w.jm.id);
}

void SweepAndProve(MigrationContext& ctx, MailboxWork& w, RunProgress& progress) {
  bool cleaned =
      w.jm.state == MailboxState::kSourceCleaned || w.jm.state == MailboxState::kRoutingVerified;
  if (!cleaned || !w.row.failure.empty() || !w.row.skipped.empty()) return;
  if (StopRequested()) {
    w.row.interrupted = w.jm.state != MailboxState::kRoutingVerified;
    return;
  }
  // Mail an MTA resolved to the old mailbox just before its cleanup may still be on its way.
  auto due = w.cleaned_at + std::chrono::seconds(ctx.config.sweep_delay_seconds);
  if (w.cleaned_at != Clock::time_point{} && Clock::now() < due) std::this_thread::sleep_until(due);
  if (!ClaimOrSkip(ctx, w)) return;
  TakeStep(ctx, w, kRoutingStep, progress);
  CloseStores(w);
  ctx.journal->Release(w.jm.id);
}

}  // namespace cm
