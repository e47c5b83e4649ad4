// The migration report as the journal has it (SPEC §9): every command that changes what the
// journal says of a mailbox (`run`, `complete`, `rollback`, `forget`) writes it again, so the
// latest report is never older than the journal. Rows of mailboxes a command did not handle
// itself are built here from the journal alone.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "app/bounces.h"
#include "app/preflight.h"
#include "app/report.h"
#include "core/consistency_grade.h"
#include "input/config.h"
#include "journal/journal.h"

namespace cm {

class MigrationReportBuilder {
 public:
  // `domains`: the accepted domains the bounce counts are made with (bounces.h DomainsOf).
  MigrationReportBuilder(Journal& journal, const Config& config, AcceptedDomains domains);

  // The journal's part of a row a command filled itself: every refusal of every run, the old
  // addresses a Delete* cleanup leaves to bounce (when its snapshot and plan are known), the
  // lifecycle stage and the grade.
  void Annotate(ReportRow& row, const JournalMailbox& jm, const Snapshot* snapshot,
                const MailboxPlan* plan);
  // The row with what every run together did: messages and bytes copied, step times.
  ReportRow Cumulative(ReportRow row, int64_t mailbox) const;
  // Adds a row for every mailbox of the journal not in `reported` (their plans from `loaded`,
  // where loaded), the forgotten ones, puts failures first and sets the cleanup line and the
  // batch's grade.
  void Finish(RunReport& report, const std::set<int64_t>& reported,
              const std::vector<JournaledMove>& loaded);
  const std::optional<ConsistencyGrade>& batch_grade() const { return batch_grade_; }

 private:
  Journal& journal_;
  const Config& config_;
  AcceptedDomains domains_;
  Result<std::map<int64_t, Journal::CopiedTotal>> totals_;
  Result<std::map<int64_t, Journal::StepSpan>> spans_;
  Result<std::map<int64_t, MailboxStage>> stages_;
  std::optional<ConsistencyGrade> batch_grade_;
};

// A report's header: title, organizations, dates, tool.
RunReport NewMigrationReport(Journal& journal, const Config& config, std::string title,
                             std::string organizations);
// Writes the report as the latest and, with `dated`, as this command's dated copy; returns the
// two base names (latest, dated; "" when none). A failure to write is said on `err`: the
// migration itself is not undone.
std::pair<std::string, std::string> WriteMigrationReport(const Config& config,
                                                         const RunReport& report, std::ostream& err,
                                                         bool dated = true);

// The whole report from the journal, as a command that moved nothing itself (`rollback`,
// `forget`) leaves it: written as the latest and dated, problems said on `err`.
// `organizations` as the header shows them ("" names the configured bases, or the URLs).
void RewriteMigrationReport(Journal& journal, const Config& config, const std::string& why,
                            std::ostream& err, std::string organizations = "");

}  // namespace cm
