// `status` (SPEC §9): what the journal says, read-only and without a lock: counts per state,
// failures, who holds what, the run in progress.
#include <fmt/format.h>

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "app/journal_access.h"
#include "app/journal_commands.h"
#include "app/lifecycle.h"
#include "core/strings.h"
#include "core/timestamp.h"
#include "journal/journal.h"
#include "journal/run_lock.h"

namespace cm {

int RunStatus(const Config& config, const RunOptions& options, Console console) {
  auto opened =
      ChooseFromJournal(config, options.identities, /*read_only=*/true, options.json, console);
  if (!opened) return kExitUsage;
  const std::vector<JournalMailbox>* all = &opened->all;
  const std::vector<size_t>* chosen = &opened->chosen;
  Journal& journal = *opened->journal;
  auto stages = journal.Stages();
  auto totals = journal.CopiedTotals();
  auto deltas = journal.LastDeltas();
  if (!stages.ok() || !totals.ok() || !deltas.ok()) {
    PrintError((!stages.ok()   ? stages.status()
                : !totals.ok() ? totals.status()
                               : deltas.status())
                   .message(),
               options.json, console);
    return kExitUsage;
  }
  int64_t now = UnixNow();
  std::map<std::string, size_t> counts;  // by journal state
  std::map<std::string, size_t> batch;   // by lifecycle stage (issue 13)
  std::optional<ConsistencyGrade> worst;
  size_t failed = 0, ungraded = 0;
  nlohmann::json rows = nlohmann::json::array();
  std::vector<bool> chosen_mask(all->size(), false);
  for (size_t i : *chosen) chosen_mask[i] = true;
  for (size_t i = 0; i < all->size(); ++i) {
    const JournalMailbox& m = (*all)[i];
    ++counts[std::string(ToString(m.state))];
    failed += m.failed();
    auto st = stages->find(m.id);
    MailboxStage stage = st == stages->end() ? MailboxStage{} : st->second;
    LifecycleStage lifecycle = StageOf(m, stage);
    ++batch[std::string(ToString(lifecycle))];
    auto refused = journal.RefusedMessages(m.id);
    auto copied = totals->find(m.id);
    ConsistencyGrade grade =
        MailboxGrade(copied == totals->end() ? Journal::CopiedTotal{} : copied->second,
                     refused.ok() ? refused->size() : 0);
    if (IsGraded(m)) worst = worst ? Worst(*worst, grade) : grade;
    ungraded += !IsGraded(m);
    if (!chosen_mask[i]) continue;
    int64_t due = m.failed() ? 0 : NextDueOf(m.state, stage, now);
    nlohmann::json last_delta;  // null: no delta pass yet
    if (auto d = deltas->find(m.id); d != deltas->end()) {
      last_delta = {{"at", FormatIsoTime(d->second.at)},
                    {"new", d->second.new_messages},
                    {"flags", d->second.flags_changed},
                    {"expunged", d->second.expunged},
                    {"moved", d->second.moved},
                    {"renamed_folders", d->second.renamed_folders},
                    {"deleted_folders", d->second.deleted_folders}};
    }
    rows.push_back(
        {{"identity", m.identity},
         {"line", m.line},
         {"source_dn", m.source_dn},
         {"state", ToString(m.state)},
         {"stage", ToString(lifecycle)},
         {"grade", IsGraded(m) ? nlohmann::json(ToString(grade)) : nlohmann::json()},
         {"skipped_items", refused.ok() ? refused->size() : 0},
         {"last_sync",
          stage.last_sync ? nlohmann::json(FormatIsoTime(stage.last_sync)) : nlohmann::json()},
         {"next_due", due ? nlohmann::json(FormatIsoTime(due)) : nlohmann::json()},
         {"last_delta", last_delta},
         {"complete_after", stage.complete_after
                                ? nlohmann::json(FormatIsoTime(*stage.complete_after))
                                : nlohmann::json()},
         {"start_after",
          stage.start_after ? nlohmann::json(FormatIsoTime(*stage.start_after)) : nlohmann::json()},
         {"suspend_when_ready", stage.suspend_when_ready},
         {"completion", m.state == MailboxState::kPending ? ScheduleNote(stage, now)
                                                          : CompletionNote(m.state, stage, now)},
         {"complete_requested", stage.complete_requested},
         {"approve_skipped", stage.approve_skipped},
         {"failed_step", m.failed_step},
         {"reason", m.reason},
         {"updated", m.updated},
         {"held_by", m.holder}});
  }
  nlohmann::json batch_json = {{"total", all->size()}};
  for (const char* stage :
       {"queued", "syncing", "synced", "completing", "completed", "failed", "suspended"})
    batch_json[stage] = batch[stage];
  // snake_case like the other keys (and not the state's spelling, which names one mailbox's)
  batch_json["rolled_back"] = batch["rolled-back"];
  batch_json["grade"] = worst ? nlohmann::json(ToString(*worst)) : nlohmann::json();
  // A run in progress is shown, never waited for: status takes no lock.
  std::string running = JournalHolder(config);
  // Each server's and database's load against its cap on moves at once (over every worker).
  nlohmann::json load = nlohmann::json::array();
  if (auto moves = journal.MovesAtOnce(); moves.ok()) {
    struct Cap {
      const char* prefix;
      int max;
      const char* setting;
    };
    const Cap caps[] = {
        {"source database ", config.max_moves_per_source_database, "max-moves-per-source-database"},
        {"target database ", config.max_moves_per_target_database, "max-moves-per-target-database"},
        {"source server ", config.max_moves_per_source_server, "max-moves-per-source-server"},
        {"target server ", config.max_moves_per_target_server, "max-moves-per-target-server"}};
    for (const auto& [resource, n] : *moves) {
      nlohmann::json entry = {{"resource", resource}, {"moves", n}};
      for (const Cap& cap : caps) {
        if (resource.starts_with(cap.prefix)) {
          entry["cap"] = cap.max;
          entry["setting"] = cap.setting;
        }
      }
      load.push_back(entry);
    }
  }
  if (options.json) {
    console.out << nlohmann::json{{"counts", counts},
                                  {"failed", failed},
                                  {"running",
                                   running.empty() ? nlohmann::json() : nlohmann::json(running)},
                                  {"batch", batch_json},
                                  {"load", load},
                                  {"mailboxes", rows}}
                       .dump(2)
                << "\n";
    return kExitOk;
  }
  console.out << fmt::format("{} in {}\n", CountOf(all->size(), "mailbox"), config.journal);
  if (!running.empty()) console.out << "  in progress: " << running << "\n";
  for (const auto& l : load) {
    console.out << fmt::format("  moving now: {} {} {}{}\n", l["moves"].get<int64_t>(),
                               l["moves"].get<int64_t>() == 1 ? "mailbox on" : "mailboxes on",
                               l["resource"].get<std::string>(),
                               l.contains("cap") ? fmt::format(" (of {}, {})", l["cap"].get<int>(),
                                                               l["setting"].get<std::string>())
                                                 : "");
  }
  for (const auto& [state, n] : counts) console.out << fmt::format("  {:<20} {}\n", state, n);
  // Counted among the states above (a failed mailbox stays in the state it reached).
  if (failed) console.out << fmt::format("  {:<20} {} (of the above)\n", "failed", failed);
  console.out << fmt::format(
      "batch: {} total, {} queued, {} syncing, {} synced, {} completing, {} completed, {} "
      "failed{}; consistency grade {}{}\n",
      all->size(), batch["queued"], batch["syncing"], batch["synced"], batch["completing"],
      batch["completed"], batch["failed"],
      batch["suspended"] ? fmt::format(", {} suspended", batch["suspended"]) : "",
      worst ? ToString(*worst) : "-", ungraded ? " (" + UngradedNote(ungraded) + ")" : "");
  auto text = [](const nlohmann::json& v) {
    return v.is_null() ? std::string("-") : v.get<std::string>();
  };
  size_t not_listed = 0;
  for (const auto& r : rows) {
    std::string stage = r["stage"].get<std::string>();
    // Queued with a start time: scheduled, so shown with it (a queue of never-started
    // mailboxes without one is only counted).
    bool staged = stage == "synced" || stage == "suspended" ||
                  (stage == "queued" && !r["next_due"].is_null());
    bool failed = !r["failed_step"].get<std::string>().empty();
    bool held = !failed && !r["reason"].get<std::string>().empty();
    // Held by a run now (a worker moving it): listed with its holder.
    bool moving = !r["held_by"].get<std::string>().empty();
    bool show = !options.identities.empty() || failed || held || staged || moving;
    if (!show) {
      ++not_listed;
      continue;
    }
    const nlohmann::json& d = r["last_delta"];
    std::string carried =
        d.is_null()
            ? ""
            : fmt::format(
                  "; last delta carried {} new, {} flag changes, {} expunged, {} "
                  "moved, {} renamed and {} deleted folders",
                  d["new"].get<uint64_t>(), d["flags"].get<uint64_t>(),
                  d["expunged"].get<uint64_t>(), d["moved"].get<uint64_t>(),
                  d["renamed_folders"].get<uint64_t>(), d["deleted_folders"].get<uint64_t>());
    std::string completion = r["completion"].get<std::string>();
    if (!completion.empty()) completion = "; " + completion;
    console.out << fmt::format(
        "{}  {} ({}, grade {}; last sync {}, next {}{}{})  {}{}\n",
        r["identity"].get<std::string>(), r["state"].get<std::string>(), stage, text(r["grade"]),
        text(r["last_sync"]), text(r["next_due"]), completion, carried,
        failed ? fmt::format("FAILED at {}: {}", r["failed_step"].get<std::string>(),
                             r["reason"].get<std::string>())
        : held ? r["reason"].get<std::string>()
               : "",
        r["held_by"].get<std::string>().empty() ? ""
                                                : "  held by " + r["held_by"].get<std::string>());
  }
  // Only what needs an eye is listed; say so, or a completed batch looks like an empty one.
  if (not_listed) {
    console.out << fmt::format(
        "{} not listed (nothing to do or not yet scheduled): `crossmove status IDENTITY` shows "
        "one, `status --json` every one\n",
        CountOf(not_listed, "mailbox"));
  }
  return kExitOk;
}

}  // namespace cm
