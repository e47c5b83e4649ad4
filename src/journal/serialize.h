// JSON forms of what the journal keeps: directory objects (every value; binary values as
// {"base64": ...} so text stays readable for an auditor) and mailbox plans.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/entry.h"
#include "core/planner.h"
#include "mailstore/mail_store.h"

namespace cm {

nlohmann::json EntryToJson(const Entry& entry);
Result<Entry> EntryFromJson(const nlohmann::json& j);

nlohmann::json PlanToJsonValue(const MailboxPlan& plan);
Result<MailboxPlan> PlanFromJson(const nlohmann::json& j);

struct FolderSnapshot {
  std::string name;
  uint64_t messages = 0;
  uint64_t bytes = 0;
};

// The snapshot (SPEC §5): the source object with every value, the store it lives in and its
// folders with counts and sizes; plus the target objects the plan replaces (a GAL contact).
struct Snapshot {
  Entry source;
  std::string store;
  std::vector<FolderSnapshot> folders;
  std::vector<Entry> replaced_target_objects;
};
std::string SnapshotToJson(const Snapshot& s);
Result<Snapshot> SnapshotFromJson(const std::string& text);

}  // namespace cm
