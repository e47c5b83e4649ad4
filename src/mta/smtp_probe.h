// What a real MTA answers to RCPT TO for each address, without sending a message (MAIL FROM:<>,
// RCPT TO, RSET): `verify --mta` sets it against the routing model (SPEC §7: a real MTA must
// agree with the model). A handful of recipients per session keeps a server's error limits
// (Postfix slows down after 10 rejected recipients and hangs up after 20) out of the answers.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "io/net_stream.h"

namespace cm {

struct RcptAnswer {
  std::string address;
  int code = 0;      // 250, 550, 450 ...
  std::string text;  // "5.1.1 <x@y>: Recipient address rejected: User unknown ..."
  bool accepted() const { return code / 100 == 2; }
  bool rejected() const { return code / 100 == 5; }
};

// `smtp://HOST[:PORT]` (25) or `smtps://HOST[:PORT]` (465, TLS from the first byte). A server
// that cannot be reached or that refuses the session is kUnavailable.
Result<std::vector<RcptAnswer>> ProbeRecipients(std::string_view url,
                                                const std::vector<std::string>& addresses,
                                                const TlsOptions& tls, int timeout_seconds);

}  // namespace cm
