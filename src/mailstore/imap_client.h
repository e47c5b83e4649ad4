// Our own IMAP4rev1 client (RFC 3501): the connection half. Written by hand because it is the
// core of our speed and no packaged library does what a migration needs: libetpan waits for each
// command's answer, libcurl can neither set INTERNALDATE nor read APPENDUID. Here commands are
// pipelined by tag (many in flight, answers matched by tag), literals are sent without a round
// trip where the server allows it (LITERAL+ / LITERAL-, RFC 7888), and untagged data is handed to
// whoever issued the commands in flight as it arrives, never collected whole.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "io/byte_rate.h"
#include "io/net_stream.h"
#include "mailstore/imap_command.h"
#include "mailstore/imap_response.h"

namespace cm {

// Where a mailbox is: imap://USER;AUTH=MECH@HOST:PORT/ or imaps://... (RFC 5092; USER
// percent-encoded). USER is the mailbox's owner, the identity every session is for.
struct ImapEndpoint {
  bool implicit_tls = false;  // imaps: TLS from the first byte
  std::string host;
  int port = 143;
  std::string user;
  std::string auth;  // ";AUTH=" mechanism asked for ("" or "*": the best the server offers)
};
Result<ImapEndpoint> ParseImapUrl(std::string_view url);
std::string ImapUrl(const ImapEndpoint& endpoint);  // the canonical form (no secret in it)

// How to log in and how hard to push (from the database's config). The admin (master user) logs
// into each user's mailbox with its own password: AUTHENTICATE PLAIN with the user as
// authorization identity (RFC 4616), or Dovecot's "user*admin" login. A user's own password is
// the fallback where no admin is configured or the admin login is refused.
struct ImapAccess {
  std::string admin;                 // "" = log in as the user
  std::string admin_secret;          // never logged
  bool dovecot_master_form = false;  // "user*admin" instead of an authorization identity
  std::map<std::string, std::string> user_secrets;  // user -> password (fallback)
  bool starttls = false;  // imap:// upgraded with STARTTLS (imaps:// is TLS anyway)
  TlsOptions tls;
  int timeout_seconds = 60;
  bool compress = true;           // COMPRESS=DEFLATE where offered (RFC 4978)
  int pipeline_depth = 8;         // commands in flight on one connection
  int max_connections = 16;       // per server, across every mailbox moved at once
  size_t batch_messages = 100;    // messages per MULTIAPPEND command
  size_t batch_bytes = 4u << 20;  // bytes per MULTIAPPEND command; larger messages stream alone
  // Bytes per second to and from this server, over all connections of the process (before
  // compression); 0 = unpaced. Divided among the live workers of a shared journal.
  uint64_t max_bytes_per_second = 0;
};

// A tagged NO / BAD (or a BYE) as a Status whose code says what to do about it:
// TRYCREATE -> kNotFound; TOOBIG / LIMIT / a refused message -> kConstraint (counted against
// bad-item-limit); OVERQUOTA -> kResourceExhausted; AUTHENTICATIONFAILED / AUTHORIZATIONFAILED ->
// kPermissionDenied; UNAVAILABLE / INUSE / throttling / BYE -> kUnavailable (retry later);
// anything else -> kInvalidInput (the server refused what we sent).
Status ImapFailure(const ImapResponse& response, std::string_view context);

class ImapClient {
 public:
  // Connects, reads the greeting, upgrades to TLS, logs in, learns the capabilities and turns on
  // compression where offered. Failures: kUnavailable (cannot reach), kPermissionDenied (login
  // refused), kInvalidInput (a setting the server cannot honour).
  static Result<std::unique_ptr<ImapClient>> Connect(const ImapEndpoint& endpoint,
                                                     const ImapAccess& access);
  // Only the first half: connected, greeted, TLS set up; not logged in.
  static Result<std::unique_ptr<ImapClient>> Probe(const ImapEndpoint& endpoint,
                                                   const ImapAccess& access);
  ~ImapClient();

  bool Has(std::string_view capability) const;  // "LITERAL+", "AUTH=PLAIN", "MULTIAPPEND" ...
  const std::string& peer() const { return stream_->peer(); }
  // Whether a literal of `size` bytes may be sent without waiting for "+" (RFC 7888).
  bool NonSynchronizing(uint64_t size) const;
  // Set after a transport error or BYE: the connection must not be used again.
  bool broken() const { return !broken_.ok(); }
  // Marks the connection unusable (left mid-command by its user); it closes with the object.
  void Abandon(const Status& why) { Broken(why.ok() ? Status::Unavailable("abandoned") : why); }

  std::string NextTag();
  // Queues a command (flushed once enough is queued, or by Flush / Wait). Synchronizing literals
  // wait for the server's "+" here.
  Status Send(const ImapCommand& command);
  // Queues raw bytes of the command being sent (literal content, the CRLF that ends it).
  Status SendRaw(std::string_view bytes);
  Status Flush();
  // Waits for the server's "+" to a synchronizing literal of command `tag`; its completion
  // instead (the server refused it) comes back as that failure.
  Status WaitContinuation(const std::string& tag);
  // Waits until command `tag` completes; untagged responses on the way go to the handler.
  Result<ImapResponse> Wait(const std::string& tag);
  // Reads whatever has arrived without waiting; true when command `tag` has completed.
  Result<bool> Completed(const std::string& tag);
  // Send + Wait; a NO or BAD is returned as ImapFailure(context).
  Result<ImapResponse> Execute(const ImapCommand& command, std::string_view context);

  // Receives every untagged response (FETCH, LIST, STATUS, SEARCH, EXISTS ...) as it arrives.
  using Handler = std::function<void(ImapResponse&)>;
  void SetHandler(Handler handler) { handler_ = std::move(handler); }

 private:
  explicit ImapClient(std::unique_ptr<NetStream> stream) : stream_(std::move(stream)) {}
  Status Login(const ImapEndpoint& endpoint, const ImapAccess& access);
  Status Authenticate(const std::string& authzid, const std::string& authcid,
                      const std::string& secret, std::string_view who);
  Status LoginCommand(const std::string& user, const std::string& secret, std::string_view who);
  Status RefreshCapabilities();
  // Reads and dispatches one batch of responses; waits for bytes when `wait`.
  Status Pump(bool wait);
  void Dispatch(ImapResponse& response);
  Status Broken(Status s);

  std::unique_ptr<NetStream> stream_;
  std::shared_ptr<ByteRate> rate_;  // this server's pacing, or null
  ImapResponseParser parser_;
  std::string in_, out_;
  std::set<std::string> capabilities_;
  std::map<std::string, ImapResponse> completed_;  // tag -> its tagged response
  int continuations_ = 0;
  unsigned long next_tag_ = 0;
  Handler handler_;
  Status broken_;
  std::string bye_;
  bool preauth_ = false;
};

}  // namespace cm
