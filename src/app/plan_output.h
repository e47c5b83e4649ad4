// The three faces of a plan: text for a person, JSON for a program, LDIF for ldapmodify.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "app/validator.h"
#include "core/problem.h"

namespace cm {

// A row of the users file an earlier run started (the journal has it): what `run` does with it
// now instead of planning it again.
struct JournaledRow {
  std::string identity;  // the journal's key ("Identity=...")
  unsigned long line = 0;
  std::string alias;
  std::string target_dn;
  std::string state;            // the last step completed ("target-provisioned")
  std::string next_step;        // where `run` resumes ("copy"); "" when done or rolled back
  std::string failure;          // "copy: reason" of the last attempt, "" when none
  std::string stage;            // the staged lifecycle's ("synced"), issue 13
  std::string grade;            // its consistency grade ("Good")
  std::string completion = {};  // when a staged mailbox completes (app/lifecycle.h CompletionNote)
};

std::string FormatPlanText(const Batch& batch, const std::vector<JournaledRow>& journaled,
                           const AttributeProfile& profile, bool color);
// Directory operations as the plan text shows them (what `rollback --dry-run` prints).
std::string FormatOpsText(const std::vector<DirectoryOp>& ops, bool color);
// The same as JSON, one object per operation, as `plan --json` gives them.
nlohmann::json OpsToJson(const std::vector<DirectoryOp>& ops);
nlohmann::json PlanToJson(const Batch& batch, const std::vector<JournaledRow>& journaled,
                          const Problems& problems);
nlohmann::json ProblemsToJson(const Problems& problems);
// LDIF change files for each side, ready for `ldapmodify -f`: target first (provisioning), then
// source (cleanup) — the order `run` applies them in, with the content copy in between.
std::string PlanToLdif(const Batch& batch, Side side);

}  // namespace cm
