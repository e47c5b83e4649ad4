// crossmove command line: parses flags with CLI11, layers config (file < environment < flags)
// and hands over to the app layer. Nothing here knows about directories or mail.
#include <unistd.h>

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "app/commands.h"
#include "app/journal_commands.h"
#include "app/report.h"
#include "core/strings.h"
#include "crossmove_version.h"
#include "input/config.h"

extern char** environ;

namespace {

// The examples `cmake --install` put beside this binary: PREFIX/bin/crossmove has them in
// PREFIX/share/doc/crossmove/examples (/usr for the Debian package, /usr/local by default). A
// binary run from a build tree names the package's.
std::string InstalledExamples() {
  std::error_code ec;
  std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  std::filesystem::path prefix = "/usr";
  if (!ec && exe.parent_path().filename() == "bin") prefix = exe.parent_path().parent_path();
  return (prefix / CROSSMOVE_INSTALL_DOCDIR / "examples").string();
}

bool UseColor() { return ::isatty(STDOUT_FILENO) && std::getenv("NO_COLOR") == nullptr; }

bool IsBooleanKey(std::string_view key) {
  return key == "allow-merge" || key == "keep-source-primary" || key == "suspend-when-ready";
}

// `--json` anywhere before `--`: a parse error is answered as JSON too, though the flag itself
// may not have been parsed when the error stopped CLI11.
bool JsonRequested(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--") break;
    if (arg == "--json") return true;
  }
  return false;
}

// The first argument that is neither an option of the main command nor an option's value:
// what the user meant as the command ("" when there is none).
std::string TypedCommand(const CLI::App& app, int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--") return i + 1 < argc ? argv[i + 1] : "";
    if (!arg.starts_with("-")) return std::string(arg);
    if (arg.find('=') != std::string_view::npos) continue;
    const CLI::Option* option = app.get_option_no_throw(std::string(arg));
    if (option && option->get_items_expected_max() > 0) ++i;  // its value (a flag has none)
  }
  return "";
}

// CLI11's words for a command line it cannot parse, made to say what to type instead where
// CLI11 cannot know: a mistyped command reads to it as "A subcommand is required".
std::string UsageError(const CLI::App& app, const CLI::ParseError& error, int argc, char** argv) {
  std::vector<std::string> commands;
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; }))
    commands.push_back(sub->get_name());
  std::string typed = TypedCommand(app, argc, argv);
  bool typed_is_command = std::find(commands.begin(), commands.end(), typed) != commands.end();
  std::string list = cm::Join(commands, ", ");
  if (!typed.empty() && !typed_is_command) {
    std::string nearest = cm::NearestOf(typed, commands);
    return nearest.empty()
               ? fmt::format("unknown command '{}'; the commands are {} (crossmove --help)",
                             cm::EscapeControlCharacters(typed), list)
               : fmt::format("unknown command '{}'; did you mean '{}'?",
                             cm::EscapeControlCharacters(typed), nearest);
  }
  if (typed.empty() && app.get_subcommands().empty())
    return fmt::format("no command given; the commands are {} (crossmove --help)", list);
  // An option no command has: the nearest one any command has, as for a mistyped command.
  if (dynamic_cast<const CLI::ExtrasError*>(&error)) {
    std::vector<std::string> options;
    std::vector<const CLI::App*> apps = {&app};
    for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; }))
      apps.push_back(sub);
    for (const CLI::App* a : apps)
      for (const CLI::Option* o : a->get_options())
        for (const auto& name : o->get_lnames()) options.push_back("--" + name);
    for (int i = 1; i < argc; ++i) {
      std::string arg = argv[i];
      if (arg == "--") break;
      if (!arg.starts_with("--")) continue;
      arg = arg.substr(0, arg.find('='));
      if (std::find(options.begin(), options.end(), arg) != options.end()) continue;
      std::string nearest = cm::NearestOf(arg, options);
      if (!nearest.empty())
        return fmt::format("unknown option '{}'; did you mean '{}'?",
                           cm::EscapeControlCharacters(arg), nearest);
      break;
    }
  }
  return fmt::format("{} (crossmove {}--help)", cm::EscapeControlCharacters(error.what()),
                     typed.empty() ? "" : typed + " ");
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"crossmove: move mailboxes between mail organizations without a bounce"};
  app.require_subcommand(1);
  // Answered before the subcommand is required: CLI11 stops at the version flag.
  app.set_version_flag("--version", "crossmove " CROSSMOVE_VERSION " (git " CROSSMOVE_REVISION ")",
                       "print the version and the git revision it was built from, and exit");
  app.fallthrough();
  cm::SetReportingTool("crossmove " CROSSMOVE_VERSION " (git " CROSSMOVE_REVISION ")");
  std::string config_path;
  app.add_option("--config", config_path,
                 "TOML config file (default: $CROSSMOVE_CONFIG, else ./crossmove.toml)");
  // Before the command as after it (`crossmove --json status`), as scripts write it.
  bool json_before_command = false;
  app.add_flag("--json", json_before_command, "machine-readable output (as each command's --json)");
  std::map<std::string, std::string> flag_values;
  std::map<std::string, CLI::Option*> flag_options;
  for (const auto& k : cm::KnownKeys()) {
    std::string key(k.key);
    std::string flag = cm::FlagNameOf(key);
    if (IsBooleanKey(key)) {
      flag_options[key] = app.add_flag(flag)->description(std::string(k.help));
    } else {
      flag_options[key] = app.add_option(flag, flag_values[key], k.help.data());
    }
  }

  cm::PlanOptions plan_options;
  CLI::App* plan = app.add_subcommand(
      "plan", "validate everything and print every change; write nothing (-WhatIf)");
  plan->add_flag("--json", plan_options.json, "machine-readable output");
  plan->add_option(
      "--ldif", plan_options.ldif,
      "also write the changes as LDIF: PATH.target.ldif and PATH.source.ldif for ldapmodify");

  cm::ExportOptions export_options;
  CLI::App* exp = app.add_subcommand(
      "export", "write mailboxes (every value of every attribute) as CSV or JSON");
  exp->add_option("--side", export_options.side, "source or target (default source)");
  exp->add_option("--filter", export_options.filter,
                  "LDAP filter (RFC 4515) the objects must also match");
  exp->add_option("--identity", export_options.identity,
                  "wildcard on name, alias, account or mail, e.g. 'j*'");
  exp->add_option("--format", export_options.format, "csv (default) or json");
  exp->add_option("-o,--output", export_options.output, "file to write (default: standard output)");
  exp->add_option("--separator", export_options.separator,
                  "joins multi-valued cells (default ';')");
  exp->add_flag("--all", export_options.all_recipients, "every mail recipient, not just mailboxes");
  exp->add_flag("--json", export_options.json,
                "write JSON (as --format json) and answer errors as JSON ({\"error\": ...})");

  cm::RunOptions run_options;
  bool dry_run = false;
  CLI::App* run = app.add_subcommand(
      "run", "move the mailboxes: snapshot, provision, copy, verify, clean up, prove routing");
  run->add_flag("--dry-run", dry_run,
                "validate and print every change; write nothing (same as plan)");
  run->add_flag("--json", run_options.json, "machine-readable summary");
  run->add_flag("--wait", run_options.wait,
                "when another run holds the journal, wait for it to end instead of refusing");
  run->add_flag("--watch", run_options.watch,
                "keep going until nothing is left to do, sleeping until the next sync or "
                "completion is due (staged moves; SIGINT / SIGTERM stop it)");
  CLI::App* status =
      app.add_subcommand("status", "summarise the journal: states, failures, who holds what");
  status->add_flag("--json", run_options.json, "machine-readable output");
  status->add_option("identities", run_options.identities,
                     "show these mailboxes: address, alias, DN, canonical name or users-file "
                     "value");
  CLI::App* verify =
      app.add_subcommand("verify", "prove mail continuity: where every old address lands now");
  verify->add_flag("--json", run_options.json, "machine-readable output");
  verify->add_option("identities", run_options.identities,
                     "list every address of these mailboxes (address, alias, DN, canonical name "
                     "or users-file value)");
  verify->add_option("--mta", run_options.mta,
                     "also ask this MTA (smtp://HOST:PORT) about every SMTP address, with RCPT TO "
                     "and no message, and report where it disagrees with the model");
  CLI::App* rollback =
      app.add_subcommand("rollback", "restore cleaned source objects from their snapshots");
  rollback->add_flag("--all", run_options.all, "every mailbox in the journal");
  rollback->add_flag("--wait", run_options.wait,
                     "when a run holds the journal, wait for it to end instead of refusing");
  rollback->add_flag("--json", run_options.json, "machine-readable output, errors included");
  rollback->add_flag("--dry-run", run_options.dry_run,
                     "print every change the rollback would make; write nothing");
  rollback->add_option("identities", run_options.identities,
                       "mailboxes: address, alias, DN, canonical name or users-file value");
  CLI::App* forget = app.add_subcommand(
      "forget",
      "remove rolled-back (or never-started) mailboxes from the journal; the next run moves them "
      "again");
  forget->add_flag("--json", run_options.json, "machine-readable output");
  forget
      ->add_option("identities", run_options.identities,
                   "mailboxes: address, alias, DN, canonical name or users-file value")
      ->required();

  CLI::App* complete = app.add_subcommand(
      "complete", "complete synced mailboxes now: final delta, cleanup, routing proof");
  complete->add_flag("--all", run_options.all, "every mailbox of the journal not completed yet");
  complete->add_flag("--approve-skipped", run_options.approve_skipped,
                     "let mailboxes graded Investigate complete (skipped items accepted)");
  complete->add_flag("--approve-deletions", run_options.approve_deletions,
                     "let a delta pass remove more than max-deletions percent of a mailbox");
  complete->add_flag("--wait", run_options.wait,
                     "when a run holds the journal, wait for it to end, then complete");
  complete->add_flag("--json", run_options.json, "machine-readable summary");
  complete->add_option("identities", run_options.identities,
                       "mailboxes: address, alias, DN, canonical name or users-file value");
  CLI::App* suspend = app.add_subcommand(
      "suspend", "leave mailboxes where they are: no run syncs or completes them until resumed");
  CLI::App* resume = app.add_subcommand("resume", "let suspended mailboxes go on at the next run");
  for (CLI::App* sub : {suspend, resume}) {
    sub->add_flag("--all", run_options.all, "every mailbox of the journal");
    sub->add_flag("--json", run_options.json, "machine-readable output");
    sub->add_option("identities", run_options.identities,
                    "mailboxes: address, alias, DN, canonical name or users-file value");
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version end the parse with code 0; CLI11 prints them, but for a script
    // asking --version --json.
    if (e.get_exit_code() == 0) {
      if (dynamic_cast<const CLI::CallForVersion*>(&e) && JsonRequested(argc, argv)) {
        std::cout << nlohmann::json{{"version", CROSSMOVE_VERSION},
                                    {"revision", CROSSMOVE_REVISION}}
                         .dump()
                  << "\n";
        return 0;
      }
      return app.exit(e);
    }
    cm::PrintError(UsageError(app, e, argc, argv), JsonRequested(argc, argv),
                   cm::Console{std::cout, std::cerr, false});
    return cm::kExitUsage;
  }

  if (json_before_command) plan_options.json = run_options.json = export_options.json = true;
  cm::Console console{std::cout, std::cerr, UseColor()};
  cm::Problems problems;
  cm::Settings settings;
  // Where the config file was named, for its errors: a file nobody typed on this command line
  // (CROSSMOVE_CONFIG, set in a profile months ago) is otherwise hard to place.
  std::string named_by;
  if (config_path.empty()) {
    if (const char* env = std::getenv("CROSSMOVE_CONFIG"); env && *env) {
      config_path = env;
      named_by = "CROSSMOVE_CONFIG";
    }
  }
  if (config_path.empty() && std::filesystem::exists("crossmove.toml"))
    config_path = "crossmove.toml";
  bool json_wanted = plan_options.json || run_options.json || export_options.json;
  if (!config_path.empty()) {
    if (!std::filesystem::exists(config_path)) {
      cm::PrintError(named_by.empty() ? fmt::format("config file {} does not exist", config_path)
                                      : fmt::format("config file {}, named by {}, does not exist",
                                                    config_path, named_by),
                     json_wanted, console);
      return cm::kExitUsage;
    }
    std::string named = named_by.empty() ? "" : "; " + named_by + " names this file";
    size_t before = problems.size();
    if (cm::Status s = settings.LoadToml(config_path, problems); !s.ok()) {
      cm::PrintError(s.message() + named, json_wanted, console);
      return cm::kExitUsage;
    }
    for (size_t i = before; i < problems.size(); ++i) problems[i].message += named;
  }
  settings.LoadEnvironment(environ);
  for (const auto& [key, option] : flag_options) {
    if (option->count() == 0) continue;
    std::string value = IsBooleanKey(key) ? "true" : flag_values[key];
    settings.Set(key, value, cm::FlagNameOf(key));
  }
  std::vector<std::string> warnings;
  settings.CheckEnvironmentNames(environ, problems, warnings);
  for (const auto& w : warnings) console.err << "crossmove: " << w << "\n";
  if (config_path.empty() && !settings.Get("source.gc") && !settings.Get("target.gc")) {
    // Nothing says where either organization is: one line on what was looked for, not a
    // "not set" for every setting a config file would have given.
    cm::PrintError(fmt::format("no config file: ./crossmove.toml does not exist and "
                               "CROSSMOVE_CONFIG is not set; name one with --config FILE (a "
                               "complete one: {}/crossmove.toml, or examples/crossmove.toml in "
                               "the source tree)",
                               InstalledExamples()),
                   json_wanted, console);
    return cm::kExitUsage;
  }
  cm::Config config = cm::BuildConfig(settings, problems);
  if (!problems.empty()) return cm::ReportProblems(problems, json_wanted, console);
  if (plan->parsed()) return cm::RunPlan(config, plan_options, console);
  if (exp->parsed()) return cm::RunExport(config, export_options, console);
  if (run->parsed()) {
    if (dry_run) return cm::RunPlan(config, cm::PlanOptions{run_options.json, ""}, console);
    return cm::RunMigration(config, run_options, console);
  }
  if (status->parsed()) return cm::RunStatus(config, run_options, console);
  if (verify->parsed()) return cm::RunVerify(config, run_options, console);
  if (rollback->parsed()) return cm::RunRollback(config, run_options, console);
  if (forget->parsed()) return cm::RunForget(config, run_options, console);
  if (complete->parsed()) return cm::RunComplete(config, run_options, console);
  if (suspend->parsed()) return cm::RunSuspend(config, run_options, console);
  if (resume->parsed()) return cm::RunResume(config, run_options, console);
  return cm::kExitUsage;
}
