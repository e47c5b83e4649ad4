// A generated organization (examples/generate_org.py) in a scratch directory, plus the checks
// an administrator would make on it afterwards, made without crossmove's own code: mail is
// compared by reading the Maildir files themselves.
#pragma once

#include <fmt/format.h>
#include <openssl/evp.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>

#include "cli/run_crossmove.h"
#include "directory/ldif_directory.h"

namespace cm::testing {

inline RunResult RunProgram(const std::vector<std::string>& argv,
                            const std::filesystem::path& cwd) {
  return Spawn(argv, cwd, nullptr);
}

class Org {
 public:
  Org(int mailboxes, int messages, const std::string& cleanup) {
    // tmpfs when there is one: the tool fsyncs every directory write, which is right for real
    // directories and makes hundreds of test runs crawl on a disk.
    std::string root = std::filesystem::is_directory("/dev/shm") ? "/dev/shm" : "/tmp";
    std::string tmpl = root + "/crossmove-org-XXXXXX";
    dir_ = mkdtemp(tmpl.data());
    auto r = RunProgram({"python3", std::string(CROSSMOVE_EXAMPLES) + "/generate_org.py",
                         dir_.string(), "--mailboxes", std::to_string(mailboxes), "--messages",
                         std::to_string(messages), "--cleanup", cleanup},
                        dir_);
    ok_ = r.exit_code == 0;
    error_ = r.err;
  }
  // A copy of another organization's files (cheaper than generating it again).
  explicit Org(const Org& other) {
    std::string tmpl = other.dir_.parent_path().string() + "/crossmove-org-XXXXXX";
    dir_ = mkdtemp(tmpl.data());
    // cp -a keeps mtimes, which in a Maildir are the INTERNALDATEs.
    auto r = RunProgram({"cp", "-a", other.dir_.string() + "/.", dir_.string()}, dir_);
    ok_ = r.exit_code == 0 && other.ok_;
    error_ = r.err;
  }
  Org& operator=(const Org&) = delete;
  ~Org() { std::filesystem::remove_all(dir_); }
  bool ok() const { return ok_; }
  const std::string& error() const { return error_; }
  const std::filesystem::path& dir() const { return dir_; }
  RunResult Run(std::vector<std::string> args, std::vector<std::string> env = {}) const {
    return RunCrossmove(args, dir_, env);
  }
  std::unique_ptr<LdifDirectory> Directory(const std::string& file) const {
    auto d = LdifDirectory::Open((dir_ / file).string(), true);
    return d.ok() ? std::move(*d) : nullptr;
  }
  std::string Read(const std::string& file) const { return Slurp(dir_ / file); }

 private:
  std::filesystem::path dir_;
  bool ok_ = false;
  std::string error_;
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

}  // namespace cm::testing
