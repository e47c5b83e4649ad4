#include "app/journal_access.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <mutex>

#include <nlohmann/json.hpp>

#include "app/organizations.h"
#include "core/strings.h"
#include "input/credential.h"

namespace cm {

bool FileExists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

Result<JournalLocation> JournalOf(const Config& config) {
  auto where = ParseJournalLocation(config.journal);
  if (!where.ok()) return where.status();
  where->lease_seconds = config.worker_lease_seconds;
  if (!where->postgres() || config.journal_credential.empty()) return where;
  static std::mutex mu;
  static std::map<std::string, std::string> loaded;  // credential spec -> password
  std::lock_guard lock(mu);
  auto known = loaded.find(config.journal_credential);
  if (known == loaded.end()) {
    auto secret = LoadSecret(config.journal_credential, "journal-credential");
    if (!secret.ok()) return secret.status();
    known = loaded.emplace(config.journal_credential, secret->text).first;
  }
  where->password = known->second;
  return where;
}

Result<bool> JournalExists(const Config& config) {
  auto where = JournalOf(config);
  if (!where.ok()) return where.status();
  return Journal::Exists(*where);
}

Result<std::unique_ptr<Journal>> OpenJournal(const Config& config, JournalMode mode) {
  auto where = JournalOf(config);
  if (!where.ok()) return where.status();
  switch (mode) {
    case JournalMode::kRun:
      return Journal::Open(*where);
    case JournalMode::kRequests:
      return Journal::OpenForRequests(*where);
    case JournalMode::kReadOnly:
      break;
  }
  return Journal::OpenReadOnly(*where);
}

bool RequireJournal(const Config& config, bool json, Console console) {
  auto exists = JournalExists(config);
  if (exists.ok() && *exists) return true;
  PrintError(exists.ok() ? fmt::format("no journal at {} (nothing has run yet)", config.journal)
                         : exists.status().message(),
             json, console);
  return false;
}

std::string JournalHolder(const Config& config) {
  auto where = JournalOf(config);
  return where.ok() ? RunLock::HolderOf(*where) : "";
}

Status MakeJournalFolder(const std::string& journal) {
  if (IsPostgresJournal(journal)) return Status::Ok();  // nothing on this host's disk
  std::filesystem::path folder = std::filesystem::path(journal).parent_path();
  std::error_code ec;
  if (folder.empty() || std::filesystem::is_directory(folder, ec)) return Status::Ok();
  if (!std::filesystem::create_directories(folder, ec) && ec)
    return Status::IOError(
        fmt::format("cannot create {}, the folder of the journal {}: {}; create it or set "
                    "journal (--journal) to a path in an existing folder",
                    folder.string(), journal, ec.message()));
  std::filesystem::permissions(folder, std::filesystem::perms::owner_all, ec);
  return Status::Ok();
}

std::optional<RunLock> LockJournal(const Config& config, bool wait, Console console, int& exit_code,
                                   bool json, bool shared) {
  auto where = JournalOf(config);
  if (!where.ok()) {
    PrintError(where.status().message(), json, console);
    exit_code = kExitUsage;
    return std::nullopt;
  }
  auto lock = RunLock::Acquire(
      *where, wait,
      [&](const std::string& holder) {
        console.err << fmt::format("crossmove: waiting for {} to finish with the journal {}\n",
                                   holder, config.journal);
      },
      shared);
  if (lock.ok()) return std::move(*lock);
  // A journal server that cannot be reached is not a busy journal (exit 3, not 4).
  bool unreachable = lock.status().message().starts_with("cannot reach the journal");
  bool busy = !unreachable && lock.status().code() == Status::Code::kUnavailable;
  PrintError(lock.status().message() + (busy ? "; nothing was done (--wait waits for it)" : ""),
             json, console);
  exit_code = unreachable ? kExitUnreachable : busy ? kExitBusy : kExitUsage;
  return std::nullopt;
}

std::optional<OpenedJournal> OpenExistingJournal(const Config& config, Console console,
                                                 std::string_view why, bool read_only, bool json) {
  auto exists = JournalExists(config);
  if (!exists.ok() || !*exists) {
    PrintError(exists.ok() ? fmt::format("no journal at {}{}", config.journal, why)
                           : exists.status().message(),
               json, console);
    return std::nullopt;
  }
  auto journal = OpenJournal(config, read_only ? JournalMode::kReadOnly : JournalMode::kRun);
  if (!journal.ok()) {
    PrintError(journal.status().message(), json, console);
    return std::nullopt;
  }
  auto loaded = LoadJournaledMoves(**journal);
  if (!loaded.ok()) {
    PrintError(loaded.status().message(), json, console);
    return std::nullopt;
  }
  return OpenedJournal{std::move(*journal), std::move(*loaded)};
}

std::optional<std::vector<size_t>> ChooseMailboxes(const std::vector<std::string>& typed,
                                                   const std::vector<JournaledIdentity>& mailboxes,
                                                   const Config& config, bool json,
                                                   Console console) {
  std::vector<size_t> all(mailboxes.size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = i;
  if (typed.empty()) return all;
  auto chosen = SelectJournaled(typed, mailboxes, config.profile);
  if (chosen.ok()) return std::move(*chosen);
  PrintError(chosen.status().message(), json, console);
  return std::nullopt;
}

std::vector<JournaledIdentity> IdentitiesOf(const std::vector<JournaledMove>& loaded) {
  std::vector<JournaledIdentity> out;
  for (const auto& l : loaded) {
    out.push_back({l.jm.identity, l.jm.source_dn, &l.snapshot.source, l.plan.target_primary_smtp,
                   l.plan.target_dn, l.plan.target_legacy_dn});
  }
  return out;
}

namespace {

// A text field of the plan, read without building the whole plan; "" before planning.
std::string PlanField(const nlohmann::json& plan, const char* field) {
  if (!plan.is_object()) return "";
  auto it = plan.find(field);
  return it != plan.end() && it->is_string() ? it->get<std::string>() : "";
}

}  // namespace

JournalIdentities IdentitiesOf(const std::vector<JournalMailbox>& all) {
  JournalIdentities out;
  out.snapshots.resize(all.size());
  for (size_t i = 0; i < all.size(); ++i) {
    const JournalMailbox& m = all[i];
    auto snap =
        m.snapshot.empty() ? Result<Snapshot>(Status::NotFound("")) : SnapshotFromJson(m.snapshot);
    if (snap.ok()) out.snapshots[i] = std::move(*snap);
    auto plan = m.plan.empty() ? nlohmann::json() : nlohmann::json::parse(m.plan, nullptr, false);
    out.identities.push_back({m.identity, m.source_dn,
                              snap.ok() ? &out.snapshots[i].source : nullptr,
                              PlanField(plan, "target_primary_smtp"), PlanField(plan, "target_dn"),
                              PlanField(plan, "target_legacy_dn")});
  }
  return out;
}

void ReadUnsnapshottedSources(const Config& config, JournalIdentities& known) {
  bool unsnapshotted = std::any_of(known.identities.begin(), known.identities.end(),
                                   [](const JournaledIdentity& m) { return !m.source; });
  if (!unsnapshotted) return;
  Problems ignored;
  auto orgs = OpenOrganizations(config, /*read_only=*/true, ignored);
  if (!orgs.ok() || !orgs->source) return;
  for (size_t i = 0; i < known.identities.size(); ++i) {
    if (known.identities[i].source) continue;
    if (auto entry = orgs->source->Read(known.identities[i].source_dn); entry.ok()) {
      known.snapshots[i].source = std::move(*entry);
      known.identities[i].source = &known.snapshots[i].source;
    }
  }
}

std::optional<std::vector<size_t>> ChooseSnapshotted(OpenedJournal& opened,
                                                     const std::vector<std::string>& typed,
                                                     std::string_view what, const Config& config,
                                                     bool json, Console console) {
  std::vector<JournaledIdentity> snapshotted = IdentitiesOf(opened.mailboxes);
  if (typed.empty() || SelectJournaled(typed, snapshotted, config.profile).ok())
    return ChooseMailboxes(typed, snapshotted, config, json, console);
  // Named, but not snapshotted yet (queued): said as such, not as "matches no mailbox".
  if (auto all = opened.journal->All(); all.ok()) {
    JournalIdentities known = IdentitiesOf(*all);
    if (!SelectJournaled(typed, known.identities, config.profile).ok())
      ReadUnsnapshottedSources(config, known);
    if (auto chosen = SelectJournaled(typed, known.identities, config.profile); chosen.ok()) {
      std::vector<std::string> queued;
      for (size_t i : *chosen) {
        const JournalMailbox& m = (*all)[i];
        if (m.snapshot.empty())
          queued.push_back(
              fmt::format("{} is {} and not snapshotted yet (nothing was moved): "
                          "nothing to {}",
                          m.identity, ToString(m.state), what));
      }
      if (!queued.empty()) {
        PrintError(Join(queued, "\n"), json, console);
        return std::nullopt;
      }
    }
  }
  return ChooseMailboxes(typed, snapshotted, config, json, console);
}

std::optional<ChosenMailboxes> ChooseFromJournal(const Config& config,
                                                 const std::vector<std::string>& typed,
                                                 bool read_only, bool json, Console console) {
  auto exists = JournalExists(config);
  if (!exists.ok() || !*exists) {
    PrintError(exists.ok() ? fmt::format("no journal at {} (nothing has run yet)", config.journal)
                           : exists.status().message(),
               json, console);
    return std::nullopt;
  }
  // Writable only to record requests (complete, suspend, resume) or forget: not a run.
  auto journal = OpenJournal(config, read_only ? JournalMode::kReadOnly : JournalMode::kRequests);
  auto all =
      journal.ok() ? (*journal)->All() : Result<std::vector<JournalMailbox>>(journal.status());
  if (!all.ok()) {
    PrintError(all.status().message(), json, console);
    return std::nullopt;
  }
  // Identities are matched against the snapshots too (addresses, aliases); a mailbox not yet
  // snapshotted by its users-file value, DN or canonical name.
  JournalIdentities known = IdentitiesOf(*all);
  if (!typed.empty() && !SelectJournaled(typed, known.identities, config.profile).ok())
    ReadUnsnapshottedSources(config, known);
  auto chosen = ChooseMailboxes(typed, known.identities, config, json, console);
  if (!chosen) return std::nullopt;
  return ChosenMailboxes{std::move(*journal), std::move(*all), std::move(*chosen)};
}

}  // namespace cm
