// How the commands reach the journal: its folder made, its run lock taken, an existing one
// opened with every snapshotted mailbox, and the typed identities matched against its mailboxes
// (docs/DECISIONS.md, "Identities typed at status, verify, rollback and forget").
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "app/commands.h"
#include "app/identity_resolver.h"
#include "app/preflight.h"
#include "input/config.h"
#include "input/journal_location.h"
#include "journal/journal.h"
#include "journal/run_lock.h"
#include "journal/serialize.h"

namespace cm {

bool FileExists(const std::string& path);

// The journal the config names (journal, journal-credential), its password loaded once per
// process (a prompt asks once, however often the journal is opened).
Result<JournalLocation> JournalOf(const Config& config);
// Whether the journal is there: its file, or its tables in the PostgreSQL database. A database
// that cannot be reached is an error, not "no journal".
Result<bool> JournalExists(const Config& config);
// Whether a journal is there; prints why not ("no journal at ... (nothing has run yet)", or
// why it cannot be reached) otherwise.
bool RequireJournal(const Config& config, bool json, Console console);
// The description of the run holding the journal's run lock now, "" when none.
std::string JournalHolder(const Config& config);
// Opens the config's journal as a run, for requests, or read-only (journal/journal.h).
enum class JournalMode { kRun, kRequests, kReadOnly };
Result<std::unique_ptr<Journal>> OpenJournal(const Config& config, JournalMode mode);

// A journal named in a folder that does not exist yet gets the folder, private (0700) as the
// journal is: it will hold every directory value.
Status MakeJournalFolder(const std::string& journal);

// The journal's run lock (journal/run_lock.h), taken by `run`, `rollback` and `forget` before
// they read anything, so a run that waited plans from what the one before it left. On refusal,
// prints the holder and sets `exit_code`: kExitBusy when another run holds it (nothing was
// done). `wait`: wait for the holder instead of refusing.
// `shared`: a run's lock, which on a PostgreSQL journal the runs (workers) of many hosts hold at
// once; rollback and forget hold it alone (on a journal file every lock is exclusive).
std::optional<RunLock> LockJournal(const Config& config, bool wait, Console console, int& exit_code,
                                   bool json = false, bool shared = false);

// The journal of earlier runs with every snapshotted mailbox, for status / verify / rollback.
struct OpenedJournal {
  std::unique_ptr<Journal> journal;
  std::vector<JournaledMove> mailboxes;
};
// Prints why not (`why` is appended to "no journal at PATH") and returns nullopt when there is
// none to read.
std::optional<OpenedJournal> OpenExistingJournal(const Config& config, Console console,
                                                 std::string_view why, bool read_only,
                                                 bool json = false);

// The journaled mailboxes the typed identities name, as indices into `mailboxes` (every one
// when none is typed). Prints each identity that names none or several and returns nullopt.
std::optional<std::vector<size_t>> ChooseMailboxes(const std::vector<std::string>& typed,
                                                   const std::vector<JournaledIdentity>& mailboxes,
                                                   const Config& config, bool json,
                                                   Console console);

// The snapshotted mailboxes as identities can name them.
std::vector<JournaledIdentity> IdentitiesOf(const std::vector<JournaledMove>& loaded);

// Every mailbox of a journal as an identity can name it: by its snapshot where it has one, else
// (not snapshotted yet) by its users-file value, DN or canonical name.
struct JournalIdentities {
  std::vector<Snapshot> snapshots;  // what `identities` points into
  std::vector<JournaledIdentity> identities;
};
JournalIdentities IdentitiesOf(const std::vector<JournalMailbox>& all);
// A mailbox queued for later (StartAfter) has no snapshot yet: its source object is read from
// the directory (read-only), for identities to name it by its addresses and aliases too. Called
// only when what was typed matched nothing without it (a `prompt` credential is asked for only
// when it is needed); a directory that cannot be opened leaves `known` as it is.
void ReadUnsnapshottedSources(const Config& config, JournalIdentities& known);
// ChooseMailboxes over the snapshotted mailboxes (what `verify` and `rollback` work on); one
// named that is not snapshotted yet is said to be so ("nothing to `what`"), not "matches no
// mailbox".
std::optional<std::vector<size_t>> ChooseSnapshotted(OpenedJournal& opened,
                                                     const std::vector<std::string>& typed,
                                                     std::string_view what, const Config& config,
                                                     bool json, Console console);

// The journal's mailboxes (every one, with or without a snapshot) and those the typed
// identities name (every one when none is typed), for `status`, `forget`, `complete`,
// `suspend` and `resume`. Prints why not ("no journal at ... (nothing has run yet)", an
// identity that names none or several) and returns nullopt.
struct ChosenMailboxes {
  std::unique_ptr<Journal> journal;
  std::vector<JournalMailbox> all;
  std::vector<size_t> chosen;  // indices into `all`
};
std::optional<ChosenMailboxes> ChooseFromJournal(const Config& config,
                                                 const std::vector<std::string>& typed,
                                                 bool read_only, bool json, Console console);

}  // namespace cm
