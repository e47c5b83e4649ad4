// Applies planned operations to directories. `run` applies each operation idempotently: what
// is already in effect (after a crash between the write and the journal's record of it) is not
// written again, and what is left is written — so every step can be re-run.
#pragma once

#include "app/event_log.h"
#include "app/validator.h"
#include "directory/directory.h"

namespace cm {

Status ApplyMailboxPlan(const MailboxPlan& plan, Directory& source, Directory& target);
Status ApplyBatch(const Batch& batch, Directory& source, Directory& target);

// Applies `op` unless it is already in effect; returns whether anything was written. Every
// attribute it changes goes to `log` (when given) with its values before and after.
Result<bool> ApplyIdempotent(Directory& dir, const DirectoryOp& op, EventLog* log,
                             const std::string& mailbox);
// Every operation of one side of one step, idempotently; where the directory has transactions
// (RFC 5805) the ones still outstanding are applied all or none.
Status ApplyAllIdempotent(Directory& dir, const std::vector<DirectoryOp>& ops, EventLog* log,
                          const std::string& mailbox);

}  // namespace cm
