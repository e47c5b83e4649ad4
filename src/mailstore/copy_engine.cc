#include "mailstore/copy_engine.h"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <memory>
#include <set>
#include <thread>
#include <utility>

#include "core/strings.h"

namespace cm {

namespace {

std::string TargetNameOf(SpecialUse use, const MailStoreOptions& names) {
  switch (use) {
    case SpecialUse::kSent:
      return names.sent;
    case SpecialUse::kDrafts:
      return names.drafts;
    case SpecialUse::kTrash:
      return names.trash;
    case SpecialUse::kJunk:
      return names.junk;
    case SpecialUse::kArchive:
      return names.archive;
    case SpecialUse::kNone:
      return "";
  }
  return "";
}

// SHA-256 as lowercase hex, fed in chunks (OpenSSL's EVP). The algorithm is fetched once:
// OpenSSL 3 looks it up in its provider store (under a lock) on every init that names
// EVP_sha256(), which cost more than hashing the small messages of a mailbox.
class Sha256 {
 public:
  Sha256() { Reset(); }
  void Reset() { EVP_DigestInit_ex2(ctx_.get(), Algorithm(), nullptr); }
  void Update(std::string_view chunk) { EVP_DigestUpdate(ctx_.get(), chunk.data(), chunk.size()); }
  std::string HexAndReset() {
    static constexpr char kHex[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx_.get(), md, &len);
    std::string hex(2 * len, '0');
    for (unsigned int k = 0; k < len; ++k) {
      hex[2 * k] = kHex[md[k] >> 4];
      hex[2 * k + 1] = kHex[md[k] & 0xf];
    }
    Reset();
    return hex;
  }

 private:
  static const EVP_MD* Algorithm() {
    static const EVP_MD* md = [] {
      const EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
      return fetched ? fetched : EVP_sha256();
    }();
    return md;
  }
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx_{EVP_MD_CTX_new(), EVP_MD_CTX_free};
};

}  // namespace

std::vector<std::string> SortedFlags(std::vector<std::string> v) {
  std::erase_if(v, [](const std::string& f) { return IEquals(f, "\\Recent"); });
  for (auto& f : v) f = AsciiLower(f);
  std::sort(v.begin(), v.end());
  return v;
}

bool SameFlags(const MessageMeta& a, const MessageMeta& b) {
  return SortedFlags(a.flags) == SortedFlags(b.flags) &&
         SortedFlags(a.keywords) == SortedFlags(b.keywords);
}

std::string FingerprintOf(const MessageMeta& m) {
  return fmt::format("{}|{}|{}", m.size, m.internal_date, m.message_id);
}

std::vector<FolderMapping> MapFolders(const std::vector<Folder>& source,
                                      const MailStoreOptions& names) {
  std::vector<FolderMapping> out;
  // Special use is a property of a top-level folder; its children follow it.
  std::map<std::string, std::string, ILess> renamed_tops;
  for (const auto& f : source) {
    if (f.path.size() == 1 && f.special_use != SpecialUse::kNone) {
      std::string target = TargetNameOf(f.special_use, names);
      if (!target.empty()) renamed_tops[f.path[0]] = target;
    }
  }
  for (const auto& f : source) {
    if (!f.selectable) continue;
    Folder target = f;
    target.special_use = SpecialUse::kNone;
    target.listed_name.clear();  // the target's name is derived from the path, never copied
    target.name_error.clear();
    if (f.IsInbox()) {
      target.path = {"INBOX"};
    } else if (auto it = renamed_tops.find(f.path[0]); it != renamed_tops.end()) {
      target.path[0] = it->second;
      if (f.path.size() == 1) target.special_use = f.special_use;
    }
    out.push_back({f, target});
  }
  return out;
}

namespace {

// Source messages no record accounts for may already be in the target (a crash between the
// append and its record, or mail that was there before): match them by fingerprint, once per
// folder and only when the target holds messages no record claims.
// `ours`: source key -> digest of messages this pass appended without learning their keys (a
// target without UIDPLUS): claimed as appended by us, with the digest of what was sent.
Status ClaimAppendedBefore(MailStore& source, MailStore& target, MessageMap& map,
                           const FolderMapping& fm, const std::vector<MessageMeta>& messages,
                           std::map<std::string, MessageMap::Entry>& recorded,
                           const std::map<std::string, std::string>& ours = {}) {
  std::set<std::string> claimed;
  for (const auto& [key, e] : recorded) {
    if (e.state == MessageMap::State::kCopied || e.state == MessageMap::State::kForeign)
      claimed.insert(e.target_key);
  }
  bool unmapped = false;
  for (const auto& m : messages) unmapped |= !recorded.count(m.key);
  if (!unmapped) return Status::Ok();
  auto listing = target.ListMessages(fm.target, Detail::kNames);
  if (!listing.ok()) return listing.status();
  bool unclaimed = false;
  for (const auto& t : *listing) unclaimed |= !claimed.count(t.key);
  if (!unclaimed) return Status::Ok();
  auto with_ids = target.ListMessages(fm.target, Detail::kFullWithMessageId);
  if (!with_ids.ok()) return with_ids.status();
  std::multimap<std::string, std::string> by_fingerprint;  // fingerprint -> target key
  auto fingerprint = FingerprintOf;
  for (const auto& t : *with_ids) {
    if (!claimed.count(t.key)) by_fingerprint.emplace(fingerprint(t), t.key);
  }
  auto source_ids = source.ListMessages(fm.source, Detail::kFullWithMessageId);
  if (!source_ids.ok()) return source_ids.status();
  for (const auto& m : *source_ids) {
    if (recorded.count(m.key)) continue;
    auto it = by_fingerprint.find(fingerprint(m));
    if (it == by_fingerprint.end()) continue;
    auto own = ours.find(m.key);
    std::string digest = own != ours.end() ? own->second : "";
    CM_RETURN_IF_ERROR(map.Copied(fm.source.Name(), m.key, fm.target.Name(), it->second, m.size,
                                  digest, own != ours.end()));
    recorded[m.key] = {MessageMap::State::kCopied, it->second, digest, own != ours.end()};
    by_fingerprint.erase(it);
  }
  for (const auto& [fp, key] : by_fingerprint) {
    CM_RETURN_IF_ERROR(map.Foreign(fm.source.Name(), key));
    recorded["foreign:" + key] = {MessageMap::State::kForeign, key};
  }
  return map.Flush();
}

}  // namespace

namespace {

bool IsRefusal(const Status& s) {
  return s.code() == Status::Code::kConstraint || s.code() == Status::Code::kInvalidInput;
}

using Clock = std::chrono::steady_clock;

// One pass over a whole mailbox. Every folder's unrecorded messages go from the source's bulk
// read straight into one target appender that keeps appends in flight across folder boundaries
// (draining the pipeline at every folder cost a third of the time); outcomes are recorded as
// they come back, and a folder's state is saved only once all of its outcomes are in.
class MailboxPass {
 public:
  MailboxPass(MailStore& source, MailStore& target, MessageMap& map, const CopyOptions& options,
              const MailStoreOptions& target_names, bool trust_new_folders, CopyStats& stats,
              CopyProgress& progress)
      : source_(source),
        target_(target),
        map_(map),
        options_(options),
        target_names_(target_names),
        trust_new_folders_(trust_new_folders),
        stats_(stats),
        progress_(progress) {}

  bool Stopping() const { return options_.stop && options_.stop->load(); }

  Status Run() {
    auto folders = source_.ListFolders();
    if (!folders.ok()) return folders.status();
    // A delta pass over a mailbox whose every folder is as the last pass left it does not
    // even connect to the target.
    bool unchanged = true;
    for (const auto& f : *folders) {
      if (!f.selectable) continue;
      if (f.state.empty()) {
        unchanged = false;
        break;
      }
      auto last = map_.FolderState(f.Name());
      if (!last.ok()) return last.status();
      unchanged &= *last == f.state;
      if (!unchanged) break;
    }
    if (unchanged) return Status::Ok();
    auto target_folders = target_.ListFolders();
    if (!target_folders.ok()) return target_folders.status();
    // Only a store that marks special use by attribute names its own; Maildir's are ours.
    MailStoreOptions names = target_.capabilities().special_use
                                 ? TargetNames(*target_folders, target_names_)
                                 : target_names_;
    auto appender = target_.OpenAppender(
        [this](size_t seq, Result<std::string> key) { Outcome(seq, std::move(key)); });
    if (!appender.ok()) return appender.status();
    appender_ = std::move(*appender);
    appender_->GuardCommits([this] { return map_.MayCommit(); });
    Status pass;
    std::vector<std::string> unnamed_folders;
    for (const FolderMapping& fm : MapFolders(*folders, names)) {
      if (!fm.source.name_error.empty()) {
        // Copied nowhere rather than under a guessed name; the mailbox fails below, naming it.
        unnamed_folders.push_back(fmt::format("'{}': {}", EscapeControlCharacters(fm.source.Name()),
                                              fm.source.name_error));
        continue;
      }
      if (Stopping())
        pass = Status::Internal("the copy was stopped before folder " + fm.source.Name());
      if (pass.ok()) pass = Folder(fm, *target_folders);
      if (!pass.ok() || !fatal_.ok()) break;
    }
    // What the target took is recorded even when the pass stopped early.
    Status finished = appender_->Finish();
    CM_RETURN_IF_ERROR(fatal_);
    CM_RETURN_IF_ERROR(pass);
    CM_RETURN_IF_ERROR(finished);
    for (auto& w : work_) {
      // A target that cannot name what it took (no UIDPLUS): found by fingerprint now.
      if (!w->unnamed_digests.empty()) {
        auto again = map_.Load(w->fm.source.Name());
        if (!again.ok()) return again.status();
        CM_RETURN_IF_ERROR(ClaimAppendedBefore(source_, target_, map_, w->fm, w->messages, *again,
                                               w->unnamed_digests));
      }
      CM_RETURN_IF_ERROR(map_.Flush());
      // The state was read before the messages were listed: mail that came since changes it.
      // A folder with messages the source did not return is listed again by the next pass.
      if (!w->fm.source.state.empty() && w->gone == 0)
        CM_RETURN_IF_ERROR(map_.SaveFolderState(w->fm.source.Name(), w->fm.source.state));
      // A folder's first copy, whole (each listed message appended, named by the target): the
      // target reproduces the source as of that state, flags included, which is what a delta
      // pass records once it has compared both sides. Recorded now, the first delta pass asks
      // the source only what changed since (CHANGEDSINCE) instead of listing both sides in
      // full; and it knows the folder, so that one renamed or deleted while still empty is
      // carried too (no message of it tells). A store without folder states (Maildir) records
      // the folder with none: it is listed by every pass.
      bool whole = w->first_copy && w->gone == 0 && w->fs.messages == w->messages.size() &&
                   w->fs.refused == 0 && w->unnamed_digests.empty();
      if (whole)
        CM_RETURN_IF_ERROR(map_.SaveSynced(
            w->fm.source.Name(), {w->fm.source.state, w->fm.source.id, w->fm.target.path}));
      w->fs.seconds = std::chrono::duration<double>(w->last - w->started).count();
      stats_.messages += w->fs.messages;
      stats_.bytes += w->fs.bytes;
      stats_.skipped += w->fs.skipped;
      stats_.folders.push_back(std::move(w->fs));
    }
    bool wrote = stats_.messages > 0 || !stats_.refused.empty();
    if (wrote || created_folders_) CM_RETURN_IF_ERROR(target_.Flush());
    CM_RETURN_IF_ERROR(map_.Flush());
    if (!unnamed_folders.empty()) {
      return Status::Constraint(fmt::format(
          "{} a name that cannot be carried to the target, so {} not copied: {}",
          unnamed_folders.size() == 1
              ? "1 source folder has"
              : fmt::format("{} source folders have", unnamed_folders.size()),
          unnamed_folders.size() == 1 ? "it was" : "they were", Join(unnamed_folders, "; ")));
    }
    return Status::Ok();
  }

 private:
  struct FolderWork : MessageSink {
    MailboxPass* pass = nullptr;
    FolderMapping fm;
    FolderStats fs;
    std::vector<MessageMeta> messages;
    std::vector<const MessageMeta*> todo;
    long begun = -1;                                     // the todo index being written
    std::map<std::string, std::string> unnamed_digests;  // appended, key not named by the target
    std::set<std::string> again;  // source keys verification sent back to be copied again
    size_t gone = 0;              // listed, then not returned by the source
    // Nothing of it was recorded before this pass, and the target folder held nothing: every
    // copy it ends with is this pass's, with the flags the source listed.
    bool first_copy = false;
    Sha256 digest;  // of the message being written, as read from the source
    Clock::time_point started = Clock::now(), last = started;

    Status Data(size_t index, std::string_view chunk) override {
      CM_RETURN_IF_ERROR(pass->fatal_);
      CM_RETURN_IF_ERROR(BeginIfNeeded(index));
      digest.Update(chunk);
      return pass->appender_->Write(chunk);
    }
    Status Done(size_t index, const Status& read) override {
      CM_RETURN_IF_ERROR(pass->fatal_);
      if (read.ok()) {
        CM_RETURN_IF_ERROR(BeginIfNeeded(index));
        begun = -1;
        // Known before End: the outcome may come during it.
        if (auto it = pass->pending_.find(pass->next_seq_ - 1); it != pass->pending_.end())
          it->second.digest = digest.HexAndReset();
        CM_RETURN_IF_ERROR(pass->appender_->End());
        // A safe point: this message is whole; the read stops and Finish records the outcomes.
        if (pass->Stopping()) return Status::Internal("the copy was stopped");
        return Status::Ok();
      }
      if (begun == static_cast<long>(index)) {
        pass->pending_.erase(pass->next_seq_ - 1);
        begun = -1;
        digest.Reset();
        CM_RETURN_IF_ERROR(pass->appender_->Cancel());
      }
      if (read.code() == Status::Code::kNotFound) {
        // Deleted by its owner since the listing: there is nothing to move. Recorded, so that
        // verification can tell it from a message the source still lists.
        ++gone;
        return pass->map_.Gone(fm.source.Name(), todo[index]->key);
      }
      return read.Annotate(fmt::format("{} message {}", fm.source.Name(), todo[index]->key));
    }
    Status BeginIfNeeded(size_t index) {
      if (begun == static_cast<long>(index)) return Status::Ok();
      CM_RETURN_IF_ERROR(pass->map_.MayWrite());
      begun = static_cast<long>(index);
      digest.Reset();
      // Registered before Begin: its outcome may come during it.
      pass->pending_[pass->next_seq_++] = {this, todo[index], ""};
      auto seq = pass->appender_->Begin(fm.target, *todo[index]);
      return seq.ok() ? Status::Ok() : seq.status();
    }
  };

  Status Folder(const FolderMapping& fm, const std::vector<cm::Folder>& target_folders) {
    const cm::Folder* existing = nullptr;
    for (const auto& f : target_folders) {
      if (f.path == fm.target.path && f.selectable) existing = &f;
    }
    // INBOX too, though every store lists one: an empty mailbox still gets its target mailbox.
    if (!existing || fm.target.IsInbox()) {
      CM_RETURN_IF_ERROR(target_.CreateFolder(fm.target).Annotate(fm.target.Name()));
      created_folders_ |= !existing;
    }
    if (fm.source.subscribed && !(existing && existing->subscribed))
      CM_RETURN_IF_ERROR(target_.SetSubscribed(fm.target, true));
    if (!fm.source.state.empty()) {
      auto last = map_.FolderState(fm.source.Name());
      if (!last.ok()) return last.status();
      if (*last == fm.source.state) {
        FolderStats fs{fm.source.Name(), fm.target.Name()};
        fs.unchanged = true;
        stats_.folders.push_back(std::move(fs));
        return Status::Ok();
      }
    }
    auto& w = *work_.emplace_back(std::make_unique<FolderWork>());
    w.pass = this;
    w.fm = fm;
    w.fs = FolderStats{fm.source.Name(), fm.target.Name()};
    auto recorded = map_.Load(fm.source.Name());
    if (!recorded.ok()) return recorded.status();
    w.first_copy = recorded->empty() && (existing ? existing->messages == 0 : trust_new_folders_);
    // Sent back by verification, or not returned by the source last time: copied (again) like
    // messages never seen.
    for (auto it = recorded->begin(); it != recorded->end();) {
      bool again = it->second.state == MessageMap::State::kRepair;
      if (!again && it->second.state != MessageMap::State::kGone) {
        ++it;
        continue;
      }
      if (again) w.again.insert(it->first);
      it = recorded->erase(it);
    }
    // A delta pass over a folder whose every message is recorded costs one names listing.
    auto names = source_.ListMessages(fm.source, Detail::kNames);
    if (!names.ok()) return names.status().Annotate(fm.source.Name());
    bool unrecorded = false;
    for (const auto& m : *names) unrecorded |= !recorded->count(m.key);
    if (!unrecorded) {
      w.fs.skipped = names->size();
      return Status::Ok();
    }
    auto messages = source_.capabilities().names_are_full
                        ? std::move(names)
                        : source_.ListMessages(fm.source, Detail::kFull);
    if (!messages.ok()) return messages.status().Annotate(fm.source.Name());
    w.messages = std::move(*messages);
    // A folder this pass created, or one the target lists as empty, holds nothing to claim.
    bool empty = existing ? existing->messages == 0 : trust_new_folders_;
    if (!empty || !trust_new_folders_)
      CM_RETURN_IF_ERROR(ClaimAppendedBefore(source_, target_, map_, fm, w.messages, *recorded));
    for (const MessageMeta& m : w.messages) {
      if (recorded->count(m.key)) {
        ++w.fs.skipped;
      } else {
        w.todo.push_back(&m);
      }
    }
    if (w.todo.empty()) return Status::Ok();
    CM_RETURN_IF_ERROR(source_.ReadMessages(fm.source, w.todo, w).Annotate(fm.source.Name()));
    // The folder's last batch goes now, not when the next folder has filled one.
    return appender_->Flush().Annotate(fm.target.Name());
  }

  void Outcome(size_t seq, Result<std::string> key) {
    auto it = pending_.find(seq);
    if (it == pending_.end()) return;
    auto [w, meta, digest] = std::move(it->second);
    const MessageMeta& m = *meta;
    pending_.erase(it);
    w->last = Clock::now();
    if (!fatal_.ok()) return;
    const std::string& folder = w->fm.source.Name();
    if (key.ok()) {
      if (key->empty()) {
        w->unnamed_digests[m.key] = digest;
        return;
      }
      fatal_ = map_.Copied(folder, m.key, w->fm.target.Name(), *key, m.size, digest, true);
      if (w->again.count(m.key)) {
        ++w->fs.repaired;
        stats_.repaired.push_back(fmt::format("{} {}", folder, m.key));
      }
      ++w->fs.messages;
      w->fs.bytes += m.size;
      progress_.messages++;
      progress_.bytes += m.size;
      if (options_.progress) options_.progress(progress_);
      return;
    }
    const Status& err = key.status();
    if (!IsRefusal(err)) {
      fatal_ = err.Annotate(fmt::format("{} message {}", folder, m.key));
      return;
    }
    fatal_ = map_.Refused(folder, m.key, err.message());
    ++w->fs.refused;
    stats_.refused.push_back(fmt::format("{} {}: {}", folder, m.key, err.message()));
    size_t refused = options_.refused_before + stats_.refused.size();
    if (fatal_.ok() && refused > static_cast<size_t>(options_.bad_item_limit)) {
      fatal_ = Status::Constraint(
          fmt::format("{} refused by the target, more than bad-item-limit {}; last: {}",
                      CountOf(refused, "message"), options_.bad_item_limit, err.message()));
    }
  }

  MailStore& source_;
  MailStore& target_;
  MessageMap& map_;
  const CopyOptions& options_;
  const MailStoreOptions& target_names_;
  bool trust_new_folders_;
  CopyStats& stats_;
  CopyProgress& progress_;
  std::unique_ptr<MessageAppender> appender_;
  std::vector<std::unique_ptr<FolderWork>> work_;
  // Appended, outcome not known yet: sequence number -> folder, message, digest of its bytes.
  struct Pending {
    FolderWork* work;
    const MessageMeta* meta;
    std::string digest;
  };
  std::map<size_t, Pending> pending_;
  size_t next_seq_ = 0;
  bool created_folders_ = false;
  Status fatal_;
};

}  // namespace

MailStoreOptions TargetNames(const std::vector<Folder>& target, const MailStoreOptions& defaults) {
  MailStoreOptions names = defaults;
  for (const auto& f : target) {
    if (f.path.size() != 1 || !f.selectable) continue;
    switch (f.special_use) {
      case SpecialUse::kSent:
        names.sent = f.path[0];
        break;
      case SpecialUse::kDrafts:
        names.drafts = f.path[0];
        break;
      case SpecialUse::kTrash:
        names.trash = f.path[0];
        break;
      case SpecialUse::kJunk:
        names.junk = f.path[0];
        break;
      case SpecialUse::kArchive:
        names.archive = f.path[0];
        break;
      case SpecialUse::kNone:
        break;
    }
  }
  return names;
}

Result<CopyStats> CopyMailbox(MailStore& source, MailStore& target, MessageMap& map,
                              const CopyOptions& options, const MailStoreOptions& target_names) {
  CopyStats stats;
  CopyProgress progress;
  if (options.refused_before > static_cast<size_t>(options.bad_item_limit)) {
    return Status::Constraint(
        fmt::format("{} refused by the target in earlier passes, more than bad-item-limit {}",
                    CountOf(options.refused_before, "message"), options.bad_item_limit));
  }
  // Whatever happens, the records made so far are kept.
  struct FlushOnExit {
    MessageMap& map;
    ~FlushOnExit() { map.Flush(); }
  } flush_on_exit{map};
  for (int attempt = 0;; ++attempt) {
    CopyStats pass_stats;
    pass_stats.refused = stats.refused;
    // After a lost connection nothing is taken on trust: what a folder holds is claimed first.
    MailboxPass pass(source, target, map, options, target_names, attempt == 0, pass_stats,
                     progress);
    Status s = pass.Run();
    stats.refused = pass_stats.refused;
    if (s.ok()) {
      pass_stats.messages += stats.messages;
      pass_stats.bytes += stats.bytes;
      return pass_stats;
    }
    stats.messages = progress.messages;
    stats.bytes = progress.bytes;
    if (s.code() != Status::Code::kUnavailable || attempt >= options.retries) return s;
    if (!map.MayWrite().ok()) return s;  // not lost by the connection: by the claim
    std::this_thread::sleep_for(std::chrono::milliseconds(200 * (attempt + 1)));
  }
}

namespace {

// What verification learns by reading messages: the SHA-256 of each as read, and, where asked,
// its size and SHA-256 with every bare LF as CRLF (what an IMAP server stores and returns for a
// Maildir message with LF line ends). Read in bulk, one message at a time. `described`: read
// with what the store holds of each (ReadDescribed): `now` is filled, and a message the store
// does not hold is left out of the result instead of failing the read.
struct ContentOf {
  std::string digest;
  uint64_t crlf_size = 0;
  std::string crlf_digest;
  MessageMeta now = {};
};

Result<std::map<std::string, ContentOf>> ReadContent(
    MailStore& store, const Folder& folder, const std::vector<const MessageMeta*>& messages,
    bool crlf, bool described = false) {
  struct Reader : MessageSink {
    const std::vector<const MessageMeta*>& messages;
    bool crlf, described;
    std::map<std::string, ContentOf> out;
    Sha256 exact, normalized;
    uint64_t crlf_size = 0;
    char last = 0;
    MessageMeta now;
    Reader(const std::vector<const MessageMeta*>& m, bool c, bool d)
        : messages(m), crlf(c), described(d) {}
    Status Described(size_t, const MessageMeta& meta) override {
      now = meta;
      return Status::Ok();
    }
    Status Data(size_t, std::string_view chunk) override {
      exact.Update(chunk);
      if (!crlf) return Status::Ok();
      size_t from = 0;
      for (size_t k = 0; k < chunk.size(); ++k) {
        if (chunk[k] == '\n' && (k > 0 ? chunk[k - 1] : last) != '\r') {
          normalized.Update(chunk.substr(from, k - from));
          normalized.Update("\r");
          from = k;
          ++crlf_size;
        }
      }
      normalized.Update(chunk.substr(from));
      crlf_size += chunk.size();
      if (!chunk.empty()) last = chunk.back();
      return Status::Ok();
    }
    Status Done(size_t i, const Status& read) override {
      ContentOf c;
      c.digest = exact.HexAndReset();
      if (crlf) c.crlf_digest = normalized.HexAndReset();
      c.crlf_size = crlf_size;
      crlf_size = 0;
      last = 0;
      c.now = std::exchange(now, MessageMeta{});
      if (described && read.code() == Status::Code::kNotFound) return Status::Ok();
      if (!read.ok()) return read.Annotate(messages[i]->key);
      out[messages[i]->key] = std::move(c);
      return Status::Ok();
    }
  } reader(messages, crlf, described);
  CM_RETURN_IF_ERROR(described ? store.ReadDescribed(folder, messages, reader)
                               : store.ReadMessages(folder, messages, reader));
  return std::move(reader.out);
}

}  // namespace

Result<std::map<std::string, std::string>> ReadDigests(
    MailStore& store, const Folder& folder, const std::vector<const MessageMeta*>& messages) {
  auto content = ReadContent(store, folder, messages, /*crlf=*/false);
  if (!content.ok()) return content.status();
  std::map<std::string, std::string> out;
  for (auto& [key, c] : *content) out[key] = std::move(c.digest);
  return out;
}

Result<VerifyMode> ParseVerifyMode(std::string_view text) {
  if (text == "sizes") return VerifyMode::kSizes;
  if (text == "content") return VerifyMode::kContent;
  if (text == "full") return VerifyMode::kFull;
  return Status::InvalidInput(fmt::format("'{}' is not sizes, content or full", text));
}

namespace {

// Every target message a record claims (a copy, one being moved, a foreign one set aside), by
// target folder name, over all source folders: two source folders may fill one target folder.
Result<std::map<std::string, std::set<std::string>>> ClaimedTargetKeys(
    MessageMap& map, const std::vector<FolderMapping>& mapping) {
  std::map<std::string, std::string> target_of;  // source folder -> its target folder now
  for (const FolderMapping& fm : mapping) target_of[fm.source.Name()] = fm.target.Name();
  auto folders = map.Folders();
  if (!folders.ok()) return folders.status();
  std::map<std::string, std::set<std::string>> out;
  for (const std::string& folder : *folders) {
    auto recorded = map.Load(folder);
    if (!recorded.ok()) return recorded.status();
    for (const auto& [key, e] : *recorded) {
      bool claims = e.state == MessageMap::State::kCopied ||
                    e.state == MessageMap::State::kMoving || e.state == MessageMap::State::kForeign;
      if (!claims || e.target_key.empty()) continue;
      std::string where = e.target_folder;
      if (where.empty()) {
        auto it = target_of.find(folder);
        if (it == target_of.end()) continue;
        where = it->second;
      }
      out[where].insert(e.target_key);
    }
  }
  return out;
}

// The target folder holds messages no record claims: those that are byte for byte one of our
// appended copies (same fingerprint, then the same SHA-256) are second landings of it.
Status FindDuplicates(MailStore& target, const FolderMapping& fm,
                      const std::map<std::string, MessageMap::Entry>& recorded,
                      const std::set<std::string>& claimed, VerifyReport& report) {
  std::map<std::string, const std::string*> appended;  // target key -> source key
  for (const auto& [key, e] : recorded) {
    bool here = e.target_folder.empty() || e.target_folder == fm.target.Name();
    if (e.state == MessageMap::State::kCopied && e.appended && here && !e.target_key.empty())
      appended[e.target_key] = &key;
  }
  if (appended.empty()) return Status::Ok();
  auto listing = target.ListMessages(fm.target, Detail::kFullWithMessageId);
  if (!listing.ok()) return listing.status().Annotate(fm.target.Name());
  std::map<std::string, const MessageMeta*> copies;  // fingerprint -> our copy
  for (const MessageMeta& t : *listing) {
    if (appended.count(t.key)) copies.emplace(FingerprintOf(t), &t);
  }
  std::vector<std::pair<const MessageMeta*, const MessageMeta*>> candidates;  // extra, copy
  std::vector<const MessageMeta*> to_read;
  std::set<std::string> asked;
  for (const MessageMeta& t : *listing) {
    if (claimed.count(t.key)) continue;
    auto copy = copies.find(FingerprintOf(t));
    if (copy == copies.end()) continue;
    candidates.emplace_back(&t, copy->second);
    for (const MessageMeta* m : {&t, copy->second}) {
      if (asked.insert(m->key).second) to_read.push_back(m);
    }
  }
  if (candidates.empty()) return Status::Ok();
  auto content = ReadContent(target, fm.target, to_read, /*crlf=*/false);
  if (!content.ok()) return content.status().Annotate(fmt::format("reading {}", fm.target.Name()));
  for (const auto& [extra, copy] : candidates) {
    auto a = content->find(extra->key), b = content->find(copy->key);
    if (a == content->end() || b == content->end() || a->second.digest != b->second.digest)
      continue;
    report.duplicates.push_back(
        {fm.target.path, extra->key, fm.source.Name(), *appended[copy->key], copy->key});
  }
  return Status::Ok();
}

}  // namespace

Result<VerifyReport> VerifyMailbox(MailStore& source, MailStore& target, MessageMap& map,
                                   VerifyMode mode, const MailStoreOptions& target_names) {
  VerifyReport report;
  // Two servers (or disks): each is asked while the other is.
  auto target_listing = std::async(std::launch::async, [&] { return target.ListFolders(); });
  auto folders = source.ListFolders();
  auto target_folders = target_listing.get();
  if (!folders.ok()) return folders.status();
  if (!target_folders.ok()) return target_folders.status();
  MailStoreOptions names =
      target.capabilities().special_use ? TargetNames(*target_folders, target_names) : target_names;
  std::vector<FolderMapping> mapping = MapFolders(*folders, names);
  auto claimed = ClaimedTargetKeys(map, mapping);
  if (!claimed.ok()) return claimed.status();
  for (const FolderMapping& fm : mapping) {
    if (!fm.source.name_error.empty()) {
      report.problems.push_back(fmt::format("folder '{}' was not copied: {}",
                                            EscapeControlCharacters(fm.source.Name()),
                                            fm.source.name_error));
      continue;
    }
    auto recorded = map.Load(fm.source.Name());
    if (!recorded.ok()) return recorded.status();
    // The source is listed while the target is read: they are different servers (or disks).
    // The target is read back with what it holds of each copy, in one pass (ReadDescribed):
    // every copy the records name, by the key and size recorded; what it does not hold is
    // missing. With `sizes`, it is only listed.
    auto source_listing = std::async(std::launch::async,
                                     [&] { return source.ListMessages(fm.source, Detail::kFull); });
    Result<std::vector<MessageMeta>> dst = std::vector<MessageMeta>{};
    std::map<std::string, ContentOf> target_content;
    if (mode == VerifyMode::kSizes) {
      dst = target.ListMessages(fm.target, Detail::kFull);
    } else {
      std::vector<MessageMeta> copies;
      std::set<std::string> asked;
      for (const auto& [key, e] : *recorded) {
        bool copy = e.state == MessageMap::State::kCopied || e.state == MessageMap::State::kMoving;
        if (!copy || e.target_key.empty() || !asked.insert(e.target_key).second) continue;
        MessageMeta& c = copies.emplace_back();
        c.key = e.target_key;
        c.size = e.size;
      }
      std::vector<const MessageMeta*> wanted;
      for (const MessageMeta& c : copies) wanted.push_back(&c);
      auto read = ReadContent(target, fm.target, wanted, /*crlf=*/false, /*described=*/true);
      if (!read.ok())  // (the source listing is waited for as it goes out of scope)
        return read.status().Annotate(fmt::format("reading back {}", fm.target.Name()));
      target_content = std::move(*read);
      for (const auto& [key, c] : target_content) dst->push_back(c.now);
    }
    auto src = source_listing.get();
    if (!src.ok()) return src.status().Annotate(fm.source.Name());
    if (!dst.ok()) return dst.status().Annotate(fm.target.Name());
    std::map<std::string, const MessageMeta*> by_key;
    for (const auto& t : *dst) by_key[t.key] = &t;
    // Each source message's first problem, and whether its copy is there to be removed.
    std::map<std::string, BadCopy> bad;
    auto problem = [&](const MessageMeta& m, const std::string& target_key, std::string what) {
      report.problems.push_back(fmt::format("{} {}: {}", fm.source.Name(), m.key, what));
      bad.try_emplace(
          m.key, BadCopy{fm.source.Name(), m.key, fm.target.path, target_key, std::move(what)});
    };
    struct Pair {
      const MessageMeta* source;
      const MessageMeta* target;
      const MessageMap::Entry* entry;
    };
    std::vector<Pair> pairs;
    for (const MessageMeta& m : *src) {
      ++report.messages;
      auto rec = recorded->find(m.key);
      if (rec == recorded->end() || rec->second.state == MessageMap::State::kNone) {
        ++report.arrived;
        continue;
      }
      switch (rec->second.state) {
        case MessageMap::State::kRefused:
          continue;  // reported by the copy, counted against bad-item-limit
        case MessageMap::State::kGone:
          problem(m, "", "the source lists it, but did not return it when it was copied");
          continue;
        case MessageMap::State::kRepair:
          problem(m, "", "not copied again yet after an earlier verification failed");
          continue;
        default:
          break;
      }
      auto t = by_key.find(rec->second.target_key);
      if (t == by_key.end()) {
        problem(m, "", fmt::format("missing from target {}", fm.target.Name()));
        continue;
      }
      const MessageMeta& tm = *t->second;
      if (SortedFlags(tm.flags) != SortedFlags(m.flags)) problem(m, tm.key, "flags differ");
      if (SortedFlags(tm.keywords) != SortedFlags(m.keywords))
        problem(m, tm.key, "keywords differ");
      if (tm.internal_date != m.internal_date) problem(m, tm.key, "INTERNALDATE differs");
      pairs.push_back({&m, &tm, &rec->second});
    }
    // The source is read again where the listing alone cannot decide: a size that differs (a
    // server may count line ends as CRLF), a copy without a digest, or every message (full).
    std::vector<const MessageMeta*> reread;
    for (const Pair& p : pairs) {
      bool sizes_differ = p.target->size != p.source->size;
      bool digest_known = !p.entry->digest.empty() && !sizes_differ;
      if (sizes_differ || mode == VerifyMode::kFull ||
          (mode == VerifyMode::kContent && !digest_known))
        reread.push_back(p.source);
    }
    std::map<std::string, ContentOf> source_content;
    if (!reread.empty()) {
      auto read = ReadContent(source, fm.source, reread, /*crlf=*/true);
      if (!read.ok())
        return read.status().Annotate(fmt::format("reading {} again", fm.source.Name()));
      source_content = std::move(*read);
    }
    for (const Pair& p : pairs) {
      const MessageMeta& m = *p.source;
      const MessageMeta& tm = *p.target;
      bool sizes_differ = tm.size != m.size;
      const ContentOf* sc = nullptr;
      if (auto it = source_content.find(m.key); it != source_content.end()) sc = &it->second;
      if (sizes_differ && (!sc || sc->crlf_size != tm.size)) {
        // Copying again gives the same: say what a server does to such a message.
        problem(m, tm.key,
                fmt::format("size {} in the target, {} in the source (a target server that "
                            "rewrites bare CR or LF line ends stores other bytes than were sent)",
                            tm.size, m.size));
        continue;
      }
      if (mode == VerifyMode::kSizes) continue;
      const std::string& got = target_content[tm.key].digest;
      // What the target must hold: the bytes as read from the source now, else as copied.
      std::string want = sc ? (sizes_differ ? sc->crlf_digest : sc->digest) : p.entry->digest;
      if (got != want) {
        problem(m, tm.key, "content differs");
      } else if (sc && !sizes_differ && !p.entry->digest.empty() && p.entry->digest != sc->digest) {
        problem(m, tm.key, "the source's bytes now differ from the bytes as copied");
      }
    }
    for (auto& [key, b] : bad) report.bad.push_back(std::move(b));
    // Messages no record claims: the user's, mail delivered since, or a second landing of one
    // of our copies. With `sizes` the full listing has them already; else one names listing.
    std::vector<MessageMeta> names;
    if (mode != VerifyMode::kSizes) {
      auto listed = target.ListMessages(fm.target, Detail::kNames);
      if (!listed.ok()) return listed.status().Annotate(fm.target.Name());
      names = std::move(*listed);
    }
    const std::set<std::string>& ours = (*claimed)[fm.target.Name()];
    bool unclaimed = false;
    for (const MessageMeta& t : mode == VerifyMode::kSizes ? *dst : names)
      unclaimed |= !ours.count(t.key);
    if (unclaimed) CM_RETURN_IF_ERROR(FindDuplicates(target, fm, *recorded, ours, report));
  }
  return report;
}

Status RemoveDuplicates(MailStore& target, const std::vector<DuplicateCopy>& duplicates) {
  std::map<std::vector<std::string>, std::vector<std::string>> by_folder;
  for (const DuplicateCopy& d : duplicates) by_folder[d.target_path].push_back(d.target_key);
  for (const auto& [path, keys] : by_folder) {
    Folder folder;
    folder.path = path;
    CM_RETURN_IF_ERROR(
        target.DeleteMessages(folder, keys)
            .Annotate(fmt::format("removing {} of our copies from {}",
                                  CountOf(keys.size(), "second landing"), folder.Name())));
  }
  return target.Flush();
}

Result<size_t> MarkForRepair(MailStore& target, MessageMap& map, const std::vector<BadCopy>& bad) {
  std::set<std::string> folders;
  for (const BadCopy& b : bad) {
    auto recorded = map.Load(b.source_folder);
    if (!recorded.ok()) return recorded.status();
    auto rec = recorded->find(b.source_key);
    if (!b.target_key.empty() && rec != recorded->end() &&
        rec->second.state == MessageMap::State::kCopied && rec->second.target_key == b.target_key) {
      if (rec->second.appended) {
        Folder folder;
        folder.path = b.target_path;
        Status removed = target.DeleteMessage(folder, b.target_key);
        if (!removed.ok() && removed.code() != Status::Code::kNotFound)
          return removed.Annotate(fmt::format("removing the bad copy {} of {} {}", b.target_key,
                                              b.source_folder, b.source_key));
      } else {
        // Claimed by fingerprint: perhaps the user's own message. Kept, and never claimed again.
        CM_RETURN_IF_ERROR(map.Foreign(b.source_folder, b.target_key));
      }
    }
    CM_RETURN_IF_ERROR(map.Repair(b.source_folder, b.source_key, b.problem));
    folders.insert(b.source_folder);
  }
  for (const auto& f : folders) CM_RETURN_IF_ERROR(map.SaveFolderState(f, ""));
  CM_RETURN_IF_ERROR(map.Flush());
  return bad.size();
}

}  // namespace cm
