// `rollback` (SPEC §8): restores cleaned source objects from their snapshots, removes the
// forwarding objects and turns the target mailbox into a mail user forwarding back; mail is kept.
#include <fmt/format.h>

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "app/apply.h"
#include "app/event_log.h"
#include "app/journal_access.h"
#include "app/journal_commands.h"
#include "app/migration_report.h"
#include "app/organizations.h"
#include "app/plan_output.h"
#include "core/recipient.h"
#include "core/strings.h"
#include "journal/journal.h"
#include "journal/run_lock.h"

namespace cm {

int RunRollback(const Config& config, const RunOptions& options, Console console) {
  const bool json = options.json;
  if (!options.all && options.identities.empty()) {
    PrintError("rollback needs --all or the identities to roll back", json, console);
    return kExitUsage;
  }
  if (!RequireJournal(config, json, console)) return kExitUsage;
  // A dry run reads only: no lock, no event log, no directory write.
  int refused = kExitUsage;
  std::optional<RunLock> run_lock;
  if (!options.dry_run) {
    run_lock = LockJournal(config, options.wait, console, refused, json);
    if (!run_lock) return refused;
  }
  Problems problems;
  auto orgs = OpenOrganizations(config, /*read_only=*/options.dry_run, problems);
  if (!orgs.ok() && orgs.status().code() == Status::Code::kUnavailable)
    return Unreachable(orgs.status(), console, json);
  if (!problems.empty() || !orgs.ok()) {
    if (problems.empty()) problems.push_back(Problem{"", 0, "", orgs.status().message()});
    return ReportProblems(problems, json, console);
  }
  auto opened = OpenExistingJournal(config, console, "", /*read_only=*/options.dry_run, json);
  if (!opened) return kExitUsage;
  std::unique_ptr<Journal>* journal = &opened->journal;
  auto chosen =
      ChooseSnapshotted(*opened, options.all ? std::vector<std::string>{} : options.identities,
                        "roll back", config, json, console);
  if (!chosen) return kExitUsage;
  std::unique_ptr<EventLog> log;
  if (!options.dry_run) {
    (void)run_lock->SetRun((*journal)->run_id());  // best effort: only names the run to others
    auto opened_log = EventLog::Open(config.event_log, (*journal)->run_id());
    if (!opened_log.ok()) {
      PrintError(opened_log.status().message(), json, console);
      return kExitUsage;
    }
    log = std::move(*opened_log);
  }
  const AttributeProfile& p = config.profile;
  size_t done = 0, failed = 0;
  // With --json, one record per mailbox (and the totals) instead of the lines below.
  nlohmann::json rows = nlohmann::json::array();
  auto say = [&](const std::string& line) {
    if (!json) console.out << line;
  };
  auto fail = [&](const JournaledMove& l, const std::string& why) {
    if (json) rows.push_back({{"identity", l.jm.identity}, {"result", "failed"}, {"error", why}});
    console.err << "crossmove: " << l.jm.identity << ": " << why << "\n";
    ++failed;
  };
  for (size_t chosen_index : *chosen) {
    const JournaledMove& l = opened->mailboxes[chosen_index];
    if (l.jm.state == MailboxState::kRolledBack) {
      if (!options.identities.empty()) {
        say(fmt::format("{}: already rolled back\n", l.jm.identity));
        if (json) rows.push_back({{"identity", l.jm.identity}, {"result", "already rolled back"}});
      }
      continue;
    }
    std::vector<DirectoryOp> ops;
    const Entry& snap = l.snapshot.source;
    // Source: remove the forwarding contact, then restore the object as it was.
    // Only what is there to undo, so that --dry-run lists what would change: the contact only
    // where the cleanup made it, a value only where it differs from the snapshot.
    for (const auto& op : l.plan.cleanup_ops) {
      if (op.kind == DirectoryOp::Kind::kAdd && orgs->source->Read(op.dn).ok())
        ops.push_back({Side::kSource,
                       DirectoryOp::Kind::kDelete,
                       op.dn,
                       {},
                       "",
                       "",
                       "remove the forwarding contact"});
    }
    auto current = orgs->source->Read(snap.dn());
    if (!current.ok() && current.status().code() == Status::Code::kNotFound) {
      std::vector<Modification> attrs;
      for (const auto& [name, values] : snap.attributes()) {
        if (!orgs->source->IsServerManaged(name))
          attrs.push_back({Modification::Op::kAdd, name, values});
      }
      ops.push_back({Side::kSource, DirectoryOp::Kind::kAdd, snap.dn(), attrs, "", "",
                     "recreate the source object from its snapshot"});
    } else if (current.ok()) {
      std::vector<Modification> mods;
      for (const auto& [name, values] : current->attributes()) {
        if (!snap.Has(name) && !orgs->source->IsServerManaged(name))
          mods.push_back({Modification::Op::kDelete, name, {}});
      }
      for (const auto& [name, values] : snap.attributes()) {
        if (!orgs->source->IsServerManaged(name) && current->Get(name) != values)
          mods.push_back({Modification::Op::kReplace, name, values});
      }
      if (!mods.empty()) {
        ops.push_back({Side::kSource, DirectoryOp::Kind::kModify, snap.dn(), mods, "", "",
                       "restore every snapshotted value"});
      }
    } else {
      fail(l, current.status().message());
      continue;
    }
    // Target: the mailbox user becomes a mail user that forwards back to the old mailbox. Its
    // mail is kept.
    if (l.jm.state >= MailboxState::kTargetProvisioned) {
      auto target = orgs->target->Read(l.plan.target_dn);
      if (target.ok()) {
        std::vector<Modification> mods;
        for (const auto& attr : {p.home_mdb, p.home_server}) {
          if (target->Has(attr)) mods.push_back({Modification::Op::kDelete, attr, {}});
        }
        mods.push_back({Modification::Op::kReplace,
                        p.target_address,
                        {"SMTP:" + Recipient(snap, p).primary_smtp()}});
        mods.push_back({Modification::Op::kReplace,
                        p.type_details,
                        {std::to_string(recipient_type::kMailUser)}});
        mods.push_back({Modification::Op::kReplace,
                        p.display_type,
                        {std::to_string(recipient_type::kDisplayRemoteMailUser)}});
        ops.push_back({Side::kTarget, DirectoryOp::Kind::kModify, l.plan.target_dn, mods, "", "",
                       "moved back: forwards to the old mailbox"});
      }
    }
    if (options.dry_run) {
      say(fmt::format("{}: would restore {} ({} directory changes):\n{}", l.jm.identity, snap.dn(),
                      ops.size(), FormatOpsText(ops, console.color)));
      if (json) {
        rows.push_back({{"identity", l.jm.identity},
                        {"result", "would roll back"},
                        {"source_dn", snap.dn()},
                        {"changes", OpsToJson(ops)}});
      }
      ++done;
      continue;
    }
    Status s = (*journal)->Claim(l.jm.id);
    if (s.ok()) s = (*journal)->Begin(l.jm.id, "rollback");
    for (const auto& op : ops) {
      if (!s.ok()) break;
      Directory& dir = op.side == Side::kTarget ? *orgs->target : *orgs->source;
      auto applied = ApplyIdempotent(dir, op, log.get(), l.jm.identity);
      if (!applied.ok()) s = applied.status();
    }
    if (s.ok()) s = (*journal)->Finish(l.jm.id, MailboxState::kRolledBack);
    (*journal)->Release(l.jm.id);
    if (!s.ok()) {
      (*journal)->Fail(l.jm.id, "rollback", s.message());
      fail(l, "rollback failed: " + s.message());
      continue;
    }
    log->StateChange(l.jm.identity, "rolled-back");
    ++done;
    say(fmt::format("{}: rolled back ({} restored; mail in both stores kept)\n", l.jm.identity,
                    snap.dn()));
    if (json)
      rows.push_back(
          {{"identity", l.jm.identity}, {"result", "rolled back"}, {"source_dn", snap.dn()}});
  }
  // The report says what the journal now says: rolled back is a state of the migration.
  if (!options.dry_run && done)
    RewriteMigrationReport(
        **journal, config, "after rollback", console.err,
        fmt::format("source {} -> target {}", orgs->source_base, orgs->target_base));
  if (json) {
    console.out << nlohmann::json{{"dry_run", options.dry_run},
                                  {options.dry_run ? "would_roll_back" : "rolled_back", done},
                                  {"failed", failed},
                                  {"mailboxes", rows}}
                       .dump(2)
                << "\n";
  } else if (options.dry_run) {
    console.out << fmt::format("rollback --dry-run: {} would be rolled back; nothing was written\n",
                               CountOf(done, "mailbox"));
  } else {
    console.out << fmt::format("rollback: {} rolled back, {} failed\n", CountOf(done, "mailbox"),
                               failed);
  }
  return failed ? kExitSomeFailed : kExitOk;
}

}  // namespace cm
