// crossmove command line: parses flags with CLI11, layers config (file < environment < flags)
// and hands over to the app layer. Nothing here knows about directories or mail.
#include <unistd.h>

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>

#include "app/commands.h"
#include "app/journal_commands.h"
#include "crossmove_version.h"
#include "input/config.h"

extern char** environ;

namespace {

bool UseColor() { return ::isatty(STDOUT_FILENO) && std::getenv("NO_COLOR") == nullptr; }

bool IsBooleanKey(std::string_view key) {
  return key == "allow-merge" || key == "keep-source-primary" || key == "suspend-when-ready";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"crossmove: move mailboxes between mail organizations without a bounce"};
  app.require_subcommand(1);
  // Answered before the subcommand is required: CLI11 stops at the version flag.
  app.set_version_flag("--version", "crossmove " CROSSMOVE_VERSION " (git " CROSSMOVE_REVISION ")",
                       "print the version and the git revision it was built from, and exit");
  app.fallthrough();
  std::string config_path;
  app.add_option("--config", config_path,
                 "TOML config file (default: $CROSSMOVE_CONFIG, else ./crossmove.toml)");
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
    int code = app.exit(e);
    return code == 0 ? 0 : cm::kExitUsage;
  }

  cm::Console console{std::cout, std::cerr, UseColor()};
  cm::Problems problems;
  cm::Settings settings;
  if (config_path.empty()) {
    if (const char* env = std::getenv("CROSSMOVE_CONFIG")) config_path = env;
  }
  if (config_path.empty() && std::filesystem::exists("crossmove.toml"))
    config_path = "crossmove.toml";
  bool json_wanted = plan_options.json || run_options.json;
  if (!config_path.empty()) {
    if (!std::filesystem::exists(config_path)) {
      cm::PrintError(fmt::format("config file {} does not exist", config_path), json_wanted,
                     console);
      return cm::kExitUsage;
    }
    if (cm::Status s = settings.LoadToml(config_path, problems); !s.ok()) {
      cm::PrintError(s.message(), json_wanted, console);
      return cm::kExitUsage;
    }
  }
  settings.LoadEnvironment(environ);
  for (const auto& [key, option] : flag_options) {
    if (option->count() == 0) continue;
    std::string value = IsBooleanKey(key) ? "true" : flag_values[key];
    settings.Set(key, value, cm::FlagNameOf(key));
  }
  if (config_path.empty() && !settings.Get("source.gc") && !settings.Get("target.gc")) {
    // Nothing says where either organization is: one line on what was looked for, not a
    // "not set" for every setting a config file would have given.
    cm::PrintError(
        "no config file: ./crossmove.toml does not exist and CROSSMOVE_CONFIG is not set; name "
        "one with --config FILE (examples/crossmove.toml is a complete one)",
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
