// Run parameters (SPEC §2), layered: built-in defaults < TOML config file < environment
// (CROSSMOVE_*) < command-line flags. CLI11 would apply its config file before the environment,
// which is the wrong order for us, so the layering is done here on a flat key table and every
// value remembers where it came from for error messages ("crossmove.toml:7: cleanup: ...").
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/problem.h"
#include "core/recipient.h"
#include "core/status.h"
#include "directory/directory.h"

namespace cm {

struct Setting {
  std::string value;  // lists are comma-separated
  std::string
      origin;  // "crossmove.toml:7", "environment CROSSMOVE_CLEANUP", "--cleanup", "default"
};

// Keys a user can set everywhere (file, environment, flag). Database and profile tables are
// file-only: they are structured.
struct KeyInfo {
  std::string_view key;  // "source.gc"
  std::string_view help;
};
const std::vector<KeyInfo>& KnownKeys();
// CROSSMOVE_SOURCE_GC for source.gc; --source-gc for the flag.
std::string EnvNameOf(std::string_view key);
std::string FlagNameOf(std::string_view key);

class Settings {
 public:
  // Reads a TOML file; unknown keys are problems (a typo must not be silently ignored).
  Status LoadToml(const std::string& path, Problems& problems);
  Status LoadTomlText(std::string_view text, const std::string& name, Problems& problems);
  // Reads CROSSMOVE_* variables for the known keys from `env` (normally environ).
  void LoadEnvironment(char** env);
  // The CROSSMOVE_* variables of `env` that are no setting (CROSSMOVE_CLEANUP_OPTIONS): one that
  // looks like a setting is a problem naming the setting it resembles; any other is a warning.
  // Call after every setting is in, so that a variable an `env:NAME` credential names counts.
  void CheckEnvironmentNames(char** env, Problems& problems,
                             std::vector<std::string>& warnings) const;
  void Set(std::string_view key, std::string value, std::string origin);
  const Setting* Get(std::string_view key) const;
  // Keys under a prefix ("target.databases."), for structured tables.
  std::vector<std::pair<std::string, Setting>> WithPrefix(std::string_view prefix) const;

 private:
  std::map<std::string, Setting> values_;
};

struct OrgConfig {
  std::string gc;                    // reads
  std::string dc;                    // writes (defaults to gc)
  std::string base;                  // search base ("" = the directory's naming context)
  std::string bind;                  // bind identity (not a secret)
  std::string credential;            // file:PATH | env:VAR | prompt
  std::vector<std::string> domains;  // accepted domains
  std::string org_name;              // /o= of legacyExchangeDNs
  DirectoryConnection connection;    // TLS, SASL, timeouts, paging (LDAP only)
};

// How to log into a database's imap: stores. Secrets are named by reference only (SPEC §2).
struct ImapSettings {
  std::string admin;                    // admin (master) user; "" = users log in themselves
  std::string credential;               // the admin's secret: file:PATH | env:NAME | prompt
  std::string master_form = "authzid";  // "authzid" (SASL PLAIN) or "dovecot" ("user*admin")
  std::string user_credentials;         // file:PATH of "user:password" lines, mode 0600
  bool starttls = false;
  bool tls_verify = true;
  std::string ca_file;
  bool compress = true;
  int timeout_seconds = 60;
  int pipeline_depth = 8;
  int max_connections = 16;
  int batch_messages = 100;
  int batch_megabytes = 4;
  uint64_t max_bytes_per_second = 0;  // 0 = unpaced
};

struct DatabaseConfig {
  std::string name;
  std::string dn;      // homeMDB value
  std::string server;  // msExchHomeServerName, optional
  std::string store;   // mail store location (used by `run`)
  ImapSettings imap;   // for imap:// and imaps:// stores
};

struct Config {
  OrgConfig source, target;
  std::string users_file;
  std::string cleanup = "None";
  std::string target_database;
  std::string nt_account_ou;
  std::string contacts_ou;
  std::string target_smtp_domain;
  std::string address_template = "%m";
  std::string report;
  bool allow_merge = false;
  bool keep_source_primary = false;
  int parallel = 4;
  int sweep_delay_seconds = 0;  // cleanup -> sweep, for mail already queued for the old mailbox
  int bad_item_limit = 0;
  // A delta pass that would remove more than this percentage of a mailbox's copies stops it
  // (issue 13): `complete --approve-deletions` lets it go ahead.
  int max_deletions = 20;
  // Mailboxes being moved at once, over every worker of a shared journal (issue 14; Exchange's
  // MaxActiveMovesPer*): per source / target database and mail server. 0: no cap.
  int max_moves_per_source_database = 20, max_moves_per_target_database = 20;
  int max_moves_per_source_server = 100, max_moves_per_target_server = 100;
  char csv_delimiter = '\0';              // '\0': detected from the header (input/users_file.h)
  std::vector<DatabaseConfig> databases;  // target databases and their mail stores
  std::vector<DatabaseConfig> source_databases;  // source databases (homeMDB -> mail store)
  std::string journal = "crossmove.journal";
  int64_t worker_lease_seconds = 60;  // PostgreSQL journal: a claim not renewed for this long ends
  std::string journal_credential;  // a PostgreSQL journal's password: file:PATH | env:NAME | prompt
  std::string event_log;           // default: <journal>.events.jsonl
  std::string verify = "content";  // content | full | sizes (copy_engine.h VerifyMode)
  // Staged moves (issue 13; a users-file row's StartAfter / CompleteAfter win): seconds since
  // the epoch. Without any of them a run completes every mailbox at once, as a one-shot move.
  std::optional<int64_t> start_after, complete_after;
  bool suspend_when_ready = false;
  int64_t incremental_sync_interval_seconds = 24 * 3600;  // Exchange's default
  AttributeProfile profile;
  std::map<std::string, std::string> origin;  // key -> where its value came from

  // What the journal's companion files (report, event log, run lock of a file journal) are
  // named after: the journal file's path, or "crossmove" (in the current folder) beside a
  // PostgreSQL journal.
  std::string JournalStem() const;
  const DatabaseConfig* FindDatabase(std::string_view name) const;
  // The source database whose dn is `home_mdb`, or the only one configured.
  const DatabaseConfig* SourceDatabaseFor(std::string_view home_mdb) const;
  const DatabaseConfig* TargetDatabaseFor(std::string_view home_mdb) const;
  std::string OriginOf(std::string_view key) const;
  // A problem with a setting, placed where its value came from ("crossmove.toml", line 7).
  Problem ProblemWith(std::string_view key, std::string message) const;
};

// Builds the typed config; every malformed value is a problem naming its origin.
Config BuildConfig(const Settings& settings, Problems& problems);

}  // namespace cm
