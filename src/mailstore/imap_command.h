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

// How a string is sent: what a test can check without building a command.
enum class ImapStringForm { kAtom, kQuoted, kLiteral };
ImapStringForm FormOf(std::string_view value);

}  // namespace cm
