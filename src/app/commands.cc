#include "app/commands.h"

#include <fmt/format.h>

#include <map>

#include "app/bounces.h"
#include "app/journal_access.h"
#include "app/lifecycle.h"
#include "app/mail_stores.h"
#include "app/organizations.h"
#include "app/plan_output.h"
#include "app/preflight.h"
#include "app/validator.h"
#include "core/strings.h"
#include "core/timestamp.h"
#include "io/file.h"

namespace cm {

int Unreachable(const Status& s, Console console, bool json) {
  PrintError("cannot reach a directory: " + s.message(), json, console);
  return kExitUnreachable;
}

void PrintProblems(const Problems& problems, Console console) {
  console.err << fmt::format("crossmove: {} found; nothing was written:\n",
                             CountOf(problems.size(), "problem"));
  for (const auto& p : problems) console.err << "  " << p.ToString() << "\n";
}

void PrintError(std::string_view message, bool json, Console console) {
  if (json) console.out << nlohmann::json{{"error", message}}.dump(2) << "\n";
  for (const auto& line : Split(message, '\n')) console.err << "crossmove: " << line << "\n";
}

int ReportProblems(const Problems& problems, bool json, Console console) {
  if (json) console.out << nlohmann::json{{"problems", ProblemsToJson(problems)}}.dump(2) << "\n";
  PrintProblems(problems, console);
  return kExitUsage;
}

namespace {

std::vector<JournaledRow> JournaledRows(const Config& config, const Preflight& pre) {
  // Stages and grades from the journal (read-only); without them the rows still show states.
  std::unique_ptr<Journal> journal;
  if (!pre.resumed.empty()) {
    if (auto opened = OpenJournal(config, JournalMode::kReadOnly); opened.ok())
      journal = std::move(*opened);
  }
  using Stages = std::map<int64_t, MailboxStage>;
  using Totals = std::map<int64_t, Journal::CopiedTotal>;
  Result<Stages> stages = journal ? journal->Stages() : Result<Stages>(Stages{});
  Result<Totals> totals = journal ? journal->CopiedTotals() : Result<Totals>(Totals{});
  std::vector<JournaledRow> out;
  for (size_t i : pre.resumed) {
    const JournaledMove& m = pre.journaled[i];
    JournaledRow row{m.jm.identity,
                     m.jm.line,
                     m.plan.alias,
                     m.plan.target_dn,
                     std::string(ToString(m.jm.state)),
                     std::string(NextStepName(m.jm.state)),
                     m.jm.failed() ? fmt::format("{}: {}", m.jm.failed_step, m.jm.reason) : "",
                     "",
                     ""};
    if (journal && stages.ok() && totals.ok()) {
      auto st = stages->find(m.jm.id);
      MailboxStage stage = st == stages->end() ? MailboxStage{} : st->second;
      row.stage = ToString(StageOf(m.jm, stage));
      if (!m.jm.failed()) {
        int64_t now = UnixNow();
        row.completion = m.jm.state == MailboxState::kPending
                             ? ScheduleNote(stage, now)
                             : CompletionNote(m.jm.state, stage, now);
        // A synced mailbox that does not complete now is synced again when its interval (as
        // this command's settings give it, as `run` would use them) has passed.
        if (m.jm.state == MailboxState::kContentVerified && !stage.suspended &&
            !CompletionDue(stage, now)) {
          int64_t next = stage.last_sync + config.incremental_sync_interval_seconds;
          row.completion += next <= now ? "; the next run syncs it again"
                                        : "; next sync after " + FormatIsoTime(next);
        }
      }
      auto copied = totals->find(m.jm.id);
      auto refused = journal->RefusedMessages(m.jm.id);
      row.grade =
          ToString(MailboxGrade(copied == totals->end() ? Journal::CopiedTotal{} : copied->second,
                                refused.ok() ? refused->size() : 0));
    }
    out.push_back(std::move(row));
  }
  return out;
}

}  // namespace

int RunPlan(const Config& config, const PlanOptions& options, Console console) {
  Problems problems;
  Preflight pre;
  std::optional<Status> fatal;
  // The very validation `run` makes (app/preflight.h), so a plan that passes is a run that
  // starts, and one made after a run shows what the journal has done.
  if (!PrepareRun(config, /*for_run=*/false, console.err, pre, problems, fatal)) {
    if (fatal) {
      if (fatal->code() == Status::Code::kUnavailable)
        return Unreachable(*fatal, console, options.json);
      PrintError(fatal->message(), options.json, console);
      return kExitUsage;
    }
    int code = ReportProblems(problems, options.json, console);
    return pre.unreachable ? kExitUnreachable : code;
  }
  // What `run` would give each new row: its schedule, or the one journaled with a mailbox the
  // journal has registered but not yet snapshotted (queued by an earlier run).
  {
    std::map<std::string, MailboxStage, ILess> registered;
    if (auto exists = JournalExists(config); exists.ok() && *exists) {
      if (auto journal = OpenJournal(config, JournalMode::kReadOnly); journal.ok()) {
        auto all = (*journal)->All();
        auto stages = (*journal)->Stages();
        if (all.ok() && stages.ok()) {
          for (const auto& jm : *all) {
            if (auto st = stages->find(jm.id); st != stages->end())
              registered[jm.identity] = st->second;
          }
        }
      }
    }
    for (PlannedMailbox& m : pre.batch.mailboxes) {
      auto it = registered.find(JournalIdentity(pre.batch.identity_column, m.row.identity));
      bool kept = false;
      MailboxStage schedule =
          EffectiveSchedule(config, m.row, it == registered.end() ? nullptr : &it->second,
                            MailboxState::kPending, kept);
      m.schedule = ScheduleNote(schedule, UnixNow());
    }
  }
  const Batch& batch = pre.batch;
  std::vector<JournaledRow> journaled = JournaledRows(config, pre);

  if (!options.ldif.empty()) {
    std::string base = options.ldif;
    if (IEndsWith(base, ".ldif")) base.resize(base.size() - 5);
    for (Side side : {Side::kTarget, Side::kSource}) {
      std::string path = fmt::format("{}.{}.ldif", base, ToString(side));
      if (Status s = WriteFileAtomically(path, PlanToLdif(batch, side)); !s.ok()) {
        console.err << "crossmove: " << s.message() << "\n";
        return kExitUsage;
      }
      console.err << fmt::format("wrote {} changes to {}\n", ToString(side), path);
    }
  }
  std::vector<MailboxPlan> plans;
  for (const auto& m : batch.mailboxes) plans.push_back(m.plan);
  for (size_t i : pre.resumed) plans.push_back(pre.journaled[i].plan);
  AcceptedDomains domains = DomainsOf(config, plans);
  BounceCount bounces;
  std::vector<BouncingAddresses> planned_bounces, journaled_bounces;
  for (const auto& m : batch.mailboxes) {
    planned_bounces.push_back(AddressesThatWillBounce(m.source, m.plan, domains, config.profile));
    bounces.Add(planned_bounces.back(), m.plan.cleanup);
  }
  // A journaled mailbox not cleaned up yet (synced, waiting for `complete`, interrupted) will
  // be: the warning `run` and `complete` give covers it, so the preview does too.
  for (size_t i : pre.resumed) {
    const JournaledMove& m = pre.journaled[i];
    journaled_bounces.push_back(
        m.jm.state < MailboxState::kSourceCleaned
            ? AddressesThatWillBounce(m.snapshot.source, m.plan, domains, config.profile)
            : BouncingAddresses{});
    bounces.Add(journaled_bounces.back(), m.plan.cleanup);
  }
  if (options.json) {
    nlohmann::json plan = PlanToJson(batch, journaled, problems);
    // PlanToJson lists both in the order of batch.mailboxes and pre.resumed.
    for (size_t k = 0; k < planned_bounces.size(); ++k)
      plan["mailboxes"][k]["addresses_that_will_bounce"] = planned_bounces[k];
    for (size_t k = 0; k < journaled_bounces.size(); ++k)
      plan["journaled"][k]["addresses_that_will_bounce"] = journaled_bounces[k];
    plan["addresses_that_will_bounce"] = bounces.addresses;
    console.out << plan.dump(2) << "\n";
  } else {
    console.out << FormatPlanText(batch, journaled, config.profile, console.color);
  }
  if (std::string warning = BounceWarning(bounces); !warning.empty())
    console.err << "crossmove: " << warning << "\n";
  return kExitOk;
}

int RunExport(const Config& config, const ExportOptions& given, Console console) {
  ExportOptions options = given;
  if (options.json) options.format = "json";
  // A program that asked for JSON reads the errors from stdout as JSON too.
  bool json = options.format == "json";
  Problems problems;
  if (options.format != "csv" && options.format != "json") {
    problems.push_back({"", 0, "--format", fmt::format("'{}' is not csv or json", options.format)});
  }
  if (options.separator.empty() || options.separator == "\\") {
    problems.push_back({"", 0, "--separator", "must be a non-empty string other than a backslash"});
  }
  if (options.side != "source" && options.side != "target") {
    problems.push_back(
        {"", 0, "--side", fmt::format("'{}' is not source or target", options.side)});
  }
  std::vector<Filter> parts;
  if (!options.filter.empty()) {
    auto f = Filter::Parse(options.filter);
    if (!f.ok()) {
      problems.push_back({"", 0, "--filter", f.status().message()});
    } else {
      parts.push_back(std::move(*f));
    }
  }
  if (!options.identity.empty()) {
    // A wildcard: '*' matches anything; every other character is literal.
    auto pieces = Split(options.identity, '*');
    const AttributeProfile& p = config.profile;
    std::vector<Filter> any;
    for (const std::string& attr :
         {p.cn, p.display_name, p.mail_nickname, p.sam_account_name, p.mail}) {
      if (pieces.size() == 1) {
        any.push_back(Filter::Eq(attr, options.identity));
      } else {
        std::vector<std::string> middle(pieces.begin() + 1, pieces.end() - 1);
        std::erase_if(middle, [](const std::string& s) { return s.empty(); });
        any.push_back(Filter::Substring(attr, pieces.front(), middle, pieces.back()));
      }
    }
    parts.push_back(Filter::Or(std::move(any)));
  }
  // Export reads only one side, but both are opened so that a config typo fails the same way.
  auto orgs = OpenOrganizations(config, /*read_only=*/true, problems);
  if (!orgs.ok() && orgs.status().code() == Status::Code::kUnavailable)
    return Unreachable(orgs.status(), console, json);
  if (!problems.empty() || !orgs.ok()) return ReportProblems(problems, json, console);
  Directory& dir = options.side == "source" ? *orgs->source : *orgs->target;
  std::string base = options.side == "source" ? orgs->source_base : orgs->target_base;
  Filter filter = parts.empty()       ? Filter::Present("objectClass")
                  : parts.size() == 1 ? parts.front()
                                      : Filter::And(parts);
  auto found = dir.Search(base, Scope::kSubtree, filter);
  if (!found.ok()) {
    PrintError(found.status().message(), json, console);
    return kExitUsage;
  }
  std::erase_if(*found, [&](const Entry& e) {
    RecipientKind k = Recipient(e, config.profile).kind();
    if (options.all_recipients)
      return k == RecipientKind::kUser || k == RecipientKind::kContact ||
             k == RecipientKind::kOther;
    return k != RecipientKind::kMailbox;
  });
  std::string text = options.format == "json"
                         ? ExportJson(*found, config.profile)
                         : ExportCsv(*found, config.profile, options.separator);
  if (options.output.empty()) {
    console.out << text;
  } else if (Status s = WriteFileAtomically(options.output, text); !s.ok()) {
    PrintError(s.message(), json, console);
    return kExitUsage;
  }
  console.err << fmt::format("exported {}\n", CountOf(found->size(), "recipient"));
  return kExitOk;
}

}  // namespace cm
