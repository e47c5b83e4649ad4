#include "app/migration_context.h"

#include "app/apply.h"
#include "app/stop_signal.h"
#include "core/timestamp.h"
#include "mailstore/delta_sync.h"

namespace cm {

Result<MailStore*> SourceStoreOf(const MigrationContext& ctx, MailboxWork& w) {
  if (!w.source_store) {
    auto store = ctx.stores.OpenSource(w.snapshot.source, w.snapshot.store);
    if (!store.ok()) return store.status();
    w.source_store = std::move(*store);
  }
  return w.source_store.get();
}

Result<MailStore*> TargetStoreOf(const MigrationContext& ctx, MailboxWork& w) {
  if (!w.target_store) {
    auto store = ctx.stores.OpenTarget(w.plan);
    if (!store.ok()) return store.status();
    w.target_store = std::move(*store);
  }
  return w.target_store.get();
}

void CloseStores(MailboxWork& w) {
  w.source_store.reset();
  w.target_store.reset();
}

bool ServersAnswer(MigrationContext& ctx, const MailboxWork& w) {
  auto down = [](const Status& s) { return s.code() == Status::Code::kUnavailable; };
  for (Directory* d : {ctx.orgs.source.get(), ctx.orgs.target.get()}) {
    if (!d) continue;
    std::unique_lock<std::mutex> lock(ctx.directory_mu, std::defer_lock);
    if (!d->IsThreadSafe()) lock.lock();
    auto base = d->Read(d->base_dn());
    if (!base.ok() && down(base.status())) return false;
  }
  if (!w.snapshot.store.empty()) {
    auto source = ctx.stores.OpenSource(w.snapshot.source, w.snapshot.store);
    if (!source.ok() ? down(source.status()) : down((*source)->CheckAccess())) return false;
  }
  auto target = ctx.stores.OpenTarget(w.plan);
  return !(!target.ok() ? down(target.status()) : down((*target)->CheckServer()));
}

Result<CopyStats> CopyPass(MigrationContext& ctx, MailboxWork& w, RunProgress& progress,
                           PassKind kind) {
  auto src = SourceStoreOf(ctx, w);
  if (!src.ok()) return src.status();
  auto dst = TargetStoreOf(ctx, w);
  if (!dst.ok()) return dst.status();
  auto map = ctx.journal->MessagesOf(w.jm.id);
  CopyOptions options;
  options.bad_item_limit = ctx.config.bad_item_limit;
  auto refused = ctx.journal->RefusedMessages(w.jm.id);
  if (!refused.ok()) return refused.status();
  options.refused_before = refused->size();
  CopyProgress so_far;  // what this pass copied, should it stop before its end (Ctrl-C, a failure)
  options.progress = [&](const CopyProgress& p) {
    so_far = p;
    progress.Copied(w.plan.alias, p);
  };
  options.stop = StopFlag();
  Result<CopyStats> stats = Status::Internal("no pass");
  if (kind == PassKind::kChanges) {
    DeltaOptions delta;
    delta.copy = options;
    delta.max_deletions = ctx.config.max_deletions;
    delta.approve_deletions = ctx.approve_deletions;
    auto synced = SyncMailbox(**src, **dst, *map, delta, ctx.stores.target_names());
    if (!synced.ok()) {
      stats = synced.status();
    } else if (synced->held) {
      w.hold = synced->held->Describe();
      stats = Status::Constraint(w.hold);
    } else {
      ctx.log->DeltaCarried(w.jm.identity, *synced);
      LastDelta carried{
          UnixNow(),     synced->new_messages,    synced->flags_changed,  synced->expunged,
          synced->moved, synced->renamed_folders, synced->deleted_folders};
      if (Status s = ctx.journal->RecordDelta(w.jm.id, carried); !s.ok()) return s;
      stats = std::move(synced->copy);
    }
  } else {
    stats = CopyMailbox(**src, **dst, *map, options, ctx.stores.target_names());
  }
  progress.PassEnded(w.plan.alias);
  if (!stats.ok()) {
    w.row.messages += so_far.messages;
    w.row.bytes += so_far.bytes;
    return stats;
  }
  for (const auto& f : stats->folders) {
    if (f.messages || f.refused) ctx.log->FolderCopied(w.jm.identity, f);
  }
  w.row.messages += stats->messages;
  w.row.bytes += stats->bytes;
  w.row.repaired.insert(w.row.repaired.end(), stats->repaired.begin(), stats->repaired.end());
  return stats;
}

Status ApplyPlanOps(MigrationContext& ctx, MailboxWork& w, const std::vector<DirectoryOp>& ops) {
  // Workers write at the same time where both directories take concurrent calls (LDAP).
  std::unique_lock<std::mutex> lock(ctx.directory_mu, std::defer_lock);
  if (!ctx.orgs.source->IsThreadSafe() || !ctx.orgs.target->IsThreadSafe()) lock.lock();
  // Consecutive operations on one side form one group (one transaction where the server has
  // them); the order between groups is the plan's.
  for (size_t i = 0; i < ops.size();) {
    size_t j = i;
    while (j < ops.size() && ops[j].side == ops[i].side) ++j;
    Directory& dir = ops[i].side == Side::kTarget ? *ctx.orgs.target : *ctx.orgs.source;
    std::vector<DirectoryOp> group(ops.begin() + i, ops.begin() + j);
    CM_RETURN_IF_ERROR(ApplyAllIdempotent(dir, group, ctx.log.get(), w.jm.identity));
    i = j;
  }
  return Status::Ok();
}

}  // namespace cm
