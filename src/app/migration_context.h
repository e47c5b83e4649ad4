// What every worker of a `run` shares (the organizations, the journal, the event log, the mail
// stores) and what it holds of the one mailbox it moves; the store access, the copy pass and
// the directory writes the lifecycle's steps are made of (app/lifecycle.h).
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <vector>

#include "app/commands.h"
#include "app/event_log.h"
#include "app/mail_stores.h"
#include "app/organizations.h"
#include "app/report.h"
#include "app/run_progress.h"
#include "core/directory_op.h"
#include "core/planner.h"
#include "core/routing.h"
#include "input/config.h"
#include "journal/journal.h"
#include "journal/serialize.h"
#include "mailstore/copy_engine.h"

namespace cm {

struct MigrationContext {
  const Config& config;
  Console console;
  Organizations orgs;
  std::unique_ptr<Journal> journal;
  std::unique_ptr<EventLog> log;
  MailStores stores;
  // Directory writes are serialized: the ldif: backend has one writer, and an LDAP DC is best
  // fed one mailbox's ordered changes at a time. Copies run in parallel.
  std::mutex directory_mu;
  // Both organizations as they are after every cleanup of this run, for the routing proof;
  // set before the proofs begin (read-only from then on).
  const Result<RoutingModel>* routing_model = nullptr;
  bool approve_deletions = false;  // this pass may remove past max-deletions (`complete`)
  // A mailbox keeps its connections from its move to its sweep: only when every mailbox of the
  // pass has a worker of its own, so that no more are held open than the workers use anyway.
  bool stores_open_to_sweep = false;
};

// One mailbox as a worker moves it.
struct MailboxWork {
  JournalMailbox jm;
  MailboxPlan plan;
  Snapshot snapshot;
  ReportRow row;
  // Open while the mailbox moves, so its steps share two connections instead of making two each
  // (and, with MigrationContext::stores_open_to_sweep, until its sweep).
  std::unique_ptr<MailStore> source_store, target_store;
  std::chrono::steady_clock::time_point cleaned_at{};  // when this run cleaned the source up
  bool already_done = false;                           // routing-verified when this run began
  bool announced = false;                              // its finished line is printed
  bool copied_in_this_run = false;                     // this run made its bulk copy
  bool verified_in_this_run = false;                   // and verified the target
  // The part of a step that failed, where it is not the step itself: the verification that
  // cleanup does first is a failed "verify", not a failed cleanup (nothing was cleaned up).
  std::string failed_part;
  // Why a step stopped the mailbox to wait for the operator, not as a failure: a delta pass the
  // deletions guard held (it changed nothing; `complete --approve-deletions` lets it go on).
  std::string hold;
  // Waits for `complete --approve-deletions` (hold) or `--approve-skipped` (Investigate grade).
  bool needs_approval = false;
  // Failed because a server could not be reached or broke off (Status kUnavailable): the
  // pass's exit code says "retry later" when every failure is of this kind.
  bool failed_unreachable = false;
  // Staged moves (issue 13): its schedule and the operator's requests as this pass found them,
  // and, when it stops before completing, when it has something to do next (0: nothing until
  // an operator acts).
  MailboxStage stage;
  int64_t next_due = 0;
  // Skipped because another live run (a worker on a shared journal) holds it: this pass comes
  // back to it (migration_pass.cc) until it is done or its holder's lease runs out.
  bool held_elsewhere = false;
  int priority = 3;  // the users file's Priority (input/users_file.h): claimed highest first
};

// The mailbox's source / target store, opened on first use and kept while it moves.
Result<MailStore*> SourceStoreOf(const MigrationContext& ctx, MailboxWork& w);
Result<MailStore*> TargetStoreOf(const MigrationContext& ctx, MailboxWork& w);
// Closes both stores (the mailbox is done for now).
void CloseStores(MailboxWork& w);

// Whether every server the mailbox's move uses answers now (both directories, its source and
// target mail servers, each on a fresh connection): after a step failed as kUnavailable, tells
// a server that is down (retry later, exit 3) from one that answers but broke the protocol or
// lied about the mail (a failure to look into, exit 1) -- the copy engine retries both alike.
bool ServersAnswer(MigrationContext& ctx, const MailboxWork& w);

// What a copy pass carries: new messages only (the bulk copy, the sweeps after a cleanup), or
// every change the source saw since the last pass (a staged mailbox's sync passes and its
// final delta: flags, expunges, moves, renames, deletions; mailstore/delta_sync.h).
enum class PassKind { kNewMessages, kChanges };

// One copy pass of the mailbox: the one place a run calls the copy engine. A delta pass the
// deletions guard holds (max-deletions) changes nothing and fails the step, naming
// `complete --approve-deletions`.
Result<CopyStats> CopyPass(MigrationContext& ctx, MailboxWork& w, RunProgress& progress,
                           PassKind kind = PassKind::kNewMessages);

// Applies planned directory operations in order, idempotently (what is already in effect is
// not written again), each side's consecutive operations as one group.
Status ApplyPlanOps(MigrationContext& ctx, MailboxWork& w, const std::vector<DirectoryOp>& ops);

}  // namespace cm
