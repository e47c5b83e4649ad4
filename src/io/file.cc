#include "io/file.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace cm {

namespace {

FileVersion VersionFrom(const struct stat& st) {
  return {st.st_dev, st.st_ino, static_cast<int64_t>(st.st_size),
          static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec,
          static_cast<int64_t>(st.st_ctim.tv_sec) * 1000000000 + st.st_ctim.tv_nsec};
}

Status OpenError(const std::string& path, int err) {
  if (err == ENOENT) return Status::NotFound(fmt::format("{}: no such file", path));
  return Status::IOError(fmt::format("cannot open {}: {}", path, std::strerror(err)));
}

}  // namespace

Result<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return OpenError(path, errno);
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Status::IOError(fmt::format("cannot read {}", path));
  return ss.str();
}

Result<std::string> ReadWholeFile(const std::string& path, FileVersion& version) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return OpenError(path, errno);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return Status::IOError(fmt::format("cannot read {}: {}", path, std::strerror(err)));
  }
  std::string data;
  data.reserve(static_cast<size_t>(st.st_size));
  char buf[65536];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return Status::IOError(fmt::format("cannot read {}: {}", path, std::strerror(err)));
    }
    if (n == 0) break;
    data.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  version = VersionFrom(st);
  return data;
}

Result<FileVersion> VersionOf(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return OpenError(path, errno);
  return VersionFrom(st);
}

Status WriteFileAtomically(const std::string& path, std::string_view data, unsigned mode,
                           bool durable) {
  std::string tmp = fmt::format("{}.tmp.{}.XXXXXX", path, ::getpid());
  int fd = ::mkostemp(tmp.data(), O_CLOEXEC);
  if (fd < 0) return Status::IOError(fmt::format("cannot write {}: {}", tmp, std::strerror(errno)));
  auto fail = [&](std::string_view what) {
    int err = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    return Status::IOError(fmt::format("cannot {} {}: {}", what, tmp, std::strerror(err)));
  };
  // mkostemp creates 0600, which every caller asks for today; another mode is set explicitly
  // (reading the umask would mean changing it, which is not thread-safe).
  if (mode != 0600 && ::fchmod(fd, static_cast<mode_t>(mode)) != 0) return fail("set the mode of");
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail("write");
    }
    off += static_cast<size_t>(n);
  }
  if (durable && ::fsync(fd) != 0) return fail("flush");
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return Status::IOError(fmt::format("cannot replace {}: {}", path, std::strerror(err)));
  }
  return Status::Ok();
}

Status MakePrivateFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    return Status::IOError(fmt::format("cannot create {}: {}", path, std::strerror(errno)));
  struct stat st;
  Status result = Status::Ok();
  if (::fstat(fd, &st) != 0 || ((st.st_mode & 077) && ::fchmod(fd, st.st_mode & 07700) != 0))
    result = Status::IOError(fmt::format("cannot make {} private: {}", path, std::strerror(errno)));
  ::close(fd);
  return result;
}

Status TightenIfExists(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return Status::Ok();
  if ((st.st_mode & 077) && ::chmod(path.c_str(), st.st_mode & 07700) != 0)
    return Status::IOError(fmt::format("cannot make {} private: {}", path, std::strerror(errno)));
  return Status::Ok();
}

}  // namespace cm
