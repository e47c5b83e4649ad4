#include "app/preflight.h"

#include <sys/stat.h>

#include <map>
#include <nlohmann/json.hpp>

#include "app/journal_access.h"
#include "core/strings.h"

namespace cm {

Result<std::vector<JournaledMove>> LoadJournaledMoves(Journal& journal) {
  auto all = journal.All();
  if (!all.ok()) return all.status();
  std::vector<JournaledMove> out;
  for (auto& jm : *all) {
    if (jm.snapshot.empty()) continue;  // registered, never snapshotted: nothing happened yet
    auto snap = SnapshotFromJson(jm.snapshot);
    if (!snap.ok()) return snap.status().Annotate(jm.identity);
    auto plan = PlanFromJson(nlohmann::json::parse(jm.plan, nullptr, false));
    if (!plan.ok()) return plan.status().Annotate(jm.identity);
    out.push_back({std::move(jm), std::move(*snap), std::move(*plan)});
  }
  return out;
}

std::string JournalIdentity(const std::string& column, const std::string& identity) {
  return column + "=" + identity;
}

bool PrepareRun(const Config& config, bool for_run, std::ostream& warnings, Preflight& out,
                Problems& problems, std::optional<Status>& fatal, bool journaled_only) {
  if (config.users_file.empty())
    problems.push_back({"", 0, "users-file", "not set (the CSV of mailboxes to move)"});
  auto orgs = OpenOrganizations(config, /*read_only=*/!for_run, problems);
  if (!orgs.ok() && orgs.status().code() == Status::Code::kUnavailable) {
    fatal = orgs.status();
    return false;
  }
  if (!config.users_file.empty()) {
    auto read = ReadUsersFile(config.users_file, config.csv_delimiter, problems);
    if (read.ok()) {
      out.users = std::move(*read);
    } else {
      // A file that cannot be read is pointed at by the setting that names it (the config
      // line, variable or flag); one that reads but does not parse names its own line.
      problems.push_back(read.status().code() == Status::Code::kNotFound
                             ? config.ProblemWith("users-file", read.status().message())
                             : Problem{"", 0, "", read.status().message()});
    }
  }
  // Mailboxes an earlier run snapshotted continue from the journal; only new rows are validated.
  auto exists = JournalExists(config);
  if (!exists.ok()) {
    fatal = exists.status();
    return false;
  }
  if (*exists) {
    auto journal = OpenJournal(config, JournalMode::kReadOnly);
    if (!journal.ok()) {
      fatal = journal.status();
      return false;
    }
    auto loaded = LoadJournaledMoves(**journal);
    if (!loaded.ok()) {
      fatal = loaded.status();
      return false;
    }
    out.journaled = std::move(*loaded);
  }
  std::map<std::string, size_t, ILess> by_identity;
  std::vector<MailboxPlan> reserved;
  for (size_t i = 0; i < out.journaled.size(); ++i) {
    by_identity[out.journaled[i].jm.identity] = i;
    reserved.push_back(out.journaled[i].plan);
  }
  UsersFile fresh = out.users;
  fresh.rows.clear();
  for (const auto& row : out.users.rows) {
    auto it = by_identity.find(JournalIdentity(out.users.identity_column, row.identity));
    if (it != by_identity.end()) {
      out.resumed.push_back(it->second);
    } else {
      fresh.rows.push_back(row);
    }
  }
  if (orgs.ok()) {
    out.orgs = std::move(*orgs);
    // An empty batch keeps the users file's name and identity column for the plan's header.
    if (fresh.rows.empty() || journaled_only) {
      out.batch.users_file = out.users.path;
      out.batch.identity_column = out.users.identity_column;
      // Nothing new to plan, but a mistyped setting is still a mistake to point at: the next
      // row added would meet it.
      CleanupSetting(config, problems);
    } else {
      out.batch = PrepareBatch(config, out.orgs, fresh, problems, reserved);
    }
  }
  // The stores are checked alike for both: a database without a store is a problem for `plan`
  // too, since `run` could not move its mailboxes.
  out.stores = MailStores::Load(config, problems, warnings);
  out.unreachable = CheckMailStores(config, out.stores, out.users.path, out.batch, problems);
  return problems.empty() && orgs.ok();
}

}  // namespace cm
