// `forget` (SPEC §8): removes rolled-back or untouched mailboxes from the journal, so the next
// run moves them again.
#include <fmt/format.h>

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "app/journal_access.h"
#include "app/journal_commands.h"
#include "app/migration_report.h"
#include "core/strings.h"
#include "journal/journal.h"
#include "journal/run_lock.h"

namespace cm {

int RunForget(const Config& config, const RunOptions& options, Console console) {
  if (options.identities.empty()) {
    PrintError("forget needs the identities of the mailboxes to forget", options.json, console);
    return kExitUsage;
  }
  if (!RequireJournal(config, options.json, console)) return kExitUsage;
  int refused = kExitUsage;
  std::optional<RunLock> run_lock =
      LockJournal(config, options.wait, console, refused, options.json);
  if (!run_lock) return refused;
  auto opened =
      ChooseFromJournal(config, options.identities, /*read_only=*/false, options.json, console);
  if (!opened) return kExitUsage;
  const std::vector<JournalMailbox>* all = &opened->all;
  const std::vector<size_t>* chosen = &opened->chosen;
  std::unique_ptr<Journal>* journal = &opened->journal;
  // Only a mailbox whose directories hold nothing of the move: else the next run would plan it
  // from a source that is already a contact, or collide with the target object it made.
  std::vector<std::string> problems;
  for (size_t i : *chosen) {
    const JournalMailbox& m = (*all)[i];
    // A snapshot is not a directory write; a provision step that failed may have written some.
    bool untouched = m.state == MailboxState::kPending ||
                     (m.state == MailboxState::kSnapshotted && m.failed_step != "provision");
    if (m.state == MailboxState::kRolledBack || untouched) continue;
    problems.push_back(fmt::format(
        "{} is {}{}: {}; nothing was forgotten", m.identity, ToString(m.state),
        m.failed() ? fmt::format(" (failed at {})", m.failed_step) : "",
        m.state >= MailboxState::kSourceCleaned
            ? "its source was cleaned up and not rolled back (rollback it first, or leave it: "
              "it is moved)"
        : m.state == MailboxState::kContentVerified
            ? "it is synced, its source not yet touched (finish it with complete, or "
              "rollback it first)"
            : "its target object was provisioned (finish it with run, or rollback it first)"));
  }
  if (!problems.empty()) {
    PrintError(Join(problems, "\n"), options.json, console);
    return kExitUsage;
  }
  nlohmann::json forgotten = nlohmann::json::array();
  for (size_t i : *chosen) {
    const JournalMailbox& m = (*all)[i];
    if (Status s = (*journal)->Forget(m.id); !s.ok()) {
      PrintError(fmt::format("{}: {}", m.identity, s.message()), options.json, console);
      return kExitUsage;
    }
    forgotten.push_back({{"identity", m.identity}, {"state", ToString(m.state)}});
    if (!options.json)
      console.out << fmt::format(
          "{}: forgotten ({}); the next run moves it again{}\n", m.identity, ToString(m.state),
          m.state == MailboxState::kRolledBack
              ? " (its target object is now a mail user: allow-merge lets the run reuse it)"
              : "");
  }
  // The report keeps the forgotten mailboxes in a section of their own (journal.h Forgotten).
  RewriteMigrationReport(**journal, config, "after forget", console.err);
  if (options.json) console.out << nlohmann::json{{"forgotten", forgotten}}.dump(2) << "\n";
  return kExitOk;
}

}  // namespace cm
