// The commands behind the CLI, written against streams so tests and the CLI share them.
#pragma once

#include <ostream>
#include <string>

#include "app/export.h"
#include "input/config.h"

namespace cm {

// SPEC §9.
enum ExitCode : int {
  kExitOk = 0,
  kExitSomeFailed = 1,
  kExitUsage = 2,        // usage or validation error
  kExitUnreachable = 3,  // cannot reach a server / open a directory
  kExitBusy = 4,         // another run holds the journal; nothing was done (docs/DECISIONS.md)
  kExitInterrupted = 5,  // SIGINT / SIGTERM: stopped at a safe point, report written; rerun resumes
  // Nothing failed, but mailboxes wait for an operator's approval (the deletions guard, the
  // Investigate grade): a cron job tells "done" from "someone must look" by the code alone.
  kExitNeedsApproval = 6,
};

struct Console {
  std::ostream& out;
  std::ostream& err;
  bool color = false;
};

struct PlanOptions {
  bool json = false;
  std::string ldif;  // PATH: writes PATH-without-.ldif + ".target.ldif" / ".source.ldif"
};

// `plan` (-ValidateOnly / -WhatIf): validates everything, prints every change, writes nothing
// but the requested LDIF files (and those only when validation passed).
int RunPlan(const Config& config, const PlanOptions& options, Console console);
int RunExport(const Config& config, const ExportOptions& options, Console console);

// "cannot reach a directory: ..." and exit code 3.
int Unreachable(const Status& s, Console console, bool json = false);
// Prints problems as "crossmove: N problems; nothing was written" plus one line each.
void PrintProblems(const Problems& problems, Console console);
// PrintProblems, and for --json the same problems as {"problems": [...]} on stdout; kExitUsage.
int ReportProblems(const Problems& problems, bool json, Console console);
// An error that ends a command: "crossmove: MESSAGE" on stderr (one line each) and, for
// --json, {"error": MESSAGE} on stdout, so a program reading the output learns why too.
void PrintError(std::string_view message, bool json, Console console);

}  // namespace cm
