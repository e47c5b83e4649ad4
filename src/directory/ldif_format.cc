#include "directory/ldif_format.h"

#include <fmt/format.h>
#include <ldap.h>
#include <ldif.h>

#include <algorithm>
#include <memory>

#include "core/dn.h"
#include "core/strings.h"

namespace cm {

namespace {

struct Line {
  unsigned long number;
  std::string attr;
  std::string value;
};

Status LineError(std::string_view name, unsigned long line, std::string_view what) {
  return Status::InvalidInput(fmt::format("{}:{}: {}", name, line, what));
}

// Decodes one unfolded `attr: value` / `attr:: base64` line through libldap.
Result<Line> DecodeLine(std::string logical, unsigned long number, std::string_view name) {
  if (logical == "-") return Line{number, "-", ""};  // end of a modify block
  size_t colon = logical.find(':');
  if (colon == std::string::npos)
    return LineError(name, number, fmt::format("expected 'attribute: value', got '{}'", logical));
  if (colon + 1 < logical.size() && logical[colon + 1] == '<') {
    return LineError(name, number, "URL values (':<') are not accepted");
  }
  if (colon + 1 < logical.size() && logical[colon + 1] == ':') {
    // Checked here because libldap reports bad base64 on stderr, outside our error message.
    for (char c : std::string_view(logical).substr(colon + 2)) {
      if (!(isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/' || c == '=' ||
            c == ' ')) {
        return LineError(
            name, number,
            fmt::format("'{}' has a character that is not base64", logical.substr(0, colon)));
      }
    }
  }
  struct berval type = {0, nullptr}, value = {0, nullptr};
  int freeval = 0;
  std::vector<char> buf(logical.begin(), logical.end());
  buf.push_back('\0');
  if (ldif_parse_line2(buf.data(), &type, &value, &freeval) != 0) {
    return LineError(name, number,
                     fmt::format("cannot decode '{}' (bad base64?)", logical.substr(0, 60)));
  }
  Line out{number, std::string(type.bv_val, type.bv_len),
           value.bv_val ? std::string(value.bv_val, value.bv_len) : std::string()};
  if (freeval) ber_memfree(value.bv_val);
  for (char c : out.attr) {
    if (!(isalnum(static_cast<unsigned char>(c)) || c == '-' || c == ';' || c == '.')) {
      return LineError(name, number, fmt::format("bad attribute name '{}'", out.attr));
    }
  }
  return out;
}

// Splits text into records of unfolded, decoded lines.
Result<std::vector<std::vector<Line>>> SplitRecords(std::string_view text, std::string_view name) {
  std::vector<std::vector<Line>> records;
  std::vector<Line> current;
  std::string logical;
  unsigned long logical_start = 0, number = 0;
  bool in_comment = false;
  auto flush_line = [&]() -> Status {
    if (!logical.empty()) {
      auto line = DecodeLine(std::move(logical), logical_start, name);
      if (!line.ok()) return line.status();
      current.push_back(std::move(*line));
    }
    logical.clear();
    return Status::Ok();
  };
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t eol = text.find('\n', pos);
    std::string_view raw =
        text.substr(pos, eol == std::string_view::npos ? std::string_view::npos : eol - pos);
    pos = eol == std::string_view::npos ? text.size() + 1 : eol + 1;
    ++number;
    if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
    if (!raw.empty() && raw.front() == ' ') {  // continuation of the previous line
      if (in_comment) continue;
      if (logical.empty())
        return LineError(name, number, "continuation line with nothing to continue");
      logical.append(raw.substr(1));
      continue;
    }
    CM_RETURN_IF_ERROR(flush_line());
    in_comment = false;
    if (raw.empty()) {
      if (!current.empty()) records.push_back(std::move(current));
      current.clear();
      continue;
    }
    if (raw.front() == '#') {
      in_comment = true;
      continue;
    }
    logical = std::string(raw);
    logical_start = number;
  }
  CM_RETURN_IF_ERROR(flush_line());
  if (!current.empty()) records.push_back(std::move(current));
  return records;
}

}  // namespace

Result<std::vector<LdifRecord>> ParseLdif(std::string_view text, std::string_view name) {
  auto split = SplitRecords(text, name);
  if (!split.ok()) return split.status();
  std::vector<LdifRecord> out;
  bool first = true;
  for (auto& lines : *split) {
    size_t i = 0;
    if (first && IEquals(lines[0].attr, "version")) {
      if (lines[0].value != "1")
        return LineError(name, lines[0].number, "only LDIF version 1 is supported");
      ++i;
    }
    first = false;
    if (i >= lines.size()) continue;
    if (!IEquals(lines[i].attr, "dn"))
      return LineError(name, lines[i].number,
                       fmt::format("record must start with 'dn:', not '{}:'", lines[i].attr));
    LdifRecord rec;
    rec.line = lines[i].number;
    rec.op.side = Side::kSource;
    rec.op.dn = lines[i].value;
    if (auto parsed = ParseDn(rec.op.dn); !parsed.ok() || parsed->empty()) {
      return LineError(name, lines[i].number, fmt::format("bad DN '{}'", rec.op.dn));
    }
    ++i;
    std::string changetype = "add";
    bool explicit_change = false;
    if (i < lines.size() && IEquals(lines[i].attr, "control")) {
      return LineError(name, lines[i].number, "LDAP controls are not supported in LDIF input");
    }
    if (i < lines.size() && IEquals(lines[i].attr, "changetype")) {
      changetype = AsciiLower(lines[i].value);
      explicit_change = true;
      ++i;
    }
    if (changetype == "add") {
      rec.op.kind = DirectoryOp::Kind::kAdd;
      for (; i < lines.size(); ++i) {
        if (IEquals(lines[i].attr, "dn") || IEquals(lines[i].attr, "changetype")) {
          return LineError(
              name, lines[i].number,
              fmt::format("'{}:' inside a record (missing blank line?)", lines[i].attr));
        }
        auto& mods = rec.op.mods;
        auto it = std::find_if(mods.begin(), mods.end(), [&](const Modification& m) {
          return IEquals(m.attribute, lines[i].attr);
        });
        if (it == mods.end()) {
          mods.push_back({Modification::Op::kAdd, lines[i].attr, {lines[i].value}});
        } else {
          it->values.push_back(lines[i].value);
        }
      }
      if (rec.op.mods.empty()) return LineError(name, rec.line, "entry has no attributes");
    } else if (changetype == "delete") {
      rec.op.kind = DirectoryOp::Kind::kDelete;
      if (i < lines.size())
        return LineError(name, lines[i].number, "a delete record takes no attributes");
    } else if (changetype == "modrdn" || changetype == "moddn") {
      rec.op.kind = DirectoryOp::Kind::kRename;
      for (; i < lines.size(); ++i) {
        if (IEquals(lines[i].attr, "newrdn")) {
          rec.op.new_rdn = lines[i].value;
        } else if (IEquals(lines[i].attr, "newsuperior")) {
          rec.op.new_superior = lines[i].value;
        } else if (IEquals(lines[i].attr, "deleteoldrdn")) {
          if (lines[i].value != "1")
            return LineError(name, lines[i].number, "only deleteoldrdn: 1 is supported");
        } else {
          return LineError(name, lines[i].number,
                           fmt::format("unexpected '{}:' in a modrdn record", lines[i].attr));
        }
      }
      if (rec.op.new_rdn.empty()) return LineError(name, rec.line, "modrdn record without newrdn");
    } else if (changetype == "modify") {
      rec.op.kind = DirectoryOp::Kind::kModify;
      while (i < lines.size()) {
        const Line& head = lines[i];
        Modification m;
        if (IEquals(head.attr, "add")) {
          m.op = Modification::Op::kAdd;
        } else if (IEquals(head.attr, "replace")) {
          m.op = Modification::Op::kReplace;
        } else if (IEquals(head.attr, "delete")) {
          m.op = Modification::Op::kDelete;
        } else {
          return LineError(name, head.number,
                           fmt::format("expected add:/replace:/delete:, got '{}:'", head.attr));
        }
        m.attribute = head.value;
        ++i;
        while (i < lines.size() && lines[i].attr != "-") {
          if (!IEquals(lines[i].attr, m.attribute)) {
            return LineError(name, lines[i].number,
                             fmt::format("value for '{}' inside the '{}' block (missing '-'?)",
                                         lines[i].attr, m.attribute));
          }
          m.values.push_back(lines[i].value);
          ++i;
        }
        if (i < lines.size()) ++i;  // the "-" line
        if (m.op == Modification::Op::kAdd && m.values.empty()) {
          return LineError(name, head.number, fmt::format("add: {} without values", m.attribute));
        }
        rec.op.mods.push_back(std::move(m));
      }
    } else {
      return LineError(name, rec.line + (explicit_change ? 1 : 0),
                       fmt::format("unknown changetype '{}'", changetype));
    }
    out.push_back(std::move(rec));
  }
  return out;
}

std::string FormatAttribute(std::string_view attr, std::string_view value) {
  std::string a(attr);
  char* text =
      ldif_put_wrap(LDIF_PUT_VALUE, a.c_str(), value.data(), value.size(), LDIF_LINE_WIDTH);
  if (!text) return "";
  std::string out(text);
  ber_memfree(text);
  return out;
}

std::string FormatEntry(const Entry& entry) {
  std::string out = FormatAttribute("dn", entry.dn());
  for (const auto& [attr, values] : entry.attributes()) {
    for (const auto& v : values) out += FormatAttribute(attr, v);
  }
  return out + "\n";
}

std::string FormatChange(const DirectoryOp& op) {
  std::string out = FormatAttribute("dn", op.dn);
  switch (op.kind) {
    case DirectoryOp::Kind::kAdd:
      out += "changetype: add\n";
      for (const auto& m : op.mods) {
        for (const auto& v : m.values) out += FormatAttribute(m.attribute, v);
      }
      break;
    case DirectoryOp::Kind::kDelete:
      out += "changetype: delete\n";
      break;
    case DirectoryOp::Kind::kRename:
      out += "changetype: modrdn\n";
      out += FormatAttribute("newrdn", op.new_rdn);
      out += "deleteoldrdn: 1\n";
      if (!op.new_superior.empty()) out += FormatAttribute("newsuperior", op.new_superior);
      break;
    case DirectoryOp::Kind::kModify:
      out += "changetype: modify\n";
      for (const auto& m : op.mods) {
        const char* verb = m.op == Modification::Op::kAdd       ? "add"
                           : m.op == Modification::Op::kReplace ? "replace"
                                                                : "delete";
        out += fmt::format("{}: {}\n", verb, m.attribute);
        for (const auto& v : m.values) out += FormatAttribute(m.attribute, v);
        out += "-\n";
      }
      break;
  }
  return out + "\n";
}

}  // namespace cm
