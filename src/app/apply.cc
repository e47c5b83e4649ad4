#include "app/apply.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/dn.h"
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

Result<std::optional<Entry>> ReadIfExists(Directory& dir, std::string_view dn) {
  auto e = dir.Read(dn);
  if (e.ok()) return std::optional<Entry>(std::move(*e));
  if (e.status().code() == Status::Code::kNotFound) return std::optional<Entry>();
  return e.status();
}

}  // namespace

Result<bool> ApplyIdempotent(Directory& dir, const DirectoryOp& op, EventLog* log,
                             const std::string& mailbox) {
  auto before = ReadIfExists(dir, op.dn);
  if (!before.ok()) return before.status();
  auto fail = [&](const Status& s) {
    return s.Annotate(fmt::format("{} {} {}", ToString(op.side), ToString(op.kind), op.dn));
  };
  switch (op.kind) {
    case DirectoryOp::Kind::kAdd: {
      if (*before) {
        // Ours from an earlier attempt if it already holds every value we would add.
        if (Remaining(**before, op.mods).empty()) return false;
        return fail(Status::AlreadyExists(
            "an object with this name exists and is not the one the plan creates"));
      }
      Entry e = op.AsEntry();
      CM_RETURN_IF_ERROR(fail(dir.Add(e)));
      if (log) log->DirectoryChange(mailbox, op, nullptr, &e);
      return true;
    }
    case DirectoryOp::Kind::kDelete:
      if (!*before) return false;
      CM_RETURN_IF_ERROR(fail(dir.Delete(op.dn)));
      if (log) log->DirectoryChange(mailbox, op, &**before, nullptr);
      return true;
    case DirectoryOp::Kind::kModify: {
      if (!*before) return fail(Status::NotFound("the object to modify does not exist"));
      auto left = Remaining(**before, op.mods);
      if (left.empty()) return false;
      CM_RETURN_IF_ERROR(fail(dir.Modify(op.dn, left)));
      auto after = ReadIfExists(dir, op.dn);
      if (log && after.ok() && *after) log->DirectoryChange(mailbox, op, &**before, &**after);
      return true;
    }
    case DirectoryOp::Kind::kRename: {
      std::string parent = op.new_superior.empty() ? ParentDn(op.dn) : op.new_superior;
      std::string new_dn = parent.empty() ? op.new_rdn : op.new_rdn + "," + parent;
      if (!*before) {
        auto moved = ReadIfExists(dir, new_dn);
        if (moved.ok() && *moved) return false;
        return fail(Status::NotFound("the object to rename does not exist"));
      }
      CM_RETURN_IF_ERROR(fail(dir.Rename(op.dn, op.new_rdn, op.new_superior)));
      auto after = ReadIfExists(dir, new_dn);
      if (log && after.ok() && *after) log->DirectoryChange(mailbox, op, &**before, &**after);
      return true;
    }
  }
  return false;
}

}  // namespace cm
