#include "app/migration_report.h"

#include <fmt/format.h>

#include <map>

#include "app/lifecycle.h"
#include "core/planner.h"
#include "core/strings.h"
#include "core/timestamp.h"
#include "journal/run_lock.h"

namespace cm {

namespace {

// The report's cleanup line: the configured option, or, where users-file rows chose their own,
// how many mailboxes had which (the header must not claim one option for all of them).
std::string CleanupSummary(const std::string& configured, const std::vector<ReportRow>& rows) {
  auto parsed = ParseCleanupOption(configured);
  std::string default_option = parsed.ok() ? std::string(ToString(*parsed)) : configured;
  std::map<std::string, size_t> by_option;
  for (const auto& r : rows) {
    if (!r.cleanup.empty()) ++by_option[r.cleanup];
  }
  if (by_option.empty() || (by_option.size() == 1 && by_option.begin()->first == default_option))
    return default_option;
  std::vector<std::string> parts;
  for (const auto& [option, n] : by_option)
    parts.push_back(fmt::format("{} for {}", option, CountOf(n, "mailbox")));
  return fmt::format("{} (users-file rows choose their own; the default is {})", Join(parts, ", "),
                     default_option);
}

}  // namespace

MigrationReportBuilder::MigrationReportBuilder(Journal& journal, const Config& config,
                                               AcceptedDomains domains)
    : journal_(journal),
      config_(config),
      domains_(std::move(domains)),
      totals_(journal.CopiedTotals()),
      spans_(journal.StepSpans()),
      stages_(journal.Stages()) {}

void MigrationReportBuilder::Annotate(ReportRow& row, const JournalMailbox& jm,
                                      const Snapshot* snapshot, const MailboxPlan* plan) {
  // What each Delete* cleanup leaves to bounce (not once rolled back: its addresses are its
  // source's again).
  if (snapshot && plan && jm.state != MailboxState::kRolledBack) {
    BouncingAddresses b =
        AddressesThatWillBounce(snapshot->source, *plan, domains_, config_.profile);
    row.bouncing_smtp = b.smtp;
    row.bouncing_x500 = b.x500;
  }
  if (auto refused = journal_.RefusedMessages(jm.id); refused.ok())
    row.refused = std::move(*refused);
  MailboxStage stage;
  if (stages_.ok()) {
    if (auto it = stages_->find(jm.id); it != stages_->end()) stage = it->second;
  }
  // The mailbox as the journal has it now (a command may have moved it on since it loaded it).
  auto fresh = journal_.Find(jm.identity);
  const JournalMailbox& now = fresh.ok() && *fresh ? **fresh : jm;
  row.stage = std::string(ToString(StageOf(now, stage)));
  if (!IsGraded(now)) return;
  Journal::CopiedTotal copied;
  if (totals_.ok()) {
    if (auto t = totals_->find(jm.id); t != totals_->end()) copied = t->second;
  }
  ConsistencyGrade grade = MailboxGrade(copied, row.refused.size());
  row.grade = std::string(ToString(grade));
  batch_grade_ = batch_grade_ ? Worst(*batch_grade_, grade) : grade;
}

ReportRow MigrationReportBuilder::Cumulative(ReportRow row, int64_t mailbox) const {
  if (spans_.ok()) {
    if (auto s = spans_->find(mailbox); s != spans_->end()) {
      row.first_step = s->second.first;
      row.last_step = s->second.last;
      row.seconds = s->second.seconds;
    }
  }
  if (!totals_.ok()) return row;
  auto t = totals_->find(mailbox);
  row.messages = t == totals_->end() ? 0 : t->second.messages;
  row.bytes = t == totals_->end() ? 0 : t->second.bytes;
  return row;
}

void MigrationReportBuilder::Finish(RunReport& report, const std::set<int64_t>& reported,
                                    const std::vector<JournaledMove>& loaded) {
  // Mailboxes this command did not handle (other users files, earlier runs) keep their line.
  if (auto everyone = journal_.All(); everyone.ok()) {
    std::map<int64_t, const JournaledMove*> plans;
    for (const auto& l : loaded) plans[l.jm.id] = &l;
    for (const auto& jm : *everyone) {
      if (reported.count(jm.id)) continue;
      ReportRow row{jm.identity,
                    jm.source_dn,
                    "",
                    "",
                    "",
                    std::string(ToString(jm.state)),
                    jm.failed() ? fmt::format("{}: {}", jm.failed_step, jm.reason) : "",
                    0,
                    0,
                    0,
                    {},
                    ""};
      if (auto p = plans.find(jm.id); p != plans.end()) {
        row.target_dn = p->second->plan.target_dn;
        row.target_primary_smtp = p->second->plan.target_primary_smtp;
        row.cleanup = std::string(ToString(p->second->plan.cleanup));
        Annotate(row, jm, &p->second->snapshot, &p->second->plan);
      } else {
        Annotate(row, jm, nullptr, nullptr);
      }
      report.rows.push_back(Cumulative(std::move(row), jm.id));
    }
  }
  if (auto forgotten = journal_.Forgotten(); forgotten.ok()) {
    for (auto& f : *forgotten) {
      report.forgotten.push_back({std::move(f.identity), std::move(f.source_dn), std::move(f.state),
                                  f.messages, f.bytes, std::move(f.first_step),
                                  std::move(f.last_step), std::move(f.forgotten_at)});
    }
  }
  FailuresFirst(report.rows);
  report.cleanup = CleanupSummary(config_.cleanup, report.rows);
  if (batch_grade_) report.grade = std::string(ToString(*batch_grade_));
}

RunReport NewMigrationReport(Journal& journal, const Config& config, std::string title,
                             std::string organizations) {
  RunReport report{std::move(title),
                   std::move(organizations),
                   config.cleanup,
                   "",
                   UtcNow(),
                   fmt::format("{} on {}", ReportingTool(), HostName()),
                   {},
                   {},
                   0};
  if (auto started = journal.FirstRunStarted(); started.ok()) report.started = *started;
  if (auto copying = journal.CopyingSeconds(); copying.ok()) report.copying_seconds = *copying;
  return report;
}

std::pair<std::string, std::string> WriteMigrationReport(const Config& config,
                                                         const RunReport& report, std::ostream& err,
                                                         bool dated) {
  // Every command keeps its dated report; the configured name is the latest.
  std::string latest = config.report.empty() ? config.JournalStem() + ".report" : config.report;
  std::string dated_base = dated ? DatedReportBase(latest) : "";
  for (const std::string& base : {dated_base, latest}) {
    if (base.empty()) continue;
    if (Status s = WriteReport(base, report); !s.ok()) err << "crossmove: " << s.message() << "\n";
  }
  return {latest, dated_base};
}

void RewriteMigrationReport(Journal& journal, const Config& config, const std::string& why,
                            std::ostream& err, std::string organizations) {
  auto loaded = LoadJournaledMoves(journal);
  if (!loaded.ok()) {
    err << "crossmove: the report was not written again: " << loaded.status().message() << "\n";
    return;
  }
  std::vector<MailboxPlan> plans;
  for (const auto& l : *loaded) plans.push_back(l.plan);
  MigrationReportBuilder builder(journal, config, DomainsOf(config, plans));
  if (organizations.empty()) {
    organizations = fmt::format("source {} -> target {}",
                                config.source.base.empty() ? config.source.gc : config.source.base,
                                config.target.base.empty() ? config.target.gc : config.target.base);
  }
  RunReport report = NewMigrationReport(
      journal, config, fmt::format("crossmove migration report: {} ({})", config.users_file, why),
      std::move(organizations));
  builder.Finish(report, {}, *loaded);
  WriteMigrationReport(config, report, err);
}

}  // namespace cm
