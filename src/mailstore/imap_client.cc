#include "mailstore/imap_client.h"

#include <fmt/format.h>

#include "core/strings.h"
#include "io/base64.h"

namespace cm {

namespace {

// Queued bytes are sent once this much is waiting: big enough to fill a socket buffer in one
// call, small enough to keep memory flat while a large message streams through.
constexpr size_t kFlushAt = 256 * 1024;

}  // namespace

Result<ImapEndpoint> ParseImapUrl(std::string_view url) {
  ImapEndpoint e;
  std::string_view rest;
  if (IStartsWith(url, "imaps://")) {
    e.implicit_tls = true;
    e.port = 993;
    rest = url.substr(8);
  } else if (IStartsWith(url, "imap://")) {
    rest = url.substr(7);
  } else {
    return Status::InvalidInput(fmt::format("'{}' is not an imap:// or imaps:// URL", url));
  }
  rest = rest.substr(0, rest.find('/'));
  size_t at = rest.rfind('@');
  if (at != std::string_view::npos) {
    std::string_view userinfo = rest.substr(0, at);
    rest = rest.substr(at + 1);
    size_t auth = AsciiLower(userinfo).find(";auth=");
    if (auth != std::string::npos) {
      e.auth = AsciiUpper(userinfo.substr(auth + 6));
      userinfo = userinfo.substr(0, auth);
    }
    auto user = PercentDecode(userinfo);
    if (!user) return Status::InvalidInput(fmt::format("'{}': bad %-escape in the user", url));
    e.user = *user;
  }
  auto address = ParseHostPort(rest, e.port, url);
  if (!address.ok()) return address.status();
  e.host = std::move(address->host);
  e.port = address->port;
  return e;
}

std::string ImapUrl(const ImapEndpoint& e) {
  std::string host = e.host.find(':') != std::string::npos ? "[" + e.host + "]" : e.host;
  std::string user = e.user.empty() ? "" : PercentEncode(e.user, "!$&'()*+,=") + "@";
  if (!e.auth.empty() && !user.empty()) user.insert(user.size() - 1, ";AUTH=" + e.auth);
  return fmt::format("{}://{}{}:{}/", e.implicit_tls ? "imaps" : "imap", user, host, e.port);
}

Status ImapFailure(const ImapResponse& r, std::string_view context) {
  std::string message = fmt::format("{}: {} {}{}", context, r.status.empty() ? "BYE" : r.status,
                                    r.code.empty() ? "" : "[" + r.code + "] ", r.text);
  const std::string& c = r.code;
  if (c == "TRYCREATE" || c == "NONEXISTENT") return Status::NotFound(message);
  if (c == "TOOBIG" || c == "LIMIT" || c == "PARSE" || c == "CANNOT")
    return Status::Constraint(message);
  if (c == "OVERQUOTA") return Status::ResourceExhausted(message);
  if (c == "AUTHENTICATIONFAILED" || c == "AUTHORIZATIONFAILED" || c == "EXPIRED" ||
      c == "PRIVACYREQUIRED" || c == "NOPERM")
    return Status::PermissionDenied(message);
  if (c == "UNAVAILABLE" || c == "INUSE" || c == "SERVERBUG" || c == "THROTTLED" ||
      r.status == "BYE" || r.status.empty())
    return Status::Unavailable(message);
  if (c == "ALREADYEXISTS") return Status::AlreadyExists(message);
  return Status::InvalidInput(message);
}

ImapClient::~ImapClient() = default;

bool ImapClient::Has(std::string_view capability) const {
  return capabilities_.count(AsciiUpper(capability)) > 0;
}

bool ImapClient::NonSynchronizing(uint64_t size) const {
  return Has("LITERAL+") || (Has("LITERAL-") && size <= 4096);
}

std::string ImapClient::NextTag() { return fmt::format("c{}", ++next_tag_); }

Status ImapClient::Broken(Status s) {
  if (broken_.ok()) broken_ = s;
  return s;
}

void ImapClient::Dispatch(ImapResponse& r) {
  auto learn = [&](std::string_view list) {
    capabilities_.clear();
    for (const auto& c : Split(list, ' '))
      if (!c.empty()) capabilities_.insert(AsciiUpper(c));
  };
  if (r.code == "CAPABILITY") learn(r.code_argument);
  switch (r.kind) {
    case ImapResponse::Kind::kContinuation:
      ++continuations_;
      return;
    case ImapResponse::Kind::kTagged:
      completed_[r.tag] = std::move(r);
      return;
    case ImapResponse::Kind::kUntagged:
      if (r.status == "BYE") bye_ = r.text.empty() ? "BYE" : r.text;
      if (!r.data.empty() && r.data[0].IsAtom("CAPABILITY")) {
        std::string list;
        for (size_t i = 1; i < r.data.size(); ++i) list += r.data[i].text + " ";
        learn(list);
      }
      if (handler_) handler_(r);
      return;
  }
}

Status ImapClient::Pump(bool wait) {
  if (!broken_.ok()) return broken_;
  in_.clear();
  auto n = stream_->Read(in_, wait);
  if (!n.ok()) {
    std::string why = bye_.empty()
                          ? n.status().message()
                          : fmt::format("{} (the server said BYE: {})", n.status().message(), bye_);
    return Broken(Status::Unavailable(why));
  }
  if (*n == 0) return Status::Ok();
  if (rate_) rate_->Spend(*n);  // received: the next read waits its turn
  std::vector<ImapResponse> responses;
  Status parsed = parser_.Feed(in_, responses);
  for (auto& r : responses) Dispatch(r);
  if (!parsed.ok()) return Broken(parsed.Annotate(stream_->peer()));
  return Status::Ok();
}

Status ImapClient::Flush() {
  if (!broken_.ok()) return broken_;
  if (out_.empty()) return Status::Ok();
  if (rate_) rate_->Spend(out_.size());
  Status s = stream_->Write(out_);
  out_.clear();
  if (!s.ok()) return Broken(s);
  return Status::Ok();
}

Status ImapClient::SendRaw(std::string_view bytes) {
  if (!broken_.ok()) return broken_;
  if (bytes.size() >= kFlushAt) {
    // A large piece (a message's bytes) goes out from where it is, after what is queued,
    // instead of being copied into the queue first.
    CM_RETURN_IF_ERROR(Flush());
    if (rate_) rate_->Spend(bytes.size());
    Status s = stream_->Write(bytes);
    if (!s.ok()) return Broken(s);
    return Status::Ok();
  }
  out_.append(bytes);
  return out_.size() >= kFlushAt ? Flush() : Status::Ok();
}

Status ImapClient::Send(const ImapCommand& command) {
  auto segments = command.Segments();
  for (size_t i = 0; i < segments.size(); ++i) {
    if (i > 0) {
      CM_RETURN_IF_ERROR(Flush());
      CM_RETURN_IF_ERROR(WaitContinuation(command.tag()));
    }
    CM_RETURN_IF_ERROR(SendRaw(segments[i]));
  }
  return Status::Ok();
}

Status ImapClient::WaitContinuation(const std::string& tag) {
  CM_RETURN_IF_ERROR(Flush());
  while (continuations_ == 0) {
    if (auto done = completed_.find(tag); done != completed_.end()) {
      ImapResponse r = std::move(done->second);
      completed_.erase(done);
      return ImapFailure(r, stream_->peer());
    }
    CM_RETURN_IF_ERROR(Pump(true));
  }
  --continuations_;
  return Status::Ok();
}

Result<ImapResponse> ImapClient::Wait(const std::string& tag) {
  CM_RETURN_IF_ERROR(Flush());
  while (true) {
    if (auto done = completed_.find(tag); done != completed_.end()) {
      ImapResponse r = std::move(done->second);
      completed_.erase(done);
      return r;
    }
    CM_RETURN_IF_ERROR(Pump(true));
  }
}

Result<bool> ImapClient::Completed(const std::string& tag) {
  if (!completed_.count(tag)) CM_RETURN_IF_ERROR(Pump(false));
  return completed_.count(tag) > 0;
}

Result<ImapResponse> ImapClient::Execute(const ImapCommand& command, std::string_view context) {
  CM_RETURN_IF_ERROR(Send(command));
  auto r = Wait(command.tag());
  if (!r.ok()) return r;
  if (r->status != "OK") return ImapFailure(*r, context);
  return r;
}

Status ImapClient::RefreshCapabilities() {
  ImapCommand c(NextTag(), "CAPABILITY", false);
  auto r = Execute(c, fmt::format("{}: CAPABILITY", peer()));
  return r.ok() ? Status::Ok() : r.status();
}

Status ImapClient::Authenticate(const std::string& authzid, const std::string& authcid,
                                const std::string& secret, std::string_view who) {
  std::string payload = authzid;
  payload += '\0';
  payload += authcid;
  payload += '\0';
  payload += secret;
  std::string encoded = Base64Encode(payload);
  std::string tag = NextTag();
  std::string context = fmt::format("{}: AUTHENTICATE PLAIN as {}", peer(), who);
  if (Has("SASL-IR")) {
    CM_RETURN_IF_ERROR(SendRaw(fmt::format("{} AUTHENTICATE PLAIN {}\r\n", tag, encoded)));
  } else {
    CM_RETURN_IF_ERROR(SendRaw(tag + " AUTHENTICATE PLAIN\r\n"));
    CM_RETURN_IF_ERROR(WaitContinuation(tag));
    CM_RETURN_IF_ERROR(SendRaw(encoded + "\r\n"));
  }
  auto r = Wait(tag);
  if (!r.ok()) return r.status();
  if (r->status != "OK") {
    Status s = ImapFailure(*r, context);
    // Servers answer a bad password with a bare NO as often as with the code.
    if (s.code() == Status::Code::kInvalidInput) return Status::PermissionDenied(s.message());
    return s;
  }
  return Status::Ok();
}

Status ImapClient::LoginCommand(const std::string& user, const std::string& secret,
                                std::string_view who) {
  if (Has("LOGINDISABLED")) {
    return Status::InvalidInput(fmt::format(
        "{}: the server refuses LOGIN on an unencrypted connection and offers no AUTH=PLAIN "
        "(use imaps:// or starttls = true)",
        peer()));
  }
  ImapCommand c(NextTag(), "LOGIN", Has("LITERAL+"));
  c.String(user).String(secret);
  CM_RETURN_IF_ERROR(Send(c));
  auto r = Wait(c.tag());
  if (!r.ok()) return r.status();
  if (r->status != "OK") {
    Status s = ImapFailure(*r, fmt::format("{}: LOGIN as {}", peer(), who));
    if (s.code() == Status::Code::kInvalidInput) return Status::PermissionDenied(s.message());
    return s;
  }
  return Status::Ok();
}

Status ImapClient::Login(const ImapEndpoint& e, const ImapAccess& access) {
  if (e.user.empty()) return Status::InvalidInput(fmt::format("{}: no user to log in as", peer()));
  if (!e.auth.empty() && e.auth != "*" && e.auth != "PLAIN") {
    return Status::InvalidInput(fmt::format(
        "{}: ;AUTH={} is not supported (PLAIN, or LOGIN without ;AUTH=)", peer(), e.auth));
  }
  bool plain = Has("AUTH=PLAIN");
  auto user_secret = access.user_secrets.find(e.user);
  Status admin_login = Status::Ok();
  if (!access.admin.empty()) {
    if (access.dovecot_master_form) {
      std::string login = e.user + "*" + access.admin;
      std::string who = fmt::format("{} (for {})", access.admin, e.user);
      admin_login = plain ? Authenticate("", login, access.admin_secret, who)
                          : LoginCommand(login, access.admin_secret, who);
    } else if (plain) {
      admin_login = Authenticate(e.user, access.admin, access.admin_secret,
                                 fmt::format("{} for {}", access.admin, e.user));
    } else {
      admin_login = Status::InvalidInput(fmt::format(
          "{}: the server offers no AUTH=PLAIN, so admin '{}' cannot name the user to act for "
          "(Dovecot: master-form = \"dovecot\")",
          peer(), access.admin));
    }
    if (admin_login.ok() || user_secret == access.user_secrets.end()) return admin_login;
    if (admin_login.code() == Status::Code::kUnavailable) return admin_login;
  }
  if (user_secret == access.user_secrets.end()) {
    return Status::InvalidInput(fmt::format(
        "{}: no credential for {} (set the database's admin, or a user-credentials line for it)",
        peer(), e.user));
  }
  Status own = plain && e.auth != "LOGIN" ? Authenticate("", e.user, user_secret->second, e.user)
                                          : LoginCommand(e.user, user_secret->second, e.user);
  if (!own.ok() && !admin_login.ok())
    return Status(own).Annotate(fmt::format("{}; then its own password", admin_login.message()));
  return own;
}

Result<std::unique_ptr<ImapClient>> ImapClient::Probe(const ImapEndpoint& e,
                                                      const ImapAccess& access) {
  auto stream = NetStream::Connect(e.host, e.port, access.timeout_seconds);
  if (!stream.ok()) return stream.status();
  std::unique_ptr<ImapClient> c(new ImapClient(std::move(*stream)));
  c->rate_ = ServerByteRate(fmt::format("{}:{}", e.host, e.port), access.max_bytes_per_second);
  if (e.implicit_tls) CM_RETURN_IF_ERROR(c->stream_->StartTls(access.tls));
  // The greeting: OK (log in), PREAUTH (already in), BYE (refused).
  std::string greeting_status;
  c->SetHandler([&](ImapResponse& r) {
    if (greeting_status.empty()) greeting_status = r.status.empty() ? "?" : r.status;
  });
  while (greeting_status.empty()) CM_RETURN_IF_ERROR(c->Pump(true));
  c->SetHandler(nullptr);
  if (greeting_status == "BYE")
    return Status::Unavailable(fmt::format("{}: the server said BYE: {}", c->peer(), c->bye_));
  if (greeting_status != "OK" && greeting_status != "PREAUTH")
    return Status::Unavailable(fmt::format("{}: not an IMAP server greeting", c->peer()));
  c->preauth_ = greeting_status == "PREAUTH";
  if (c->capabilities_.empty()) CM_RETURN_IF_ERROR(c->RefreshCapabilities());
  if (!c->Has("IMAP4REV1") && !c->Has("IMAP4REV2"))
    return Status::Unavailable(fmt::format("{}: not an IMAP4rev1 server", c->peer()));
  if (access.starttls && !e.implicit_tls) {
    if (!c->Has("STARTTLS"))
      return Status::Unavailable(fmt::format("{}: the server does not offer STARTTLS", c->peer()));
    ImapCommand st(c->NextTag(), "STARTTLS", false);
    auto r = c->Execute(st, fmt::format("{}: STARTTLS", c->peer()));
    if (!r.ok()) return r.status();
    CM_RETURN_IF_ERROR(c->stream_->StartTls(access.tls));
    CM_RETURN_IF_ERROR(c->RefreshCapabilities());  // never trust what was said in clear text
  }
  return c;
}

Result<std::unique_ptr<ImapClient>> ImapClient::Connect(const ImapEndpoint& e,
                                                        const ImapAccess& access) {
  auto probed = Probe(e, access);
  if (!probed.ok()) return probed.status();
  std::unique_ptr<ImapClient> c = std::move(*probed);
  if (!c->preauth_) {
    std::set<std::string> pre_login = c->capabilities_;
    CM_RETURN_IF_ERROR(c->Login(e, access));
    // Most servers send the new capabilities with the OK; ask the others.
    if (c->capabilities_ == pre_login) CM_RETURN_IF_ERROR(c->RefreshCapabilities());
  }
  if (access.compress && c->Has("COMPRESS=DEFLATE")) {
    ImapCommand z(c->NextTag(), "COMPRESS", false);
    z.Atom("DEFLATE");
    auto r = c->Execute(z, fmt::format("{}: COMPRESS DEFLATE", c->peer()));
    if (!r.ok()) return r.status();
    CM_RETURN_IF_ERROR(c->stream_->StartDeflate());
  }
  return c;
}

}  // namespace cm
