#include "mailstore/maildir_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <set>

#include "core/mutf7.h"
#include "core/strings.h"
#include "io/file.h"

namespace cm {

namespace {

constexpr size_t kChunk = 64 * 1024;

bool IsDir(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

Status MakeDir(const std::string& p) {
  if (::mkdir(p.c_str(), 0700) != 0 && errno != EEXIST) {
    return Status::IOError(fmt::format("cannot create {}: {}", p, std::strerror(errno)));
  }
  return Status::Ok();
}

Result<std::vector<std::string>> ListDir(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = ::opendir(dir.c_str());
  if (!d) {
    if (errno == ENOENT) return names;
    return Status::IOError(fmt::format("cannot list {}: {}", dir, std::strerror(errno)));
  }
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(std::move(n));
  }
  ::closedir(d);
  return names;
}

// Maildir flag letters in the ASCII order Maildir requires, and their IMAP flags.
constexpr struct {
  char letter;
  std::string_view flag;
} kFlagLetters[] = {
    {'D', "\\Draft"}, {'F', "\\Flagged"}, {'R', "\\Answered"}, {'S', "\\Seen"}, {'T', "\\Deleted"}};

std::string BaseOf(const std::string& file) {
  size_t colon = file.find(':');
  return colon == std::string::npos ? file : file.substr(0, colon);
}

// The flags and keywords a file name carries (":2,FS" + keyword letters of the folder's table).
void FlagsOfName(const std::string& name, const std::vector<std::string>& keywords,
                 MessageMeta& m) {
  size_t info = name.find(":2,");
  if (info == std::string::npos) return;
  std::string letters = name.substr(info + 3);
  letters = letters.substr(0, letters.find(','));
  for (char c : letters) {
    for (const auto& fl : kFlagLetters) {
      if (fl.letter == c) m.flags.emplace_back(fl.flag);
    }
    if (c >= 'a' && c <= 'z' && !keywords[static_cast<size_t>(c - 'a')].empty()) {
      m.keywords.push_back(keywords[static_cast<size_t>(c - 'a')]);
    }
  }
}

// The Message-ID header of a file.
std::string ReadMessageId(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  std::string head(16384, '\0');
  ssize_t n = ::read(fd, head.data(), head.size());
  ::close(fd);
  if (n <= 0) return "";
  head.resize(static_cast<size_t>(n));
  return MessageIdOf(head);
}

}  // namespace

MaildirStore::MaildirStore(std::string root, MailStoreOptions options)
    : root_(std::move(root)), location_("maildir:" + root_), options_(std::move(options)) {
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
}

Status MaildirStore::CheckAccess() {
  // A missing mailbox directory is a wrong store template far more often than an empty
  // mailbox: moving "nothing" and then cleaning up the source would strand the mail.
  if (!IsDir(root_ + "/cur") && !IsDir(root_ + "/new")) {
    return Status::NotFound(
        fmt::format("mailbox {} does not exist (no cur/ or new/ in it)", root_));
  }
  if (::access(root_.c_str(), R_OK | X_OK) != 0) {
    return Status::PermissionDenied(
        fmt::format("cannot read mailbox {}: {}", root_, std::strerror(errno)));
  }
  return Status::Ok();
}

Status MaildirStore::CheckServer() {
  // The target mailbox is created by the copy, with its parents: what is there of its path must
  // be directories we can write in, or the move would fail after the directory was written.
  std::filesystem::path at = root_;
  std::error_code ec;
  while (!at.empty() && !std::filesystem::exists(at, ec)) {
    if (at == at.parent_path()) break;
    at = at.parent_path();
  }
  if (at.empty()) at = ".";
  if (!std::filesystem::is_directory(at, ec)) {
    return Status::InvalidInput(
        fmt::format("{} is a file, not a directory: the target mailbox {} cannot be created",
                    at.string(), root_));
  }
  if (::access(at.c_str(), W_OK | X_OK) != 0) {
    return Status::PermissionDenied(fmt::format("cannot create the target mailbox {} in {}: {}",
                                                root_, at.string(), std::strerror(errno)));
  }
  return Status::Ok();
}

Result<std::string> MaildirStore::FolderDir(const Folder& folder) const {
  if (folder.IsInbox()) return root_;
  std::string name = root_ + "/";
  for (const auto& component : folder.path) {
    if (component.empty() || component.find('.') != std::string::npos ||
        component.find('/') != std::string::npos) {
      return Status::InvalidInput(fmt::format(
          "folder '{}' cannot be stored in Maildir++: a name part holds '.' or '/' or is empty",
          folder.Name()));
    }
    auto enc = EncodeMutf7(component);
    if (!enc.ok()) return enc.status();
    name += "." + *enc;
  }
  return name;
}

Result<std::vector<std::vector<std::string>>> MaildirStore::ReadSubscriptions() const {
  std::vector<std::vector<std::string>> out;
  auto text = ReadWholeFile(root_ + "/subscriptions");
  if (!text.ok()) {
    if (text.status().code() == Status::Code::kNotFound) return out;
    return text.status();
  }
  bool v2 = text->starts_with("V\t2\n\n");
  std::string_view body = *text;
  if (v2) body.remove_prefix(5);
  for (const auto& line : Split(body, '\n')) {
    if (line.empty()) continue;
    std::vector<std::string> path;
    for (const auto& part : Split(line, v2 ? '\t' : '.')) {
      auto dec = DecodeMutf7(part);
      path.push_back(dec.ok() ? *dec : part);
    }
    out.push_back(std::move(path));
  }
  return out;
}

Status MaildirStore::WriteSubscriptions(const std::vector<std::vector<std::string>>& subscribed) {
  std::string text = "V\t2\n\n";
  for (const auto& path : subscribed) {
    std::vector<std::string> parts;
    for (const auto& c : path) {
      auto enc = EncodeMutf7(c);
      if (!enc.ok()) return enc.status();
      parts.push_back(*enc);
    }
    text += Join(parts, "\t") + "\n";
  }
  return WriteFileAtomically(root_ + "/subscriptions", text, 0600, /*durable=*/false);
}

Result<std::vector<Folder>> MaildirStore::ListFolders() {
  std::vector<Folder> folders;
  folders.push_back(Folder{{"INBOX"}, SpecialUse::kNone, true, false, ""});
  auto names = ListDir(root_);
  if (!names.ok()) return names.status();
  std::set<std::vector<std::string>> seen;
  std::vector<Folder> found;
  for (const auto& n : *names) {
    if (n.size() < 2 || n[0] != '.' || !IsDir(root_ + "/" + n)) continue;
    std::vector<std::string> path;
    bool ok = true;
    for (const auto& part : Split(std::string_view(n).substr(1), '.')) {
      auto dec = DecodeMutf7(part);
      if (!dec.ok() || part.empty()) {
        ok = false;
        break;
      }
      path.push_back(*dec);
    }
    if (!ok) continue;  // not a Maildir++ folder Dovecot would show either
    seen.insert(path);
    found.push_back(Folder{path, SpecialUse::kNone, true, false, ""});
  }
  // Parents that exist only by implication are listed as not selectable.
  std::vector<Folder> implied;
  for (const auto& f : found) {
    for (size_t k = 1; k < f.path.size(); ++k) {
      std::vector<std::string> parent(f.path.begin(), f.path.begin() + static_cast<long>(k));
      if (seen.insert(parent).second)
        implied.push_back(Folder{parent, SpecialUse::kNone, false, false, ""});
    }
  }
  found.insert(found.end(), implied.begin(), implied.end());
  std::sort(found.begin(), found.end(),
            [](const Folder& a, const Folder& b) { return a.path < b.path; });
  auto subs = ReadSubscriptions();
  if (!subs.ok()) return subs.status();
  for (auto& f : found) {
    if (f.path.size() == 1) f.special_use = SpecialUseOfName(f.path[0]);
    folders.push_back(std::move(f));
  }
  for (auto& f : folders) {
    for (const auto& s : *subs) {
      if (s == f.path || (f.IsInbox() && s.size() == 1 && IEquals(s[0], "INBOX")))
        f.subscribed = true;
    }
  }
  return folders;
}

Result<std::vector<std::string>> MaildirStore::Keywords(const std::string& dir) {
  if (auto cached = keywords_.find(dir); cached != keywords_.end()) return cached->second;
  std::vector<std::string> out(26);
  auto text = ReadWholeFile(dir + "/dovecot-keywords");
  if (!text.ok()) {
    if (text.status().code() == Status::Code::kNotFound) return keywords_[dir] = out;
    return text.status();
  }
  for (const auto& line : Split(*text, '\n')) {
    size_t sp = line.find(' ');
    if (sp == std::string::npos) continue;
    int index = std::atoi(line.substr(0, sp).c_str());
    if (index >= 0 && index < 26) out[static_cast<size_t>(index)] = line.substr(sp + 1);
  }
  keywords_[dir] = out;
  return out;
}

Result<std::vector<MessageMeta>> MaildirStore::ListMessages(const Folder& folder, Detail detail) {
  auto dir = FolderDir(folder);
  if (!dir.ok()) return dir.status();
  auto keywords = Keywords(*dir);
  if (!keywords.ok()) return keywords.status();
  std::vector<MessageMeta> out;
  auto& paths = paths_[*dir];
  paths.clear();
  for (const char* sub : {"new", "cur"}) {
    std::string subdir = *dir + "/" + sub;
    auto names = ListDir(subdir);
    if (!names.ok()) return names.status();
    for (const auto& name : *names) {
      if (name.starts_with('.')) continue;
      std::string path = subdir + "/" + name;
      MessageMeta m;
      m.key = BaseOf(name);
      // Dovecot writes the size into the name (,S=): a names listing then needs no stat.
      size_t s_field = m.key.find(",S=");
      bool sized = s_field != std::string::npos;
      if (sized) m.size = std::strtoull(m.key.c_str() + s_field + 3, nullptr, 10);
      if (detail != Detail::kNames || !sized) {
        struct stat st;
        if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
        m.size = static_cast<uint64_t>(st.st_size);
        m.internal_date = st.st_mtime;
      }
      FlagsOfName(name, *keywords, m);
      if (detail == Detail::kFullWithMessageId) m.message_id = ReadMessageId(path);
      paths[m.key] = path;
      out.push_back(std::move(m));
    }
  }
  // Delivery order: Maildir names begin with the delivery time.
  std::sort(out.begin(), out.end(),
            [](const MessageMeta& a, const MessageMeta& b) { return a.key < b.key; });
  return out;
}

Result<std::string> MaildirStore::FindFile(const std::string& dir, const std::string& key) {
  auto& paths = paths_[dir];
  auto it = paths.find(key);
  if (it != paths.end()) return it->second;
  // Flags may have changed (the file was renamed) since the listing: look again.
  for (const char* sub : {"cur", "new"}) {
    auto names = ListDir(dir + "/" + sub);
    if (!names.ok()) return names.status();
    for (const auto& n : *names) {
      if (BaseOf(n) == key) return paths[key] = dir + "/" + sub + "/" + n;
    }
  }
  return Status::NotFound(fmt::format("message {} is gone from {}", key, dir));
}

Status MaildirStore::ReadMessage(const Folder& folder, const std::string& key,
                                 const ChunkSink& sink) {
  auto dir = FolderDir(folder);
  if (!dir.ok()) return dir.status();
  auto path = FindFile(*dir, key);
  if (!path.ok()) return path.status();
  int fd = ::open(path->c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) {  // renamed since the listing (its flags changed): look again
    paths_[*dir].erase(key);
    path = FindFile(*dir, key);
    if (!path.ok()) return path.status();
    fd = ::open(path->c_str(), O_RDONLY | O_CLOEXEC);
  }
  if (fd < 0)
    return Status::IOError(fmt::format("cannot open {}: {}", *path, std::strerror(errno)));
  std::string buf(kChunk, '\0');
  Status result;
  while (true) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      result = Status::IOError(fmt::format("cannot read {}: {}", *path, std::strerror(errno)));
      break;
    }
    if (n == 0) break;
    result = sink(std::string_view(buf.data(), static_cast<size_t>(n)));
    if (!result.ok()) break;
  }
  ::close(fd);
  return result;
}

Status MaildirStore::DeleteMessage(const Folder& folder, const std::string& key) {
  if (options_.read_only)
    return Status::Internal(fmt::format("{} is read-only (delete {})", location_, key));
  auto dir = FolderDir(folder);
  if (!dir.ok()) return dir.status();
  paths_[*dir].erase(key);  // flags may have renamed it: looked up afresh
  auto path = FindFile(*dir, key);
  if (!path.ok()) return path.status();
  if (::unlink(path->c_str()) != 0) {
    if (errno == ENOENT) return Status::NotFound(fmt::format("message {} is gone", key));
    return Status::IOError(fmt::format("cannot remove {}: {}", *path, std::strerror(errno)));
  }
  paths_[*dir].erase(key);
  return Status::Ok();
}

Status MaildirStore::CreateFolder(const Folder& folder) {
  if (auto known = FolderDir(folder); known.ok() && ready_dirs_.count(*known)) return Status::Ok();
  if (options_.read_only)
    return Status::Internal(fmt::format("{} is read-only (create {})", location_, folder.Name()));
  auto dir = FolderDir(folder);
  if (!dir.ok()) return dir.status();
  // The root and its parents (`/var/vmail/contoso.test/`) may not exist yet.
  std::error_code ec;
  std::filesystem::create_directories(root_, ec);
  if (ec) return Status::IOError(fmt::format("cannot create {}: {}", root_, ec.message()));
  CM_RETURN_IF_ERROR(MakeDir(*dir));
  for (const char* sub : {"cur", "new", "tmp"}) CM_RETURN_IF_ERROR(MakeDir(*dir + "/" + sub));
  if (!folder.IsInbox()) {
    std::string marker = *dir + "/maildirfolder";
    int fd = ::open(marker.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
      return Status::IOError(fmt::format("cannot create {}: {}", marker, std::strerror(errno)));
    ::close(fd);
  }
  ready_dirs_.insert(*dir);
  return Status::Ok();
}

Status MaildirStore::SetSubscribed(const Folder& folder, bool subscribed) {
  if (options_.read_only) return Status::Internal(fmt::format("{} is read-only", location_));
  auto subs = ReadSubscriptions();
  if (!subs.ok()) return subs.status();
  auto it = std::find(subs->begin(), subs->end(), folder.path);
  if (subscribed == (it != subs->end())) return Status::Ok();
  if (subscribed) {
    subs->push_back(folder.path);
  } else {
    subs->erase(it);
  }
  std::error_code ec;
  std::filesystem::create_directories(root_, ec);
  if (ec) return Status::IOError(fmt::format("cannot create {}: {}", root_, ec.message()));
  return WriteSubscriptions(*subs);
}

Result<std::string> MaildirStore::KeywordLetters(const std::string& dir,
                                                 const std::vector<std::string>& keywords) {
  if (keywords.empty()) return std::string();
  auto table = Keywords(dir);
  if (!table.ok()) return table.status();
  bool changed = false;
  std::string letters;
  for (const auto& kw : keywords) {
    size_t index = 26;
    for (size_t i = 0; i < 26; ++i) {
      if ((*table)[i] == kw) index = i;
    }
    if (index == 26) {
      for (size_t i = 0; i < 26 && index == 26; ++i) {
        if ((*table)[i].empty()) index = i;
      }
      if (index == 26) {
        return Status::Constraint(
            fmt::format("{}: more than 26 keywords; '{}' cannot be stored in Maildir", dir, kw));
      }
      (*table)[index] = kw;
      changed = true;
    }
    letters += static_cast<char>('a' + index);
  }
  if (changed) {
    std::string text;
    for (size_t i = 0; i < 26; ++i) {
      if (!(*table)[i].empty()) text += fmt::format("{} {}\n", i, (*table)[i]);
    }
    CM_RETURN_IF_ERROR(
        WriteFileAtomically(dir + "/dovecot-keywords", text, 0600, /*durable=*/false));
    keywords_[dir] = *table;
  }
  std::sort(letters.begin(), letters.end());
  return letters;
}

Result<std::string> MaildirStore::InfoOf(const std::string& dir,
                                         const std::vector<std::string>& flags,
                                         const std::vector<std::string>& keywords) {
  std::string info;
  for (const auto& fl : kFlagLetters) {
    for (const auto& f : flags) {
      if (IEquals(f, fl.flag)) info += fl.letter;
    }
  }
  auto letters = KeywordLetters(dir, keywords);
  if (!letters.ok()) return letters.status();
  return info + *letters;
}

class MaildirWriter : public MessageWriter {
 public:
  MaildirWriter(std::string dir, std::string base, std::string info, int64_t internal_date, int fd)
      : dir_(std::move(dir)),
        base_(std::move(base)),
        info_(std::move(info)),
        date_(internal_date),
        fd_(fd) {}
  ~MaildirWriter() override {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) ::unlink(TmpPath().c_str());
  }
  Status Write(std::string_view chunk) override {
    for (char c : chunk) {
      if (c == '\n' && last_ != '\r') ++bare_lf_;
      last_ = c;
    }
    size_t off = 0;
    while (off < chunk.size()) {
      ssize_t n = ::write(fd_, chunk.data() + off, chunk.size() - off);
      if (n < 0) {
        if (errno == EINTR) continue;
        return Status::IOError(fmt::format("cannot write {}: {}", TmpPath(), std::strerror(errno)));
      }
      off += static_cast<size_t>(n);
    }
    size_ += chunk.size();
    return Status::Ok();
  }
  Result<std::string> Commit() override {
    timespec times[2];
    times[0].tv_sec = times[1].tv_sec = date_;
    times[0].tv_nsec = times[1].tv_nsec = 0;
    if (::futimens(fd_, times) != 0 || ::close(fd_) != 0) {
      fd_ = -1;
      return Status::IOError(fmt::format("cannot finish {}: {}", TmpPath(), std::strerror(errno)));
    }
    fd_ = -1;
    // W= is the size with CRLF line ends (RFC822.SIZE), so Dovecot need not compute it.
    std::string key = fmt::format("{},S={},W={}", base_, size_, size_ + bare_lf_);
    std::string final_path = fmt::format("{}/cur/{}:2,{}", dir_, key, info_);
    if (::rename(TmpPath().c_str(), final_path.c_str()) != 0) {
      return Status::IOError(
          fmt::format("cannot move {} into cur/: {}", TmpPath(), std::strerror(errno)));
    }
    committed_ = true;
    return key;
  }

 private:
  std::string TmpPath() const { return dir_ + "/tmp/" + base_; }
  std::string dir_, base_, info_;
  int64_t date_;
  int fd_;
  uint64_t size_ = 0, bare_lf_ = 0;
  char last_ = 0;
  bool committed_ = false;
};

Result<std::unique_ptr<MessageWriter>> MaildirStore::BeginAppend(const Folder& folder,
                                                                 const MessageMeta& meta) {
  if (options_.read_only)
    return Status::Internal(fmt::format("{} is read-only (append)", location_));
  auto dir = FolderDir(folder);
  if (!dir.ok()) return dir.status();
  if (!ready_dirs_.count(*dir)) {
    if (!IsDir(*dir + "/tmp")) CM_RETURN_IF_ERROR(CreateFolder(folder));
    ready_dirs_.insert(*dir);
  }
  auto info = InfoOf(*dir, meta.flags, meta.keywords);
  if (!info.ok()) return info.status();
  static const std::string host = [] {
    char h[256] = "localhost";
    ::gethostname(h, sizeof(h) - 1);
    std::string s(h);
    std::replace(s.begin(), s.end(), '/', '_');
    std::replace(s.begin(), s.end(), ':', '_');
    return s;
  }();
  auto now = std::chrono::system_clock::now().time_since_epoch();
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(now).count();
  auto usec = std::chrono::duration_cast<std::chrono::microseconds>(now).count() % 1000000;
  static const pid_t pid = ::getpid();
  std::string base = fmt::format("{}.M{}P{}Q{}.{}", secs, usec, pid, ++counter_, host);
  std::string tmp = *dir + "/tmp/" + base;
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    return Status::IOError(fmt::format("cannot create {}: {}", tmp, std::strerror(errno)));
  return std::unique_ptr<MessageWriter>(
      new MaildirWriter(*dir, base, *info, meta.internal_date, fd));
}

Status MaildirStore::SetFlags(const Folder& folder, const std::vector<MessageMeta>& messages) {
  if (options_.read_only) return Status::Internal(fmt::format("{} is read-only", location_));
  auto dir = FolderDir(folder);
  if (!dir.ok()) return dir.status();
  for (const MessageMeta& m : messages) {
    auto path = FindFile(*dir, m.key);
    if (!path.ok()) return path.status();
    auto info = InfoOf(*dir, m.flags, m.keywords);
    if (!info.ok()) return info.status();
    // A message with flags lives in cur/, as Dovecot keeps it.
    std::string renamed = fmt::format("{}/cur/{}:2,{}", *dir, m.key, *info);
    if (renamed == *path) continue;
    if (::rename(path->c_str(), renamed.c_str()) != 0)
      return Status::IOError(fmt::format("cannot rename {}: {}", *path, std::strerror(errno)));
    paths_[*dir][m.key] = renamed;
  }
  return Status::Ok();
}

Result<std::vector<std::string>> MaildirStore::MoveMessages(const Folder& from,
                                                            const std::vector<std::string>& keys,
                                                            const Folder& to) {
  if (options_.read_only) return Status::Internal(fmt::format("{} is read-only", location_));
  auto from_dir = FolderDir(from);
  if (!from_dir.ok()) return from_dir.status();
  auto to_dir = FolderDir(to);
  if (!to_dir.ok()) return to_dir.status();
  if (!IsDir(*to_dir + "/cur")) CM_RETURN_IF_ERROR(CreateFolder(to));
  auto from_keywords = Keywords(*from_dir);
  if (!from_keywords.ok()) return from_keywords.status();
  std::vector<std::string> moved;
  for (const auto& key : keys) {
    std::string there;
    Status renamed;
    for (int attempt = 0; attempt < 2; ++attempt) {
      // The listing's name first; renamed since (its flags changed): looked up afresh.
      if (attempt > 0) paths_[*from_dir].erase(key);
      auto path = FindFile(*from_dir, key);
      if (!path.ok()) {
        renamed = path.status();
        break;
      }
      MessageMeta m;
      FlagsOfName(path->substr(path->rfind('/') + 1), *from_keywords, m);
      // Keyword letters are per folder: the same keywords may be other letters there.
      auto info = InfoOf(*to_dir, m.flags, m.keywords);
      if (!info.ok()) return info.status();
      // One rename: the message is in one folder or the other, never both or neither.
      there = fmt::format("{}/cur/{}:2,{}", *to_dir, key, *info);
      int err = ::rename(path->c_str(), there.c_str()) == 0 ? 0 : errno;
      renamed = err == 0
                    ? Status::Ok()
                    : Status::IOError(fmt::format("cannot move {}: {}", *path, std::strerror(err)));
      if (err != ENOENT) break;
    }
    if (renamed.code() == Status::Code::kNotFound) {
      moved.emplace_back();
      continue;
    }
    CM_RETURN_IF_ERROR(renamed);
    paths_[*from_dir].erase(key);
    paths_[*to_dir][key] = there;
    moved.push_back(key);
  }
  return moved;
}

Status MaildirStore::RenameFolder(const Folder& from, const Folder& to) {
  if (options_.read_only) return Status::Internal(fmt::format("{} is read-only", location_));
  if (from.IsInbox() || to.IsInbox())
    return Status::InvalidInput(fmt::format("{}: INBOX cannot be renamed", location_));
  auto from_dir = FolderDir(from);
  if (!from_dir.ok()) return from_dir.status();
  auto to_dir = FolderDir(to);
  if (!to_dir.ok()) return to_dir.status();
  if (IsDir(*to_dir))
    return Status::AlreadyExists(fmt::format("{}: {} exists already", location_, to.Name()));
  std::string from_name = from_dir->substr(root_.size() + 1);
  std::string to_name = to_dir->substr(root_.size() + 1);
  auto names = ListDir(root_);
  if (!names.ok()) return names.status();
  // The folder and those below it (".A" and ".A.*"), each one rename.
  for (const auto& n : *names) {
    if (n != from_name && !n.starts_with(from_name + ".")) continue;
    std::string renamed = root_ + "/" + to_name + n.substr(from_name.size());
    if (::rename((root_ + "/" + n).c_str(), renamed.c_str()) != 0)
      return Status::IOError(fmt::format("cannot rename {}: {}", n, std::strerror(errno)));
  }
  paths_.clear();
  ready_dirs_.clear();
  keywords_.clear();
  auto subs = ReadSubscriptions();
  if (!subs.ok()) return subs.status();
  bool changed = false;
  for (auto& path : *subs) {
    if (path.size() < from.path.size() ||
        !std::equal(from.path.begin(), from.path.end(), path.begin()))
      continue;
    std::vector<std::string> moved = to.path;
    moved.insert(moved.end(), path.begin() + static_cast<long>(from.path.size()), path.end());
    path = std::move(moved);
    changed = true;
  }
  return changed ? WriteSubscriptions(*subs) : Status::Ok();
}

Status MaildirStore::DeleteFolder(const Folder& folder) {
  if (options_.read_only) return Status::Internal(fmt::format("{} is read-only", location_));
  if (folder.IsInbox())
    return Status::InvalidInput(fmt::format("{}: INBOX cannot be deleted", location_));
  auto dir = FolderDir(folder);
  if (!dir.ok()) return dir.status();
  for (const char* sub : {"cur", "new"}) {
    auto names = ListDir(*dir + "/" + sub);
    if (!names.ok()) return names.status();
    for (const auto& n : *names) {
      if (!n.starts_with('.'))
        return Status::Constraint(
            fmt::format("{}: {} still holds messages", location_, folder.Name()));
    }
  }
  // Only this folder's own directory: the folders below it are directories of their own.
  std::error_code ec;
  std::filesystem::remove_all(*dir, ec);
  if (ec) return Status::IOError(fmt::format("cannot remove {}: {}", *dir, ec.message()));
  paths_.erase(*dir);
  ready_dirs_.erase(*dir);
  keywords_.erase(*dir);
  return SetSubscribed(folder, false);
}

Status MaildirStore::Flush() {
  if (options_.read_only) return Status::Ok();
  int fd = ::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Status::Ok();  // nothing was written
  int rc = ::syncfs(fd);
  ::close(fd);
  if (rc != 0)
    return Status::IOError(fmt::format("cannot sync {}: {}", root_, std::strerror(errno)));
  return Status::Ok();
}

}  // namespace cm
