#include "app/plan_output.h"

#include <fmt/format.h>

#include <map>

#include "app/value_format.h"
#include "core/strings.h"
#include "directory/ldif_format.h"

namespace cm {

namespace {

struct Style {
  bool color;
  std::string Bold(std::string_view s) const {
    return color ? fmt::format("\033[1m{}\033[0m", s) : std::string(s);
  }
  std::string Green(std::string_view s) const {
    return color ? fmt::format("\033[32m{}\033[0m", s) : std::string(s);
  }
  std::string Red(std::string_view s) const {
    return color ? fmt::format("\033[31m{}\033[0m", s) : std::string(s);
  }
  std::string Yellow(std::string_view s) const {
    return color ? fmt::format("\033[33m{}\033[0m", s) : std::string(s);
  }
};

std::string ModVerb(Modification::Op op) {
  switch (op) {
    case Modification::Op::kAdd:
      return "add";
    case Modification::Op::kReplace:
      return "replace";
    case Modification::Op::kDelete:
      return "delete";
  }
  return "?";
}

void AppendOp(std::string& out, const DirectoryOp& op, const Style& st) {
  std::string verb(ToString(op.kind));
  std::string painted = op.kind == DirectoryOp::Kind::kDelete ? st.Red(verb)
                        : op.kind == DirectoryOp::Kind::kAdd  ? st.Green(verb)
                                                              : st.Yellow(verb);
  out += fmt::format("  {} {:<6} {}\n", ToString(op.side), painted, op.dn);
  out += fmt::format("         ({})\n", op.reason);
  for (const auto& m : op.mods) {
    if (m.values.empty()) {
      out += fmt::format("         {} {}\n", ModVerb(m.op), m.attribute);
      continue;
    }
    for (const auto& v : m.values) {
      std::string prefix = op.kind == DirectoryOp::Kind::kAdd ? "" : ModVerb(m.op) + " ";
      out += fmt::format("         {}{}\n", prefix, AttributeValueLine(m.attribute, v));
    }
  }
}

}  // namespace

std::string FormatOpsText(const std::vector<DirectoryOp>& ops, bool color) {
  std::string out;
  for (const auto& op : ops) AppendOp(out, op, Style{color});
  return out;
}

namespace {

nlohmann::json OpToJson(const DirectoryOp& op) {
  nlohmann::json j = {
      {"side", ToString(op.side)}, {"op", ToString(op.kind)}, {"dn", op.dn}, {"reason", op.reason}};
  if (op.kind == DirectoryOp::Kind::kAdd) {
    nlohmann::json attrs = nlohmann::json::array();
    for (const auto& m : op.mods) {
      nlohmann::json values = nlohmann::json::array();
      for (const auto& v : m.values) values.push_back(DisplayValue(m.attribute, v));
      attrs.push_back({{"attribute", m.attribute}, {"values", values}});
    }
    j["attributes"] = attrs;
  } else if (op.kind == DirectoryOp::Kind::kModify) {
    nlohmann::json changes = nlohmann::json::array();
    for (const auto& m : op.mods) {
      nlohmann::json values = nlohmann::json::array();
      for (const auto& v : m.values) values.push_back(DisplayValue(m.attribute, v));
      changes.push_back({{"op", ModVerb(m.op)}, {"attribute", m.attribute}, {"values", values}});
    }
    j["changes"] = changes;
  } else if (op.kind == DirectoryOp::Kind::kRename) {
    j["new_rdn"] = op.new_rdn;
    j["new_superior"] = op.new_superior;
  }
  return j;
}

}  // namespace

nlohmann::json OpsToJson(const std::vector<DirectoryOp>& ops) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& op : ops) out.push_back(OpToJson(op));
  return out;
}

std::string FormatPlanText(const Batch& batch, const std::vector<JournaledRow>& journaled,
                           const AttributeProfile& profile, bool color) {
  Style st{color};
  std::string out;
  size_t done = 0, resuming = 0, rolled_back = 0;
  for (const JournaledRow& j : journaled) {
    std::string what;
    if (!j.next_step.empty()) {
      ++resuming;
      // A synced (or suspended) mailbox waits: "resumes at cleanup" would promise a cut-over.
      bool waits = j.stage == "synced" || j.stage == "suspended";
      what =
          st.Yellow(waits ? j.stage : fmt::format("resumes at {}", j.next_step)) +
          fmt::format(" (state {}{}{})", j.state, j.completion.empty() ? "" : "; " + j.completion,
                      j.failure.empty()
                          ? ""
                          : "; the last attempt failed at " + EscapeControlCharacters(j.failure));
    } else if (j.state == "rolled-back") {
      ++rolled_back;
      what = st.Red("rolled back") + " (not moved again while the journal has it)";
    } else {
      ++done;
      what = st.Green("done") + fmt::format(" ({}; nothing to do)", j.state);
    }
    out += fmt::format("{} ({}:{}): {} -> {}{}\n", EscapeControlCharacters(j.identity),
                       batch.users_file, j.line, what, j.target_dn,
                       j.grade.empty() ? "" : fmt::format(" [{}, grade {}]", j.stage, j.grade));
  }
  if (!journaled.empty()) {
    out += fmt::format(
        "{} of the users file's mailboxes are in the journal: {} done, {} resume, {} rolled "
        "back.\n\n",
        journaled.size(), done, resuming, rolled_back);
  }
  size_t total = batch.mailboxes.size(), index = 0;
  size_t created = 0, replaced = 0, merged = 0;
  std::map<CleanupOption, size_t> by_cleanup;
  for (const PlannedMailbox& m : batch.mailboxes) {
    ++index;
    const MailboxPlan& p = m.plan;
    Recipient r(m.source, profile);
    out +=
        st.Bold(fmt::format("[{}/{}] {} <{}>", index, total, r.display_name(), r.primary_smtp()));
    out += fmt::format("  ({}:{})\n", batch.users_file, m.row.line);
    if (!m.schedule.empty()) out += fmt::format("  staged: {}\n", m.schedule);
    out += fmt::format("  target mailbox: {} ({}), primary SMTP {}, cleanup {}\n", p.target_dn,
                       ToString(p.target_action), p.target_primary_smtp, ToString(p.cleanup));
    for (const auto& op : p.provision) AppendOp(out, op, st);
    for (const auto& op : p.cleanup_ops) AppendOp(out, op, st);
    if (p.cleanup_ops.empty())
      out += "  source unchanged (cleanup None: old addresses still deliver to the old mailbox)\n";
    out += "\n";
    created += p.target_action == TargetAction::kCreate;
    replaced += p.target_action == TargetAction::kReplaceContact;
    merged += p.target_action == TargetAction::kMergeMailUser;
    ++by_cleanup[p.cleanup];
  }
  std::vector<std::string> cleanups;
  for (const auto& [option, count] : by_cleanup)
    cleanups.push_back(fmt::format("{} {}", count, ToString(option)));
  out += st.Bold(CountOf(total, "mailbox") + " planned");
  out += fmt::format(": {}, {} replacing a GAL contact, {} merged into a mail user; cleanup: {}.\n",
                     CountOf(created, "new target user"), replaced, merged,
                     cleanups.empty() ? "none" : Join(cleanups, ", "));
  out += "Nothing was written.\n";
  return out;
}

nlohmann::json ProblemsToJson(const Problems& problems) {
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& p : problems) {
    nlohmann::json j = {{"message", p.message}, {"text", p.ToString()}};
    if (!p.file.empty()) j["file"] = p.file;
    if (p.line) j["line"] = p.line;
    if (!p.field.empty()) j["field"] = p.field;
    arr.push_back(j);
  }
  return arr;
}

nlohmann::json PlanToJson(const Batch& batch, const std::vector<JournaledRow>& journaled,
                          const Problems& problems) {
  nlohmann::json mailboxes = nlohmann::json::array();
  nlohmann::json resumed = nlohmann::json::array();
  for (const JournaledRow& j : journaled) {
    resumed.push_back({{"line", j.line},
                       {"identity", j.identity},
                       {"alias", j.alias},
                       {"target_dn", j.target_dn},
                       {"state", j.state},
                       {"next_step", j.next_step},
                       {"completion", j.completion},
                       {"failure", j.failure},
                       {"stage", j.stage},
                       {"grade", j.grade}});
  }
  for (const PlannedMailbox& m : batch.mailboxes) {
    const MailboxPlan& p = m.plan;
    nlohmann::json ops = nlohmann::json::array();
    for (const auto& op : p.provision) ops.push_back(OpToJson(op));
    for (const auto& op : p.cleanup_ops) ops.push_back(OpToJson(op));
    mailboxes.push_back({{"line", m.row.line},
                         {"identity", m.row.identity},
                         {"source_dn", p.source_dn},
                         {"alias", p.alias},
                         {"target_action", ToString(p.target_action)},
                         {"target_dn", p.target_dn},
                         {"target_primary_smtp", p.target_primary_smtp},
                         {"target_legacy_dn", p.target_legacy_dn},
                         {"cleanup", ToString(p.cleanup)},
                         {"schedule", m.schedule},
                         {"operations", ops}});
  }
  return {{"users_file", batch.users_file},
          {"mailboxes", mailboxes},
          {"journaled", resumed},
          {"problems", ProblemsToJson(problems)}};
}

std::string PlanToLdif(const Batch& batch, Side side) {
  std::string out = fmt::format(
      "# crossmove plan: {} changes for the {} directory, from {}\nversion: 1\n\n",
      side == Side::kTarget ? "provisioning" : "cleanup", ToString(side), batch.users_file);
  for (const PlannedMailbox& m : batch.mailboxes) {
    const auto& ops = side == Side::kTarget ? m.plan.provision : m.plan.cleanup_ops;
    for (const auto& op : ops) out += FormatChange(op);
  }
  return out;
}

}  // namespace cm
