// The target server's APPEND ceiling: how fast it takes messages that are already in memory,
// sent as MULTIAPPEND commands (LITERAL+) with several in flight. No source, no journal, no
// verification: what no migration tool can beat, measured against the same server in the same
// run as the tools (bench/imap_copy.sh). Deliberately independent of crossmove's own client.
//
//   append_ceiling HOST PORT ADMIN SECRET_FILE CONNECTIONS LIST_FILE [PER_COMMAND] [IN_FLIGHT]
//
// LIST_FILE: "user<TAB>maildir" lines; every message of each Maildir++ tree is loaded first
// (folder, flags, mtime as INTERNALDATE) and appended to that user's mailbox on the server,
// logging in as "user*ADMIN" (Dovecot's master form). CONNECTIONS threads share the users.
// Prints "messages bytes seconds" (the seconds of the appends only).
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Message {
  std::string bytes, flags;
  time_t date;
};
struct Mailbox {
  std::string user;
  std::map<std::string, std::vector<Message>> folders;  // IMAP name -> messages
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void LoadFolder(const std::string& dir, std::vector<Message>& out) {
  std::map<char, std::string> keywords;  // Dovecot's letter -> keyword table
  std::istringstream table(ReadFile(dir + "/dovecot-keywords"));
  for (std::string line; std::getline(table, line);) {
    size_t sp = line.find(' ');
    if (sp != std::string::npos) keywords['a' + std::atoi(line.c_str())] = line.substr(sp + 1);
  }
  for (const char* sub : {"cur", "new"}) {
    std::string d = dir + "/" + sub;
    DIR* h = opendir(d.c_str());
    if (!h) continue;
    while (dirent* e = readdir(h)) {
      std::string name = e->d_name;
      if (name[0] == '.') continue;
      std::string path = d + "/" + name;
      struct stat st;
      if (stat(path.c_str(), &st) != 0) continue;
      std::string flags;
      size_t info = name.find(":2,");
      if (info != std::string::npos) {
        for (char c : name.substr(info + 3)) {
          const char* f = c == 'S'   ? "\\Seen"
                          : c == 'F' ? "\\Flagged"
                          : c == 'R' ? "\\Answered"
                          : c == 'D' ? "\\Draft"
                          : c == 'T' ? "\\Deleted"
                                     : nullptr;
          if (!f && keywords.count(c)) f = keywords[c].c_str();
          if (f) flags += (flags.empty() ? "" : " ") + std::string(f);
        }
      }
      out.push_back({ReadFile(path), flags, st.st_mtime});
    }
    closedir(h);
  }
}

Mailbox Load(const std::string& user, const std::string& root) {
  Mailbox box{user, {}};
  LoadFolder(root, box.folders["INBOX"]);
  DIR* h = opendir(root.c_str());
  while (h && true) {
    dirent* e = readdir(h);
    if (!e) break;
    std::string name = e->d_name;
    if (name.size() < 2 || name[0] != '.' || name == "..") continue;
    std::string imap = name.substr(1);
    for (char& c : imap) c = c == '.' ? '/' : c;  // Maildir++ (names already modified UTF-7)
    LoadFolder(root + "/" + name, box.folders[imap]);
  }
  if (h) closedir(h);
  return box;
}

struct Conn {
  int fd = -1;
  std::string in;
  unsigned tag = 0;
  bool Send(const std::string& s) {
    size_t off = 0;
    while (off < s.size()) {
      ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;
      off += static_cast<size_t>(n);
    }
    return true;
  }
  // Reads lines until the tagged response of `t`; false unless it is OK.
  bool WaitTag(const std::string& t) {
    while (true) {
      size_t eol;
      while ((eol = in.find("\r\n")) != std::string::npos) {
        std::string line = in.substr(0, eol);
        in.erase(0, eol + 2);
        if (line.compare(0, t.size() + 1, t + " ") == 0) {
          if (line.compare(t.size() + 1, 2, "OK") != 0) {
            std::fprintf(stderr, "server: %s\n", line.c_str());
            return false;
          }
          return true;
        }
      }
      char buf[65536];
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) return false;
      in.append(buf, static_cast<size_t>(n));
    }
  }
  std::string Next() { return "t" + std::to_string(++tag); }
};

std::string Quote(const std::string& s) {
  std::string q = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') q += '\\';
    q += c;
  }
  return q + "\"";
}

bool Connect(Conn& c, const std::string& host, int port, const std::string& login,
             const std::string& secret) {
  c.fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, host.c_str(), &a.sin_addr);
  if (::connect(c.fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return false;
  int one = 1;
  setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  std::string t = c.Next();
  return c.Send(t + " LOGIN " + Quote(login) + " " + Quote(secret) + "\r\n") && c.WaitTag(t);
}

bool AppendAll(Conn& c, const Mailbox& box, size_t per_command, size_t in_flight) {
  std::deque<std::string> pending;
  for (const auto& [folder, messages] : box.folders) {
    for (const auto& t : pending) {
      if (!c.WaitTag(t)) return false;
    }
    pending.clear();
    if (folder != "INBOX") {
      std::string t = c.Next();
      if (!c.Send(t + " CREATE " + Quote(folder) + "\r\n") || !c.WaitTag(t)) return false;
    }
    for (size_t i = 0; i < messages.size(); i += per_command) {
      std::string t = c.Next();
      std::string cmd = t + " APPEND " + Quote(folder);
      for (size_t k = i; k < std::min(messages.size(), i + per_command); ++k) {
        const Message& m = messages[k];
        char date[64];
        struct tm tm;
        gmtime_r(&m.date, &tm);
        std::strftime(date, sizeof date, "\"%d-%b-%Y %H:%M:%S +0000\"", &tm);
        cmd += " (" + m.flags + ") " + date + " {" + std::to_string(m.bytes.size()) + "+}\r\n";
        cmd += m.bytes;
      }
      cmd += "\r\n";
      if (!c.Send(cmd)) return false;
      pending.push_back(t);
      while (pending.size() > in_flight) {
        if (!c.WaitTag(pending.front())) return false;
        pending.pop_front();
      }
    }
  }
  for (const auto& t : pending) {
    if (!c.WaitTag(t)) return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 7) {
    std::fprintf(stderr,
                 "usage: %s HOST PORT ADMIN SECRET_FILE CONNECTIONS LIST_FILE [PER_COMMAND] "
                 "[IN_FLIGHT]\n",
                 argv[0]);
    return 2;
  }
  std::string host = argv[1], admin = argv[3];
  int port = std::atoi(argv[2]);
  std::string secret = ReadFile(argv[4]);
  while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
  int connections = std::atoi(argv[5]);
  size_t per_command = argc > 7 ? std::strtoul(argv[7], nullptr, 10) : 100;
  size_t in_flight = argc > 8 ? std::strtoul(argv[8], nullptr, 10) : 8;
  std::vector<Mailbox> boxes;
  std::ifstream list(argv[6]);
  for (std::string line; std::getline(list, line);) {
    size_t tab = line.find('\t');
    if (tab != std::string::npos) boxes.push_back(Load(line.substr(0, tab), line.substr(tab + 1)));
  }
  size_t messages = 0, bytes = 0;
  for (const auto& b : boxes) {
    for (const auto& [f, ms] : b.folders) {
      messages += ms.size();
      for (const auto& m : ms) bytes += m.bytes.size();
    }
  }
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  auto started = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < connections; ++t) {
    threads.emplace_back([&] {
      for (size_t i = next++; i < boxes.size(); i = next++) {
        Conn c;
        if (!Connect(c, host, port, boxes[i].user + "*" + admin, secret) ||
            !AppendAll(c, boxes[i], per_command, in_flight))
          failed = true;
        if (c.fd >= 0) ::close(c.fd);
      }
    });
  }
  for (auto& t : threads) t.join();
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (failed) {
    std::fprintf(stderr, "append_ceiling: an append failed\n");
    return 1;
  }
  std::printf("%zu %zu %.3f\n", messages, bytes, seconds);
  return 0;
}
