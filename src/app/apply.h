// Applies a batch's planned operations to the two directories, in plan order. `run` will wrap
// each step in the journal; tests use it directly to compare with `plan --ldif` + ldapmodify.
#pragma once

#include "app/validator.h"
#include "directory/directory.h"

namespace cm {

Status ApplyMailboxPlan(const MailboxPlan& plan, Directory& source, Directory& target);
Status ApplyBatch(const Batch& batch, Directory& source, Directory& target);

}  // namespace cm
