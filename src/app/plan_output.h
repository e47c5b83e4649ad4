// The three faces of a plan: text for a person, JSON for a program, LDIF for ldapmodify.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "app/validator.h"
#include "core/problem.h"

namespace cm {

std::string FormatPlanText(const Batch& batch, const AttributeProfile& profile, bool color);
// Directory operations as the plan text shows them (what `rollback --dry-run` prints).
std::string FormatOpsText(const std::vector<DirectoryOp>& ops, bool color);
nlohmann::json PlanToJson(const Batch& batch, const Problems& problems);
nlohmann::json ProblemsToJson(const Problems& problems);
// LDIF change files for each side, ready for `ldapmodify -f`: target first (provisioning), then
// source (cleanup) — the order `run` applies them in, with the content copy in between.
std::string PlanToLdif(const Batch& batch, Side side);

}  // namespace cm
