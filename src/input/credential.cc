#include "input/credential.h"

#include <fmt/format.h>
#include <pwd.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <vector>

#include "core/strings.h"

namespace cm {

namespace {

// "alice (uid 1000)", or "uid 1000" for an account without a name.
std::string UserName(uid_t uid) {
  std::vector<char> buffer(4096);
  passwd pw;
  passwd* found = nullptr;
  if (::getpwuid_r(uid, &pw, buffer.data(), buffer.size(), &found) == 0 && found)
    return fmt::format("{} (uid {})", found->pw_name, uid);
  return fmt::format("uid {}", uid);
}

// A credential file must be a regular file of ours (or root's) nobody else can read.
Status CheckSecretFile(const std::string& path, std::string_view what) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    return Status::InvalidInput(
        fmt::format("{}: cannot read credential file {}: {}", what, path, std::strerror(errno)));
  }
  if (!S_ISREG(st.st_mode)) {
    return Status::InvalidInput(
        fmt::format("{}: credential file {} is not a regular file", what, path));
  }
  if (st.st_mode & 077) {
    // The advice names the file by its full path (a relative one is read from the working
    // folder, which the administrator may not have in mind), and does not tell anyone to chmod a
    // shared file such as /etc/passwd: only one that holds nothing but this secret.
    std::error_code ec;
    std::string full = std::filesystem::absolute(path, ec).lexically_normal().string();
    if (ec) full = path;
    return Status::PermissionDenied(
        fmt::format("{}: credential file {} has mode {:04o}: others can read it; if it holds "
                    "only this secret, run chmod 600 {}; else put the secret alone in a file "
                    "of mode 0600 and name that",
                    what, path, st.st_mode & 07777, full));
  }
  // Mode 0600 protects only what its owner guards: a file another account owns can be changed
  // under us (a password swapped for an attacker's server's), so it is refused, as ssh does.
  uid_t me = ::geteuid();
  if (st.st_uid != me && st.st_uid != 0) {
    return Status::PermissionDenied(fmt::format(
        "{}: credential file {} is owned by {}, mode {:04o}: only a file owned by {} (who runs "
        "crossmove) or root is used; run chown {} {}",
        what, path, UserName(st.st_uid), st.st_mode & 07777, UserName(me), UserName(me), path));
  }
  return Status::Ok();
}

Result<Secret> FromFile(const std::string& path, std::string_view what) {
  CM_RETURN_IF_ERROR(CheckSecretFile(path, what));
  std::ifstream in(path);
  if (!in) {
    return Status::InvalidInput(
        fmt::format("{}: cannot read credential file {}: {}", what, path, std::strerror(errno)));
  }
  std::string line;
  std::getline(in, line);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.empty())
    return Status::InvalidInput(fmt::format("{}: credential file {} is empty", what, path));
  return Secret{line, "file " + path};
}

Result<Secret> FromPrompt(std::string_view what) {
  if (!::isatty(STDIN_FILENO)) {
    return Status::InvalidInput(
        fmt::format("{}: 'prompt' needs a terminal; use file:PATH or env:NAME", what));
  }
  std::cerr << "Password for " << what << ": " << std::flush;
  termios old_mode;
  ::tcgetattr(STDIN_FILENO, &old_mode);
  termios quiet = old_mode;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  std::string line;
  std::getline(std::cin, line);
  ::tcsetattr(STDIN_FILENO, TCSANOW, &old_mode);
  std::cerr << "\n";
  if (line.empty()) return Status::InvalidInput(fmt::format("{}: no password entered", what));
  return Secret{line, "prompt"};
}

}  // namespace

Result<Secret> LoadSecret(std::string_view spec, std::string_view what) {
  if (IStartsWith(spec, "file:")) return FromFile(std::string(spec.substr(5)), what);
  if (IStartsWith(spec, "env:")) {
    std::string name(spec.substr(4));
    const char* v = std::getenv(name.c_str());
    if (!v || !*v)
      return Status::InvalidInput(
          fmt::format("{}: environment variable {} is not set", what, name));
    return Secret{v, "environment " + name};
  }
  if (IEquals(spec, "prompt")) return FromPrompt(what);
  // Deliberately not echoing `spec`: a user may have pasted the password itself here.
  return Status::InvalidInput(fmt::format(
      "{}: expected file:PATH, env:NAME or prompt (a password itself is never accepted here)",
      what));
}

Result<std::map<std::string, std::string>> LoadSecretTable(std::string_view spec,
                                                           std::string_view what) {
  if (!IStartsWith(spec, "file:"))
    return Status::InvalidInput(fmt::format("{}: expected file:PATH", what));
  std::string path(spec.substr(5));
  CM_RETURN_IF_ERROR(CheckSecretFile(path, what));
  std::ifstream in(path);
  if (!in) {
    return Status::InvalidInput(
        fmt::format("{}: cannot read credential file {}: {}", what, path, std::strerror(errno)));
  }
  std::map<std::string, std::string> out;
  std::string line;
  for (unsigned long n = 1; std::getline(in, line); ++n) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (Trim(line).empty() || Trim(line).front() == '#') continue;
    size_t colon = line.find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == line.size()) {
      return Status::InvalidInput(fmt::format("{}: {}:{}: expected name:secret", what, path, n));
    }
    out[line.substr(0, colon)] = line.substr(colon + 1);
  }
  return out;
}

}  // namespace cm
