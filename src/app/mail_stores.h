// Every database's mail store, opened from the config: a mailbox's location is the database's
// template expanded for it, and an imap: store logs in with the database's settings. Secrets are
// loaded once, when a command starts, so a `prompt` asks once and a bad credential file is a
// parameter problem before anything is written.
#pragma once

#include <memory>
#include <ostream>
#include <string>

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

 private:
  const DatabaseConfig* SourceDatabase(const Entry& source) const;
  MailStoreOptions OptionsFor(const DatabaseConfig& db, bool read_only) const;

  const Config* config_ = nullptr;
  std::map<const DatabaseConfig*, std::shared_ptr<const ImapAccess>> imap_;
  MailStoreOptions target_names_;
};

}  // namespace cm
