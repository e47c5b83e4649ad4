#include "input/config.h"

#include <fmt/format.h>

#include <toml++/toml.h>
#include <algorithm>
#include <charconv>
#include <map>
#include <set>

#include "core/dn.h"
#include "core/strings.h"
#include "core/timestamp.h"
#include "input/journal_location.h"

namespace cm {

const std::vector<KeyInfo>& KnownKeys() {
  static const std::vector<KeyInfo> kKeys = {
      {"users-file", "CSV of mailboxes to move (-UsersFile)"},
      {"cleanup",
       "source cleanup: None, DeleteSourceMailbox, DeleteSourceNTAccount, CreateSourceContact, "
       "MailEnableSourceAccount"},
      {"target-database", "name of a configured target mail store (-TargetDatabase)"},
      {"nt-account-ou", "target OU for new accounts (-NTAccountOU)"},
      {"contacts-ou", "source OU for contacts (-ContactsOU)"},
      {"target-smtp-domain", "domain of computed target addresses (-TargetSMTPDomain)"},
      {"address-template", "target primary address template (%m alias, %g, %s, %d, %1g ...)"},
      {"allow-merge", "reuse a matching target mail user (-AllowMerge)"},
      {"keep-source-primary", "the forwarding object keeps the old primary SMTP address"},
      {"parallel", "mailboxes moved at once (-MaxThreads)"},
      {"sweep-delay",
       "seconds between a mailbox's cleanup and its sweep, for mail an MTA already queued for "
       "the old mailbox (default 0)"},
      {"bad-item-limit", "messages the target may refuse before a move fails (-BadItemLimit)"},
      {"max-deletions",
       "percent of a mailbox's copies a delta pass may remove (expunged, deleted folders) "
       "before it stops and asks (complete --approve-deletions; default 20)"},
      {"report", "per-run report, written as REPORT.csv and REPORT.html (-ReportFile)"},
      {"max-moves-per-source-database",
       "mailboxes moved at once out of one source database, over every worker "
       "(MaxActiveMovesPerSourceMDB; default 20, 0: no cap)"},
      {"max-moves-per-target-database",
       "mailboxes moved at once into one target database, over every worker "
       "(MaxActiveMovesPerTargetMDB; default 20, 0: no cap)"},
      {"max-moves-per-source-server",
       "mailboxes moved at once out of one source mail server, over every worker "
       "(MaxActiveMovesPerSourceServer; default 100, 0: no cap)"},
      {"max-moves-per-target-server",
       "mailboxes moved at once into one target mail server, over every worker "
       "(MaxActiveMovesPerTargetServer; default 100, 0: no cap)"},
      {"journal",
       "the journal database (resumable state of every mailbox): PATH, sqlite:PATH or "
       "postgresql://USER@HOST:PORT/DB"},
      {"worker-lease",
       "PostgreSQL journal: how long a worker holds a mailbox without renewing its claim before "
       "another worker takes it over (default 1m; renewed every third of it)"},
      {"journal-credential",
       "PostgreSQL journal password: file:PATH (mode 0600), env:VAR or prompt (default: "
       "~/.pgpass)"},
      {"event-log", "JSON-lines log of every change (default: JOURNAL.events.jsonl)"},
      {"verify",
       "content verification: content (default: every target message read back, SHA-256 "
       "against the bytes as copied), full (+ every source message read again) or sizes "
       "(listings only: sizes, flags, dates; an opt-out)"},
      {"csv-delimiter",
       "users file delimiter (default: ';' if the header has ';' and no ',', else ',')"},
      {"start-after",
       "staged moves: no mailbox starts syncing before this ISO 8601 time (-StartAfter)"},
      {"complete-after",
       "staged moves: mailboxes sync, and complete at the first run after this ISO 8601 time "
       "(-CompleteAfter)"},
      {"suspend-when-ready",
       "staged moves: sync, then wait for `crossmove complete` (-SuspendWhenReadyToComplete)"},
      {"incremental-sync-interval",
       "staged moves: a synced mailbox is synced again this often (default 24h; "
       "-IncrementalSyncInterval)"},
      {"source.gc", "source directory URL for reads (-SourceGlobalCatalog)"},
      {"source.dc", "source directory URL for writes (-SourceDomainController)"},
      {"source.base", "source search base (default: naming context)"},
      {"source.bind", "source bind identity"},
      {"source.credential", "source secret: file:PATH (mode 0600), env:VAR or prompt"},
      {"source.domains", "source accepted domains (comma-separated)"},
      {"source.sasl-mech", "source SASL mechanism (EXTERNAL, GSSAPI); empty: simple bind"},
      {"source.starttls", "source: StartTLS on an ldap:// URL (certificate verified)"},
      {"source.tls-verify",
       "source: verify the server certificate (default true; false is logged)"},
      {"source.ca-file", "source: PEM file of trusted CAs (default: the system store)"},
      {"source.timeout", "source directory: seconds to wait for a connection or an answer"},
      {"source.transactions",
       "source directory: RFC 5805 transactions where offered (default false)"},
      {"source.page-size", "source directory: entries per page of a paged search (RFC 2696)"},
      {"source.org-name", "source Exchange organization name"},
      {"target.gc", "target directory URL for reads (-GlobalCatalog)"},
      {"target.dc", "target directory URL for writes (-DomainController)"},
      {"target.base", "target search base (default: naming context)"},
      {"target.bind", "target bind identity"},
      {"target.credential", "target secret: file:PATH (mode 0600), env:VAR or prompt"},
      {"target.domains", "target accepted domains (comma-separated)"},
      {"target.sasl-mech", "target SASL mechanism (EXTERNAL, GSSAPI); empty: simple bind"},
      {"target.starttls", "target: StartTLS on an ldap:// URL (certificate verified)"},
      {"target.tls-verify",
       "target: verify the server certificate (default true; false is logged)"},
      {"target.ca-file", "target: PEM file of trusted CAs (default: the system store)"},
      {"target.timeout", "target directory: seconds to wait for a connection or an answer"},
      {"target.transactions",
       "target directory: RFC 5805 transactions where offered (default false)"},
      {"target.page-size", "target directory: entries per page of a paged search (RFC 2696)"},
      {"target.org-name", "target Exchange organization name (the /o= of legacyExchangeDN)"},
  };
  return kKeys;
}

std::string EnvNameOf(std::string_view key) {
  std::string out = "CROSSMOVE_";
  for (char c : key)
    out += (c == '.' || c == '-') ? '_' : static_cast<char>(toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string FlagNameOf(std::string_view key) {
  std::string out = "--";
  for (char c : key) out += c == '.' ? '-' : c;
  return out;
}

namespace {

bool IsKnownKey(std::string_view key) {
  for (const auto& k : KnownKeys()) {
    if (k.key == key) return true;
  }
  return key.starts_with("target.databases.") || key.starts_with("source.databases.") ||
         key.starts_with("profile.");
}

std::string ValueText(const toml::node& node, bool* ok) {
  *ok = true;
  if (auto s = node.value<std::string>()) return *s;
  if (node.is_boolean()) return *node.value<bool>() ? "true" : "false";
  if (node.is_integer()) return std::to_string(*node.value<int64_t>());
  if (const toml::array* arr = node.as_array()) {
    std::vector<std::string> parts;
    for (const auto& el : *arr) {
      auto s = el.value<std::string>();
      if (!s) {
        *ok = false;
        return "";
      }
      parts.push_back(*s);
    }
    return Join(parts, ",");
  }
  *ok = false;
  return "";
}

// Paths in a config file are relative to the file, as administrators expect of a config that
// sits beside its CSV and LDIF files.
std::string ResolvePath(const std::string& key, std::string value, const std::string& file) {
  size_t slash = file.rfind('/');
  if (slash == std::string::npos) return value;
  std::string dir = file.substr(0, slash + 1);
  auto relative = [](std::string_view p) { return !p.empty() && p.front() != '/'; };
  if (key == "journal" && IsPostgresJournal(value)) return value;  // a URL, not a path
  if (key == "journal" && IStartsWith(value, "sqlite:") &&
      relative(std::string_view(value).substr(7))) {
    return "sqlite:" + dir + value.substr(7);
  }
  if ((key == "users-file" || key == "report" || key == "journal" || key == "event-log" ||
       key.ends_with(".ca-file")) &&
      relative(value)) {
    return dir + value;
  }
  if (key.ends_with(".store") && IStartsWith(value, "maildir:") &&
      relative(std::string_view(value).substr(8))) {
    return "maildir:" + dir + value.substr(8);
  }
  for (std::string_view scheme : {"ldif:", "file:"}) {
    if (IStartsWith(value, scheme) && relative(std::string_view(value).substr(scheme.size()))) {
      return std::string(scheme) + dir + value.substr(scheme.size());
    }
  }
  return value;
}

// A name as an administrator may spell it: case, '-', '_' and a leading '-' do not count.
std::string LooseName(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (c != '-' && c != '_') out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

// The Exchange parameter names (SPEC §2) accepted for the settings they mean, in any spelling
// LooseName forgives ("SourceMailboxCleanupOptions", "source-mailbox-cleanup-options").
const std::map<std::string, std::string>& ExchangeNames() {
  static const std::map<std::string, std::string> kAliases = {
      {"sourcemailboxcleanupoptions", "cleanup"},
      {"maxactivemovespersourcemdb", "max-moves-per-source-database"},
      {"maxactivemovespertargetmdb", "max-moves-per-target-database"},
      {"maxactivemovespersourceserver", "max-moves-per-source-server"},
      {"maxactivemovespertargetserver", "max-moves-per-target-server"},
      {"ntaccountou", "nt-account-ou"},
      {"targetdatabase", "target-database"},
      {"contactsou", "contacts-ou"},
      {"targetsmtpdomain", "target-smtp-domain"},
      {"baditemlimit", "bad-item-limit"},
      {"maxthreads", "parallel"},
      {"usersfile", "users-file"},
      {"allowmerge", "allow-merge"},
      {"reportfile", "report"},
      {"sourceglobalcatalog", "source.gc"},
      {"sourcedomaincontroller", "source.dc"},
      {"globalcatalog", "target.gc"},
      {"domaincontroller", "target.dc"},
      {"sourceforestcredential", "source.credential"},
      {"targetforestcredential", "target.credential"},
      {"startafter", "start-after"},
      {"completeafter", "complete-after"},
      {"suspendwhenreadytocomplete", "suspend-when-ready"},
      {"incrementalsyncinterval", "incremental-sync-interval"},
  };
  return kAliases;
}

std::string SettingForExchangeName(std::string_view name) {
  auto it = ExchangeNames().find(LooseName(name));
  return it == ExchangeNames().end() ? "" : it->second;
}

// "unknown setting; did you mean cleanup?" when a known setting, or the Exchange name of one
// ("SourceMailboxCleanupOption" for SourceMailboxCleanupOptions), is a few edits away.
std::string UnknownSetting(std::string_view key) {
  std::vector<std::string> loose;
  for (const auto& k : KnownKeys()) loose.push_back(LooseName(k.key));
  for (const auto& [exchange, setting] : ExchangeNames()) loose.push_back(exchange);
  std::string nearest = NearestOf(LooseName(key), loose);
  if (nearest.empty()) return "unknown setting (crossmove --help lists every setting as a flag)";
  for (const auto& k : KnownKeys()) {
    if (LooseName(k.key) == nearest) return fmt::format("unknown setting; did you mean {}?", k.key);
  }
  return fmt::format("unknown setting; did you mean {} (Exchange's name for it is accepted too)?",
                     ExchangeNames().at(nearest));
}

void Flatten(const toml::table& table, const std::string& prefix, const std::string& file,
             std::map<std::string, Setting>& out, Problems& problems) {
  for (const auto& [k, node] : table) {
    std::string key = prefix + std::string(k.str());
    std::string origin = fmt::format("{}:{}", file, node.source().begin.line);
    if (const toml::table* sub = node.as_table()) {
      Flatten(*sub, key + ".", file, out, problems);
      continue;
    }
    if (!IsKnownKey(key)) {
      std::string setting = prefix.empty() ? SettingForExchangeName(key) : "";
      if (setting.empty()) {
        problems.push_back({file, node.source().begin.line, key, UnknownSetting(key)});
        continue;
      }
      key = setting;
    }
    bool ok;
    std::string text = ValueText(node, &ok);
    if (!ok) {
      problems.push_back({file, node.source().begin.line, key,
                          "expected a string, number, boolean or list of strings"});
      continue;
    }
    // A setting and its Exchange name in one file: toml cannot see the clash, and one of the two
    // (perhaps the cleanup option) would be dropped without a word.
    if (auto it = out.find(key); it != out.end() && it->second.origin.starts_with(file + ":")) {
      problems.push_back({file, node.source().begin.line, std::string(k.str()),
                          fmt::format("sets {} again (already set at {}): keep one of the two", key,
                                      it->second.origin)});
      continue;
    }
    out[key] = {ResolvePath(key, std::move(text), file), origin};
  }
}

}  // namespace

Status Settings::LoadTomlText(std::string_view text, const std::string& name, Problems& problems) {
  try {
    toml::table table = toml::parse(text, name);
    Flatten(table, "", name, values_, problems);
  } catch (const toml::parse_error& e) {
    return Status::InvalidInput(
        fmt::format("{}:{}: {}", name, e.source().begin.line, e.description()));
  }
  return Status::Ok();
}

Status Settings::LoadToml(const std::string& path, Problems& problems) {
  try {
    toml::table table = toml::parse_file(path);
    Flatten(table, "", path, values_, problems);
  } catch (const toml::parse_error& e) {
    if (e.source().begin.line == 0)
      return Status::InvalidInput(fmt::format("{}: {}", path, e.description()));
    return Status::InvalidInput(
        fmt::format("{}:{}: {}", path, e.source().begin.line, e.description()));
  }
  return Status::Ok();
}

void Settings::LoadEnvironment(char** env) {
  if (!env) return;
  for (const auto& k : KnownKeys()) {
    std::string name = EnvNameOf(k.key);
    for (char** e = env; *e; ++e) {
      std::string_view entry(*e);
      if (entry.size() > name.size() && entry.starts_with(name) && entry[name.size()] == '=') {
        Set(k.key, std::string(entry.substr(name.size() + 1)), "environment " + name);
      }
    }
  }
}

void Settings::CheckEnvironmentNames(char** env, Problems& problems,
                                     std::vector<std::string>& warnings) const {
  if (!env) return;
  // Variables crossmove reads that are no setting: the config file's name, and the tests' hooks
  // (journal/journal.cc) that stand for a crash, a pause, a stall or a Ctrl-C at a chosen point.
  static const std::vector<std::string> kOtherVariables = {"CROSSMOVE_CONFIG",
                                                           "CROSSMOVE_CRASH_AFTER_STEP",
                                                           "CROSSMOVE_CRASH_AFTER_MESSAGES",
                                                           "CROSSMOVE_INTERRUPT_AFTER_MESSAGES",
                                                           "CROSSMOVE_PAUSE_MS",
                                                           "CROSSMOVE_STALL_AT_COMMIT"};
  std::vector<std::string> setting_names;
  for (const auto& k : KnownKeys()) setting_names.push_back(EnvNameOf(k.key));
  // Compared without the shared prefix, which would make every name look near every other.
  const std::string_view prefix = "CROSSMOVE_";
  std::vector<std::string> suffixes;
  for (const auto& n : setting_names) suffixes.push_back(n.substr(prefix.size()));
  for (char** e = env; *e; ++e) {
    std::string_view entry(*e);
    std::string name(entry.substr(0, entry.find('=')));
    if (!name.starts_with(prefix)) continue;
    bool known =
        std::find(setting_names.begin(), setting_names.end(), name) != setting_names.end() ||
        std::find(kOtherVariables.begin(), kOtherVariables.end(), name) != kOtherVariables.end();
    // A secret may live in a variable of any name: `source.credential = "env:CROSSMOVE_PW"`.
    for (const auto& [key, setting] : values_) known |= IEquals(setting.value, "env:" + name);
    if (known) continue;
    std::string nearest = NearestOf(name.substr(prefix.size()), suffixes);
    if (nearest.empty()) {
      // Nothing like a setting: a wrapper script's own variable, perhaps. Refusing to run over it
      // would surprise; saying it is not read costs nothing.
      warnings.push_back(
          fmt::format("warning: environment variable {} is not a crossmove setting and is ignored "
                      "(crossmove(1) lists the CROSSMOVE_* variables)",
                      name));
      continue;
    }
    // A misspelt setting is an error, as an unknown key in the file is: run on, and the
    // administrator's CROSSMOVE_CLEANUP_OPTIONS=CreateSourceContact would silently become the
    // file's DeleteSourceMailbox, and every old address would bounce.
    problems.push_back(
        {"", 0, "environment " + name,
         fmt::format("not a crossmove setting; did you mean {}{}?", prefix, nearest)});
  }
}

void Settings::Set(std::string_view key, std::string value, std::string origin) {
  values_[std::string(key)] = {std::move(value), std::move(origin)};
}

const Setting* Settings::Get(std::string_view key) const {
  auto it = values_.find(std::string(key));
  return it == values_.end() ? nullptr : &it->second;
}

std::vector<std::pair<std::string, Setting>> Settings::WithPrefix(std::string_view prefix) const {
  std::vector<std::pair<std::string, Setting>> out;
  for (const auto& [k, v] : values_) {
    if (k.starts_with(prefix)) out.emplace_back(k, v);
  }
  return out;
}

std::string Config::JournalStem() const {
  if (IsPostgresJournal(journal)) return "crossmove";
  return IStartsWith(journal, "sqlite:") ? journal.substr(7) : journal;
}

const DatabaseConfig* Config::FindDatabase(std::string_view name) const {
  for (const auto& d : databases) {
    if (IEquals(d.name, name)) return &d;
  }
  return nullptr;
}

namespace {
const DatabaseConfig* ByDn(const std::vector<DatabaseConfig>& dbs, std::string_view home_mdb) {
  for (const auto& d : dbs) {
    if (!d.dn.empty() && DnEquals(d.dn, home_mdb)) return &d;
  }
  return dbs.size() == 1 ? &dbs.front() : nullptr;
}
}  // namespace

const DatabaseConfig* Config::SourceDatabaseFor(std::string_view home_mdb) const {
  return ByDn(source_databases, home_mdb);
}
const DatabaseConfig* Config::TargetDatabaseFor(std::string_view home_mdb) const {
  return ByDn(databases, home_mdb);
}

std::string Config::OriginOf(std::string_view key) const {
  auto it = origin.find(std::string(key));
  return it == origin.end() ? "default" : it->second;
}

namespace {

Problem ProblemAt(const Setting& s, std::string_view key, std::string message) {
  // Origins "file:line" become file + line; others are shown as they are, a default not at all.
  if (s.origin.empty() || s.origin == "default") return {"", 0, std::string(key), message};
  size_t colon = s.origin.rfind(':');
  unsigned long line = 0;
  if (colon != std::string::npos) {
    auto [p, ec] =
        std::from_chars(s.origin.data() + colon + 1, s.origin.data() + s.origin.size(), line);
    if (ec == std::errc() && p == s.origin.data() + s.origin.size()) {
      return {s.origin.substr(0, colon), line, std::string(key), std::move(message)};
    }
  }
  return {"", 0, std::string(key), fmt::format("{} (from {})", message, s.origin)};
}

}  // namespace

Problem Config::ProblemWith(std::string_view key, std::string message) const {
  return ProblemAt(Setting{"", OriginOf(key)}, key, std::move(message));
}

// `max-bytes-per-second`: a number of bytes, or of a unit: KB, MB, GB (powers of 1000) or KiB,
// MiB, GiB (of 1024), as `50MB`, `1.5 MB`, `8 MiB`; at least 1 KiB, at most 1 TiB per second.
Result<uint64_t> ParseByteRate(std::string_view text) {
  std::string_view t = Trim(text);
  double n = 0;
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), n, std::chars_format::fixed);
  std::string unit = AsciiLower(Trim(t.substr(static_cast<size_t>(p - t.data()))));
  static const std::map<std::string, uint64_t> kUnits = {{"", 1},
                                                         {"b", 1},
                                                         {"kb", 1000},
                                                         {"mb", 1000 * 1000},
                                                         {"gb", 1000000000},
                                                         {"kib", 1u << 10},
                                                         {"mib", 1u << 20},
                                                         {"gib", 1u << 30}};
  auto u = kUnits.find(unit);
  constexpr double kLeast = 1024, kMost = double(uint64_t{1} << 40);
  double bytes = n * static_cast<double>(u == kUnits.end() ? 0 : u->second);
  if (ec != std::errc() || u == kUnits.end() || !(bytes >= kLeast) || bytes > kMost)
    return Status::InvalidInput(fmt::format(
        "'{}' is not a rate from 1 KiB to 1 TiB per second (a number of bytes, or with KB, MB, "
        "GB, KiB, MiB or GiB)",
        text));
  return static_cast<uint64_t>(bytes);
}

Config BuildConfig(const Settings& settings, Problems& problems) {
  Config c;
  auto str = [&](std::string_view key, std::string& out) {
    if (const Setting* s = settings.Get(key)) {
      out = s->value;
      c.origin[std::string(key)] = s->origin;
    }
  };
  auto boolean = [&](std::string_view key, bool& out) {
    const Setting* s = settings.Get(key);
    if (!s) return;
    c.origin[std::string(key)] = s->origin;
    std::string v = AsciiLower(Trim(s->value));
    if (v == "true" || v == "1" || v == "yes") {
      out = true;
    } else if (v == "false" || v == "0" || v == "no") {
      out = false;
    } else {
      problems.push_back(ProblemAt(*s, key, fmt::format("'{}' is not true or false", s->value)));
    }
  };
  auto integer = [&](std::string_view key, int& out, int min, int max) {
    const Setting* s = settings.Get(key);
    if (!s) return;
    c.origin[std::string(key)] = s->origin;
    int v = 0;
    std::string_view t = Trim(s->value);
    auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    if (ec != std::errc() || p != t.data() + t.size() || v < min || v > max) {
      problems.push_back(ProblemAt(
          *s, key, fmt::format("'{}' is not a whole number from {} to {}", s->value, min, max)));
      return;
    }
    out = v;
  };
  auto list = [&](std::string_view key, std::vector<std::string>& out) {
    const Setting* s = settings.Get(key);
    if (!s) return;
    c.origin[std::string(key)] = s->origin;
    for (const auto& part : Split(s->value, ',')) {
      std::string_view t = Trim(part);
      if (!t.empty()) out.emplace_back(AsciiLower(t));
    }
  };
  for (auto [prefix, org] :
       {std::pair<std::string, OrgConfig*>{"source.", &c.source}, {"target.", &c.target}}) {
    str(prefix + "gc", org->gc);
    str(prefix + "dc", org->dc);
    str(prefix + "base", org->base);
    str(prefix + "bind", org->bind);
    str(prefix + "credential", org->credential);
    str(prefix + "org-name", org->org_name);
    list(prefix + "domains", org->domains);
    str(prefix + "sasl-mech", org->connection.sasl_mech);
    boolean(prefix + "starttls", org->connection.start_tls);
    boolean(prefix + "tls-verify", org->connection.tls_verify);
    str(prefix + "ca-file", org->connection.ca_file);
    integer(prefix + "timeout", org->connection.timeout_seconds, 1, 3600);
    integer(prefix + "page-size", org->connection.page_size, 1, 100000);
    boolean(prefix + "transactions", org->connection.transactions);
    if (org->dc.empty()) org->dc = org->gc;
  }
  str("users-file", c.users_file);
  str("cleanup", c.cleanup);
  str("target-database", c.target_database);
  str("nt-account-ou", c.nt_account_ou);
  str("contacts-ou", c.contacts_ou);
  str("target-smtp-domain", c.target_smtp_domain);
  str("address-template", c.address_template);
  str("report", c.report);
  str("journal", c.journal);
  str("event-log", c.event_log);
  str("journal-credential", c.journal_credential);
  if (auto where = ParseJournalLocation(c.journal); !where.ok()) {
    problems.push_back(ProblemAt(
        settings.Get("journal") ? *settings.Get("journal") : Setting{c.journal, "default"},
        "journal", where.status().message()));
  } else if (!c.journal_credential.empty() && !where->postgres()) {
    problems.push_back(ProblemAt(*settings.Get("journal-credential"), "journal-credential",
                                 "only a PostgreSQL journal takes a credential"));
  } else if (settings.Get("worker-lease") && !where->postgres()) {
    problems.push_back(ProblemAt(*settings.Get("worker-lease"), "worker-lease",
                                 "only a PostgreSQL journal has workers (and leases)"));
  }
  str("verify", c.verify);
  // "normal" was the name of the default before the default read the content back: a config
  // that says it gets today's default, never less checking than it asked for.
  if (c.verify == "normal") c.verify = "content";
  if (c.verify != "sizes" && c.verify != "content" && c.verify != "full") {
    problems.push_back(ProblemAt(*settings.Get("verify"), "verify",
                                 fmt::format("'{}' is not content, full or sizes", c.verify)));
  }
  if (c.event_log.empty()) c.event_log = c.JournalStem() + ".events.jsonl";
  boolean("allow-merge", c.allow_merge);
  boolean("keep-source-primary", c.keep_source_primary);
  integer("parallel", c.parallel, 1, 256);
  integer("sweep-delay", c.sweep_delay_seconds, 0, 86400);
  integer("bad-item-limit", c.bad_item_limit, 0, 1000000);
  integer("max-deletions", c.max_deletions, 0, 100);
  integer("max-moves-per-source-database", c.max_moves_per_source_database, 0, 100000);
  integer("max-moves-per-target-database", c.max_moves_per_target_database, 0, 100000);
  integer("max-moves-per-source-server", c.max_moves_per_source_server, 0, 100000);
  integer("max-moves-per-target-server", c.max_moves_per_target_server, 0, 100000);
  auto instant = [&](std::string_view key, std::optional<int64_t>& out) {
    const Setting* s = settings.Get(key);
    if (!s || Trim(s->value).empty()) return;
    c.origin[std::string(key)] = s->origin;
    auto parsed = ParseIsoTime(s->value);
    if (!parsed.ok()) {
      problems.push_back(ProblemAt(*s, key, parsed.status().message()));
      return;
    }
    out = *parsed;
  };
  instant("start-after", c.start_after);
  instant("complete-after", c.complete_after);
  boolean("suspend-when-ready", c.suspend_when_ready);
  if (const Setting* s = settings.Get("incremental-sync-interval")) {
    c.origin["incremental-sync-interval"] = s->origin;
    auto parsed = ParseInterval(s->value);
    if (!parsed.ok()) {
      problems.push_back(ProblemAt(*s, "incremental-sync-interval", parsed.status().message()));
    } else {
      c.incremental_sync_interval_seconds = *parsed;
    }
  }
  if (const Setting* s = settings.Get("worker-lease")) {
    c.origin["worker-lease"] = s->origin;
    auto parsed = ParseInterval(s->value);
    if (!parsed.ok()) {
      problems.push_back(ProblemAt(*s, "worker-lease", parsed.status().message()));
    } else if (*parsed < 3 || *parsed > 24 * 3600) {
      problems.push_back(ProblemAt(*s, "worker-lease",
                                   fmt::format("'{}': between 3 seconds and a day", s->value)));
    } else {
      c.worker_lease_seconds = *parsed;
    }
  }
  if (const Setting* s = settings.Get("csv-delimiter")) {
    c.origin["csv-delimiter"] = s->origin;
    if (s->value.size() != 1) {
      problems.push_back(ProblemAt(*s, "csv-delimiter", "must be a single character"));
    } else {
      c.csv_delimiter = s->value[0];
    }
  }
  // [source|target.databases.NAME]: where the database's mailboxes are and how to log in.
  static const std::set<std::string_view> kDatabaseFields = {"dn",
                                                             "server",
                                                             "store",
                                                             "admin",
                                                             "credential",
                                                             "master-form",
                                                             "user-credentials",
                                                             "starttls",
                                                             "tls-verify",
                                                             "ca-file",
                                                             "compress",
                                                             "timeout",
                                                             "pipeline-depth",
                                                             "max-connections",
                                                             "batch-messages",
                                                             "batch-megabytes",
                                                             "max-bytes-per-second"};
  for (auto [prefix, list] :
       {std::pair<std::string, std::vector<DatabaseConfig>*>{"target.databases.", &c.databases},
        {"source.databases.", &c.source_databases}}) {
    for (const auto& [key, s] : settings.WithPrefix(prefix)) {
      std::string rest = key.substr(prefix.size());
      size_t dot = rest.rfind('.');
      if (dot == std::string::npos) {
        problems.push_back(ProblemAt(
            s, key, fmt::format("a database is a table: [{}NAME] with dn = \"...\"", prefix)));
        continue;
      }
      std::string name = rest.substr(0, dot), field = rest.substr(dot + 1);
      if (!kDatabaseFields.count(field)) {
        problems.push_back(ProblemAt(
            s, key,
            "unknown database setting (dn, server, store; for IMAP stores admin, credential, "
            "master-form, user-credentials, starttls, tls-verify, ca-file, compress, timeout, "
            "pipeline-depth, max-connections, batch-messages, batch-megabytes, "
            "max-bytes-per-second)"));
        continue;
      }
      bool known = false;
      for (const auto& d : *list) known |= d.name == name;
      if (!known) list->push_back(DatabaseConfig{name, "", "", "", {}});
    }
    for (DatabaseConfig& db : *list) {
      std::string k = prefix + db.name + ".";
      str(k + "dn", db.dn);
      str(k + "server", db.server);
      str(k + "store", db.store);
      ImapSettings& imap = db.imap;
      str(k + "admin", imap.admin);
      str(k + "credential", imap.credential);
      str(k + "master-form", imap.master_form);
      if (imap.master_form != "authzid" && imap.master_form != "dovecot") {
        problems.push_back(ProblemAt(*settings.Get(k + "master-form"), k + "master-form",
                                     "expected \"authzid\" (SASL PLAIN authorization identity) "
                                     "or \"dovecot\" (user*admin)"));
      }
      str(k + "user-credentials", imap.user_credentials);
      boolean(k + "starttls", imap.starttls);
      boolean(k + "tls-verify", imap.tls_verify);
      str(k + "ca-file", imap.ca_file);
      boolean(k + "compress", imap.compress);
      integer(k + "timeout", imap.timeout_seconds, 1, 3600);
      integer(k + "pipeline-depth", imap.pipeline_depth, 1, 1024);
      integer(k + "max-connections", imap.max_connections, 1, 10000);
      integer(k + "batch-messages", imap.batch_messages, 1, 10000);
      integer(k + "batch-megabytes", imap.batch_megabytes, 1, 1024);
      if (const Setting* rate = settings.Get(k + "max-bytes-per-second")) {
        c.origin[k + "max-bytes-per-second"] = rate->origin;
        auto bytes = ParseByteRate(rate->value);
        if (bytes.ok()) {
          imap.max_bytes_per_second = *bytes;
        } else {
          problems.push_back(
              ProblemAt(*rate, k + "max-bytes-per-second", bytes.status().message()));
        }
      }
    }
  }
  // [profile] remaps attribute names: a key is a field of AttributeProfile.
  struct Remap {
    std::string_view key;
    std::string AttributeProfile::*field;
  };
  static const Remap kRemaps[] = {
      {"mail-nickname", &AttributeProfile::mail_nickname},
      {"proxy-addresses", &AttributeProfile::proxy_addresses},
      {"legacy-dn", &AttributeProfile::legacy_dn},
      {"target-address", &AttributeProfile::target_address},
      {"mailbox-guid", &AttributeProfile::mailbox_guid},
      {"home-mdb", &AttributeProfile::home_mdb},
      {"home-server", &AttributeProfile::home_server},
      {"type-details", &AttributeProfile::type_details},
      {"display-type", &AttributeProfile::display_type},
      {"sam-account-name", &AttributeProfile::sam_account_name},
      {"mail", &AttributeProfile::mail},
      {"display-name", &AttributeProfile::display_name},
  };
  for (const auto& [key, s] : settings.WithPrefix("profile.")) {
    std::string name = key.substr(8);
    bool found = false;
    for (const auto& r : kRemaps) {
      if (r.key == name) {
        c.profile.*(r.field) = s.value;
        found = true;
      }
    }
    if (!found) problems.push_back(ProblemAt(s, key, "unknown profile attribute"));
  }
  return c;
}

}  // namespace cm
