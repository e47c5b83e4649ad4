// Pre-validation (SPEC §4) and planning of a whole users file. Every problem is collected —
// parameters, rows, identities, collisions — before anything is written, so an administrator
// fixes them all in one pass. The result is what `plan` prints and what `run` will execute.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "app/organizations.h"
#include "core/entry.h"
#include "core/planner.h"
#include "core/problem.h"
#include "input/config.h"
#include "input/users_file.h"

namespace cm {

struct PlannedMailbox {
  UsersFileRow row;
  Entry source;                       // the object as read now (the snapshot to be)
  std::vector<Entry> target_matches;  // target objects it collides with or replaces
  PlannerParams params;
  MailboxPlan plan;
  std::string schedule = {};  // what a staged move will do (app/lifecycle.h ScheduleNote)
};

struct Batch {
  std::string users_file;
  std::string identity_column;
  std::vector<PlannedMailbox> mailboxes;
};

// The `cleanup` setting, or a problem naming its file and line (and nullopt).
std::optional<CleanupOption> CleanupSetting(const Config& config, Problems& problems);

// Checks the run's parameters against both directories and builds default planner parameters.
PlannerParams ValidateParameters(const Config& config, Organizations& orgs, NameRegistry& names,
                                 Problems& problems);

// Resolves, validates and plans every row. Rows with problems are left out of the batch.
// `reserved`: plans of earlier runs (in the journal) whose names must not be handed out again.
Batch PrepareBatch(const Config& config, Organizations& orgs, const UsersFile& users,
                   Problems& problems, const std::vector<MailboxPlan>& reserved = {});

}  // namespace cm
