// Runs the real crossmove binary in a scratch copy of the examples, for end-to-end tests.
#pragma once

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace cm::testing {

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

inline std::string Slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// How many times `what` occurs in `text` (overlapping ones too).
inline size_t Occurrences(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

inline void Spit(const std::filesystem::path& p, const std::string& text) {
  std::ofstream(p, std::ios::binary) << text;
}

// A scratch directory holding a copy of examples/; removed at the end of the test.
class Workspace {
 public:
  Workspace() {
    char tmpl[] = "/tmp/crossmove-ws-XXXXXX";
    dir_ = mkdtemp(tmpl);
    for (const char* f : {"source.ldif", "target.ldif", "users.csv", "crossmove.toml"}) {
      std::filesystem::copy_file(std::filesystem::path(CROSSMOVE_EXAMPLES) / f, dir_ / f);
    }
    // The example's source Maildirs: its config names them, so plan and run find every store.
    std::filesystem::copy(std::filesystem::path(CROSSMOVE_EXAMPLES) / "source-mail",
                          dir_ / "source-mail", std::filesystem::copy_options::recursive);
  }
  ~Workspace() { std::filesystem::remove_all(dir_); }
  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path operator/(const std::string& f) const { return dir_ / f; }
  std::string Read(const std::string& f) const { return Slurp(dir_ / f); }
  void Write(const std::string& f, const std::string& text) const { Spit(dir_ / f, text); }
  // Replaces the first occurrence of `from` in file f (test set-up must not silently miss).
  bool Edit(const std::string& f, const std::string& from, const std::string& to) const {
    std::string text = Read(f);
    size_t pos = text.find(from);
    if (pos == std::string::npos) return false;
    text.replace(pos, from.size(), to);
    Write(f, text);
    return true;
  }
  // Every file and its bytes: compared before and after a command that must write nothing.
  std::map<std::string, std::string> Snapshot() const {
    std::map<std::string, std::string> out;
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir_)) {
      if (e.is_regular_file()) out[e.path().string()] = Slurp(e.path());
    }
    return out;
  }

 private:
  std::filesystem::path dir_;
};

// A process started by Start and not yet waited for; its output goes to files named by `tag`.
struct Started {
  pid_t pid = -1;
  std::filesystem::path out_file, err_file;
};

// Starts argv[0] (looked up in PATH) in `cwd` with no terminal and stdin from /dev/null; its
// output goes to cwd/.TAG-stdout and .TAG-stderr, so processes running at once need their own
// tags. With `env`, the environment is exactly PATH, HOME, the sanitizer options and `env`;
// without, it is inherited.
inline Started Start(const std::vector<std::string>& args, const std::filesystem::path& cwd,
                     const std::vector<std::string>* env, const std::string& tag = "spawn") {
  Started started{-1, cwd / ("." + tag + "-stdout"), cwd / ("." + tag + "-stderr")};
  pid_t pid = fork();
  if (pid == 0) {
    if (chdir(cwd.c_str()) != 0) _exit(126);
    int in = open("/dev/null", O_RDONLY);
    int out = open(started.out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int err = open(started.err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(in, 0);
    dup2(out, 1);
    dup2(err, 2);
    std::vector<std::string> argv_s = args;
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (!env) {
      execvp(argv[0], argv.data());
      _exit(127);
    }
    std::vector<std::string> env_s = {"PATH=/usr/bin:/bin", "HOME=/tmp"};
    for (const char* keep : {"ASAN_OPTIONS", "UBSAN_OPTIONS"}) {
      if (const char* v = getenv(keep)) env_s.push_back(std::string(keep) + "=" + v);
    }
    env_s.insert(env_s.end(), env->begin(), env->end());
    std::vector<char*> envp;
    for (auto& e : env_s) envp.push_back(e.data());
    envp.push_back(nullptr);
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  started.pid = pid;
  return started;
}

// Waits for a started process and collects what it wrote.
inline RunResult Finish(const Started& started) {
  int status = 0;
  waitpid(started.pid, &status, 0);
  RunResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = Slurp(started.out_file);
  r.err = Slurp(started.err_file);
  std::filesystem::remove(started.out_file);
  std::filesystem::remove(started.err_file);
  return r;
}

// Runs argv[0] as Start does and waits for it.
inline RunResult Spawn(const std::vector<std::string>& args, const std::filesystem::path& cwd,
                       const std::vector<std::string>* env) {
  return Finish(Start(args, cwd, env));
}

// Runs crossmove with `args` in `cwd`, a clean environment plus `env`: no CROSSMOVE_* variable
// of the developer's shell leaks into a test.
inline RunResult RunCrossmove(const std::vector<std::string>& args,
                              const std::filesystem::path& cwd,
                              const std::vector<std::string>& env = {}) {
  std::vector<std::string> argv = {CROSSMOVE_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  return Spawn(argv, cwd, &env);
}

// Starts crossmove as RunCrossmove does, without waiting (Finish collects it); `tag` names its
// output files.
inline Started StartCrossmove(const std::vector<std::string>& args,
                              const std::filesystem::path& cwd, const std::vector<std::string>& env,
                              const std::string& tag) {
  std::vector<std::string> argv = {CROSSMOVE_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  return Start(argv, cwd, &env, tag);
}

}  // namespace cm::testing
