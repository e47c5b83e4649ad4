#include "mailstore/imap_response.h"

#include <fmt/format.h>

#include <charconv>

#include "core/strings.h"

namespace cm {

namespace {

// A line without its CRLF may not grow beyond this: a server that never ends one cannot make us
// hold gigabytes.
constexpr size_t kMaxLine = 1u << 20;

// The byte count of a literal marker "{123}" or "{123+}" ending at `end` (exclusive), or -1.
long LiteralBefore(std::string_view s, size_t end) {
  if (end == 0 || s[end - 1] != '}') return -1;
  size_t open = s.rfind('{', end - 1);
  if (open == std::string_view::npos) return -1;
  std::string_view digits = s.substr(open + 1, end - 1 - open - 1);
  if (!digits.empty() && digits.back() == '+') digits.remove_suffix(1);
  if (digits.empty() || digits.size() > 12) return -1;
  long n = 0;
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (ec != std::errc() || p != digits.data() + digits.size()) return -1;
  return n;
}

class Reader {
 public:
  explicit Reader(std::string_view s) : s_(s) {}

  bool AtEnd() const { return pos_ >= s_.size() || s_.substr(pos_) == "\r\n"; }
  char Peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  bool Take(char c) {
    if (Peek() != c) return false;
    ++pos_;
    return true;
  }
  Status Error(std::string_view what) const {
    return Status::InvalidInput(fmt::format("IMAP response: {} at byte {}", what, pos_));
  }
  // The rest of the line (resp-text), without the CRLF.
  std::string RestOfLine() {
    size_t end = s_.find("\r\n", pos_);
    if (end == std::string_view::npos) end = s_.size();
    std::string out(s_.substr(pos_, end - pos_));
    pos_ = end;
    return out;
  }

  Result<ImapValue> Value() {
    char c = Peek();
    if (c == '(') return List();
    if (c == '"') return Quoted();
    if (c == '{') return Literal();
    return Atom();
  }

  Result<ImapValue> List() {
    ++pos_;  // '('
    ImapValue list;
    list.kind = ImapValue::Kind::kList;
    while (true) {
      if (Take(')')) return list;
      if (AtEnd()) return Error("unterminated list");
      if (!list.items.empty() && !Take(' ')) return Error("expected a space or ')' in a list");
      if (Take(')')) return list;  // tolerate "(a )"
      auto v = Value();
      if (!v.ok()) return v.status();
      list.items.push_back(std::move(*v));
    }
  }

  Result<ImapValue> Quoted() {
    ++pos_;  // '"'
    ImapValue v;
    v.kind = ImapValue::Kind::kString;
    while (true) {
      if (pos_ >= s_.size()) return Error("unterminated quoted string");
      char c = s_[pos_++];
      if (c == '"') return v;
      if (c == '\r' || c == '\n') return Error("line break in a quoted string");
      if (c == '\\') {
        if (pos_ >= s_.size()) return Error("unterminated quoted string");
        c = s_[pos_++];
      }
      v.text += c;
    }
  }

  Result<ImapValue> Literal() {
    size_t close = s_.find('}', pos_);
    if (close == std::string_view::npos) return Error("unterminated literal marker");
    long n = LiteralBefore(s_, close + 1);
    if (n < 0) return Error("bad literal marker");
    pos_ = close + 1;
    if (s_.substr(pos_, 2) != "\r\n") return Error("literal marker not at the end of a line");
    pos_ += 2;
    if (s_.size() - pos_ < static_cast<size_t>(n)) return Error("literal shorter than announced");
    ImapValue v;
    v.kind = ImapValue::Kind::kString;
    v.literal = true;
    v.text = std::string(s_.substr(pos_, static_cast<size_t>(n)));
    pos_ += static_cast<size_t>(n);
    return v;
  }

  // An atom, number, flag (\Seen) or fetch item name; a "[...]" section inside it (BODY[HEADER
  // .FIELDS (DATE FROM)]<0>) is part of it, spaces and parentheses included.
  Result<ImapValue> Atom() {
    size_t start = pos_;
    while (pos_ < s_.size()) {
      char c = s_[pos_];
      if (c == '[') {
        size_t close = s_.find(']', pos_);
        if (close == std::string_view::npos) return Error("unterminated '['");
        pos_ = close + 1;
        continue;
      }
      if (c == ' ' || c == '(' || c == ')' || c == '\r' || c == '\n' || c == '"' || c == '{' ||
          static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
        break;
      ++pos_;
    }
    if (pos_ == start) return Error("expected a value");
    ImapValue v;
    v.text = std::string(s_.substr(start, pos_ - start));
    v.kind = IEquals(v.text, "NIL") ? ImapValue::Kind::kNil : ImapValue::Kind::kAtom;
    return v;
  }

  // "[CODE argument] text" after a status word.
  void ResponseText(ImapResponse& r) {
    Take(' ');
    if (Take('[')) {
      size_t close = s_.find(']', pos_);
      size_t eol = s_.find("\r\n", pos_);
      if (close != std::string_view::npos && (eol == std::string_view::npos || close < eol)) {
        std::string_view inside = s_.substr(pos_, close - pos_);
        size_t sp = inside.find(' ');
        r.code = AsciiUpper(inside.substr(0, sp));
        if (sp != std::string_view::npos) r.code_argument = std::string(inside.substr(sp + 1));
        pos_ = close + 1;
        Take(' ');
      } else {
        --pos_;  // not a code after all: text that starts with '['
      }
    }
    r.text = RestOfLine();
  }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

bool IsStatus(std::string_view word) {
  for (std::string_view s : {"OK", "NO", "BAD", "BYE", "PREAUTH"}) {
    if (IEquals(word, s)) return true;
  }
  return false;
}

}  // namespace

bool ImapValue::IsAtom(std::string_view upper) const {
  return kind == Kind::kAtom && IEquals(text, upper);
}

Result<size_t> ImapResponseParser::CompleteLength(std::string_view data, size_t start) {
  while (true) {
    size_t eol = data.find("\r\n", scanned_);
    if (eol == std::string_view::npos) {
      if (data.size() - scanned_ > kMaxLine)
        return Status::InvalidInput("IMAP response: a line longer than 1 MiB");
      return size_t{0};
    }
    long n = LiteralBefore(data, eol);
    if (n < 0) return eol + 2 - start;
    if (static_cast<size_t>(n) > max_literal_) {
      return Status::InvalidInput(
          fmt::format("IMAP response: a literal of {} bytes (limit {})", n, max_literal_));
    }
    size_t after = eol + 2 + static_cast<size_t>(n);
    if (data.size() < after) return size_t{0};  // the literal has not all arrived
    scanned_ = after;                           // its bytes are skipped, never searched for CRLF
  }
}

Status ImapResponseParser::Feed(std::string_view bytes, std::vector<ImapResponse>& out) {
  // Responses wholly inside `bytes` are parsed where they are: only a response cut by the end
  // of a read is kept, so most message bytes are not copied once more on their way through.
  std::string_view data = bytes;
  if (!buffer_.empty()) {
    buffer_.append(bytes);
    data = buffer_;
  }
  size_t start = 0;  // where the next response begins in `data`; scanned_ counts from data's start
  Status status;
  while (true) {
    auto length = CompleteLength(data, start);
    if (!length.ok()) {
      status = length.status();
      break;
    }
    if (*length == 0) break;
    auto response = ParseImapResponse(data.substr(start, *length));
    if (!response.ok()) {
      status = response.status();
      break;
    }
    out.push_back(std::move(*response));
    start += *length;
    scanned_ = start;
  }
  // What is left moves to the front once per read, not once per response (a read can hold
  // hundreds of listing lines).
  if (data.data() == buffer_.data()) {
    buffer_.erase(0, start);  // nothing moves while a large literal is still arriving
  } else {
    buffer_.assign(data.substr(start));
  }
  scanned_ -= start;
  return status;
}

Result<ImapResponse> ParseImapResponse(std::string_view s) {
  Reader in(s);
  ImapResponse r;
  if (in.Take('+')) {
    r.kind = ImapResponse::Kind::kContinuation;
    in.Take(' ');
    r.text = in.RestOfLine();
    return r;
  }
  auto tag = in.Atom();
  if (!tag.ok()) return tag.status();
  if (!in.Take(' ')) return in.Error("expected a space after the tag");
  if (tag->text == "*") {
    r.kind = ImapResponse::Kind::kUntagged;
  } else {
    r.kind = ImapResponse::Kind::kTagged;
    r.tag = tag->text;
  }
  if (in.Peek() != '(' && in.Peek() != '"' && in.Peek() != '{') {
    Reader probe = in;
    auto word = probe.Atom();
    if (word.ok() && IsStatus(word->text)) {
      in = probe;
      r.status = AsciiUpper(word->text);
      in.ResponseText(r);
      return r;
    }
  }
  if (r.kind == ImapResponse::Kind::kTagged) return in.Error("a tagged response without status");
  while (!in.AtEnd()) {
    if (!r.data.empty() && !in.Take(' ')) return in.Error("expected a space between values");
    if (in.AtEnd()) break;  // tolerate a trailing space
    auto v = in.Value();
    if (!v.ok()) return v.status();
    r.data.push_back(std::move(*v));
  }
  return r;
}

}  // namespace cm
