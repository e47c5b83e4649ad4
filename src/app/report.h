// The per-run report (SPEC §9): CSV for spreadsheets, a self-contained HTML page for people
// (summary, per-mailbox table, throughput over time as an inline SVG chart).
#pragma once

#include <string>
#include <vector>

#include "core/status.h"

namespace cm {

struct ReportRow {
  std::string identity;
  std::string source_dn;
  std::string target_dn;
  std::string target_primary_smtp;
  std::string cleanup;
  std::string state;
  std::string failure;  // "step: reason", "" when none
  uint64_t messages = 0;
  uint64_t bytes = 0;
  double seconds = 0;
  std::vector<std::string> refused = {};
  // Held by another live run, so this run left it alone (not a failure): "... is being moved by
  // run 3 (pid 123 on host) since ...".
  std::string skipped = {};
  std::vector<std::string> repaired = {};  // "folder key": copied again after a failed verification
};

struct ThroughputSample {
  double elapsed;     // seconds since the run started
  uint64_t messages;  // copied so far in this run
};

struct RunReport {
  std::string title;
  std::vector<ReportRow> rows;
  std::vector<ThroughputSample> samples;
  double seconds = 0;
};

// Writes BASE.csv and BASE.html.
Status WriteReport(const std::string& base, const RunReport& report);

}  // namespace cm
