// The migration report (SPEC §9): CSV for spreadsheets, a self-contained HTML page for people
// (summary, per-mailbox table with failures first, throughput of the run as an inline SVG
// chart). Its rows come from the journal — every mailbox ever in it, with what all runs together
// copied — so the report of a resumed run is the whole migration's, not the resume's.
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
  bool interrupted = false;                // this run stopped it at a safe point (SIGINT / SIGTERM)
  std::string first_step = {};  // when its move began and last went on, over every run (UTC)
  std::string last_step = {};
  // Staged moves (issue 13): the lifecycle stage (queued, syncing, synced, completing,
  // completed, failed, suspended, rolled-back), the consistency grade, and what a mailbox that
  // stopped before completion waits for ("synced: completes after ...").
  std::string stage = {};
  std::string grade = {};
  std::string waiting = {};
  // Old addresses its Delete* cleanup leaves without an owner (bounces.h), once it has run or
  // when it will: mail to the SMTP ones bounces; replies to old mail by X500 fail.
  size_t bouncing_smtp = 0;
  size_t bouncing_x500 = 0;
};

// A mailbox `crossmove forget` took out of the journal (so that a later run moves it again):
// the report keeps what it was, since its row of the migration is gone.
struct ForgottenRow {
  std::string identity, source_dn;
  std::string state;  // when it was forgotten ("rolled-back")
  uint64_t messages = 0, bytes = 0;
  std::string first_step, last_step, forgotten_at;
};

struct ThroughputSample {
  double elapsed;     // seconds since the run started
  uint64_t messages;  // copied so far in this run
};

// What writes the reports: "crossmove 1.2.0 (git abc1234)", set once by main (the version header
// is the executable's, rebuilt at every commit; the library does not include it).
void SetReportingTool(std::string tool);
const std::string& ReportingTool();

struct RunReport {
  std::string title;
  std::string organizations;  // "source DC=fabrikam,DC=test -> target DC=contoso,DC=test"
  std::string cleanup;        // the run's cleanup option
  std::string started;        // the migration's first run (ISO 8601 UTC)
  std::string written;        // this report
  std::string written_by;     // ReportingTool() on the host that ran it

  std::vector<ReportRow> rows;
  std::vector<ThroughputSample> samples;
  double seconds = 0;
  // Wall-clock seconds during which some mailbox was copying, over every run
  // (Journal::CopyingSeconds): with the rows' bytes of all runs, the migration's throughput.
  // 0 when not known; the report then says so instead of dividing this run's time into it.
  double copying_seconds = 0;
  std::string grade = {};  // the batch's consistency grade: the worst of its mailboxes
  std::vector<ForgottenRow> forgotten = {};  // oldest first; a row of its own in the CSV
};

// What verification says of a mailbox, from its journaled state and failure: "content and
// routing verified", "content verified", "content FAILED" ..., "not yet".
std::string VerifyResult(const ReportRow& row);

// Writes BASE.csv and BASE.html.
Status WriteReport(const std::string& base, const RunReport& report);

// The dated name of a run's report beside BASE ("BASE-20261202-014512"), one no earlier report
// has (a suffix "-2", "-3" ... when two runs end in one second), so none is overwritten.
std::string DatedReportBase(const std::string& base);

// Rows in reading order: failures first, then mailboxes skipped, then the rest (each in
// users-file order).
void FailuresFirst(std::vector<ReportRow>& rows);

}  // namespace cm
