// `status` (SPEC §9): what the journal says, read-only and without a lock: counts per state,
// failures, who holds what, the run in progress.
#include <fmt/format.h>

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "app/journal_access.h"
#include "app/journal_commands.h"
#include "journal/journal.h"
#include "journal/run_lock.h"

namespace cm {

int RunStatus(const Config& config, const RunOptions& options, Console console) {
  if (!FileExists(config.journal)) {
    PrintError(fmt::format("no journal at {} (nothing has run yet)", config.journal), options.json,
               console);
    return kExitUsage;
  }
  auto journal = Journal::OpenReadOnly(config.journal);
  if (!journal.ok()) {
    PrintError(journal.status().message(), options.json, console);
    return kExitUsage;
  }
  auto all = (*journal)->All();
  if (!all.ok()) {
    PrintError(all.status().message(), options.json, console);
    return kExitUsage;
  }
  // Identities are matched against the snapshots too (addresses, aliases); a mailbox not yet
  // snapshotted by its users-file value, DN or canonical name.
  JournalIdentities known = IdentitiesOf(*all);
  auto chosen =
      ChooseMailboxes(options.identities, known.identities, config, options.json, console);
  if (!chosen) return kExitUsage;
  std::map<std::string, size_t> counts;
  size_t failed = 0;
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& m : *all) {
    ++counts[std::string(ToString(m.state))];
    failed += m.failed();
  }
  for (size_t i : *chosen) {
    const JournalMailbox& m = (*all)[i];
    rows.push_back({{"identity", m.identity},
                    {"line", m.line},
                    {"source_dn", m.source_dn},
                    {"state", ToString(m.state)},
                    {"failed_step", m.failed_step},
                    {"reason", m.reason},
                    {"updated", m.updated},
                    {"held_by", m.holder}});
  }
  // A run in progress is shown, never waited for: status takes no lock.
  std::string running = RunLock::HolderOf(config.journal);
  if (options.json) {
    console.out << nlohmann::json{{"counts", counts},
                                  {"failed", failed},
                                  {"running",
                                   running.empty() ? nlohmann::json() : nlohmann::json(running)},
                                  {"mailboxes", rows}}
                       .dump(2)
                << "\n";
    return kExitOk;
  }
  console.out << fmt::format("{} mailboxes in {}\n", all->size(), config.journal);
  if (!running.empty()) console.out << "  in progress: " << running << "\n";
  for (const auto& [state, n] : counts) console.out << fmt::format("  {:<20} {}\n", state, n);
  if (failed) console.out << fmt::format("  {:<20} {}\n", "failed", failed);
  for (const auto& r : rows) {
    bool show = !options.identities.empty() || !r["failed_step"].get<std::string>().empty();
    if (!show) continue;
    console.out << fmt::format(
        "{}  {}  {}{}\n", r["identity"].get<std::string>(), r["state"].get<std::string>(),
        r["failed_step"].get<std::string>().empty()
            ? ""
            : fmt::format("FAILED at {}: {}", r["failed_step"].get<std::string>(),
                          r["reason"].get<std::string>()),
        r["held_by"].get<std::string>().empty() ? ""
                                                : "  held by " + r["held_by"].get<std::string>());
  }
  return kExitOk;
}

}  // namespace cm
