#include "mailstore/copy_engine.h"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <set>

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

std::vector<std::string> SortedFlags(std::vector<std::string> v) {
  std::erase_if(v, [](const std::string& f) { return IEquals(f, "\\Recent"); });
  for (auto& f : v) f = AsciiLower(f);
  std::sort(v.begin(), v.end());
  return v;
}

// SHA-256 of a message read through the store, streamed.
Result<std::string> Digest(MailStore& store, const Folder& folder, const std::string& key) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  Status s = store.ReadMessage(folder, key, [&](std::string_view chunk) {
    EVP_DigestUpdate(ctx.get(), chunk.data(), chunk.size());
    return Status::Ok();
  });
  if (!s.ok()) return s;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx.get(), md, &len);
  return std::string(reinterpret_cast<char*>(md), len);
}

}  // namespace

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
Status ClaimAppendedBefore(MailStore& source, MailStore& target, MessageMap& map,
                           const FolderMapping& fm, const std::vector<MessageMeta>& messages,
                           std::map<std::string, MessageMap::Entry>& recorded) {
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
  auto fingerprint = [](const MessageMeta& m) {
    return fmt::format("{}|{}|{}", m.size, m.internal_date, m.message_id);
  };
  for (const auto& t : *with_ids) {
    if (!claimed.count(t.key)) by_fingerprint.emplace(fingerprint(t), t.key);
  }
  auto source_ids = source.ListMessages(fm.source, Detail::kFullWithMessageId);
  if (!source_ids.ok()) return source_ids.status();
  for (const auto& m : *source_ids) {
    if (recorded.count(m.key)) continue;
    auto it = by_fingerprint.find(fingerprint(m));
    if (it == by_fingerprint.end()) continue;
    CM_RETURN_IF_ERROR(map.Copied(fm.source.Name(), m.key, fm.target.Name(), it->second, m.size));
    recorded[m.key] = {MessageMap::State::kCopied, it->second};
    by_fingerprint.erase(it);
  }
  for (const auto& [fp, key] : by_fingerprint) {
    CM_RETURN_IF_ERROR(map.Foreign(fm.source.Name(), key));
    recorded["foreign:" + key] = {MessageMap::State::kForeign, key};
  }
  return map.Flush();
}

}  // namespace

Result<CopyStats> CopyMailbox(MailStore& source, MailStore& target, MessageMap& map,
                              const CopyOptions& options, const MailStoreOptions& target_names) {
  CopyStats stats;
  auto folders = source.ListFolders();
  if (!folders.ok()) return folders.status();
  CopyProgress progress;
  // Whatever happens, the records made so far are kept.
  struct FlushOnExit {
    MessageMap& map;
    ~FlushOnExit() { map.Flush(); }
  } flush_on_exit{map};
  auto target_folders = target.ListFolders();
  if (!target_folders.ok()) return target_folders.status();
  bool created_folders = false;
  for (const FolderMapping& fm : MapFolders(*folders, target_names)) {
    auto started = std::chrono::steady_clock::now();
    FolderStats fs{fm.source.Name(), fm.target.Name()};
    const Folder* existing = nullptr;
    for (const auto& f : *target_folders) {
      if (f.path == fm.target.path && f.selectable) existing = &f;
    }
    if (!existing) {
      CM_RETURN_IF_ERROR(target.CreateFolder(fm.target).Annotate(fm.target.Name()));
      created_folders = true;
    }
    if (fm.source.subscribed && !(existing && existing->subscribed)) {
      CM_RETURN_IF_ERROR(target.SetSubscribed(fm.target, true));
    }
    auto recorded = map.Load(fm.source.Name());
    if (!recorded.ok()) return recorded.status();
    // A delta pass over a folder whose every message is recorded costs one names listing.
    auto names = source.ListMessages(fm.source, Detail::kNames);
    if (!names.ok()) return names.status().Annotate(fm.source.Name());
    bool unrecorded = false;
    for (const auto& m : *names) unrecorded |= !recorded->count(m.key);
    if (!unrecorded) {
      fs.skipped = names->size();
      stats.skipped += fs.skipped;
      stats.folders.push_back(std::move(fs));
      continue;
    }
    auto messages = source.ListMessages(fm.source, Detail::kFull);
    if (!messages.ok()) return messages.status().Annotate(fm.source.Name());
    CM_RETURN_IF_ERROR(ClaimAppendedBefore(source, target, map, fm, *messages, *recorded));
    for (const MessageMeta& m : *messages) {
      if (recorded->count(m.key)) {
        ++fs.skipped;
        continue;
      }
      auto writer = target.BeginAppend(fm.target, m);
      Status s = writer.ok() ? Status::Ok() : writer.status();
      if (s.ok()) {
        s = source.ReadMessage(fm.source, m.key,
                               [&](std::string_view chunk) { return (*writer)->Write(chunk); });
      }
      Result<std::string> key = s.ok() ? (*writer)->Commit() : Result<std::string>(s);
      if (!key.ok()) {
        Status err = key.status();
        bool refused =
            err.code() == Status::Code::kConstraint || err.code() == Status::Code::kInvalidInput;
        if (!refused) return err.Annotate(fmt::format("{} message {}", fm.source.Name(), m.key));
        CM_RETURN_IF_ERROR(map.Refused(fm.source.Name(), m.key, err.message()));
        ++fs.refused;
        stats.refused.push_back(fmt::format("{} {}: {}", fm.source.Name(), m.key, err.message()));
        if (static_cast<int>(stats.refused.size()) > options.bad_item_limit) {
          return Status::Constraint(fmt::format(
              "{} messages refused by the target, more than bad-item-limit {}; last: {}",
              stats.refused.size(), options.bad_item_limit, err.message()));
        }
        continue;
      }
      CM_RETURN_IF_ERROR(map.Copied(fm.source.Name(), m.key, fm.target.Name(), *key, m.size));
      ++fs.messages;
      fs.bytes += m.size;
      progress.messages++;
      progress.bytes += m.size;
      if (options.progress) options.progress(progress);
    }
    CM_RETURN_IF_ERROR(map.Flush());
    fs.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    stats.messages += fs.messages;
    stats.bytes += fs.bytes;
    stats.skipped += fs.skipped;
    stats.folders.push_back(std::move(fs));
  }
  // Durable before the journal records the step; a pass that wrote nothing has nothing to sync.
  bool wrote = stats.messages > 0;
  for (const auto& f : stats.folders) wrote |= f.refused > 0;
  if (wrote || created_folders) CM_RETURN_IF_ERROR(target.Flush());
  return stats;
}

Result<VerifyReport> VerifyMailbox(MailStore& source, MailStore& target, MessageMap& map, bool full,
                                   const MailStoreOptions& target_names) {
  VerifyReport report;
  auto folders = source.ListFolders();
  if (!folders.ok()) return folders.status();
  for (const FolderMapping& fm : MapFolders(*folders, target_names)) {
    auto src = source.ListMessages(fm.source, Detail::kFull);
    if (!src.ok()) return src.status();
    auto dst = target.ListMessages(fm.target, Detail::kFull);
    if (!dst.ok()) return dst.status();
    auto recorded = map.Load(fm.source.Name());
    if (!recorded.ok()) return recorded.status();
    std::map<std::string, const MessageMeta*> by_key;
    for (const auto& t : *dst) by_key[t.key] = &t;
    auto problem = [&](const MessageMeta& m, std::string what) {
      report.problems.push_back(fmt::format("{} {}: {}", fm.source.Name(), m.key, what));
    };
    for (const MessageMeta& m : *src) {
      ++report.messages;
      auto rec = recorded->find(m.key);
      if (rec == recorded->end() || rec->second.state == MessageMap::State::kNone) {
        problem(m, "not copied");
        continue;
      }
      if (rec->second.state == MessageMap::State::kRefused) continue;  // reported by the copy
      auto t = by_key.find(rec->second.target_key);
      if (t == by_key.end()) {
        problem(m, fmt::format("missing from target {}", fm.target.Name()));
        continue;
      }
      const MessageMeta& tm = *t->second;
      if (tm.size != m.size)
        problem(m, fmt::format("size {} in the target, {} in the source", tm.size, m.size));
      if (SortedFlags(tm.flags) != SortedFlags(m.flags)) problem(m, "flags differ");
      if (SortedFlags(tm.keywords) != SortedFlags(m.keywords)) problem(m, "keywords differ");
      if (tm.internal_date != m.internal_date) problem(m, "INTERNALDATE differs");
      if (full) {
        auto a = Digest(source, fm.source, m.key);
        auto b = Digest(target, fm.target, tm.key);
        if (!a.ok()) return a.status();
        if (!b.ok()) return b.status();
        if (*a != *b) problem(m, "content differs");
      }
    }
  }
  return report;
}

}  // namespace cm
