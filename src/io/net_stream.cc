#include "io/net_stream.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <charconv>
#include <cstring>

namespace cm {

namespace {

constexpr size_t kReadChunk = 64 * 1024;

bool IsIpLiteral(const std::string& host) {
  in6_addr a6;
  in_addr a4;
  return inet_pton(AF_INET, host.c_str(), &a4) == 1 || inet_pton(AF_INET6, host.c_str(), &a6) == 1;
}

std::string OpenSslErrors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out;
}

}  // namespace

// Raw DEFLATE both ways (RFC 4978: no zlib header), one stream per direction for the life of
// the connection.
struct NetStream::Deflate {
  z_stream out{}, in{};
  Deflate() {
    deflateInit2(&out, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
    inflateInit2(&in, -15);
  }
  ~Deflate() {
    deflateEnd(&out);
    inflateEnd(&in);
  }
};

NetStream::NetStream(int fd, std::string peer, int timeout_seconds)
    : fd_(fd), peer_(std::move(peer)), timeout_ms_(timeout_seconds * 1000) {}

NetStream::~NetStream() {
  if (ssl_) SSL_free(ssl_);
  if (ctx_) SSL_CTX_free(ctx_);
  if (fd_ >= 0) ::close(fd_);
}

bool NetStream::compressed() const { return deflate_ != nullptr; }

Result<HostPort> ParseHostPort(std::string_view authority, int default_port, std::string_view url) {
  HostPort out{"", default_port};
  std::string_view host = authority, rest;
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos)
      return Status::InvalidInput(fmt::format("'{}': unterminated [IPv6] host", url));
    host = authority.substr(1, close - 1);
    rest = authority.substr(close + 1);
  } else if (size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    rest = authority.substr(colon);
  }
  if (!rest.empty()) {
    if (rest.front() != ':')
      return Status::InvalidInput(fmt::format("'{}': expected ':PORT' after the host", url));
    auto [end, ec] = std::from_chars(rest.data() + 1, rest.data() + rest.size(), out.port);
    if (ec != std::errc() || end != rest.data() + rest.size() || out.port <= 0 || out.port > 65535)
      return Status::InvalidInput(fmt::format("'{}': bad port", url));
  }
  if (host.empty()) return Status::InvalidInput(fmt::format("'{}' names no host", url));
  out.host = std::string(host);
  return out;
}

Result<std::unique_ptr<NetStream>> NetStream::Connect(const std::string& host, int port,
                                                      int timeout_seconds) {
  std::string peer = fmt::format("{}:{}", host, port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  int rc = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found);
  if (rc != 0)
    return Status::Unavailable(fmt::format("{}: cannot resolve: {}", peer, gai_strerror(rc)));
  std::string last_error = "no address";
  for (addrinfo* a = found; a; a = a->ai_next) {
    int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
    if (fd < 0) continue;
    if (::connect(fd, a->ai_addr, a->ai_addrlen) != 0 && errno != EINPROGRESS) {
      last_error = std::strerror(errno);
      ::close(fd);
      continue;
    }
    pollfd p{fd, POLLOUT, 0};
    int ready = ::poll(&p, 1, timeout_seconds * 1000);
    int err = 0;
    socklen_t len = sizeof err;
    if (ready <= 0) {
      last_error =
          ready == 0 ? fmt::format("no answer within {} s", timeout_seconds) : std::strerror(errno);
      ::close(fd);
      continue;
    }
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      last_error = std::strerror(err);
      ::close(fd);
      continue;
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    freeaddrinfo(found);
    return std::unique_ptr<NetStream>(new NetStream(fd, peer, timeout_seconds));
  }
  freeaddrinfo(found);
  return Status::Unavailable(fmt::format("{}: cannot connect: {}", peer, last_error));
}

Status NetStream::WaitFor(bool readable, bool writable, bool* can_read, bool* can_write) {
  pollfd p{fd_, static_cast<short>((readable ? POLLIN : 0) | (writable ? POLLOUT : 0)), 0};
  while (true) {
    int rc = ::poll(&p, 1, timeout_ms_);
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0) return Status::Unavailable(fmt::format("{}: {}", peer_, std::strerror(errno)));
    if (rc == 0) {
      return Status::Unavailable(
          fmt::format("{}: no answer within {} s", peer_, timeout_ms_ / 1000));
    }
    break;
  }
  if (can_read) *can_read = p.revents & (POLLIN | POLLHUP | POLLERR);
  if (can_write) *can_write = p.revents & (POLLOUT | POLLHUP | POLLERR);
  return Status::Ok();
}

Status NetStream::TlsError(std::string_view what, int rc) {
  int err = ssl_ ? SSL_get_error(ssl_, rc) : 0;
  std::string detail = OpenSslErrors();
  if (ssl_ && SSL_get_verify_result(ssl_) != X509_V_OK) {
    detail = fmt::format("certificate not trusted: {}",
                         X509_verify_cert_error_string(SSL_get_verify_result(ssl_)));
  }
  if (detail.empty()) detail = err == SSL_ERROR_SYSCALL ? "connection closed" : "TLS error";
  return Status::Unavailable(fmt::format("{}: {}: {}", peer_, what, detail));
}

Status NetStream::StartTls(const TlsOptions& options) {
  ctx_ = SSL_CTX_new(TLS_client_method());
  if (!ctx_) return TlsError("TLS", 0);
  SSL_CTX_set_min_proto_version(ctx_, TLS1_2_VERSION);
  if (options.verify) {
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    int loaded = options.ca_file.empty()
                     ? SSL_CTX_set_default_verify_paths(ctx_)
                     : SSL_CTX_load_verify_locations(ctx_, options.ca_file.c_str(), nullptr);
    if (loaded != 1) {
      return Status::InvalidInput(
          fmt::format("{}: cannot load CA file '{}': {}", peer_, options.ca_file, OpenSslErrors()));
    }
  }
  ssl_ = SSL_new(ctx_);
  SSL_set_mode(ssl_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_set_fd(ssl_, fd_);
  std::string host = peer_.substr(0, peer_.rfind(':'));
  if (options.verify) {
    if (IsIpLiteral(host)) {
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), host.c_str());
    } else {
      SSL_set1_host(ssl_, host.c_str());
    }
  }
  if (!IsIpLiteral(host)) SSL_set_tlsext_host_name(ssl_, host.c_str());
  while (true) {
    ERR_clear_error();
    int rc = SSL_connect(ssl_);
    if (rc == 1) break;
    int err = SSL_get_error(ssl_, rc);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
      CM_RETURN_IF_ERROR(
          WaitFor(err == SSL_ERROR_WANT_READ, err == SSL_ERROR_WANT_WRITE, nullptr, nullptr));
      continue;
    }
    return TlsError("TLS handshake", rc);
  }
  return Status::Ok();
}

Status NetStream::StartDeflate() {
  deflate_ = std::make_unique<Deflate>();
  return Status::Ok();
}

Result<size_t> NetStream::ReadSome(std::string& out) {
  if (eof_) return Status::Unavailable(fmt::format("{}: connection closed by the server", peer_));
  char buf[kReadChunk];
  ssize_t n;
  if (ssl_) {
    ERR_clear_error();
    int rc = SSL_read(ssl_, buf, sizeof buf);
    if (rc <= 0) {
      int err = SSL_get_error(ssl_, rc);
      if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) return size_t{0};
      if (err == SSL_ERROR_ZERO_RETURN) {
        eof_ = true;
        return Status::Unavailable(fmt::format("{}: connection closed by the server", peer_));
      }
      eof_ = true;
      return TlsError("TLS read", rc);
    }
    n = rc;
  } else {
    n = ::recv(fd_, buf, sizeof buf, 0);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return size_t{0};
      eof_ = true;
      return Status::Unavailable(fmt::format("{}: {}", peer_, std::strerror(errno)));
    }
    if (n == 0) {
      eof_ = true;
      return Status::Unavailable(fmt::format("{}: connection closed by the server", peer_));
    }
  }
  if (!deflate_) {
    out.append(buf, static_cast<size_t>(n));
    return static_cast<size_t>(n);
  }
  z_stream& z = deflate_->in;
  z.next_in = reinterpret_cast<Bytef*>(buf);
  z.avail_in = static_cast<uInt>(n);
  size_t before = out.size();
  char inflated[kReadChunk];
  do {
    z.next_out = reinterpret_cast<Bytef*>(inflated);
    z.avail_out = sizeof inflated;
    int rc = inflate(&z, Z_SYNC_FLUSH);
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      eof_ = true;
      return Status::Unavailable(fmt::format("{}: bad compressed data from the server", peer_));
    }
    out.append(inflated, sizeof inflated - z.avail_out);
  } while (z.avail_in > 0 || z.avail_out == 0);
  return out.size() - before;
}

Result<size_t> NetStream::Read(std::string& out, bool wait) {
  if (!inbox_.empty()) {
    size_t n = inbox_.size();
    out += inbox_;
    inbox_.clear();
    return n;
  }
  while (true) {
    auto n = ReadSome(out);
    if (!n.ok() || *n > 0 || !wait) return n;
    CM_RETURN_IF_ERROR(WaitFor(true, false, nullptr, nullptr));
  }
}

Status NetStream::SendRaw(std::string_view data) {
  while (!data.empty()) {
    ssize_t n;
    bool blocked = false;
    if (ssl_) {
      ERR_clear_error();
      int rc =
          SSL_write(ssl_, data.data(), static_cast<int>(std::min<size_t>(data.size(), 1 << 30)));
      if (rc <= 0) {
        int err = SSL_get_error(ssl_, rc);
        if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE)
          return TlsError("TLS write", rc);
        blocked = true;
        n = 0;
      } else {
        n = rc;
      }
    } else {
      n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
          return Status::Unavailable(fmt::format("{}: {}", peer_, std::strerror(errno)));
        blocked = true;
        n = 0;
      }
    }
    data.remove_prefix(static_cast<size_t>(n));
    if (!blocked) continue;
    // The peer is not taking bytes: read what it says meanwhile, so that it can go on.
    bool can_read = false;
    CM_RETURN_IF_ERROR(WaitFor(true, true, &can_read, nullptr));
    if (can_read) {
      auto got = ReadSome(inbox_);
      if (!got.ok()) return got.status();
    }
  }
  return Status::Ok();
}

Status NetStream::Write(std::string_view data) {
  if (!deflate_) return SendRaw(data);
  z_stream& z = deflate_->out;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  char buf[kReadChunk];
  do {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    deflate(&z, Z_SYNC_FLUSH);
    CM_RETURN_IF_ERROR(SendRaw(std::string_view(buf, sizeof buf - z.avail_out)));
  } while (z.avail_out == 0 || z.avail_in > 0);
  return Status::Ok();
}

}  // namespace cm
