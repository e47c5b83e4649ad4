#include "app/plan_output.h"

#include <fmt/format.h>

#include <map>

#include "app/value_format.h"
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
      out += fmt::format("         {}{}: {}\n", prefix, m.attribute, DisplayValue(m.attribute, v));
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

std::string FormatPlanText(const Batch& batch, const AttributeProfile& profile, bool color) {
  Style st{color};
  std::string out;
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
  out += st.Bold(fmt::format("{} mailbox{} planned", total, total == 1 ? "" : "es"));
  out += fmt::format(
      ": {} new target user{}, {} replacing a GAL contact, {} merged into a mail user; cleanup: "
      "{}.\n",
      created, created == 1 ? "" : "s", replaced, merged,
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

nlohmann::json PlanToJson(const Batch& batch, const Problems& problems) {
  nlohmann::json mailboxes = nlohmann::json::array();
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
                         {"operations", ops}});
  }
  return {{"users_file", batch.users_file},
          {"mailboxes", mailboxes},
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
