// Modified UTF-7 (RFC 3501 §5.1.3), the encoding of IMAP mailbox names and of Maildir++ folder
// directory names. Strict in both directions: decoding refuses anything an encoder would not
// have produced (raw non-ASCII, encoded printable ASCII, bad padding, adjacent shifts), so one
// name has exactly one encoding and folder identities are stable.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace cm {

// UTF-8 -> modified UTF-7. Fails on invalid UTF-8.
Result<std::string> EncodeMutf7(std::string_view utf8);
// Modified UTF-7 -> UTF-8.
Result<std::string> DecodeMutf7(std::string_view mutf7);

}  // namespace cm
