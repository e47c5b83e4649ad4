// A scripted misbehaving IMAP source (tests/imap/hostile_imap.py), started for one test: it
// serves one mailbox, whoever logs in, with the faults a scenario names.
#pragma once

#include <fmt/format.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "io/base64.h"
#include "mailstore/imap_client.h"
#include "mailstore/imap_store.h"
#include "mailstore/temp_dir.h"

extern char** environ;

namespace cm::testing {

inline std::string HostileScript() {
  return std::string(CROSSMOVE_EXAMPLES) + "/../tests/imap/hostile_imap.py";
}

// A message of `size` bytes: headers, then a body of numbered lines, so that any block moved,
// lost or doubled changes the bytes (a block of one repeated byte would hide a reordering).
inline std::string MakeMessage(uint32_t uid, size_t size) {
  std::string m = fmt::format(
      "Message-ID: <{}@hostile.test>\r\nFrom: a@hostile.test\r\nSubject: message {}\r\n\r\n", uid,
      uid);
  std::mt19937 rng(uid);
  for (size_t line = 0; m.size() < size; ++line) {
    m += fmt::format("{:08} {:08x} {:08x}\r\n", line, rng(), rng());
  }
  m.resize(size - 2);
  m += "\r\n";
  return m;
}

struct Msg {
  uint32_t uid;
  std::string bytes;
};

// Starts hostile_imap.py on a scenario; stops it at the end of the test.
class HostileServer {
 public:
  HostileServer(const std::string& folder, const std::vector<Msg>& messages,
                const nlohmann::json& faults, const std::vector<std::string>& extra_folders = {},
                int port = 0, bool writable = false) {
    nlohmann::json folders = nlohmann::json::array();
    nlohmann::json inbox = {
        {"name", folder}, {"uidvalidity", 7}, {"messages", nlohmann::json::array()}};
    for (const auto& m : messages) {
      inbox["messages"].push_back({{"uid", m.uid},
                                   {"flags", {"\\Seen"}},
                                   {"internaldate", "01-Jan-2024 10:00:00 +0000"},
                                   {"body_b64", Base64Encode(m.bytes)}});
    }
    folders.push_back(inbox);
    for (const auto& f : extra_folders) {
      folders.push_back({{"name", f}, {"uidvalidity", 9}, {"messages", nlohmann::json::array()}});
    }
    nlohmann::json scenario = {{"folders", folders}, {"faults", faults}, {"writable", writable}};
    std::ofstream(dir_ / "scenario.json") << scenario.dump();
    std::string script = HostileScript();
    std::string scenario_path = dir_ / "scenario.json";
    std::string port_file = dir_ / "port";
    std::string log = dir_ / "log";
    std::vector<std::string> args = {"python3",     script,    "--scenario", scenario_path,
                                     "--port-file", port_file, "--log",      log};
    if (port != 0) {
      args.push_back("--port");
      args.push_back(std::to_string(port));
    }
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawnp(&pid_, "python3", nullptr, nullptr, argv.data(), environ) != 0) pid_ = -1;
    for (int i = 0; i < 200 && port_ == 0; ++i) {
      std::ifstream in(port_file);
      in >> port_;
      if (port_ == 0) std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
  }
  ~HostileServer() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  int port() const { return port_; }
  std::string Log() const {
    std::ifstream in(dir_ / "log");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  std::unique_ptr<ImapStore> Open(int timeout_seconds = 10, bool read_only = true) const {
    auto access = std::make_shared<ImapAccess>();
    access->user_secrets["user@hostile.test"] = "secret";
    access->timeout_seconds = timeout_seconds;
    access->compress = false;
    MailStoreOptions options;
    options.read_only = read_only;
    options.imap = access;
    auto endpoint = ParseImapUrl(fmt::format("imap://user%40hostile.test@127.0.0.1:{}/", port_));
    if (!endpoint.ok()) return nullptr;
    return std::make_unique<ImapStore>(*endpoint, options);
  }

 private:
  TempDir dir_;
  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace cm::testing
