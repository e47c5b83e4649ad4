#include "app/apply.h"

#include <fmt/format.h>

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

}  // namespace cm
