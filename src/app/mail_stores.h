// Every database's mail store, opened from the config: a mailbox's location is the database's
// template expanded for it, and an imap: store logs in with the database's settings. Secrets are
// loaded once, when a command starts, so a `prompt` asks once and a bad credential file is a
// parameter problem before anything is written.
#pragma once

#include <memory>
#include <ostream>
#include <set>
#include <string>

#include "app/validator.h"
#include "core/entry.h"
#include "core/planner.h"
#include "core/problem.h"
#include "input/config.h"
#include "mailstore/mail_store.h"

namespace cm {

class MailStores {
 public:
  // Problems name the database setting at fault; `warnings` hears of turned-off TLS checks.
  static MailStores Load(const Config& config, Problems& problems, std::ostream& warnings);

  // Where a source mailbox lives (from its homeMDB's database).
  Result<std::string> SourceLocation(const Entry& source) const;
  // The source store (read-only) at a location SourceLocation gave.
  Result<std::unique_ptr<MailStore>> OpenSource(const Entry& source,
                                                const std::string& location) const;
  // The target store of a planned mailbox (its target database).
  Result<std::unique_ptr<MailStore>> OpenTarget(const MailboxPlan& plan) const;
  // The target's special-use names where the target store marks none.
  const MailStoreOptions& target_names() const { return target_names_; }
  // False when the database's credentials could not be loaded (already a problem): nothing is
  // tried with it, so a bad credential file is one problem, not a login failure per mailbox.
  bool CredentialsLoaded(const DatabaseConfig& db) const { return !unloaded_.count(&db); }
  // The target server of a planned mailbox, and its admin's own login there (the mailbox's
  // user may not exist before its account is provisioned); OK when no admin is configured.
  Status CheckTargetAdmin(const MailboxPlan& plan) const;

 private:
  struct TargetStore {
    const DatabaseConfig* db;
    std::string location;  // the database's store template, expanded for the mailbox
  };
  Result<TargetStore> TargetOf(const MailboxPlan& plan) const;
  const DatabaseConfig* SourceDatabase(const Entry& source) const;
  MailStoreOptions OptionsFor(const DatabaseConfig& db, bool read_only) const;

  const Config* config_ = nullptr;
  std::map<const DatabaseConfig*, std::shared_ptr<const ImapAccess>> imap_;
  std::set<const DatabaseConfig*> unloaded_;
  MailStoreOptions target_names_;
};

// Every store the batch will read or write, before anything is written (SPEC §4), as `plan`
// and `run` both do: every source mailbox opened with the credentials given (`parallel` at
// once); every target server reached and its admin logged in, once per server (the target
// mailbox itself is created by the copy). A database without a configured store is a problem.
// Returns whether a server could not be reached (exit 3 rather than 2).
bool CheckMailStores(const Config& config, const MailStores& stores, const std::string& users_path,
                     const Batch& batch, Problems& problems);

}  // namespace cm
