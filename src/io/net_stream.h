// A client's TCP connection, optionally TLS (OpenSSL) and DEFLATE-compressed (RFC 4978), made for
// protocols that pipeline (IMAP, SMTP). Two things no packaged stream gives us together:
// - a write never blocks without also reading: when the peer stops taking bytes because it is
//   itself waiting for us to read its answers, what it sent is read into an inbox, so a deep
//   pipeline cannot deadlock on two full socket buffers;
// - every wait has a deadline, so a peer that accepts the connection and never answers costs the
//   timeout, not forever.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;

namespace cm {

struct TlsOptions {
  bool verify = true;   // certificate chain and host name; off only when an admin says so
  std::string ca_file;  // PEM; "" = the system's trust store
};

struct HostPort {
  std::string host;  // a name, an IPv4 address or a bare IPv6 address
  int port = 0;
};

// The authority of a URL, "HOST", "HOST:PORT" or "[IPv6]:PORT" (`default_port` when none);
// errors name `url`. Shared by every URL a user gives (imap://, smtp://).
Result<HostPort> ParseHostPort(std::string_view authority, int default_port, std::string_view url);

class NetStream {
 public:
  // Connects to host:port within `timeout_seconds` (also the limit of every later wait).
  static Result<std::unique_ptr<NetStream>> Connect(const std::string& host, int port,
                                                    int timeout_seconds);
  ~NetStream();
  NetStream(const NetStream&) = delete;
  NetStream& operator=(const NetStream&) = delete;

  // TLS from here on (at once for imaps, after the STARTTLS exchange otherwise).
  Status StartTls(const TlsOptions& options);
  // DEFLATE from here on, both ways (after COMPRESS DEFLATE's OK).
  Status StartDeflate();
  bool tls() const { return ssl_ != nullptr; }
  bool compressed() const;

  // Sends every byte of `data` (compressed data is flushed at the end of each call).
  Status Write(std::string_view data);
  // Appends what has arrived to `out`. With `wait`, waits until at least one byte arrives (or
  // the timeout); without, returns at once. Returns the number of bytes appended (0: none yet).
  // End of stream is kUnavailable.
  Result<size_t> Read(std::string& out, bool wait);

  const std::string& peer() const { return peer_; }  // "host:port", for messages

 private:
  NetStream(int fd, std::string peer, int timeout_seconds);
  // One read from the connection (TLS and inflate applied) into `out`; 0 when nothing is ready.
  Result<size_t> ReadSome(std::string& out);
  Status SendRaw(std::string_view data);  // below compression
  Status WaitFor(bool readable, bool writable, bool* can_read, bool* can_write);
  Status TlsError(std::string_view what, int rc);

  int fd_;
  std::string peer_;
  int timeout_ms_;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  struct Deflate;
  std::unique_ptr<Deflate> deflate_;
  std::string inbox_;  // read while a write was waiting
  bool eof_ = false;
};

}  // namespace cm
