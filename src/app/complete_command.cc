// `complete` (issue 13): the operator's go for staged mailboxes (Exchange's
// Complete-MigrationBatch / Set-MoveRequest -CompleteAfter now), recorded in the journal and
// carried out by a pass over those mailboxes (app/migration_pass.h).
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "app/journal_access.h"
#include "app/journal_commands.h"
#include "app/migration_pass.h"
#include "core/strings.h"
#include "journal/journal.h"
#include "journal/run_lock.h"

namespace cm {

int RunComplete(const Config& config, const RunOptions& options, Console console) {
  if (!options.all && options.identities.empty()) {
    PrintError("complete needs --all or the identities of the mailboxes to complete", options.json,
               console);
    return kExitUsage;
  }
  if (std::string holder = JournalHolder(config);
      !holder.empty() && !options.wait && options.approve_deletions) {
    // The approval is this pass's, not a recorded request's: the holder would not carry it.
    PrintError(fmt::format("{} holds the journal: --approve-deletions approves only a pass this "
                           "command runs itself; stop that run (or add --wait to run after it) "
                           "and approve again. Nothing was approved",
                           holder),
               options.json, console);
    return kExitBusy;
  }
  PassOptions pass;
  size_t done_already = 0;
  pass.approve_deletions = options.approve_deletions;
  pass.json = options.json;
  pass.wait = options.wait;
  {
    auto opened =
        ChooseFromJournal(config, options.all ? std::vector<std::string>{} : options.identities,
                          /*read_only=*/false, options.json, console);
    if (!opened) return kExitUsage;
    auto stages = opened->journal->Stages();
    for (size_t i : opened->chosen) {
      const JournalMailbox& m = opened->all[i];
      if (m.state >= MailboxState::kRoutingVerified) {
        // Completed (or rolled back) already: nothing to ask for. One cleaned up and not yet
        // proven (a crash) is completed by the pass: its routing step is left.
        if (!options.all)
          console.err << fmt::format("crossmove: {} is {}: nothing to complete\n", m.identity,
                                     ToString(m.state));
        ++done_already;
        continue;
      }
      if (Status s = opened->journal->RequestCompletion(m.id, options.approve_skipped); !s.ok()) {
        PrintError(fmt::format("{}: {}", m.identity, s.message()), options.json, console);
        return kExitUsage;
      }
      pass.only.push_back(m.id);
      // Recorded, but a suspended mailbox waits for `resume` all the same: said, not silent.
      if (stages.ok()) {
        if (auto it = stages->find(m.id); it != stages->end() && it->second.suspended)
          console.err << fmt::format(
              "crossmove: {} is suspended: its completion is recorded and happens once "
              "`crossmove resume {}` lets it go on\n",
              m.identity, m.identity);
      }
    }
  }  // the journal is closed: the pass opens its own
  if (pass.only.empty()) {
    if (options.json) {
      console.out << nlohmann::json{{"completing", 0}}.dump(2) << "\n";
    } else if (options.all) {
      console.err << fmt::format(
          "crossmove: nothing to complete: {} in {}, {} completed or rolled back already\n",
          CountOf(done_already, "mailbox"), config.journal, done_already);
    }
    return kExitOk;
  }
  if (std::string holder = JournalHolder(config); !holder.empty() && !options.wait) {
    console.err << fmt::format(
        "crossmove: {} holds the journal: the completion of {} is recorded, and "
        "that run (a `run --watch` within seconds) or the next `run` completes {}\n",
        holder, CountOf(pass.only.size(), "mailbox"), pass.only.size() == 1 ? "it" : "them");
    if (options.json)
      console.out
          << nlohmann::json{{"completing", pass.only.size()}, {"recorded_for", holder}}.dump(2)
          << "\n";
    return kExitOk;
  }
  return Migrate(config, pass, console);
}

}  // namespace cm
