#include "mailstore/mail_store.h"

#include <fmt/format.h>

#include <map>

#include "core/strings.h"
#include "mailstore/imap_client.h"
#include "mailstore/imap_store.h"
#include "mailstore/maildir_store.h"

namespace cm {

std::string_view ToString(SpecialUse use) {
  switch (use) {
    case SpecialUse::kNone:
      return "";
    case SpecialUse::kSent:
      return "\\Sent";
    case SpecialUse::kDrafts:
      return "\\Drafts";
    case SpecialUse::kTrash:
      return "\\Trash";
    case SpecialUse::kJunk:
      return "\\Junk";
    case SpecialUse::kArchive:
      return "\\Archive";
  }
  return "";
}

std::string Folder::Name() const { return Join(path, "/"); }

bool Folder::IsInbox() const { return path.size() == 1 && IEquals(path[0], "INBOX"); }

std::string MessageIdOf(std::string_view head) {
  size_t end = head.find("\n\n");
  if (end == std::string_view::npos) end = head.find("\r\n\r\n");
  if (end != std::string_view::npos) head = head.substr(0, end);
  size_t pos = 0;
  while (pos < head.size()) {
    size_t eol = head.find('\n', pos);
    std::string_view line =
        head.substr(pos, (eol == std::string_view::npos ? head.size() : eol) - pos);
    if (IStartsWith(line, "message-id:")) {
      std::string value(Trim(line.substr(11)));
      // Folded continuation lines.
      size_t next = eol;
      while (next != std::string_view::npos && next + 1 < head.size() &&
             (head[next + 1] == ' ' || head[next + 1] == '\t')) {
        size_t e2 = head.find('\n', next + 1);
        value += std::string(Trim(
            head.substr(next + 1, (e2 == std::string_view::npos ? head.size() : e2) - next - 1)));
        next = e2;
      }
      return value;
    }
    if (eol == std::string_view::npos) break;
    pos = eol + 1;
  }
  return "";
}

SpecialUse SpecialUseOfName(std::string_view name) {
  static const struct {
    std::string_view name;
    SpecialUse use;
  } kNames[] = {
      {"Sent", SpecialUse::kSent},           {"Sent Items", SpecialUse::kSent},
      {"Sent Messages", SpecialUse::kSent},  {"Sent Mail", SpecialUse::kSent},
      {"Drafts", SpecialUse::kDrafts},       {"Trash", SpecialUse::kTrash},
      {"Deleted Items", SpecialUse::kTrash}, {"Deleted Messages", SpecialUse::kTrash},
      {"Junk", SpecialUse::kJunk},           {"Junk E-mail", SpecialUse::kJunk},
      {"Junk Email", SpecialUse::kJunk},     {"Spam", SpecialUse::kJunk},
      {"Archive", SpecialUse::kArchive},     {"Archives", SpecialUse::kArchive},
  };
  for (const auto& n : kNames) {
    if (IEquals(n.name, name)) return n.use;
  }
  return SpecialUse::kNone;
}

Status MailStore::ReadMessages(const Folder& folder,
                               const std::vector<const MessageMeta*>& messages, MessageSink& sink) {
  for (size_t i = 0; i < messages.size(); ++i) {
    Status read = ReadMessage(folder, messages[i]->key,
                              [&](std::string_view chunk) { return sink.Data(i, chunk); });
    CM_RETURN_IF_ERROR(sink.Done(i, read));
  }
  return Status::Ok();
}

Status MailStore::ReadDescribed(const Folder& folder,
                                const std::vector<const MessageMeta*>& messages,
                                MessageSink& sink) {
  auto listing = ListMessages(folder, Detail::kFull);
  if (!listing.ok()) return listing.status();
  std::map<std::string_view, const MessageMeta*> by_key;
  for (const MessageMeta& m : *listing) by_key[m.key] = &m;
  // The messages the store holds, read by their listed sizes; the sink hears original indexes.
  struct Renumbered : MessageSink {
    MessageSink& sink;
    std::vector<size_t> original;
    std::vector<const MessageMeta*> listed;
    std::vector<bool> described;
    explicit Renumbered(MessageSink& s) : sink(s) {}
    Status Describe(size_t i) {
      if (described[i]) return Status::Ok();
      described[i] = true;
      return sink.Described(original[i], *listed[i]);
    }
    Status Data(size_t i, std::string_view chunk) override {
      CM_RETURN_IF_ERROR(Describe(i));
      return sink.Data(original[i], chunk);
    }
    Status Done(size_t i, const Status& read) override {
      if (read.ok()) CM_RETURN_IF_ERROR(Describe(i));
      return sink.Done(original[i], read);
    }
  } held(sink);
  for (size_t i = 0; i < messages.size(); ++i) {
    auto it = by_key.find(messages[i]->key);
    if (it == by_key.end()) {
      CM_RETURN_IF_ERROR(
          sink.Done(i, Status::NotFound(fmt::format("{} holds no message {}", folder.Name(),
                                                    messages[i]->key))));
      continue;
    }
    held.original.push_back(i);
    held.listed.push_back(it->second);
  }
  held.described.assign(held.listed.size(), false);
  return ReadMessages(folder, held.listed, held);
}

namespace {

// One message at a time through BeginAppend / Commit: every outcome is known when End returns.
class WriterAppender : public MessageAppender {
 public:
  WriterAppender(MailStore& store, Outcome outcome) : store_(store), outcome_(std::move(outcome)) {}
  Result<size_t> Begin(const Folder& folder, const MessageMeta& meta) override {
    auto writer = store_.BeginAppend(folder, meta);
    if (writer.ok()) {
      writer_ = std::move(*writer);
      refused_ = Status::Ok();
    } else {
      writer_.reset();
      refused_ = writer.status();
    }
    return seq_;
  }
  Status Write(std::string_view chunk) override {
    if (!writer_) return Status::Ok();
    Status s = writer_->Write(chunk);
    if (!s.ok()) {
      writer_.reset();
      refused_ = s;
    }
    return Status::Ok();
  }
  Status End() override {
    if (writer_) {
      if (Status may = MayCommit(); !may.ok()) {
        writer_.reset();  // uncommitted: nothing lands
        ++seq_;
        return may;
      }
    }
    Result<std::string> key = writer_ ? writer_->Commit() : Result<std::string>(refused_);
    writer_.reset();
    outcome_(seq_++, std::move(key));
    return Status::Ok();
  }
  Status Cancel() override {
    writer_.reset();  // an uncommitted writer leaves nothing behind
    ++seq_;
    return Status::Ok();
  }
  Status Flush() override { return Status::Ok(); }
  Status Finish() override { return Status::Ok(); }

 private:
  MailStore& store_;
  Outcome outcome_;
  std::unique_ptr<MessageWriter> writer_;
  Status refused_;
  size_t seq_ = 0;
};

}  // namespace

Result<std::unique_ptr<MessageAppender>> MailStore::OpenAppender(MessageAppender::Outcome outcome) {
  return std::unique_ptr<MessageAppender>(new WriterAppender(*this, std::move(outcome)));
}

namespace {
Status Unsupported(const MailStore& store, std::string_view what) {
  return Status::Internal(fmt::format("{} cannot {}", store.location(), what));
}
}  // namespace

Result<FolderChanges> MailStore::ListChangedSince(const Folder&, uint64_t) {
  return Unsupported(*this, "list changes since a mod-sequence");
}
Status MailStore::SetFlags(const Folder&, const std::vector<MessageMeta>&) {
  return Unsupported(*this, "set flags");
}
Status MailStore::DeleteMessages(const Folder& folder, const std::vector<std::string>& keys) {
  for (const auto& key : keys) {
    Status s = DeleteMessage(folder, key);
    if (!s.ok() && s.code() != Status::Code::kNotFound) return s;
  }
  return Status::Ok();
}
Result<std::vector<std::string>> MailStore::MoveMessages(const Folder&,
                                                         const std::vector<std::string>&,
                                                         const Folder&) {
  return Unsupported(*this, "move messages");
}
Status MailStore::RenameFolder(const Folder&, const Folder&) {
  return Unsupported(*this, "rename folders");
}
Status MailStore::DeleteFolder(const Folder&) { return Unsupported(*this, "delete folders"); }

Result<std::string> ExpandStoreLocation(std::string_view tmpl, std::string_view address,
                                        std::string_view alias) {
  bool url = IStartsWith(tmpl, "imap://") || IStartsWith(tmpl, "imaps://");
  size_t at = address.rfind('@');
  std::string local(address.substr(0, at)),
      domain = at == std::string_view::npos ? "" : AsciiLower(address.substr(at + 1));
  std::string out;
  for (size_t i = 0; i < tmpl.size(); ++i) {
    if (tmpl[i] != '%' || i + 1 >= tmpl.size()) {
      out += tmpl[i];
      continue;
    }
    char c = tmpl[++i];
    std::string value;
    switch (c) {
      case 'u':
        value = AsciiLower(address);
        break;
      case 'n':
        value = AsciiLower(local);
        break;
      case 'd':
        value = domain;
        break;
      case 'm':
        value = std::string(alias);
        break;
      case '%':
        value = "%";
        break;
      default:
        return Status::InvalidInput(
            fmt::format("store location '{}': unknown placeholder '%{}'", tmpl, c));
    }
    if (url) {
      out += PercentEncode(value);
      continue;
    }
    // A value must not climb out of the store's directory.
    if (value.find('/') != std::string::npos || value == ".." || value == ".") {
      return Status::InvalidInput(
          fmt::format("store location '{}': '{}' cannot be part of a path", tmpl, value));
    }
    out += value;
  }
  return out;
}

Result<std::unique_ptr<MailStore>> OpenMailStore(std::string_view location,
                                                 const MailStoreOptions& options) {
  if (IStartsWith(location, "maildir:")) {
    std::string path(location.substr(8));
    if (path.empty())
      return Status::InvalidInput(fmt::format("mail store '{}' has no path", location));
    return std::unique_ptr<MailStore>(new MaildirStore(path, options));
  }
  if (IStartsWith(location, "imap://") || IStartsWith(location, "imaps://")) {
    auto endpoint = ParseImapUrl(location);
    if (!endpoint.ok()) return endpoint.status();
    if (endpoint->user.empty()) {
      return Status::InvalidInput(fmt::format(
          "mail store '{}' names no user (imap://%u@host:port/ logs in for each mailbox)",
          location));
    }
    if (!options.imap) {
      return Status::InvalidInput(
          fmt::format("mail store '{}': no IMAP login settings for its database", location));
    }
    return std::unique_ptr<MailStore>(new ImapStore(std::move(*endpoint), options));
  }
  return Status::InvalidInput(
      fmt::format("mail store '{}': unknown scheme (expected maildir: or imap://)", location));
}

}  // namespace cm
