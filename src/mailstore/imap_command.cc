#include "mailstore/imap_command.h"

#include <fmt/format.h>

#include <cstdio>

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

namespace {
constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
}  // namespace

std::string ImapDateTime(int64_t unix_seconds) {
  time_t t = static_cast<time_t>(unix_seconds);
  struct tm tm;
  gmtime_r(&t, &tm);
  return fmt::format("\"{:02}-{}-{:04} {:02}:{:02}:{:02} +0000\"", tm.tm_mday, kMonths[tm.tm_mon],
                     tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

Result<int64_t> ParseImapDateTime(std::string_view text) {
  auto bad = [&] { return Status::InvalidInput(fmt::format("bad INTERNALDATE '{}'", text)); };
  text = Trim(text);
  if (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  int day, year, hour, minute, second, zone;
  char month[4] = {0};
  char sign;
  std::string copy(text);
  if (std::sscanf(copy.c_str(), "%d-%3c-%d %d:%d:%d %c%d", &day, month, &year, &hour, &minute,
                  &second, &sign, &zone) != 8 ||
      (sign != '+' && sign != '-'))
    return bad();
  int mon = -1;
  for (int i = 0; i < 12; ++i) {
    if (IEquals(month, kMonths[i])) mon = i;
  }
  if (mon < 0 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return bad();
  struct tm tm {};
  tm.tm_year = year - 1900;
  tm.tm_mon = mon;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  int64_t offset = (zone / 100) * 3600 + (zone % 100) * 60;
  return static_cast<int64_t>(timegm(&tm)) - (sign == '+' ? offset : -offset);
}

std::string AppendMessageHeader(const std::vector<std::string>& flags, int64_t internal_date,
                                uint64_t size, bool non_synchronizing) {
  return fmt::format(" ({}) {} {{{}{}}}\r\n", Join(flags, " "), ImapDateTime(internal_date), size,
                     non_synchronizing ? "+" : "");
}

ImapCommand& ImapCommand::DateTime(int64_t unix_seconds) {
  Space();
  segments_.back() += ImapDateTime(unix_seconds);
  return *this;
}

std::vector<std::string> ImapCommand::Segments() const {
  std::vector<std::string> out = segments_;
  out.back() += "\r\n";
  return out;
}

}  // namespace cm
