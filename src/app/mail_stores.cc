#include "app/mail_stores.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <future>
#include <optional>
#include <thread>

#include "core/recipient.h"
#include "core/strings.h"
#include "input/credential.h"
#include "mailstore/imap_client.h"
#include "mailstore/imap_store.h"

namespace cm {

namespace {

bool IsImap(std::string_view store) {
  return IStartsWith(store, "imap://") || IStartsWith(store, "imaps://");
}

}  // namespace

MailStores MailStores::Load(const Config& config, Problems& problems, std::ostream& warnings) {
  MailStores stores;
  stores.config_ = &config;
  for (auto [side, list] :
       {std::pair<std::string, const std::vector<DatabaseConfig>*>{"target", &config.databases},
        {"source", &config.source_databases}}) {
    for (const DatabaseConfig& db : *list) {
      std::string key = fmt::format("{}.databases.{}.", side, db.name);
      if (!IsImap(db.store)) {
        // It would pace nothing: said, not ignored (a Maildir is read and written at disk speed).
        if (db.imap.max_bytes_per_second > 0 && !db.store.empty()) {
          problems.push_back(config.ProblemWith(
              key + "max-bytes-per-second",
              fmt::format("paces IMAP stores only, and this database's store is '{}'",
                          EscapeControlCharacters(db.store))));
        }
        continue;
      }
      const ImapSettings& s = db.imap;
      auto access = std::make_shared<ImapAccess>();
      access->admin = s.admin;
      access->dovecot_master_form = s.master_form == "dovecot";
      access->starttls = s.starttls;
      access->tls.verify = s.tls_verify;
      access->tls.ca_file = s.ca_file;
      access->compress = s.compress;
      access->timeout_seconds = s.timeout_seconds;
      access->pipeline_depth = s.pipeline_depth;
      access->max_connections = s.max_connections;
      access->batch_messages = static_cast<size_t>(s.batch_messages);
      access->batch_bytes = static_cast<size_t>(s.batch_megabytes) << 20;
      access->max_bytes_per_second = s.max_bytes_per_second;
      auto problem = [&](const std::string& field, const std::string& message) {
        // The loaders name the setting themselves; the problem names it once.
        std::string prefix = key + field + ": ";
        problems.push_back(config.ProblemWith(
            key + field, message.starts_with(prefix) ? message.substr(prefix.size()) : message));
      };
      size_t problems_before = problems.size();
      if (!s.admin.empty()) {
        if (s.credential.empty()) {
          problem("credential", fmt::format("admin '{}' needs a credential (file:PATH, env:NAME "
                                            "or prompt)",
                                            s.admin));
        } else {
          auto secret = LoadSecret(s.credential, key + "credential");
          if (secret.ok()) {
            access->admin_secret = secret->text;
          } else {
            problem("credential", secret.status().message());
          }
        }
      }
      if (!s.user_credentials.empty()) {
        auto table = LoadSecretTable(s.user_credentials, key + "user-credentials");
        if (table.ok()) {
          access->user_secrets = std::move(*table);
        } else {
          problem("user-credentials", table.status().message());
        }
      }
      if (s.admin.empty() && s.user_credentials.empty()) {
        problem("admin",
                "an IMAP store needs an admin (with credential) or user-credentials to log in");
      }
      if (!s.tls_verify) {
        warnings << fmt::format(
            "crossmove: warning: {}tls-verify = false: the certificates of {} are not checked\n",
            key, db.store);
      }
      if (problems.size() != problems_before) stores.unloaded_.insert(&db);
      stores.imap_[&db] = std::move(access);
    }
  }
  return stores;
}

MailStoreOptions MailStores::OptionsFor(const DatabaseConfig& db, bool read_only) const {
  MailStoreOptions o = target_names_;
  o.read_only = read_only;
  if (auto it = imap_.find(&db); it != imap_.end()) o.imap = it->second;
  return o;
}

const DatabaseConfig* MailStores::SourceDatabase(const Entry& source) const {
  return config_->SourceDatabaseFor(source.First(config_->profile.home_mdb));
}

Result<std::string> MailStores::SourceLocation(const Entry& source) const {
  const DatabaseConfig* db = SourceDatabase(source);
  if (!db || db->store.empty()) {
    return Status::InvalidInput(fmt::format(
        "no source mail store for database {} (add [source.databases.NAME] with dn and store)",
        source.First(config_->profile.home_mdb)));
  }
  Recipient r(source, config_->profile);
  return ExpandStoreLocation(db->store, r.primary_smtp(), r.alias());
}

Result<std::unique_ptr<MailStore>> MailStores::OpenSource(const Entry& source,
                                                          const std::string& location) const {
  const DatabaseConfig* db = SourceDatabase(source);
  if (!db) return Status::InvalidInput(fmt::format("no source database for {}", source.dn()));
  // The source store is only read (SPEC §5).
  return OpenMailStore(location, OptionsFor(*db, /*read_only=*/true));
}

Result<MailStores::TargetStore> MailStores::TargetOf(const MailboxPlan& plan) const {
  const DatabaseConfig* db = config_->TargetDatabaseFor(plan.target_database_dn);
  if (!db || db->store.empty()) {
    return Status::InvalidInput(
        fmt::format("no mail store configured for target database {}", plan.target_database_dn));
  }
  auto location = ExpandStoreLocation(db->store, plan.target_primary_smtp, plan.alias);
  if (!location.ok()) return location.status();
  return TargetStore{db, std::move(*location)};
}

Result<std::unique_ptr<MailStore>> MailStores::OpenTarget(const MailboxPlan& plan) const {
  auto target = TargetOf(plan);
  if (!target.ok()) return target.status();
  return OpenMailStore(target->location, OptionsFor(*target->db, /*read_only=*/false));
}

Status MailStores::CheckTargetAdmin(const MailboxPlan& plan) const {
  auto target = TargetOf(plan);
  if (!target.ok()) return target.status();
  const DatabaseConfig* db = target->db;
  const std::string* location = &target->location;
  auto it = imap_.find(db);
  if (it == imap_.end()) {
    auto store = OpenMailStore(*location, OptionsFor(*db, /*read_only=*/false));
    return store.ok() ? (*store)->CheckServer() : store.status();
  }
  auto endpoint = ParseImapUrl(*location);
  if (!endpoint.ok()) return endpoint.status();
  const ImapAccess& access = *it->second;
  if (access.admin.empty()) return CheckImapConnection(*endpoint, access, /*log_in=*/false);
  // The admin logs in as itself: what its credential is worth is known without a mailbox.
  ImapAccess as_itself = access;
  as_itself.admin.clear();
  as_itself.user_secrets = {{access.admin, access.admin_secret}};
  endpoint->user = access.admin;
  endpoint->auth.clear();
  return CheckImapConnection(*endpoint, as_itself, /*log_in=*/true)
      .Annotate(fmt::format("admin '{}' cannot log in to {}", access.admin, ImapUrl(*endpoint)));
}

bool CheckMailStores(const Config& config, const MailStores& stores, const std::string& users_path,
                     const Batch& batch, Problems& problems) {
  const auto& boxes = batch.mailboxes;
  std::vector<std::optional<Problem>> found(boxes.size());
  std::vector<bool> down(boxes.size(), false);
  std::atomic<size_t> next{0};
  auto check = [&] {
    for (size_t i = next++; i < boxes.size(); i = next++) {
      const PlannedMailbox& m = boxes[i];
      const DatabaseConfig* db = config.SourceDatabaseFor(m.source.First(config.profile.home_mdb));
      if (db && !stores.CredentialsLoaded(*db)) continue;  // its credential is the problem
      auto location = stores.SourceLocation(m.source);
      auto store = location.ok() ? stores.OpenSource(m.source, *location)
                                 : Result<std::unique_ptr<MailStore>>(location.status());
      Status access = store.ok() ? (*store)->CheckAccess() : store.status();
      if (access.ok()) continue;
      down[i] = access.code() == Status::Code::kUnavailable;
      found[i] = Problem{users_path, m.row.line, location.ok() ? "source mailbox" : "homeMDB",
                         fmt::format("{}: {}", m.source.dn(), access.message())};
    }
  };
  // The target servers (one admin login each) are checked while the source mailboxes are: the
  // two are independent, and each check waits mostly on a server's login.
  std::vector<std::optional<Status>> target_checks(boxes.size());
  std::vector<size_t> admin_checks;  // a mailbox per target server, to log in as its admin
  std::set<std::string> servers_checked;
  for (size_t i = 0; i < boxes.size(); ++i) {
    const PlannedMailbox& m = boxes[i];
    const DatabaseConfig* tdb = config.TargetDatabaseFor(m.plan.target_database_dn);
    if (tdb && !stores.CredentialsLoaded(*tdb)) continue;
    auto target = stores.OpenTarget(m.plan);
    if (!target.ok()) {
      target_checks[i] = target.status();
    } else if (servers_checked.insert((*target)->server()).second) {
      admin_checks.push_back(i);
    }
  }
  auto admins = std::async(std::launch::async, [&] {
    for (size_t i : admin_checks) target_checks[i] = stores.CheckTargetAdmin(boxes[i].plan);
  });
  size_t threads =
      std::min<size_t>(static_cast<size_t>(std::max(1, config.parallel)), boxes.size());
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(check);
  check();
  for (auto& t : pool) t.join();
  admins.get();
  bool unreachable = false;
  for (size_t i = 0; i < boxes.size(); ++i) {
    const PlannedMailbox& m = boxes[i];
    if (found[i]) problems.push_back(*found[i]);
    unreachable |= down[i];
    if (!target_checks[i] || target_checks[i]->ok()) continue;
    const Status& reachable = *target_checks[i];
    const DatabaseConfig* tdb = config.TargetDatabaseFor(m.plan.target_database_dn);
    unreachable |= reachable.code() == Status::Code::kUnavailable;
    problems.push_back({users_path, m.row.line,
                        tdb && !tdb->store.empty() ? "target.databases." + tdb->name + ".store"
                                                   : std::string("target-database"),
                        reachable.message()});
  }
  return unreachable;
}

}  // namespace cm
