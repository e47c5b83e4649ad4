// The writing half of our own IMAP client (issue 5): commands as bytes. Each argument is sent in
// the cheapest form the server must accept: an atom, a quoted string, or a literal for anything
// a quoted string cannot hold (8-bit bytes, CR, LF, NUL). A literal is "{n+}" with LITERAL+
// (RFC 7888: no round trip) and "{n}" otherwise, after which the client must wait for the
// server's "+" before sending the bytes; the command keeps the bytes in separate segments so the
// connection knows where those waits are.
#pragma once

#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace cm {

class ImapCommand {
 public:
  // "a12 APPEND": the tag and the command name.
  ImapCommand(std::string tag, std::string_view name, bool literal_plus);

  ImapCommand& Atom(std::string_view atom);     // sent as is (flags, sequence sets, FETCH items)
  ImapCommand& String(std::string_view value);  // atom, quoted or literal, whichever fits
  // A mailbox name in UTF-8; sent modified UTF-7 encoded (INBOX in any case as INBOX).
  Result<bool> Mailbox(std::string_view utf8_name);
  ImapCommand& List(const std::vector<std::string>& atoms);  // "(\Seen $Label1)"
  ImapCommand& DateTime(int64_t unix_seconds);               // "17-Jul-1996 09:44:25 +0000" (UTC)
  // Announces a literal of `size` bytes whose content the caller streams itself (APPEND).
  ImapCommand& LiteralHeader(uint64_t size);

  // The command so far, without its final CRLF: the start of a command the caller completes
  // itself (APPEND's messages). Only for commands without synchronizing literals.
  std::string Text() const { return segments_.back(); }

  // The bytes to send. A segment after the first follows a synchronizing literal marker: the
  // client sends it only after the server's continuation. The last segment ends with CRLF.
  std::vector<std::string> Segments() const;
  const std::string& tag() const { return tag_; }

 private:
  void Space();
  void Literal(std::string_view bytes);

  std::string tag_;
  bool literal_plus_;
  std::vector<std::string> segments_{std::string()};
};

// "17-Jul-1996 09:44:25 +0000" (UTC), quoted: INTERNALDATE as APPEND takes it.
std::string ImapDateTime(int64_t unix_seconds);
// INTERNALDATE as a server sends it ("17-Jul-1996 02:44:25 -0700", day maybe space-padded).
Result<int64_t> ParseImapDateTime(std::string_view text);
// One message's part of an APPEND: " (FLAGS) "DATE" {SIZE+}" and CRLF. Its bytes follow at once
// when `non_synchronizing`, else after the server's "+".
std::string AppendMessageHeader(const std::vector<std::string>& flags, int64_t internal_date,
                                uint64_t size, bool non_synchronizing);

// How a string is sent: what a test can check without building a command.
enum class ImapStringForm { kAtom, kQuoted, kLiteral };
ImapStringForm FormOf(std::string_view value);

}  // namespace cm
