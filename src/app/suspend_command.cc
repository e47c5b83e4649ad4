// `suspend` and `resume` (issue 13, Exchange's Suspend-MoveRequest / Resume-MoveRequest): one
// flag of a mailbox's stage record. A run leaves a suspended mailbox where it is (a step in
// progress finishes first: the flag is read when a run takes the mailbox); `resume` lets the
// next run go on with it. Neither takes the run lock: each writes only its own flag.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "app/journal_access.h"
#include "app/journal_commands.h"
#include "journal/journal.h"

namespace cm {

namespace {

int SetSuspendedFor(const Config& config, const RunOptions& options, Console console,
                    bool suspended) {
  const char* command = suspended ? "suspend" : "resume";
  if (!options.all && options.identities.empty()) {
    PrintError(fmt::format("{} needs --all or the identities of the mailboxes", command),
               options.json, console);
    return kExitUsage;
  }
  auto opened =
      ChooseFromJournal(config, options.all ? std::vector<std::string>{} : options.identities,
                        /*read_only=*/false, options.json, console);
  if (!opened) return kExitUsage;
  auto stages = opened->journal->Stages();
  if (!stages.ok()) {
    PrintError(stages.status().message(), options.json, console);
    return kExitUsage;
  }
  nlohmann::json changed = nlohmann::json::array();
  for (size_t i : opened->chosen) {
    const JournalMailbox& m = opened->all[i];
    // Said, not confirmed, where there is nothing to do: a completed (or rolled-back) mailbox
    // has no step left to hold, and one not suspended has nothing to resume.
    auto stage = stages->find(m.id);
    bool is_suspended = stage != stages->end() && stage->second.suspended;
    std::string nothing;
    if (m.state >= MailboxState::kRoutingVerified)
      nothing = fmt::format("is {}: nothing to {}", ToString(m.state), command);
    else if (suspended == is_suspended)
      nothing = suspended ? "is suspended already" : "is not suspended: nothing to resume";
    if (!nothing.empty()) {
      if (!options.all) console.err << fmt::format("crossmove: {} {}\n", m.identity, nothing);
      continue;
    }
    if (Status s = opened->journal->SetSuspended(m.id, suspended); !s.ok()) {
      PrintError(fmt::format("{}: {}", m.identity, s.message()), options.json, console);
      return kExitUsage;
    }
    changed.push_back({{"identity", m.identity}, {"state", ToString(m.state)}});
    if (!options.json)
      console.out << fmt::format("{}: {} ({}){}\n", m.identity, suspended ? "suspended" : "resumed",
                                 ToString(m.state),
                                 suspended ? "" : "; the next run goes on with it");
  }
  if (options.json)
    console.out << nlohmann::json{{suspended ? "suspended" : "resumed", changed}}.dump(2) << "\n";
  return kExitOk;
}

}  // namespace

int RunSuspend(const Config& config, const RunOptions& options, Console console) {
  return SetSuspendedFor(config, options, console, true);
}

int RunResume(const Config& config, const RunOptions& options, Console console) {
  return SetSuspendedFor(config, options, console, false);
}

}  // namespace cm
