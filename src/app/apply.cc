#include "app/apply.h"
#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <set>

#include "core/dn.h"
#include "core/strings.h"
#include "directory/schema.h"

namespace cm {

Status ApplyMailboxPlan(const MailboxPlan& plan, Directory& source, Directory& target) {
  for (const auto& op : plan.provision) {
    CM_RETURN_IF_ERROR(target.Apply(op).Annotate(
        fmt::format("{} (target {} {})", plan.source_dn, ToString(op.kind), op.dn)));
  }
  for (const auto& op : plan.cleanup_ops) {
    CM_RETURN_IF_ERROR(source.Apply(op).Annotate(
        fmt::format("{} (source {} {})", plan.source_dn, ToString(op.kind), op.dn)));
  }
  return Status::Ok();
}

Status ApplyBatch(const Batch& batch, Directory& source, Directory& target) {
  for (const auto& m : batch.mailboxes)
    CM_RETURN_IF_ERROR(ApplyMailboxPlan(m.plan, source, target));
  return Status::Ok();
}

namespace {

bool HasValue(const Entry& e, const std::string& attr, const std::string& v) {
  for (const auto& x : e.Get(attr)) {
    if (ValuesEqual(attr, x, v)) return true;
  }
  return false;
}

bool SameValues(const std::string& attr, const Values& a, const Values& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (!ValuesEqual(attr, a[i], b[i])) return false;
  }
  return true;
}

// The modifications of `mods` not yet in effect on `e`.
std::vector<Modification> Remaining(const Entry& e, const std::vector<Modification>& mods) {
  std::vector<Modification> out;
  for (const auto& m : mods) {
    switch (m.op) {
      case Modification::Op::kAdd: {
        Modification left{m.op, m.attribute, {}};
        for (const auto& v : m.values) {
          if (!HasValue(e, m.attribute, v)) left.values.push_back(v);
        }
        if (!left.values.empty()) out.push_back(std::move(left));
        break;
      }
      case Modification::Op::kReplace:
        if (!SameValues(m.attribute, e.Get(m.attribute), m.values)) out.push_back(m);
        break;
      case Modification::Op::kDelete:
        if (m.values.empty()) {
          if (e.Has(m.attribute)) out.push_back(m);
        } else {
          Modification left{m.op, m.attribute, {}};
          for (const auto& v : m.values) {
            if (HasValue(e, m.attribute, v)) left.values.push_back(v);
          }
          if (!left.values.empty()) out.push_back(std::move(left));
        }
        break;
    }
  }
  return out;
}

// "source delete CN=..." for errors about one operation.
std::string Describe(const DirectoryOp& op) {
  return fmt::format("{} {} {}", ToString(op.side), ToString(op.kind), op.dn);
}

Result<std::optional<Entry>> ReadIfExists(Directory& dir, std::string_view dn) {
  auto e = dir.Read(dn);
  if (e.ok()) return std::optional<Entry>(std::move(*e));
  if (e.status().code() == Status::Code::kNotFound) return std::optional<Entry>();
  return e.status();
}

// What `op` still has to do on `dir`: nothing (nullopt) when it is already in effect, a modify
// reduced to the changes not yet made, or an error when the directory contradicts the plan.
Result<std::optional<DirectoryOp>> Outstanding(Directory& dir, const DirectoryOp& op,
                                               std::optional<Entry>& before) {
  auto read = ReadIfExists(dir, op.dn);
  if (!read.ok()) return read.status();
  before = std::move(*read);
  auto fail = [&](const Status& s) { return s.Annotate(Describe(op)); };
  using Pending = std::optional<DirectoryOp>;
  switch (op.kind) {
    case DirectoryOp::Kind::kAdd:
      if (!before) return Pending(op);
      // Ours from an earlier attempt if it already holds every value we would add.
      if (Remaining(*before, op.mods).empty()) return Pending();
      return fail(Status::AlreadyExists(
          "an object with this name exists and is not the one the plan creates"));
    case DirectoryOp::Kind::kDelete:
      return before ? Pending(op) : Pending();
    case DirectoryOp::Kind::kModify: {
      if (!before) return fail(Status::NotFound("the object to modify does not exist"));
      auto left = Remaining(*before, op.mods);
      if (left.empty()) return Pending();
      DirectoryOp reduced = op;
      reduced.mods = std::move(left);
      return Pending(std::move(reduced));
    }
    case DirectoryOp::Kind::kRename: {
      if (before) return Pending(op);
      std::string parent = op.new_superior.empty() ? ParentDn(op.dn) : op.new_superior;
      std::string new_dn = parent.empty() ? op.new_rdn : op.new_rdn + "," + parent;
      auto moved = ReadIfExists(dir, new_dn);
      if (moved.ok() && *moved) return Pending();
      return fail(Status::NotFound("the object to rename does not exist"));
    }
  }
  return Pending();
}

std::string DnAfter(const DirectoryOp& op) {
  if (op.kind != DirectoryOp::Kind::kRename) return op.dn;
  std::string parent = op.new_superior.empty() ? ParentDn(op.dn) : op.new_superior;
  return parent.empty() ? op.new_rdn : op.new_rdn + "," + parent;
}

void LogApplied(Directory& dir, const DirectoryOp& op, const std::optional<Entry>& before,
                EventLog* log, const std::string& mailbox) {
  if (!log) return;
  if (op.kind == DirectoryOp::Kind::kDelete) {
    log->DirectoryChange(mailbox, op, &*before, nullptr);
    return;
  }
  if (op.kind == DirectoryOp::Kind::kAdd) {  // what was added is what the plan says: no read
    Entry added = op.AsEntry();
    log->DirectoryChange(mailbox, op, nullptr, &added);
    return;
  }
  auto after = ReadIfExists(dir, DnAfter(op));
  if (after.ok() && *after)
    log->DirectoryChange(mailbox, op, before ? &*before : nullptr, &**after);
}

}  // namespace

Result<bool> ApplyIdempotent(Directory& dir, const DirectoryOp& op, EventLog* log,
                             const std::string& mailbox) {
  std::optional<Entry> before;
  auto pending = Outstanding(dir, op, before);
  if (!pending.ok()) return pending.status();
  if (!*pending) return false;
  CM_RETURN_IF_ERROR(dir.Apply(**pending).Annotate(Describe(op)));
  LogApplied(dir, **pending, before, log, mailbox);
  return true;
}

Status ApplyAllIdempotent(Directory& dir, const std::vector<DirectoryOp>& ops, EventLog* log,
                          const std::string& mailbox) {
  auto in_order = [&]() -> Status {
    for (const auto& op : ops) {
      auto applied = ApplyIdempotent(dir, op, log, mailbox);
      if (!applied.ok()) return applied.status();
    }
    return Status::Ok();
  };
  std::set<std::string> dns;
  for (const auto& op : ops) dns.insert(NormalizeDn(op.dn));
  // Operations on one object depend on each other: what the second has to do is only known
  // after the first.
  if (ops.size() < 2 || dns.size() != ops.size()) return in_order();
  // Different objects: every operation is checked against the directory before any is sent, so
  // an object in the way of the second (a contact's name taken) stops the step before the first
  // (deleting the user) has made the old addresses bounce.
  std::vector<DirectoryOp> pending;
  std::vector<std::optional<Entry>> befores;
  for (const auto& op : ops) {
    std::optional<Entry> before;
    auto left = Outstanding(dir, op, before);
    if (!left.ok()) return left.status();
    if (!*left) continue;
    pending.push_back(std::move(**left));
    befores.push_back(std::move(before));
  }
  // What is outstanding was just read: it is sent as it is, not read again.
  auto pending_in_order = [&]() -> Status {
    for (size_t i = 0; i < pending.size(); ++i) {
      CM_RETURN_IF_ERROR(dir.Apply(pending[i]).Annotate(Describe(pending[i])));
      LogApplied(dir, pending[i], befores[i], log, mailbox);
    }
    return Status::Ok();
  };
  if (pending.size() < 2 || !dir.CanApplyAtomically()) return pending_in_order();
  Status atomic = dir.ApplyAtomically(pending);
  if (atomic.code() == Status::Code::kInternal) {
    // A transaction the server failed for its own reasons changed nothing, and the server may
    // take the same operations one by one (slapd 2.5.13 failed the transaction deleting
    // `CN=Al-Farsi\, Bob` and adding its contact with "other", MDB_NOTFOUND in its log, and a
    // reply libldap could not decode): they are applied in the plan's order instead, and a crash
    // in between is completed by the journal as on a server without transactions.
    return pending_in_order();
  }
  // Any other refusal (constraint, access, an object that exists) is the operation's own: the
  // transaction is rolled back whole and the error reported.
  CM_RETURN_IF_ERROR(
      atomic.Annotate(fmt::format("{} transaction of {} from {}", ToString(pending[0].side),
                                  CountOf(pending.size(), "operation"), pending[0].dn)));
  for (size_t i = 0; i < pending.size(); ++i) LogApplied(dir, pending[i], befores[i], log, mailbox);
  return Status::Ok();
}

}  // namespace cm
