#include "mailstore/imap_command.h"

#include <fmt/format.h>

#include "core/mutf7.h"
#include "core/strings.h"

namespace cm {

ImapStringForm FormOf(std::string_view v) {
  if (v.empty()) return ImapStringForm::kQuoted;
  bool atom = true;
  for (char ch : v) {
    auto c = static_cast<unsigned char>(ch);
    if (c >= 0x80 || c == '\r' || c == '\n' || c == '\0') return ImapStringForm::kLiteral;
    // ATOM-CHAR excludes atom-specials: ( ) { SP CTL % * " \ ]
    if (c < 0x20 || c == 0x7f || c == '(' || c == ')' || c == '{' || c == ' ' || c == '%' ||
        c == '*' || c == '"' || c == '\\' || c == ']')
      atom = false;
  }
  if (atom && !IEquals(v, "NIL")) return ImapStringForm::kAtom;
  return ImapStringForm::kQuoted;
}

ImapCommand::ImapCommand(std::string tag, std::string_view name, bool literal_plus)
    : tag_(std::move(tag)), literal_plus_(literal_plus) {
  segments_.back() = tag_ + " " + std::string(name);
}

void ImapCommand::Space() { segments_.back() += ' '; }

ImapCommand& ImapCommand::Atom(std::string_view atom) {
  Space();
  segments_.back() += atom;
  return *this;
}

void ImapCommand::Literal(std::string_view bytes) {
  LiteralHeader(bytes.size());
  segments_.back() += bytes;
}

ImapCommand& ImapCommand::LiteralHeader(uint64_t size) {
  Space();
  segments_.back() += fmt::format("{{{}{}}}\r\n", size, literal_plus_ ? "+" : "");
  if (!literal_plus_) segments_.emplace_back();  // what follows waits for "+"
  return *this;
}

ImapCommand& ImapCommand::String(std::string_view value) {
  switch (FormOf(value)) {
    case ImapStringForm::kAtom:
      return Atom(value);
    case ImapStringForm::kQuoted: {
      Space();
      std::string& out = segments_.back();
      out += '"';
      for (char c : value) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
      }
      out += '"';
      return *this;
    }
    case ImapStringForm::kLiteral:
      Literal(value);
      return *this;
  }
  return *this;
}

Result<bool> ImapCommand::Mailbox(std::string_view utf8_name) {
  if (IEquals(utf8_name, "INBOX")) {
    Atom("INBOX");
    return true;
  }
  auto encoded = EncodeMutf7(utf8_name);
  if (!encoded.ok()) return encoded.status();
  String(*encoded);
  return true;
}

ImapCommand& ImapCommand::List(const std::vector<std::string>& atoms) {
  Space();
  segments_.back() += "(" + Join(atoms, " ") + ")";
  return *this;
}

ImapCommand& ImapCommand::DateTime(int64_t unix_seconds) {
  static const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  time_t t = static_cast<time_t>(unix_seconds);
  struct tm tm;
  gmtime_r(&t, &tm);
  Space();
  segments_.back() +=
      fmt::format("\"{:02}-{}-{:04} {:02}:{:02}:{:02} +0000\"", tm.tm_mday, kMonths[tm.tm_mon],
                  tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return *this;
}

std::vector<std::string> ImapCommand::Segments() const {
  std::vector<std::string> out = segments_;
  out.back() += "\r\n";
  return out;
}

}  // namespace cm
