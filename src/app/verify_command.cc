// `verify` (SPEC §7): where every old address of every journaled mailbox lands now, against
// what its state and cleanup predict; mail left behind in old mailboxes; optionally what a real
// MTA answers. Reads only.
#include <fmt/format.h>

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "app/continuity.h"
#include "app/journal_access.h"
#include "app/journal_commands.h"
#include "app/mail_stores.h"
#include "app/organizations.h"
#include "core/strings.h"
#include "journal/journal.h"
#include "mta/smtp_probe.h"

namespace cm {

namespace {

// Messages still in the old mailbox of a move that was cleaned up, which no pass copied: mail
// the old organization delivered after the last sweep. "folder key" each.
Result<std::vector<std::string>> LeftBehind(const MailStores& stores, Journal& journal,
                                            const JournaledMove& l) {
  std::vector<std::string> out;
  auto store = stores.OpenSource(l.snapshot.source, l.snapshot.store);
  if (!store.ok()) return store.status();
  auto folders = (*store)->ListFolders();
  if (!folders.ok()) return folders.status();
  auto map = journal.MessagesOf(l.jm.id);
  for (const auto& f : *folders) {
    if (!f.selectable || f.messages == 0) continue;
    auto recorded = map->Load(f.Name());
    if (!recorded.ok()) return recorded.status();
    auto messages = (*store)->ListMessages(f, Detail::kNames);
    if (!messages.ok()) return messages.status();
    for (const auto& m : *messages) {
      if (!recorded->count(m.key)) out.push_back(fmt::format("{} {}", f.Name(), m.key));
    }
  }
  return out;
}

}  // namespace

int RunVerify(const Config& config, const RunOptions& options, Console console) {
  Problems problems;
  auto orgs = OpenOrganizations(config, /*read_only=*/true, problems);
  if (!orgs.ok() && orgs.status().code() == Status::Code::kUnavailable)
    return Unreachable(orgs.status(), console, options.json);
  MailStores stores = MailStores::Load(config, problems, console.err);
  if (!problems.empty() || !orgs.ok()) return ReportProblems(problems, options.json, console);
  auto opened =
      OpenExistingJournal(config, console, ": verify checks the mailboxes a run snapshotted",
                          /*read_only=*/true, options.json);
  if (!opened) return kExitUsage;
  auto chosen =
      ChooseSnapshotted(*opened, options.identities, "verify", config, options.json, console);
  if (!chosen) return kExitUsage;
  const std::vector<JournaledMove>* loaded = &opened->mailboxes;
  std::vector<Snapshot> snapshots;
  std::vector<MailboxPlan> plans;
  for (const auto& l : *loaded) {
    snapshots.push_back(l.snapshot);
    plans.push_back(l.plan);
  }
  auto model = BuildModel(*orgs, config, snapshots, plans);
  if (!model.ok()) {
    console.err << "crossmove: " << model.status().message() << "\n";
    return kExitUnreachable;
  }
  // The model holds every journaled mailbox (accepted domains default to theirs); only the
  // chosen ones are checked.
  std::vector<JournaledMove> checked;
  std::vector<std::vector<AddressCheck>> checks;
  for (size_t i : *chosen) {
    const JournaledMove& l = opened->mailboxes[i];
    checked.push_back(l);
    checks.push_back(CheckContinuity(*model, l.jm, l.snapshot, l.plan, config.profile));
  }
  loaded = &checked;
  // The real MTA's answer for every SMTP address, to set against the model's.
  std::map<std::string, RcptAnswer, ILess> mta;
  if (!options.mta.empty()) {
    std::vector<std::string> asked;
    for (const auto& mailbox : checks) {
      for (const auto& c : mailbox) {
        if (!c.address.starts_with("X500:") && !mta.count(c.address)) {
          mta[c.address] = {};
          asked.push_back(c.address);
        }
      }
    }
    auto answers = ProbeRecipients(options.mta, asked, TlsOptions{}, 30);
    if (!answers.ok()) {
      console.err << "crossmove: --mta: " << answers.status().message() << "\n";
      return answers.status().code() == Status::Code::kUnavailable ? kExitUnreachable : kExitUsage;
    }
    for (auto& a : *answers) mta[a.address] = std::move(a);
  }
  // at_old: addresses that, as their state says they should, still reach the old mailbox (not
  // moved yet, rolled back, or moved with cleanup None: the last are the warnings).
  size_t at_old = 0;
  size_t unexpected = 0, warnings = 0, addresses = 0, disagreements = 0, left_behind = 0,
         unchecked = 0, ndr = 0, ndr_expected = 0, ndr_x500 = 0;
  std::set<std::string> ndr_options;  // the cleanups whose bounces are expected
  nlohmann::json out = nlohmann::json::array();
  for (size_t i = 0; i < loaded->size(); ++i) {
    const JournaledMove& l = (*loaded)[i];
    size_t bad = 0, bad_addresses = 0;
    nlohmann::json rows = nlohmann::json::array();
    std::string text;
    for (const auto& c : checks[i]) {
      ++addresses;
      bad_addresses += !c.as_expected;
      if (!c.route.delivered() && c.route.outcome != RouteOutcome::kExternal) {
        // Expected under a cleanup that leaves no forwarder, but counted and shown all the same.
        ++ndr;
        ndr_x500 += c.address.starts_with("X500:");
        ndr_expected += c.as_expected;
        if (c.as_expected) ndr_options.insert(std::string(ToString(l.plan.cleanup)));
      }
      warnings += c.warning;
      at_old += c.as_expected && c.expected == "old mailbox";
      const RouteHop* last = c.route.final_hop();
      std::string where = c.route.delivered() && last ? fmt::format("{} {}", last->org, last->dn)
                          : c.route.outcome == RouteOutcome::kExternal
                              ? c.route.detail
                              : fmt::format("{} {}", NdrCode(c.route.outcome), c.route.detail);
      nlohmann::json row = {{"address", c.address},
                            {"outcome", ToString(c.route.outcome)},
                            {"lands", where},
                            {"expected", c.expected},
                            {"as_expected", c.as_expected}};
      std::string mta_note;
      if (auto it = mta.find(c.address); it != mta.end()) {
        // The model delivers or forwards: the MTA must take the address; an NDR: refuse it.
        bool agrees = c.route.delivered() ? it->second.accepted() : it->second.rejected();
        disagreements += !agrees;
        bad_addresses += !agrees && c.as_expected;
        row["mta"] = {{"code", it->second.code}, {"text", it->second.text}, {"agrees", agrees}};
        mta_note = fmt::format("  [MTA: {} {}{}]", it->second.code, it->second.text,
                               agrees ? "" : " DISAGREES");
      }
      rows.push_back(std::move(row));
      text += fmt::format("    {:<4} {:<60} -> {}{}\n",
                          c.as_expected ? (c.warning ? "warn" : "ok") : "FAIL", c.address, where,
                          mta_note);
    }
    bad += bad_addresses;
    // After a cleanup that forwards or removes the old mailbox, nothing may be left in it.
    nlohmann::json behind = nlohmann::json::array();
    bool cleaned =
        l.jm.state == MailboxState::kSourceCleaned || l.jm.state == MailboxState::kRoutingVerified;
    if (cleaned && l.plan.cleanup != CleanupOption::kNone) {
      auto found = LeftBehind(stores, *opened->journal, l);
      if (!found.ok()) {
        // Once its account or mailbox attributes are gone, a server may no longer open it.
        ++unchecked;
        text += fmt::format("    warn cannot look for mail left in the old mailbox: {}\n",
                            found.status().message());
      } else {
        for (const auto& m : *found) behind.push_back(m);
      }
      if (!behind.empty()) {
        ++bad;
        left_behind += behind.size();
        text += fmt::format("    {} left behind in the old mailbox: {}\n",
                            CountOf(behind.size(), "message"), behind.dump());
      }
    }
    unexpected += bad;
    out.push_back({{"identity", l.jm.identity},
                   {"state", ToString(l.jm.state)},
                   {"cleanup", ToString(l.plan.cleanup)},
                   {"addresses", rows},
                   {"left_behind", behind}});
    if (!options.json) {
      const auto& first = checks[i];
      console.out << fmt::format(
          "{} [{}, {}]: {} of {} addresses as expected ({})\n", l.jm.identity, ToString(l.jm.state),
          ToString(l.plan.cleanup), first.size() - bad_addresses, first.size(),
          bad                                  ? "UNEXPECTED"
          : first.empty() || !first[0].warning ? first.empty() ? "-" : first[0].expected
                                               : "still the old mailbox");
      if (bad || !options.identities.empty()) console.out << text;
    }
  }
  if (options.json) {
    nlohmann::json summary = {{"mailboxes", out},
                              {"unexpected", unexpected},
                              {"warnings", warnings},
                              {"at_old_mailbox", at_old},
                              {"left_behind", left_behind},
                              {"ndr", ndr},
                              {"ndr_smtp", ndr - ndr_x500},
                              {"ndr_x500", ndr_x500},
                              {"ndr_expected", ndr_expected},
                              {"old_mailboxes_unchecked", unchecked}};
    if (!options.mta.empty()) summary["mta_disagreements"] = disagreements;
    console.out << summary.dump(2) << "\n";
  } else {
    // SMTP and X500 apart: an X500 address bounces only replies to old mail (SPEC §6).
    std::string kinds = fmt::format("{} SMTP, {} X500", ndr - ndr_x500, ndr_x500);
    std::string bounces =
        !ndr ? "0 bounce"
        : ndr == ndr_expected
            ? fmt::format(
                  "{} bounce (NDR; {}; expected: {} leaves no forwarding object)", ndr, kinds,
                  Join(std::vector<std::string>(ndr_options.begin(), ndr_options.end()), " / "))
            : fmt::format("{} bounce (NDR; {}; {} unexpected)", ndr, kinds, ndr - ndr_expected);
    console.out << fmt::format(
        "verify: {}, {} addresses, {} unexpected, {}, {} still at the old "
        "mailbox{}{}{}{}\n",
        CountOf(loaded->size(), "mailbox"), addresses, unexpected, bounces, at_old,
        warnings ? fmt::format(" ({} of them moved with cleanup None: their mail does not reach "
                               "the new mailbox)",
                               warnings)
                 : "",
        options.mta.empty() ? "" : fmt::format("; the MTA disagrees on {}", disagreements),
        left_behind ? fmt::format("; {} left behind", CountOf(left_behind, "message")) : "",
        unchecked ? fmt::format("; {} could not be checked for mail left behind",
                                CountOf(unchecked, "old mailbox", "old mailboxes"))
                  : "");
  }
  return unexpected ? kExitSomeFailed : kExitOk;
}

}  // namespace cm
