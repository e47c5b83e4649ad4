// A mailbox's move as one state machine (SPEC §5): each journaled state has exactly one next
// step, and each step is a function named after what it does. A step is journaled as intent
// (Begin) and done (Finish with its next state), so a rerun after any crash goes on from the
// last state written.
//
//   pending --TakeSnapshot--> snapshotted --ProvisionTarget--> target-provisioned
//     --CopyContent--> content-copied --VerifyContent--> content-verified
//     --CleanUpSource--> source-cleaned --ProveRouting--> routing-verified
//
// A failed verification sends the mailbox back to target-provisioned (its bad copies are
// copied again); `rollback` ends any state in rolled-back, from which nothing goes on.
//
// Staged moves (issue 13) stop in content-verified ("synced": the source untouched) until the
// completion is due: `complete-after` has passed, or `crossmove complete` asked (always, with
// `suspend-when-ready`); until then a sync pass (SyncContent: content-verified ->
// content-verified) runs every `incremental-sync-interval`. Without a schedule the completion
// is due at once: the one-shot move. The completion (CleanUpSource, ProveRouting) also waits for
// the consistency grade: Investigate until `complete --approve-skipped`, Poor for ever.
#pragma once

#include <string_view>

#include "core/consistency_grade.h"
#include "core/status.h"
#include "input/config.h"
#include "input/users_file.h"
#include "journal/journal.h"

namespace cm {

struct MigrationContext;
struct MailboxWork;
class RunProgress;

// One transition: what is journaled as the step's name, the state it starts from and the one
// it records when its work succeeds.
struct LifecycleStep {
  std::string_view name;  // "copy"
  MailboxState from;
  MailboxState to;
  Status (*work)(MigrationContext& ctx, MailboxWork& w, RunProgress& progress);
};

// The step that takes a mailbox on from `state`; nullptr when nothing follows (routing-verified,
// rolled-back).
const LifecycleStep* NextStepFrom(MailboxState state);
// Its name ("copy"), "" when nothing follows: what `plan` shows a journaled mailbox resuming at.
std::string_view NextStepName(MailboxState state);

// The staged lifecycle in Exchange's words, derived from the state, the failure and the stage
// record: pending is queued; snapshotted to content-copied is syncing; content-verified is
// synced; source-cleaned is completing; routing-verified is completed.
enum class LifecycleStage {
  kQueued,
  kSyncing,
  kSynced,
  kCompleting,
  kCompleted,
  kFailed,
  kSuspended,
  kRolledBack
};
std::string_view ToString(LifecycleStage stage);
LifecycleStage StageOf(const JournalMailbox& jm, const MailboxStage& stage);
// Whether a mailbox is given a consistency grade: one that failed has not been moved (its
// grade would call a copy that failed verification "Perfect"), unless it failed on its grade.
bool IsGraded(const JournalMailbox& jm);
// "1 failed mailbox not graded until a run moves it": what status and the report add to the
// batch's grade when `ungraded` (> 0) mailboxes are left out of it.
std::string UngradedNote(size_t ungraded);

// The grade of a mailbox from what the journal holds: the messages copied (every run's) and
// those the target refused (too large, malformed), each skipped.
ConsistencyGrade MailboxGrade(const Journal::CopiedTotal& copied, size_t refused);

// When a mailbox in `state` with `stage` has its next sync or completion (seconds since the
// epoch), 0 when nothing is scheduled (done, failed, suspended, waiting for an operator).
int64_t NextDueOf(MailboxState state, const MailboxStage& stage, int64_t now);
// Whether the completion of a synced mailbox is due now.
bool CompletionDue(const MailboxStage& stage, int64_t now);
// The schedule a mailbox has from its users-file row (StartAfter, CompleteAfter) and the config.
MailboxStage ScheduleOf(const Config& config, const UsersFileRow& row);
// The schedule a run gives a mailbox. A run that names no schedule setting (a cron line, a
// hand-typed `run` that leaves out the flag) keeps the one journaled with a staged mailbox not
// yet cleaned up, as a migration batch keeps its CompleteAfter until it is changed; the row's
// own StartAfter / CompleteAfter columns still apply. `kept` says whether the journaled one
// was kept. A run with schedule settings replaces it.
MailboxStage EffectiveSchedule(const Config& config, const UsersFileRow& row,
                               const MailboxStage* recorded, MailboxState state, bool& kept);
// What a mailbox not yet started will do with that schedule, as `plan` shows it: "starts after
// 2026-12-20T00:00:00Z; then completes after ...", "syncs; waits for `crossmove complete`";
// "" for a one-shot move.
std::string ScheduleNote(const MailboxStage& schedule, int64_t now);
// When a mailbox not yet completed will complete, in the words `status` and `plan` show:
// "waits for `crossmove complete`", "completes after 2026-12-20T00:00:00Z", "completes at the
// next run"; "" for one that is completed, rolled back, or not in a staged move.
std::string CompletionNote(MailboxState state, const MailboxStage& stage, int64_t now);

// The steps, each the work between two states.
Status TakeSnapshot(MigrationContext& ctx, MailboxWork& w, RunProgress& progress);
Status ProvisionTarget(MigrationContext& ctx, MailboxWork& w, RunProgress& progress);
Status CopyContent(MigrationContext& ctx, MailboxWork& w, RunProgress& progress);
Status VerifyContent(MigrationContext& ctx, MailboxWork& w, RunProgress& progress);
// A staged mailbox's incremental sync: a copy pass, then the verification again.
Status SyncContent(MigrationContext& ctx, MailboxWork& w, RunProgress& progress);
// The final delta pass (mail that arrived since the bulk copy), then the source cleanup.
Status CleanUpSource(MigrationContext& ctx, MailboxWork& w, RunProgress& progress);
// A sweep pass (mail an MTA had queued for the old mailbox), then the routing model must show
// every old address where the cleanup option says (ctx.routing_model).
Status ProveRouting(MigrationContext& ctx, MailboxWork& w, RunProgress& progress);

// Takes the mailbox for this run and runs what is due of its steps from its journaled state up
// to source-cleaned: the sync steps unless it is queued (start-after) or suspended; then, when
// synced, its completion if that is due and its grade allows, else a sync pass when one is due
// (w.row.waiting says what it waits for, w.next_due until when). Stops at the first step that
// fails (w.row.failure), at a safe point when a signal asked (w.row.interrupted) or when
// another live run holds it (w.row.skipped).
// Takes up what another run journaled of a mailbox (its state, and the snapshot and plan that
// run recorded) where it took the mailbox further than `w` knows: workers on a shared journal.
// `always`: even where the state is the one `w` has (its snapshot came from elsewhere).
Status AdoptJournaled(MailboxWork& w, JournalMailbox now, bool always = false);

void MoveMailbox(MigrationContext& ctx, MailboxWork& w, RunProgress& progress);

// The routing step of a cleaned mailbox, after `sweep-delay` from its cleanup: its sweep and
// proof. A mailbox proven by an earlier run is swept and proven again (mail the old organization
// delivered after that run's sweep is not left there). Others are left alone.
void SweepAndProve(MigrationContext& ctx, MailboxWork& w, RunProgress& progress);

}  // namespace cm
