// A generated organization (examples/generate_org.py) in a scratch directory, plus the checks
// an administrator would make on it afterwards, made without crossmove's own code: mail is
// compared by reading the Maildir files themselves.
#pragma once

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "cli/run_crossmove.h"
#include "core/dn.h"
#include "core/strings.h"
#include "directory/directory.h"
#include "directory/ldif_directory.h"
#include "directory/ldif_format.h"
#include "directory/schema.h"

namespace cm::testing {

// Which directories the organization lives in. One test source is compiled once per backend
// (CROSSMOVE_TEST_BACKEND), so every scenario runs on the embedded LDIF files, on two OpenLDAP
// servers and on two Samba AD domain controllers alike.
enum class Backend { kLdif, kOpenLdap, kSamba };
#ifndef CROSSMOVE_TEST_BACKEND
#define CROSSMOVE_TEST_BACKEND kLdif
#endif
inline constexpr Backend kBackend = Backend::CROSSMOVE_TEST_BACKEND;

// Where the mailboxes live: the generated Maildir trees themselves, or two Dovecot servers (the
// source one serving the generated trees, the target one empty), reached over IMAP.
enum class Stores { kMaildir, kImap };
#ifndef CROSSMOVE_TEST_STORES
#define CROSSMOVE_TEST_STORES kMaildir
#endif
inline constexpr Stores kStores = Stores::CROSSMOVE_TEST_STORES;

// A file of this repository (scripts, test helpers), by its path from the top.
inline std::string RepoFile(const std::string& path) {
  return std::string(CROSSMOVE_EXAMPLES) + "/../" + path;
}

// A TCP port nobody listens on now, for a server a test starts. Not the kernel's ephemeral
// choice: ctest runs tests side by side, and every client connection they make takes a port
// from the ephemeral range, so a port picked there can be taken again before the server binds
// it (a slapd that then cannot listen was the one red CI run of the crash test). Below the
// range only servers bind; a start that still loses a race is retried by the caller.
inline int FreePort() {
  static thread_local unsigned seed =
      static_cast<unsigned>(getpid()) * 2654435761u ^ static_cast<unsigned>(time(nullptr));
  for (int attempt = 0; attempt < 1000; ++attempt) {
    seed = seed * 1103515245u + 12345u;
    int port = 20000 + static_cast<int>((seed >> 8) % 12000);  // 20000-31999
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(port));
    bool free = bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    close(fd);
    if (free) return port;
  }
  return 0;
}

// Where scripts/samba-dc keeps this checkout's forests ("" when unset): scripts/test sets it, so
// two test suites on one machine each find their own.
inline std::string SambaRoot() {
  const char* root = getenv("CROSSMOVE_SAMBA_ROOT");
  return root ? root : "";
}

inline std::string LdapiUrl(const std::string& socket) {
  std::string out = "ldapi://";
  for (char c : socket) out += c == '/' ? std::string("%2F") : std::string(1, c);
  return out;
}

// Every object of a directory as LDIF, sorted by DN, without what the server generates: the
// text two runs are compared by.
inline std::string DirectoryText(cm::Directory& dir, const std::vector<std::string>& bases = {}) {
  std::vector<Entry> found;
  for (const auto& base : bases.empty() ? std::vector<std::string>{dir.base_dn()} : bases) {
    auto part = dir.Search(base, Scope::kSubtree, Filter::Present("objectClass"));
    if (!part.ok() && part.status().code() != Status::Code::kNotFound)
      return "error: " + part.status().ToString();
    if (part.ok()) found.insert(found.end(), part->begin(), part->end());
  }
  std::vector<std::pair<std::string, std::string>> sorted;
  for (auto& e : found) {
    std::vector<std::string> generated;
    for (const auto& [name, values] : e.attributes()) {
      // What the server maintains, and passwords (salted anew by every fixture load).
      if (IsActiveDirectoryManaged(name) || IEquals(name, "userPassword") ||
          IEquals(name, "showInAdvancedViewOnly") || IEquals(name, "systemFlags"))
        generated.push_back(name);
    }
    for (const auto& name : generated) e.Remove(name);
    sorted.push_back({NormalizeDn(e.dn()), FormatEntry(e)});
  }
  std::sort(sorted.begin(), sorted.end());
  std::string out;
  for (const auto& [dn, text] : sorted) out += text + "\n";
  return out;
}

// One LDIF record as the tests' own reader sees it: lower-cased attribute -> values ("dn" too).
using LdifRecord = std::map<std::string, std::vector<std::string>>;

// A deliberately small RFC 2849 reader, independent of crossmove's (directory/ldif_format): folded
// lines, `attr: value`, `attr:: base64`; records separated by blank lines; comments skipped.
inline std::vector<LdifRecord> ParseLdif(const std::string& text) {
  std::vector<std::string> lines;
  for (const auto& raw : Split(text, '\n')) {
    std::string line = !raw.empty() && raw.back() == '\r' ? raw.substr(0, raw.size() - 1) : raw;
    if (!line.empty() && line[0] == ' ' && !lines.empty() && !lines.back().empty()) {
      lines.back() += line.substr(1);
    } else {
      lines.push_back(line);
    }
  }
  std::vector<LdifRecord> records;
  LdifRecord current;
  auto flush = [&] {
    if (current.count("dn")) records.push_back(current);
    current.clear();
  };
  for (const auto& line : lines) {
    if (line.empty()) {
      flush();
      continue;
    }
    if (line[0] == '#') continue;
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string attr = AsciiLower(line.substr(0, colon));
    std::string value;
    if (colon + 1 < line.size() && line[colon + 1] == ':') {
      std::string b64 = line.substr(colon + 2);
      while (!b64.empty() && b64[0] == ' ') b64.erase(0, 1);
      std::string bytes(b64.size() / 4 * 3 + 3, '\0');
      int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(bytes.data()),
                              reinterpret_cast<const unsigned char*>(b64.data()),
                              static_cast<int>(b64.size()));
      if (n < 0) n = 0;
      size_t pad = 0;
      for (size_t i = b64.size(); i > 0 && b64[i - 1] == '='; --i) ++pad;
      value = bytes.substr(0, static_cast<size_t>(n) - std::min<size_t>(pad, n));
    } else {
      value = line.substr(colon + 1);
      while (!value.empty() && value[0] == ' ') value.erase(0, 1);
    }
    if (attr == "version" && !current.count("dn")) continue;
    current[attr].push_back(value);
  }
  flush();
  return records;
}

// A report's CSV as the tests read it (RFC 4180: quoted cells, "" inside them, CRLF), one map
// per row from the header's column names to the cells; independent of crossmove's writer.
using CsvRecord = std::map<std::string, std::string>;
inline std::vector<CsvRecord> ParseCsv(const std::string& csv) {
  auto cells = [](const std::string& line) {
    std::vector<std::string> v;
    std::string cur;
    bool quoted = false;
    for (size_t i = 0; i < line.size(); ++i) {
      char c = line[i];
      if (quoted && c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        cur += '"';
        ++i;
      } else if (c == '"') {
        quoted = !quoted;
      } else if (c == ',' && !quoted) {
        v.push_back(cur);
        cur.clear();
      } else if (c != '\r') {
        cur += c;
      }
    }
    v.push_back(cur);
    return v;
  };
  std::vector<CsvRecord> out;
  auto lines = Split(csv, '\n');
  if (lines.empty()) return out;
  auto header = cells(lines[0]);
  for (size_t i = 1; i < lines.size(); ++i) {
    if (lines[i].empty() || lines[i] == "\r") continue;
    auto row = cells(lines[i]);
    CsvRecord record;
    for (size_t k = 0; k < header.size() && k < row.size(); ++k) record[header[k]] = row[k];
    out.push_back(std::move(record));
  }
  return out;
}

inline RunResult RunProgram(const std::vector<std::string>& argv,
                            const std::filesystem::path& cwd) {
  return Spawn(argv, cwd, nullptr);
}

// Where the scenarios keep their journal (CROSSMOVE_TEST_JOURNAL): the embedded SQLite file, or
// a PostgreSQL database on a server of the test's own (issue 14, prefix pg_).
enum class JournalBackend { kSqlite, kPostgres };
#ifndef CROSSMOVE_TEST_JOURNAL
#define CROSSMOVE_TEST_JOURNAL kSqlite
#endif
inline constexpr JournalBackend kJournal = JournalBackend::CROSSMOVE_TEST_JOURNAL;

// A throw-away PostgreSQL server (scripts/pg-server) on a port of its own: the superuser
// "crossmove", password "secret" over TCP. Each journal gets a database of its own.
class PgServer {
 public:
  PgServer() {
    std::string root = std::filesystem::is_directory("/dev/shm") ? "/dev/shm" : "/tmp";
    std::string tmpl = root + "/crossmove-pg-XXXXXX";
    dir_ = mkdtemp(tmpl.data());
    RunResult r;
    for (int attempt = 0; attempt < 5; ++attempt) {
      port_ = FreePort();
      r = RunProgram({RepoFile("scripts/pg-server"), "start", dir_.string(), std::to_string(port_)},
                     dir_);
      if (r.exit_code == 0) break;
    }
    ok_ = r.exit_code == 0;
    if (!ok_) error_ = "pg-server start exited " + std::to_string(r.exit_code) + ": " + r.err;
  }
  PgServer(const PgServer&) = delete;
  PgServer& operator=(const PgServer&) = delete;
  ~PgServer() {
    RunProgram({RepoFile("scripts/pg-server"), "kill", dir_.string()}, dir_);
    std::filesystem::remove_all(dir_);
  }
  bool ok() const { return ok_; }
  const std::string& error() const { return error_; }
  int port() const { return port_; }
  // The URL of a database (without the password, as a config names it).
  std::string Url(const std::string& database = "crossmove") const {
    return fmt::format("postgresql://crossmove@127.0.0.1:{}/{}", port_, database);
  }
  static std::string Password() { return "secret"; }
  // psql -qAt over the server's socket (an administrator's own reader of the journal).
  RunResult Psql(const std::string& sql, const std::string& database = "crossmove") const {
    return RunProgram({RepoFile("scripts/pg-server"), "psql", dir_.string(), "-d", database, "-qAt",
                       "-v", "ON_ERROR_STOP=1", "-c", sql},
                      dir_);
  }
  // A new, empty database; its name.
  std::string NewDatabase() {
    std::lock_guard lock(mu_);
    std::string name = fmt::format("journal{}", ++databases_);
    auto r = Psql("CREATE DATABASE " + name);
    if (r.exit_code != 0) error_ += "CREATE DATABASE: " + r.err;
    return name;
  }

 private:
  std::filesystem::path dir_;
  int port_ = 0;
  bool ok_ = false;
  std::string error_;
  int databases_ = 0;
  std::mutex mu_;
};

inline std::string Sha256(const std::filesystem::path& p) {
  std::string data = Slurp(p);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  std::string hex;
  for (unsigned i = 0; i < len; ++i) hex += fmt::format("{:02x}", md[i]);
  return hex;
}

// Every message of a Maildir++ tree as "folder|sha256|mtime|FLAGS|keywords" -> count. Source
// special folders are named as the target names them (Sent Items -> Sent, Deleted Items -> Trash).
inline std::map<std::string, int> MailOf(const std::filesystem::path& root,
                                         bool as_target_names = false) {
  namespace fs = std::filesystem;
  std::map<std::string, int> out;
  if (!fs::exists(root)) return out;
  for (const auto& d : fs::recursive_directory_iterator(root)) {
    if (!d.is_directory()) continue;
    std::string leaf = d.path().filename().string();
    if (leaf != "cur" && leaf != "new") continue;
    fs::path folder_dir = d.path().parent_path();
    std::string folder = folder_dir == root ? "INBOX" : folder_dir.filename().string();
    if (as_target_names) {
      if (folder == ".Sent Items") folder = ".Sent";
      if (folder == ".Deleted Items") folder = ".Trash";
    }
    std::map<char, std::string> keywords;
    std::ifstream kw(folder_dir / "dovecot-keywords");
    for (std::string line; std::getline(kw, line);) {
      size_t sp = line.find(' ');
      if (sp != std::string::npos)
        keywords['a' + std::stoi(line.substr(0, sp))] = line.substr(sp + 1);
    }
    for (const auto& f : fs::directory_iterator(d.path())) {
      std::string name = f.path().filename().string();
      std::string info =
          name.find(":2,") == std::string::npos ? "" : name.substr(name.find(":2,") + 3);
      std::string flags;
      std::vector<std::string> names;  // letters differ between trees; names must not
      for (char c : info) {
        if (c >= 'A' && c <= 'Z') flags += c;
        if (c >= 'a' && c <= 'z') names.push_back(keywords[c]);
      }
      std::sort(names.begin(), names.end());
      std::string kws;
      for (const auto& n : names) kws += n + " ";
      struct stat st;
      stat(f.path().c_str(), &st);
      ++out[fmt::format("{}|{}|{}|{}|{}", folder, Sha256(f.path()), st.st_mtime, flags, kws)];
    }
  }
  return out;
}

// The entries only one side has, for a readable failure message.
inline std::string Difference(const std::map<std::string, int>& a,
                              const std::map<std::string, int>& b) {
  std::string out;
  int shown = 0;
  for (const auto& [k, n] : a) {
    auto it = b.find(k);
    if ((it == b.end() || it->second != n) && shown++ < 5)
      out += fmt::format("  only left x{}: {}\n", n, k);
  }
  for (const auto& [k, n] : b) {
    auto it = a.find(k);
    if ((it == a.end() || it->second != n) && shown++ < 10)
      out += fmt::format("  only right x{}: {}\n", n, k);
  }
  return out;
}

inline int Total(const std::map<std::string, int>& mail) {
  int n = 0;
  for (const auto& [k, v] : mail) n += v;
  return n;
}

class Org {
 public:
  Org(int mailboxes, int messages, const std::string& cleanup,
      const std::vector<std::string>& generator_options = {}) {
    // tmpfs when there is one: the tool fsyncs every directory write, which is right for real
    // directories and makes hundreds of test runs crawl on a disk.
    std::string root = std::filesystem::is_directory("/dev/shm") ? "/dev/shm" : "/tmp";
    std::string tmpl = root + "/crossmove-org-XXXXXX";
    dir_ = mkdtemp(tmpl.data());
    std::vector<std::string> argv = {"python3",
                                     std::string(CROSSMOVE_EXAMPLES) + "/generate_org.py",
                                     dir_.string(),
                                     "--mailboxes",
                                     std::to_string(mailboxes),
                                     "--messages",
                                     std::to_string(messages),
                                     "--cleanup",
                                     cleanup};
    argv.insert(argv.end(), generator_options.begin(), generator_options.end());
    auto r = RunProgram(argv, dir_);
    ok_ = r.exit_code == 0;
    error_ = r.err;
    if (ok_) Configure();
  }
  // A copy of another organization's files (cheaper than generating it again).
  explicit Org(const Org& other) {
    std::string tmpl = other.dir_.parent_path().string() + "/crossmove-org-XXXXXX";
    dir_ = mkdtemp(tmpl.data());
    // cp -a keeps mtimes, which in a Maildir are the INTERNALDATEs.
    auto r = RunProgram({"cp", "-a", other.dir_.string() + "/.", dir_.string()}, dir_);
    ok_ = r.exit_code == 0 && other.ok_;
    error_ = other.ok_ ? r.err : "the organization copied is not ok: " + other.error_;
    if (ok_) Configure();
  }
  Org& operator=(const Org&) = delete;
  ~Org() {
    if (kBackend == Backend::kOpenLdap) {
      for (const char* side : {"source", "target"})
        RunProgram({LdapServerScript(), "kill", (dir_ / "ldap" / side).string()}, dir_);
    }
    if (kStores == Stores::kImap) {
      for (const char* side : {"source", "target"})
        RunProgram({DovecotServerScript(), "kill", (dir_ / "dovecot" / side).string()}, dir_);
    }
    std::filesystem::remove_all(dir_);
  }
  bool ok() const { return ok_; }
  const std::string& error() const { return error_; }
  const std::filesystem::path& dir() const { return dir_; }
  // The PostgreSQL server of the journal (kJournal == kPostgres), else null.
  const PgServer* journal_server() const { return pg_; }
  const std::string& journal_database() const { return pg_database_; }
  // The event log's file: beside the journal file, or "crossmove.events.jsonl" in the folder the
  // runs start in when the journal is a PostgreSQL database.
  static std::string EventLogFile() {
    return kJournal == JournalBackend::kPostgres ? "crossmove.events.jsonl"
                                                 : "crossmove.journal.events.jsonl";
  }
  // A query on the journal, read without crossmove's code (Python's sqlite3, or psql): its rows,
  // one per line, columns joined by '|'.
  std::string JournalSql(const std::string& sql) const {
    RunResult r =
        pg_ ? pg_->Psql(sql, pg_database_)
            : RunProgram({"python3", "-c",
                          "import sqlite3,sys\nfor row in sqlite3.connect(sys.argv[1]).execute("
                          "sys.argv[2]): print('|'.join(str(c) for c in row))",
                          (dir_ / "crossmove.journal").string(), sql},
                         dir_);
    return r.exit_code == 0 ? r.out : "journal query failed: " + r.err;
  }
  // Whether any run wrote a journal: its file, or its tables in the database (read with psql;
  // the run lock's own table, run_holder, is not the journal).
  bool JournalWritten() const {
    if (!pg_) return std::filesystem::exists(dir_ / "crossmove.journal");
    auto r = pg_->Psql(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema='public' AND "
        "table_name<>'run_holder'",
        pg_database_);
    return r.exit_code != 0 || Trim(r.out) != "0";
  }
  RunResult Run(std::vector<std::string> args, std::vector<std::string> env = {}) const {
    return RunCrossmove(args, dir_, env);
  }
  // The organization's directory ("source" or "target"), read-only, opened as an administrator
  // would look at it: the LDIF file, or the server over LDAP.
  std::unique_ptr<cm::Directory> Directory(const std::string& side, bool writable = false) const {
    if (kBackend == Backend::kLdif) {
      auto d = LdifDirectory::Open((dir_ / (side + ".ldif")).string(), !writable);
      return d.ok() ? std::unique_ptr<cm::Directory>(std::move(*d)) : nullptr;
    }
    DirectoryOptions options;
    options.read_only = !writable;
    options.bind_identity = side == "source" ? source_bind_ : target_bind_;
    options.secret = secret_;
    auto d = OpenDirectory(side == "source" ? source_url_ : target_url_, options);
    return d.ok() ? std::move(*d) : nullptr;
  }
  // The whole directory as sorted LDIF (for "nothing changed" and "same end state" checks).
  // On a shared AD forest only the fixture's own subtrees are the test's.
  std::string DirectoryText(const std::string& side) const {
    auto d = Directory(side);
    if (!d) return "cannot open " + side;
    return testing::DirectoryText(
        *d, kBackend == Backend::kSamba ? FixtureTops(side) : std::vector<std::string>{});
  }
  // Set when the backend cannot run on this machine (Samba without a network namespace).
  const std::string& skip_reason() const { return skip_reason_; }
  std::string Read(const std::string& file) const { return Slurp(dir_ / file); }
  const std::string& url(const std::string& side) const {
    return side == "source" ? source_url_ : target_url_;
  }
  // Every message of the target organization's mailboxes (of one user: its local part), as
  // an administrator would read them: the Maildir files, or over IMAP from the target server.
  // "folder|sha256|date|flag letters|keywords" -> count, as MailOf.
  std::map<std::string, int> TargetMail(const std::string& user = "") const {
    namespace fs = std::filesystem;
    fs::path root = dir_ / "target-mail" / "contoso.test";
    if (kStores == Stores::kMaildir)
      return MailOf(user.empty() ? dir_ / "target-mail" : root / user);
    std::vector<std::string> argv = {"python3", RepoFile("tests/imap/mailbox_digest.py"),
                                     fmt::format("127.0.0.1:{}", imap_port_[1]),
                                     (dir_ / "imap.secret").string()};
    if (!user.empty()) {
      argv.push_back(user + "@contoso.test");
    } else if (fs::exists(root)) {
      for (const auto& d : fs::directory_iterator(root))
        argv.push_back(d.path().filename().string() + "@contoso.test");
    }
    std::map<std::string, int> out;
    if (argv.size() == 4) return out;
    auto r = RunProgram(argv, dir_);
    if (r.exit_code != 0) {
      out["error reading the target over IMAP: " + r.err] = 1;
      return out;
    }
    for (const auto& line : Split(r.out, '\n')) {
      if (!line.empty()) ++out[line];
    }
    return out;
  }
  // The objects of a side whose `attribute` equals `value`, read back as an administrator would
  // and without crossmove's code: the LDIF file through the tests' own reader (ParseLdif), or
  // the server through ldapsearch. Attribute names are lower-cased.
  std::vector<LdifRecord> ReadBack(const std::string& side, const std::string& attribute,
                                   const std::string& value) const {
    std::vector<LdifRecord> all;
    if (kBackend == Backend::kLdif) {
      all = ParseLdif(Slurp(dir_ / (side + ".ldif")));
    } else {
      Spit(dir_ / "readback.secret", secret_);  // -y takes the file whole, newline included
      std::string base = side == "source" ? "DC=fabrikam,DC=test" : "DC=contoso,DC=test";
      auto r = RunProgram(
          {"ldapsearch", "-x", "-H", url(side), "-D",
           side == "source" ? source_bind_ : target_bind_, "-y", "readback.secret", "-b", base,
           "-LLL", "-o", "ldif-wrap=no", fmt::format("({}={})", attribute, value), "*"},
          dir_);
      std::filesystem::remove(dir_ / "readback.secret");
      if (r.exit_code != 0) return {{{"error", {"ldapsearch: " + r.err}}}};
      all = ParseLdif(r.out);
    }
    std::vector<LdifRecord> out;
    for (auto& record : all) {
      for (const auto& v : record[AsciiLower(attribute)]) {
        if (IEquals(v, value)) {
          out.push_back(record);
          break;
        }
      }
    }
    return out;
  }
  // The IMAP port of the source or target Dovecot (kImap).
  int ImapPort(const std::string& side) const { return imap_port_[side == "source" ? 0 : 1]; }
  // Its LMTP port: where an MTA delivers into that side's mailboxes.
  int LmtpPort(const std::string& side) const { return lmtp_port_[side == "source" ? 0 : 1]; }
  // Starts a side's Dovecot again, same port, with scripts/dovecot-server options ("--sent",
  // "Sent Messages" ...); "" on success, else what went wrong.
  std::string RestartDovecot(const std::string& side,
                             const std::vector<std::string>& options = {}) const {
    std::vector<std::string> argv = {DovecotServerScript(),
                                     "start",
                                     (dir_ / "dovecot" / side).string(),
                                     std::to_string(ImapPort(side)),
                                     "--mail",
                                     (dir_ / (side + "-mail")).string(),
                                     "--lmtp",
                                     std::to_string(LmtpPort(side))};
    argv.insert(argv.end(), options.begin(), options.end());
    auto r = RunProgram(argv, dir_);
    return r.exit_code == 0 ? "" : r.err + r.out;
  }

  // Stops a side's Dovecot (RestartDovecot starts it again); "" on success.
  std::string StopDovecot(const std::string& side) const {
    auto r = RunProgram({DovecotServerScript(), "kill", (dir_ / "dovecot" / side).string()}, dir_);
    return r.exit_code == 0 ? "" : r.err + r.out;
  }

  // Replaces `from` in crossmove.toml (false when it is not there: a test must not miss it).
  bool EditConfig(const std::string& from, const std::string& to) const {
    std::string toml = Read("crossmove.toml");
    size_t at = toml.find(from);
    if (at == std::string::npos) return false;
    Spit(dir_ / "crossmove.toml", toml.replace(at, from.size(), to));
    return true;
  }

 private:
  static std::string ScriptDir() { return RepoFile("scripts"); }
  static std::string LdapServerScript() { return ScriptDir() + "/ldap-server"; }
  static std::string DovecotServerScript() { return ScriptDir() + "/dovecot-server"; }
  std::unique_ptr<LdifDirectory> Fixture(const std::string& side) const {
    auto f = LdifDirectory::Open((dir_ / (side + ".ldif")).string(), true);
    return f.ok() ? std::move(*f) : nullptr;
  }
  // The fixture's objects right below its naming context (OU=People ...).
  std::vector<std::string> FixtureTops(const std::string& side) const {
    std::vector<std::string> tops;
    auto f = Fixture(side);
    if (!f) return tops;
    auto found = f->Search(f->base_dn(), Scope::kOneLevel, Filter::Present("objectClass"));
    if (found.ok()) {
      for (const auto& e : *found) tops.push_back(e.dn());
    }
    return tops;
  }
  // Replaces the fixture's subtrees in a running Samba forest with the generated objects, in
  // the forms AD accepts: a container stands for the mailbox database (AD has no Exchange
  // classes), and accounts are disabled (AD refuses an enabled account without a password).
  void LoadIntoForest(const std::string& side) {
    auto fail = [&](const std::string& what) {
      ok_ = false;
      error_ += side + ": " + what + "\n";
    };
    auto fixture = Fixture(side);
    if (!fixture) return fail("cannot read the fixture");
    DirectoryOptions options;
    options.bind_identity = side == "source" ? source_bind_ : target_bind_;
    options.secret = secret_;
    auto server = OpenDirectory(side == "source" ? source_url_ : target_url_, options);
    if (!server.ok()) return fail(server.status().ToString());
    for (const auto& top : FixtureTops(side)) {
      auto old = (*server)->Search(top, Scope::kSubtree, Filter::Present("objectClass"), {"cn"});
      if (!old.ok()) continue;  // not there
      std::sort(old->begin(), old->end(), [](const Entry& a, const Entry& b) {
        return a.dn().size() > b.dn().size();  // children first
      });
      for (const auto& e : *old) {
        Status s = (*server)->Delete(e.dn());
        if (!s.ok()) return fail(s.ToString());
      }
    }
    auto all = fixture->Search(fixture->base_dn(), Scope::kSubtree, Filter::Present("objectClass"));
    if (!all.ok()) return fail(all.status().ToString());
    for (Entry e : *all) {
      if (DnEquals(e.dn(), fixture->base_dn())) continue;
      if (e.HasClass("msExchPrivateMDB")) e.Set("objectClass", {"top", "container"});
      if (e.First("userAccountControl") == "512") e.Set("userAccountControl", {"514"});
      Status s = (*server)->Add(e);
      if (!s.ok()) return fail(s.ToString());
    }
  }

  // Points crossmove.toml (made from the generated one, kept as crossmove.generated.toml) at
  // the backend's directories, loaded with the generated source.ldif and target.ldif (kept
  // untouched as the fixture), and at the mail stores.
  void Configure() {
    namespace fs = std::filesystem;
    if (!fs::exists(dir_ / "crossmove.generated.toml"))
      fs::copy_file(dir_ / "crossmove.toml", dir_ / "crossmove.generated.toml");
    std::string toml = Slurp(dir_ / "crossmove.generated.toml");
    auto replace = [&](const std::string& from, const std::string& to) {
      size_t at = toml.find(from);
      if (at == std::string::npos) {
        ok_ = false;
        error_ += "crossmove.toml has no " + from;
        return;
      }
      toml.replace(at, from.size(), to);
    };
    if (kJournal == JournalBackend::kPostgres) {
      // One server per test process, a database per organization (the crash test makes dozens).
      static PgServer server;
      pg_ = &server;
      pg_database_ = pg_->NewDatabase();
      if (!pg_->ok() || !pg_->error().empty()) {
        ok_ = false;
        error_ += pg_->error();
        return;
      }
      Spit(dir_ / "journal.secret", PgServer::Password() + "\n");
      fs::permissions(dir_ / "journal.secret", fs::perms::owner_read | fs::perms::owner_write);
      replace("journal = \"crossmove.journal\"",
              fmt::format("journal = \"{}\"\njournal-credential = \"file:journal.secret\"",
                          pg_->Url(pg_database_)));
    }
    if (kBackend != Backend::kLdif) {
      StartDirectories();
      if (!ok_) return;
      for (const char* side : {"source", "target"}) {
        replace(
            fmt::format("gc = \"ldif:{}.ldif\"", side),
            fmt::format("gc = \"{}\"\nbind = \"{}\"\ncredential = \"file:directory.secret\"",
                        url(side), side == std::string("source") ? source_bind_ : target_bind_));
      }
    }
    if (kStores == Stores::kImap) {
      Spit(dir_ / "imap.secret", "masterpass\n");
      fs::permissions(dir_ / "imap.secret", fs::perms::owner_read | fs::perms::owner_write);
      fs::remove_all(dir_ / "dovecot");
      fs::create_directories(dir_ / "target-mail");
      for (int i = 0; i < 2; ++i) {
        std::string side = i == 0 ? "source" : "target";
        auto r = StartOnFreePorts([&] {
          imap_port_[i] = FreePort();
          lmtp_port_[i] = FreePort();
          return RunProgram(
              {DovecotServerScript(), "start", (dir_ / "dovecot" / side).string(),
               std::to_string(imap_port_[i]), "--mail", (dir_ / (side + "-mail")).string(),
               "--lmtp", std::to_string(lmtp_port_[i])},
              dir_);
        });
        if (r.exit_code != 0) {
          ok_ = false;
          error_ += fmt::format("dovecot-server start ({}) exited {}: {}{}\n", side, r.exit_code,
                                r.out, r.err);
          return;
        }
        // Small MULTIAPPEND batches: a few dozen messages make several batches in flight.
        replace(fmt::format("store = \"maildir:{}-mail/%d/%n\"", side),
                fmt::format("store = \"imap://%u@127.0.0.1:{}/\"\nadmin = \"migrator\"\n"
                            "credential = \"file:imap.secret\"\nbatch-messages = 4",
                            imap_port_[i]));
      }
    }
    Spit(dir_ / "crossmove.toml", toml);
  }

  // Runs a server's start on freshly picked ports until it starts: another test may bind a
  // port between our check and the server's bind.
  template <typename Start>
  static RunResult StartOnFreePorts(Start start) {
    RunResult r = start();
    for (int retry = 0; retry < 4 && r.exit_code != 0; ++retry) r = start();
    return r;
  }

  // Starts the backend's directory servers (or finds the Samba forests).
  void StartDirectories() {
    namespace fs = std::filesystem;
    fs::remove_all(dir_ / "ldap");
    if (kBackend == Backend::kSamba) {
      if (SambaRoot().empty()) {
        ok_ = false;
        skip_reason_ = error_ =
            "CROSSMOVE_SAMBA_ROOT is not set: scripts/test sets it; by hand, scripts/samba-dc up "
            "and export CROSSMOVE_SAMBA_ROOT=$(scripts/samba-dc root)";
        return;
      }
      if (!fs::exists(SambaRoot() + "/up")) {
        ok_ = false;
        skip_reason_ = error_ =
            "the Samba AD test forests are not running: scripts/samba-dc up (it exits 77 where no "
            "network namespace can be created)";
        return;
      }
      secret_ = Slurp(SambaRoot() + "/admin.secret");
      while (!secret_.empty() && secret_.back() == '\n') secret_.pop_back();
      source_url_ = LdapiUrl(SambaRoot() + "/fabrikam/private/ldapi");
      target_url_ = LdapiUrl(SambaRoot() + "/contoso/private/ldapi");
      source_bind_ = "Administrator@FABRIKAM.TEST";
      target_bind_ = "Administrator@CONTOSO.TEST";
      for (const char* side : {"source", "target"}) LoadIntoForest(side);
    }
    Spit(dir_ / "directory.secret", secret_ + "\n");
    fs::permissions(dir_ / "directory.secret", fs::perms::owner_read | fs::perms::owner_write);
    if (kBackend == Backend::kOpenLdap) {
      for (const char* side : {"source", "target"}) {
        int port = 0;
        auto r = StartOnFreePorts([&] {
          port = FreePort();
          return RunProgram({LdapServerScript(), "start", (dir_ / "ldap" / side).string(),
                             std::to_string(port), (dir_ / (std::string(side) + ".ldif")).string()},
                            dir_);
        });
        if (r.exit_code != 0) {
          ok_ = false;
          error_ += fmt::format("ldap-server start ({}) exited {}: {}{}\n", side, r.exit_code,
                                r.out, r.err);
        }
        (side == std::string("source") ? source_url_ : target_url_) =
            fmt::format("ldap://127.0.0.1:{}", port);
      }
      source_bind_ = "CN=crossmove,DC=fabrikam,DC=test";
      target_bind_ = "CN=crossmove,DC=contoso,DC=test";
    }
  }

  std::filesystem::path dir_;
  bool ok_ = false;
  std::string error_;
  std::string source_url_, target_url_, source_bind_, target_bind_;
  std::string secret_ = "secret";
  std::string skip_reason_;
  int imap_port_[2] = {0, 0};
  int lmtp_port_[2] = {0, 0};
  PgServer* pg_ = nullptr;  // kJournal == kPostgres: the process's server, and this journal's
  std::string pg_database_;
};

// One side's directory as canonical lines: the LDIF file read by an independent parser, or
// (directory servers) every object over LDAP.
inline std::string Entries(const Org& org, const std::string& side) {
  if (kBackend != Backend::kLdif) return org.DirectoryText(side);
  auto r = RunProgram(
      {"python3", RepoFile("tests/cli/ldif_entries.py"), (org.dir() / (side + ".ldif")).string()},
      org.dir());
  return r.exit_code == 0 ? r.out : "ldif_entries.py failed: " + r.err;
}

inline std::map<std::string, int> Lines(const std::string& text) {
  std::map<std::string, int> out;
  for (const auto& line : Split(text, '\n')) ++out[line];
  return out;
}

}  // namespace cm::testing

// Skips a test whose backend cannot run here (said once, with the reason); fails on any other
// set-up problem.
#define CM_ASSERT_ORG(org)                                                 \
  do {                                                                     \
    if (!(org).skip_reason().empty()) GTEST_SKIP() << (org).skip_reason(); \
    ASSERT_TRUE((org).ok()) << (org).error();                              \
  } while (0)
