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
#pragma once

#include <string_view>

#include "core/status.h"
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

// The steps, each the work between two states.
Status TakeSnapshot(MigrationContext& ctx, MailboxWork& w, RunProgress& progress);
Status ProvisionTarget(MigrationContext& ctx, MailboxWork& w, RunProgress& progress);
Status CopyContent(MigrationContext& ctx, MailboxWork& w, RunProgress& progress);
Status VerifyContent(MigrationContext& ctx, MailboxWork& w, RunProgress& progress);
// The final delta pass (mail that arrived since the bulk copy), then the source cleanup.
Status CleanUpSource(MigrationContext& ctx, MailboxWork& w, RunProgress& progress);
// A sweep pass (mail an MTA had queued for the old mailbox), then the routing model must show
// every old address where the cleanup option says (ctx.routing_model).
Status ProveRouting(MigrationContext& ctx, MailboxWork& w, RunProgress& progress);

// Takes the mailbox for this run and runs its steps from its journaled state up to
// source-cleaned; stops at the first that fails (recorded in w.row.failure), at a safe point
// when a signal asked (w.row.interrupted) or when another live run holds it (w.row.skipped).
void MoveMailbox(MigrationContext& ctx, MailboxWork& w, RunProgress& progress);

// The routing step of a cleaned mailbox, after `sweep-delay` from its cleanup: its sweep and
// proof. A mailbox proven by an earlier run is swept and proven again (mail the old organization
// delivered after that run's sweep is not left there). Others are left alone.
void SweepAndProve(MigrationContext& ctx, MailboxWork& w, RunProgress& progress);

}  // namespace cm
