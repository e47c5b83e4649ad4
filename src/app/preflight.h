// The one validation `plan` and `run` share (SPEC §4, issue 12): the users file, both
// directories, every new row resolved and planned, every store opened, and what the journal
// says of earlier runs. A `plan` that passes is therefore a `run` that starts, and a plan made
// after a run previews the resume: journaled mailboxes continue from their state and are not
// validated again (their source may already be a contact).
#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "app/mail_stores.h"
#include "app/organizations.h"
#include "app/validator.h"
#include "core/planner.h"
#include "core/problem.h"
#include "input/config.h"
#include "input/users_file.h"
#include "journal/journal.h"
#include "journal/serialize.h"

namespace cm {

// A mailbox an earlier run snapshotted: its journal row, snapshot and plan.
struct JournaledMove {
  JournalMailbox jm;
  Snapshot snapshot;
  MailboxPlan plan;
};

// Every snapshotted mailbox of a journal (those only registered have not started yet).
Result<std::vector<JournaledMove>> LoadJournaledMoves(Journal& journal);

// The journal's key of a users-file row.
std::string JournalIdentity(const std::string& column, const std::string& identity);

struct Preflight {
  Organizations orgs;
  UsersFile users;
  std::vector<JournaledMove> journaled;  // every snapshotted mailbox of the journal
  Batch batch;                           // the users file's rows the journal has not started
  MailStores stores;
  bool unreachable = false;  // a server could not be reached: exit 3 rather than 2
  // Rows of the users file the journal has, in file order (indexes into `journaled`).
  std::vector<size_t> resumed;
};

// Validates everything for a run over `config` and fills `out`; returns false with every
// problem in `problems` (or a reason in `fatal`, an unreachable directory or an unreadable
// journal). Opens the directories for writing only when `for_run`. Reads the journal, when
// there is one, without writing to it. With `journaled_only` (a pass over mailboxes the journal
// has, as `complete` makes), the rows it has not started are not planned: their problems are
// theirs, not a reason to hold up the others.
bool PrepareRun(const Config& config, bool for_run, std::ostream& warnings, Preflight& out,
                Problems& problems, std::optional<Status>& fatal, bool journaled_only = false);

}  // namespace cm
