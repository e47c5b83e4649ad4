// What `cmake --install` puts on a machine, checked against the real binary: the files are where
// a Debian administrator looks for them, the man page renders without a warning and names every
// command, option, setting and exit code crossmove has, and the bash completion offers exactly
// the commands and options `crossmove --help` lists.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "app/commands.h"
#include "cli/run_crossmove.h"
#include "input/config.h"
#include "mailstore/temp_dir.h"

namespace cm {
namespace {

namespace fs = std::filesystem;
using testing::RunResult;
using testing::Slurp;
using testing::Spawn;
using testing::TempDir;

const std::vector<std::string> kNoEnv;

// Runs argv with a clean environment plus `env`, in a directory of its own: the output files
// Spawn keeps in its working directory must not be shared by tests running at once.
RunResult RunIsolated(const std::vector<std::string>& argv,
                      const std::vector<std::string>& env = kNoEnv) {
  TempDir cwd;
  return Spawn(argv, cwd.path(), &env);
}

// The subcommands and the options of `crossmove [SUBCOMMAND] --help` (CLI11's layout: a section
// title, then one indented line per entry whose first word is the entry).
struct HelpEntries {
  std::vector<std::string> options;      // "--json", "-o", "--output" ...
  std::vector<std::string> subcommands;  // "plan", "run" ...
};

HelpEntries ParseHelp(const std::string& help) {
  HelpEntries entries;
  std::string section;
  size_t start = 0;
  while (start < help.size()) {
    size_t end = help.find('\n', start);
    if (end == std::string::npos) end = help.size();
    std::string line = help.substr(start, end - start);
    start = end + 1;
    if (!line.empty() && line.back() == ':' && line.front() != ' ') {
      section = line;
      continue;
    }
    if (!line.starts_with("  ")) continue;
    std::string first = line.substr(2, line.find(' ', 2) - 2);
    if (section == "Subcommands:") {
      entries.subcommands.push_back(first);
    } else if (section == "Options:") {
      size_t from = 0;
      while (from <= first.size()) {
        size_t comma = first.find(',', from);
        if (comma == std::string::npos) comma = first.size();
        entries.options.push_back(first.substr(from, comma - from));
        from = comma + 1;
      }
    }
  }
  return entries;
}

HelpEntries HelpOf(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {CROSSMOVE_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back("--help");
  RunResult r = RunIsolated(argv);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return ParseHelp(r.out);
}

// Runs a shell command line with a clean environment (plus `env`) and collects its output.
RunResult Shell(const std::string& command, const std::vector<std::string>& env = kNoEnv) {
  return RunIsolated({"/bin/sh", "-c", command}, env);
}

// The installed tree, once per test suite: `cmake --install` of this build into a DESTDIR.
class Install : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    destdir_ = new TempDir();
    std::vector<std::string> env = {"DESTDIR=" + destdir_->path().string()};
    install_ =
        new RunResult(Spawn({CROSSMOVE_CMAKE, "--install", CROSSMOVE_BUILD_DIR, "--prefix", "/usr"},
                            destdir_->path(), &env));
  }
  static void TearDownTestSuite() {
    delete install_;
    delete destdir_;
  }
  void SetUp() override { ASSERT_EQ(install_->exit_code, 0) << install_->out << install_->err; }
  static fs::path Installed(const std::string& path) { return destdir_->path() / path; }

  static TempDir* destdir_;
  static RunResult* install_;
};
TempDir* Install::destdir_ = nullptr;
RunResult* Install::install_ = nullptr;

const char kManPage[] = "usr/share/man/man1/crossmove.1.gz";
const char kCompletion[] = "usr/share/bash-completion/completions/crossmove";

TEST(Version, PrintsTheProjectVersionAndTheGitRevisionWithoutASubcommand) {
  RunResult r = RunIsolated({CROSSMOVE_BINARY, "--version"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string expected_start = std::string("crossmove ") + CROSSMOVE_VERSION_EXPECTED + " (git ";
  ASSERT_TRUE(r.out.starts_with(expected_start)) << r.out;
  std::string revision = r.out.substr(expected_start.size());
  ASSERT_TRUE(revision.ends_with(")\n")) << r.out;
  revision.resize(revision.size() - 2);
  RunResult head = Shell("git -C '" CROSSMOVE_SOURCE_DIR "' rev-parse --short=12 HEAD");
  if (head.exit_code != 0) {
    EXPECT_EQ(revision, "unknown");
  } else {
    std::string commit = head.out.substr(0, head.out.find('\n'));
    EXPECT_TRUE(revision == commit || revision == commit + "-dirty")
        << revision << " is not HEAD " << commit;
  }
}

TEST(Version, AsJsonForScripts) {
  for (auto argv : {std::vector<std::string>{CROSSMOVE_BINARY, "--version", "--json"},
                    std::vector<std::string>{CROSSMOVE_BINARY, "--json", "--version"}}) {
    RunResult r = RunIsolated(argv);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto j = nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
    ASSERT_TRUE(j.is_object()) << r.out;
    EXPECT_EQ(j.value("version", ""), CROSSMOVE_VERSION_EXPECTED) << r.out;
    EXPECT_FALSE(j.value("revision", "").empty()) << r.out;
  }
}

TEST_F(Install, PutsTheBinaryManPageCompletionSchemaAndExamplesInPlace) {
  for (const std::string path : {"usr/bin/crossmove", kManPage, kCompletion,
                                 "usr/share/crossmove/schema/openldap/crossmove.ldif",
                                 "usr/share/crossmove/schema/activedirectory/crossmove.ldif.in",
                                 "usr/share/doc/crossmove/examples/crossmove.toml",
                                 "usr/share/doc/crossmove/examples/users.csv",
                                 "usr/share/doc/crossmove/examples/source.ldif",
                                 "usr/share/doc/crossmove/examples/target.ldif",
                                 "usr/share/doc/crossmove/examples/generate_org.py",
                                 "usr/share/doc/crossmove/examples/ldif_text.py",
                                 "usr/lib/systemd/system/crossmove-watch@.service"}) {
    EXPECT_TRUE(fs::is_regular_file(Installed(path))) << path << " is not installed";
  }
  RunResult man_source = Shell("zcat '" + Installed(kManPage).string() + "'");
  EXPECT_EQ(man_source.out, Slurp(fs::path(CROSSMOVE_SOURCE_DIR) / "docs/crossmove.1"));
  EXPECT_EQ(Slurp(Installed("usr/share/crossmove/schema/openldap/crossmove.ldif")),
            Slurp(fs::path(CROSSMOVE_SOURCE_DIR) / "schema/openldap/crossmove.ldif"));
  RunResult version = RunIsolated({Installed("usr/bin/crossmove").string(), "--version"});
  EXPECT_EQ(version.exit_code, 0) << version.err;
  EXPECT_TRUE(version.out.starts_with("crossmove ")) << version.out;
}

// Debian policy 12.5 and 12.7: a machine-readable copyright file and the Debian changelog, both
// in the package's doc folder.
TEST_F(Install, PutsTheCopyrightFileAndTheDebianChangelogInTheDocFolder) {
  std::string copyright = Slurp(Installed("usr/share/doc/crossmove/copyright"));
  EXPECT_TRUE(copyright.starts_with(
      "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n"))
      << copyright;
  for (const std::string field :
       {"\nUpstream-Name: crossmove\n", "\nFiles: *\n", "\nCopyright: ", "\nLicense: "})
    EXPECT_NE(copyright.find(field), std::string::npos) << field << " not in:\n" << copyright;
  RunResult changelog =
      Shell("zcat '" + Installed("usr/share/doc/crossmove/changelog.Debian.gz").string() + "'");
  EXPECT_EQ(changelog.exit_code, 0) << changelog.err;
  EXPECT_TRUE(changelog.out.starts_with(std::string("crossmove (") + CROSSMOVE_VERSION_EXPECTED +
                                        ") unstable; urgency=medium\n"))
      << changelog.out;
  EXPECT_NE(changelog.out.find("\n -- crossmove maintainers <crossmove@example.org>  "),
            std::string::npos)
      << changelog.out;
}

// Without a config, the installed binary names the examples installed beside it.
TEST_F(Install, WithoutAConfigTheInstalledBinaryNamesItsInstalledExamples) {
  RunResult r = RunIsolated({Installed("usr/bin/crossmove").string(), "plan"});
  EXPECT_EQ(r.exit_code, 2);
  std::string example = Installed("usr/share/doc/crossmove/examples/crossmove.toml").string();
  EXPECT_NE(r.err.find("(a complete one: " + example +
                       ", or examples/crossmove.toml in the source "
                       "tree)"),
            std::string::npos)
      << r.err;
  EXPECT_TRUE(fs::is_regular_file(example));
}

// What the README promises of the example, for the installed copy a user works on: `plan` on it
// passes (its Maildirs come with it).
TEST_F(Install, APlanOnACopyOfTheInstalledExamplePasses) {
  TempDir copy;
  fs::copy(Installed("usr/share/doc/crossmove/examples"), copy.path() / "examples",
           fs::copy_options::recursive);
  RunResult plan = RunIsolated({Installed("usr/bin/crossmove").string(), "--config",
                                (copy.path() / "examples/crossmove.toml").string(), "plan"});
  EXPECT_EQ(plan.exit_code, 0) << plan.err;
}

TEST_F(Install, ManPageRendersWithoutAWarning) {
  std::string page = Installed(kManPage).string();
  RunResult groff = Shell("zcat '" + page + "' | groff -man -ww -z");
  EXPECT_EQ(groff.exit_code, 0);
  EXPECT_EQ(groff.err, "");
  RunResult man = Shell("man --warnings -l '" + page + "'", {"MANWIDTH=80", "LC_ALL=C.UTF-8"});
  EXPECT_EQ(man.exit_code, 0);
  EXPECT_EQ(man.err, "");
  EXPECT_NE(man.out.find("EXIT STATUS"), std::string::npos) << man.out.substr(0, 400);
}

// The man page's text as a reader sees it, without hyphenation: every name must be findable.
std::string ManText(const fs::path& page) {
  RunResult man = Shell("man -l '" + page.string() + "' | col -b",
                        {"MANWIDTH=400", "LC_ALL=C", "MAN_KEEP_FORMATTING="});
  EXPECT_EQ(man.exit_code, 0) << man.err;
  return man.out;
}

TEST_F(Install, ManPageNamesEveryCommandOptionSettingAndExitCode) {
  std::string text = ManText(Installed(kManPage));
  ASSERT_FALSE(text.empty());
  auto expect_named = [&](const std::string& what, const std::string& context) {
    EXPECT_NE(text.find(what), std::string::npos)
        << context << " " << what << " is not in crossmove(1)";
  };
  HelpEntries top = HelpOf({});
  ASSERT_FALSE(top.subcommands.empty());
  std::set<std::string> setting_flags;
  for (const auto& key : KnownKeys()) setting_flags.insert(FlagNameOf(key.key));
  // A setting's flag is its name by a rule the page states once; the setting itself must be named.
  for (const auto& option : top.options) {
    if (!setting_flags.count(option)) expect_named(option, "option");
  }
  for (const auto& command : top.subcommands) {
    expect_named(command, "command");
    for (const auto& option : HelpOf({command}).options)
      expect_named(option, "option of " + command);
  }
  for (const auto& key : KnownKeys()) expect_named(std::string(key.key), "setting");
  for (const std::string field :
       {"dn", "server", "store", "admin", "credential", "master-form", "user-credentials",
        "starttls", "tls-verify", "ca-file", "compress", "timeout", "pipeline-depth",
        "max-connections", "batch-messages", "batch-megabytes"}) {
    expect_named(field, "database setting");
  }
  size_t exit_status = text.find("\nEXIT STATUS\n");
  ASSERT_NE(exit_status, std::string::npos);
  std::string exit_codes = text.substr(exit_status, text.find("\nENVIRONMENT\n") - exit_status);
  for (int code : {kExitOk, kExitSomeFailed, kExitUsage, kExitUnreachable, kExitBusy,
                   kExitInterrupted, kExitNeedsApproval}) {
    EXPECT_NE(exit_codes.find("\n       " + std::to_string(code) + " "), std::string::npos)
        << "exit code " << code << " is not in crossmove(1)'s EXIT STATUS";
  }
}

// What the installed completion offers after `crossmove WORDS... CURRENT`.
std::set<std::string> Completions(const fs::path& script, const std::string& words) {
  // Bash, not sh: bash-completion sources the script into an interactive bash.
  RunResult r = RunIsolated({"/bin/bash", "-c",
                             ". '" + script.string() + "'; COMP_WORDS=(crossmove " + words +
                                 "); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _crossmove; "
                                 "printf '%s\\n' \"${COMPREPLY[@]}\""},
                            kNoEnv);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  std::set<std::string> out;
  size_t start = 0;
  while (start < r.out.size()) {
    size_t end = r.out.find('\n', start);
    if (end == std::string::npos) end = r.out.size();
    if (end > start) out.insert(r.out.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

TEST_F(Install, CompletionIsValidBashAndOffersTheRealCommandsAndOptions) {
  fs::path script = Installed(kCompletion);
  RunResult syntax = RunIsolated({"/bin/bash", "-n", script.string()});
  ASSERT_EQ(syntax.exit_code, 0) << syntax.err;
  HelpEntries top = HelpOf({});
  std::set<std::string> first = Completions(script, "''");
  std::set<std::string> expected(top.subcommands.begin(), top.subcommands.end());
  for (const auto& option : top.options) {
    if (option.starts_with("--")) expected.insert(option);
  }
  EXPECT_EQ(first, expected);
  for (const auto& command : top.subcommands) {
    std::set<std::string> offered = Completions(script, command + " ''");
    std::set<std::string> wanted;
    for (const auto& option : HelpOf({command}).options) {
      if (option != "-h" && option != "--help") wanted.insert(option);
    }
    EXPECT_EQ(offered, wanted) << "after " << command;
  }
  EXPECT_EQ(Completions(script, "--cleanup Create"), std::set<std::string>{"CreateSourceContact"});
}

}  // namespace
}  // namespace cm
