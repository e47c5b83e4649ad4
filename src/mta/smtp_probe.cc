#include "mta/smtp_probe.h"

#include <fmt/format.h>

#include <charconv>
#include <memory>

#include "core/strings.h"

namespace cm {

namespace {

constexpr size_t kRecipientsPerSession = 8;

struct Reply {
  int code = 0;
  std::vector<std::string> lines;  // text after "250-" / "250 "
  std::string Text() const { return Join(lines, " / "); }
};

// One SMTP session: replies read line by line (a reply ends with "ddd " on its last line).
class Session {
 public:
  static Result<std::unique_ptr<Session>> Open(const std::string& host, int port, bool tls,
                                               const TlsOptions& tls_options, int timeout) {
    auto stream = NetStream::Connect(host, port, timeout);
    if (!stream.ok()) return stream.status();
    std::unique_ptr<Session> s(new Session(std::move(*stream)));
    if (tls) CM_RETURN_IF_ERROR(s->stream_->StartTls(tls_options));
    auto greeting = s->Read();
    if (!greeting.ok()) return greeting.status();
    if (greeting->code != 220) {
      return Status::Unavailable(fmt::format("{}: refused the session: {} {}", s->peer(),
                                             greeting->code, greeting->Text()));
    }
    CM_RETURN_IF_ERROR(s->Write("EHLO crossmove.invalid\r\n"));
    auto ehlo = s->Read();
    if (!ehlo.ok()) return ehlo.status();
    if (ehlo->code != 250) {
      return Status::Unavailable(
          fmt::format("{}: EHLO refused: {} {}", s->peer(), ehlo->code, ehlo->Text()));
    }
    for (const auto& line : ehlo->lines) s->pipelining_ |= IEquals(Trim(line), "PIPELINING");
    return s;
  }

  const std::string& peer() const { return stream_->peer(); }
  bool pipelining() const { return pipelining_; }
  Status Write(std::string_view bytes) { return stream_->Write(bytes); }

  Result<Reply> Read() {
    Reply reply;
    while (true) {
      size_t eol;
      while ((eol = in_.find("\r\n")) == std::string::npos) {
        if (in_.size() > 64 * 1024)
          return Status::Unavailable(fmt::format("{}: a reply line over 64 KiB", peer()));
        auto n = stream_->Read(in_, true);
        if (!n.ok()) return n.status();
      }
      std::string line = in_.substr(0, eol);
      in_.erase(0, eol + 2);
      int code = 0;
      if (line.size() < 3 ||
          std::from_chars(line.data(), line.data() + 3, code).ec != std::errc() ||
          (line.size() > 3 && line[3] != ' ' && line[3] != '-')) {
        return Status::Unavailable(fmt::format("{}: not an SMTP reply: '{}'", peer(), line));
      }
      reply.code = code;
      reply.lines.push_back(line.size() > 4 ? line.substr(4) : "");
      if (line.size() == 3 || line[3] == ' ') return reply;
    }
  }

 private:
  explicit Session(std::unique_ptr<NetStream> s) : stream_(std::move(s)) {}
  std::unique_ptr<NetStream> stream_;
  std::string in_;
  bool pipelining_ = false;
};

// RCPT TO for a few addresses in one transaction that is then reset.
Status AskAbout(Session& s, std::vector<RcptAnswer>& answers, size_t from, size_t to) {
  std::vector<std::string> commands = {"MAIL FROM:<>\r\n"};
  for (size_t i = from; i < to; ++i)
    commands.push_back(fmt::format("RCPT TO:<{}>\r\n", answers[i].address));
  commands.push_back("RSET\r\n");
  if (s.pipelining()) {
    std::string all;
    for (const auto& c : commands) all += c;
    CM_RETURN_IF_ERROR(s.Write(all));
  }
  for (size_t k = 0; k < commands.size(); ++k) {
    if (!s.pipelining()) CM_RETURN_IF_ERROR(s.Write(commands[k]));
    auto reply = s.Read();
    if (!reply.ok()) return reply.status();
    if (k == 0 && reply->code != 250) {
      return Status::Unavailable(
          fmt::format("{}: MAIL FROM:<> refused: {} {}", s.peer(), reply->code, reply->Text()));
    }
    if (k > 0 && k + 1 < commands.size()) {
      RcptAnswer& a = answers[from + k - 1];
      a.code = reply->code;
      a.text = reply->Text();
    }
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<RcptAnswer>> ProbeRecipients(std::string_view url,
                                                const std::vector<std::string>& addresses,
                                                const TlsOptions& tls, int timeout_seconds) {
  bool implicit_tls = IStartsWith(url, "smtps://");
  if (!implicit_tls && !IStartsWith(url, "smtp://")) {
    return Status::InvalidInput(
        fmt::format("'{}': expected smtp://HOST[:PORT] or smtps://HOST[:PORT]", url));
  }
  std::string_view rest = url.substr(implicit_tls ? 8 : 7);
  rest = rest.substr(0, rest.find('/'));
  auto address = ParseHostPort(rest, implicit_tls ? 465 : 25, url);
  if (!address.ok()) return address.status();
  std::vector<RcptAnswer> answers;
  for (const auto& a : addresses) answers.push_back({a, 0, ""});
  for (size_t from = 0; from < answers.size(); from += kRecipientsPerSession) {
    auto session = Session::Open(address->host, address->port, implicit_tls, tls, timeout_seconds);
    if (!session.ok()) return session.status();
    CM_RETURN_IF_ERROR(
        AskAbout(**session, answers, from, std::min(answers.size(), from + kRecipientsPerSession)));
    (void)(*session)->Write("QUIT\r\n");
  }
  return answers;
}

}  // namespace cm
