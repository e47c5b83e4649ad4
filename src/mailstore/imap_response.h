// The server side of IMAP4rev1 (RFC 3501 §7, §9) as values: the reading half of our own IMAP
// client (issue 5). No packaged library both pipelines commands and streams literals, so the
// client is ours; this parser is its foundation.
//
// The parser is fed bytes as they arrive, in pieces of any size, and hands out each response once
// it is complete. A literal ({n} then n bytes) is skipped over by its count before anything else
// is looked at, so message bytes are never read as protocol: a message holding
// "\r\n* BYE" or "a1 OK" is data.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace cm {

struct ImapValue {
  enum class Kind { kAtom, kString, kNil, kList };
  Kind kind = Kind::kAtom;
  std::string text;              // atom, quoted string or literal bytes
  std::vector<ImapValue> items;  // kList
  bool literal = false;          // kString that came as {n}

  bool IsAtom(std::string_view upper) const;  // case-insensitive atom comparison
};

struct ImapResponse {
  enum class Kind { kTagged, kUntagged, kContinuation };
  Kind kind = Kind::kUntagged;
  std::string tag;     // kTagged
  std::string status;  // OK / NO / BAD / BYE / PREAUTH, upper case; "" for data responses
  // The response code inside [...]: its name (upper case) and its argument text.
  std::string code;
  std::string code_argument;
  std::string text;             // human-readable text of a status or continuation response
  std::vector<ImapValue> data;  // a data response: "5" "FETCH" (...), "CAPABILITY" ...
};

class ImapResponseParser {
 public:
  // Literals larger than `max_literal` are a protocol error (memory is bounded).
  explicit ImapResponseParser(size_t max_literal = 64u << 20) : max_literal_(max_literal) {}

  // Consumes `bytes`; every response they complete is appended to `out`. After an error the
  // connection is unusable (the stream position is lost).
  Status Feed(std::string_view bytes, std::vector<ImapResponse>& out);
  // Bytes received but not yet part of a complete response.
  size_t pending() const { return buffer_.size(); }

 private:
  // Length of the complete response at data[start...], 0 when more bytes are needed.
  Result<size_t> CompleteLength(std::string_view data, size_t start);

  std::string buffer_;  // the start of a response a read cut off
  size_t scanned_ =
      0;  // bytes already known to belong to the current response (from its data's start)
  size_t max_literal_;
};

// Parses one complete response (as delimited by ImapResponseParser) into values.
Result<ImapResponse> ParseImapResponse(std::string_view response);

}  // namespace cm
