#include "mailstore/delta_sync.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <future>
#include <set>
#include <thread>

#include "core/strings.h"
#include "mailstore/change_detection.h"

namespace cm {

std::string DeletionsHeld::Describe() const {
  return fmt::format(
      "this pass would remove {} of the {} messages copied ({:.0f}%), more than max-deletions "
      "{:.0f}%; nothing was changed (approve with complete --approve-deletions)",
      removals, copies, copies ? 100.0 * static_cast<double>(removals) / copies : 0.0,
      max_deletions);
}

namespace {

Folder FolderAt(const std::vector<std::string>& path) {
  Folder f;
  f.path = path;
  return f;
}

std::vector<std::string> PathOf(const std::string& name) {
  return name.empty() ? std::vector<std::string>{} : Split(name, '/');
}

bool Below(const std::vector<std::string>& path, const std::vector<std::string>& top) {
  return path.size() >= top.size() && std::equal(top.begin(), top.end(), path.begin());
}

class DeltaPass {
 public:
  DeltaPass(MailStore& source, MailStore& target, MessageMap& map, const DeltaOptions& options,
            const MailStoreOptions& target_names, DeltaStats& stats)
      : source_(source),
        target_(target),
        map_(map),
        options_(options),
        target_names_(target_names),
        stats_(stats) {}

  struct Rename {  // a source folder renamed, and its target folder's names before and after
    std::string from, to;
    std::vector<std::string> from_target, to_target;
  };

  Status Run() {
    CM_RETURN_IF_ERROR(ListFolders());
    CM_RETURN_IF_ERROR(FinishMovesBegun());
    CM_RETURN_IF_ERROR(Detect());
    if (stats_.held) return Status::Ok();
    CM_RETURN_IF_ERROR(StopPoint());
    CM_RETURN_IF_ERROR(RememberGoneFolders());
    CM_RETURN_IF_ERROR(ApplyRenames());
    CM_RETURN_IF_ERROR(ApplyMoves());
    CM_RETURN_IF_ERROR(ApplyExpunges());
    CM_RETURN_IF_ERROR(StopPoint());
    CM_RETURN_IF_ERROR(ApplyFlags());
    CM_RETURN_IF_ERROR(DeleteGoneFolders());
    CM_RETURN_IF_ERROR(SaveSynced());
    if (changed_) CM_RETURN_IF_ERROR(target_.Flush());
    return map_.Flush();
  }

 private:
  Status StopPoint() const {
    if (options_.copy.stop && options_.copy.stop->load())
      return Status::Internal("the delta pass was stopped");
    return Status::Ok();
  }

  bool TargetHas(const std::vector<std::string>& path) const {
    return target_paths_.count(path) > 0;
  }

  Status ListFolders() {
    // Two servers (or disks): each is asked, logging in first, while the other is.
    auto target_listing = std::async(std::launch::async, [&] { return target_.ListFolders(); });
    auto folders = source_.ListFolders();
    auto target_folders = target_listing.get();
    if (!folders.ok()) return folders.status();
    if (!target_folders.ok()) return target_folders.status();
    for (const auto& f : *target_folders) {
      if (f.selectable) target_paths_.insert(f.path);
    }
    names_ = target_.capabilities().special_use ? TargetNames(*target_folders, target_names_)
                                                : target_names_;
    for (FolderMapping& fm : MapFolders(*folders, names_)) {
      // A folder that cannot be named in the target is the copy pass's to report.
      if (fm.source.name_error.empty()) current_[fm.source.Name()] = std::move(fm);
    }
    return Status::Ok();
  }

  // Where a recorded copy lives in the target.
  static std::vector<std::string> TargetPathOf(const MessageMap::Entry& e) {
    return PathOf(e.target_folder);
  }

  // A target folder's messages no record of `claimed_by` claims, by fingerprint.
  Result<std::multimap<std::string, std::string>> Unclaimed(const std::vector<std::string>& path,
                                                            const std::string& claimed_by) {
    std::multimap<std::string, std::string> out;
    if (!TargetHas(path)) return out;
    auto listing = target_.ListMessages(FolderAt(path), Detail::kFullWithMessageId);
    if (!listing.ok()) return listing.status();
    auto recorded = map_.Load(claimed_by);
    if (!recorded.ok()) return recorded.status();
    std::set<std::string> claimed;
    for (const auto& [key, e] : *recorded) {
      if (e.state == MessageMap::State::kCopied || e.state == MessageMap::State::kForeign)
        claimed.insert(e.target_key);
    }
    for (const auto& m : *listing) {
      if (!claimed.count(m.key)) out.emplace(FingerprintOf(m), m.key);
    }
    return out;
  }

  // Ends a move whose intent is recorded (`folder` `key` is kMoving, its copy last known at
  // entry.target_folder / target_key): the copy is found in the folder it goes to (a move done,
  // or a COPY done and its original not yet expunged: that one goes now), else moved now, else
  // (gone from both) the record goes and the copy pass copies the message again.
  Status FinishMove(const std::string& folder, const std::string& key,
                    const MessageMap::Entry& entry, const std::vector<std::string>& to,
                    uint64_t size, bool look_first) {
    std::vector<std::string> from = TargetPathOf(entry);
    auto record = [&](const std::string& new_key) {
      return map_.Copied(folder, key, Join(to, "/"), new_key, size, entry.digest, entry.appended);
    };
    auto find = [&]() -> Result<std::string> {
      auto unclaimed = Unclaimed(to, folder);
      if (!unclaimed.ok()) return unclaimed.status();
      auto it = unclaimed->find(entry.note);
      return it == unclaimed->end() ? std::string() : it->second;
    };
    if (look_first) {
      auto found = find();
      if (!found.ok()) return found.status();
      if (!found->empty()) {
        CM_RETURN_IF_ERROR(record(*found));
        CM_RETURN_IF_ERROR(map_.Flush());
        changed_ = true;
        return TargetHas(from) ? target_.DeleteMessages(FolderAt(from), {entry.target_key})
                               : Status::Ok();
      }
    }
    std::string moved;
    if (TargetHas(from)) {
      auto keys = target_.MoveMessages(FolderAt(from), {entry.target_key}, FolderAt(to));
      if (!keys.ok()) return keys.status();
      target_paths_.insert(to);
      changed_ = true;
      moved = keys->empty() ? "" : keys->front();
    }
    if (moved.empty()) {  // not named by the server, or not there: look for it
      auto found = find();
      if (!found.ok()) return found.status();
      moved = *found;
    }
    CM_RETURN_IF_ERROR(moved.empty() ? map_.Forget(folder, key) : record(moved));
    return map_.Flush();
  }

  // A pass killed mid-move left kMoving records: each is finished before anything is looked at.
  Status FinishMovesBegun() {
    auto known = map_.Folders();
    if (!known.ok()) return known.status();
    known_ = *known;
    for (const auto& name : known_) {
      auto recorded = map_.Load(name);
      if (!recorded.ok()) return recorded.status();
      std::vector<std::pair<std::string, MessageMap::Entry>> moving;
      for (const auto& [key, e] : *recorded) {
        if (e.state == MessageMap::State::kMoving) moving.emplace_back(key, e);
      }
      for (const auto& [key, e] : moving) {
        auto fm = current_.find(name);
        if (fm == current_.end()) {
          // Its folder went too: the copy is not wanted anywhere.
          if (e.appended && TargetHas(TargetPathOf(e)))
            CM_RETURN_IF_ERROR(target_.DeleteMessages(FolderAt(TargetPathOf(e)), {e.target_key}));
          CM_RETURN_IF_ERROR(map_.Forget(name, key));
          continue;
        }
        // The fingerprint (the note) begins with the size.
        uint64_t size = std::strtoull(e.note.c_str(), nullptr, 10);
        CM_RETURN_IF_ERROR(FinishMove(name, key, e, fm->second.target.path, size, true));
      }
    }
    return map_.Flush();
  }

  // Lists what changed, recognises renames and moves, and counts what would be removed.
  Status Detect() {
    std::set<std::string> names(known_.begin(), known_.end());
    for (const auto& [name, fm] : current_) names.insert(name);
    for (const auto& name : names) {
      FolderNow f;
      f.name = name;
      auto recorded = map_.Load(name);
      if (!recorded.ok()) return recorded.status();
      f.entries = *recorded;
      auto synced = map_.Synced(name);
      if (!synced.ok()) return synced.status();
      auto fm = current_.find(name);
      if (fm == current_.end()) {
        f.exists = false;
        f.id = synced->id;
        f.target_path = synced->target_path;
        for (const auto& [key, e] : f.entries) {
          if (f.target_path.empty() && !e.target_folder.empty()) f.target_path = TargetPathOf(e);
        }
      } else {
        const Folder& source = fm->second.source;
        f.id = source.id;
        f.target_path = fm->second.target.path;
        if (source.state.empty() || synced->state != source.state)
          CM_RETURN_IF_ERROR(ListSource(f, source, synced->state));
      }
      folders_[name] = std::move(f);
    }
    std::vector<Vanished> vanished;
    std::vector<Fresh> fresh;
    for (const auto& [name, f] : folders_) {
      for (auto& v : VanishedOf(f)) vanished.push_back(std::move(v));
      for (auto& n : FreshOf(f)) fresh.push_back(std::move(n));
    }
    bool ours_vanished = std::any_of(vanished.begin(), vanished.end(),
                                     [](const Vanished& v) { return IsOurCopy(v.entry); });
    if (ours_vanished && !fresh.empty()) CM_RETURN_IF_ERROR(Fingerprints(vanished, fresh));
    // Renames first: a renamed folder's records are the new folder's from here on.
    for (const auto& [from, to] : RecognizeRenames(folders_, fingerprints_)) {
      renames_.push_back({from, to, folders_[from].target_path, folders_[to].target_path});
      MergeRenamed(folders_, fingerprints_, from, to);
    }
    vanished.clear();
    fresh.clear();
    for (const auto& [name, f] : folders_) {
      for (auto& v : VanishedOf(f)) vanished.push_back(std::move(v));
      for (auto& n : FreshOf(f)) fresh.push_back(std::move(n));
    }
    CM_RETURN_IF_ERROR(MatchAndConfirmMoves(vanished, fresh));
    std::set<std::pair<std::string, std::string>> moving;
    for (const auto& m : moves_) moving.insert({m.from.folder, m.from.key});
    uint64_t copies = 0;
    for (const auto& [name, f] : folders_) {
      for (const auto& [key, e] : f.entries) copies += IsOurCopy(e) ? 1 : 0;
    }
    for (auto& v : vanished) {
      if (moving.count({v.folder, v.key})) continue;
      (IsOurCopy(v.entry) ? expunge_ : forget_).push_back(std::move(v));
    }
    uint64_t removals = expunge_.size();
    if (!options_.approve_deletions && copies > 0 &&
        100.0 * static_cast<double>(removals) >
            options_.max_deletions * static_cast<double>(copies)) {
      stats_.held = DeletionsHeld{removals, copies, options_.max_deletions};
    }
    return Status::Ok();
  }

  // The source folder's keys now, and the flags of every message (or, with CONDSTORE and a
  // mod-sequence from the last pass, of those changed since).
  Status ListSource(FolderNow& f, const Folder& source, const std::string& synced_state) {
    f.listed = true;
    auto modseq = StateValue(synced_state, "HIGHESTMODSEQ");
    bool same_validity =
        StateValue(synced_state, "UIDVALIDITY") == StateValue(source.state, "UIDVALIDITY") &&
        StateValue(source.state, "UIDVALIDITY").has_value();
    if (source_.capabilities().changed_since && modseq && same_validity) {
      auto changes = source_.ListChangedSince(source, *modseq);
      if (!changes.ok()) return changes.status().Annotate(source.Name());
      f.keys.insert(changes->keys.begin(), changes->keys.end());
      for (auto& m : changes->changed) source_flags_[f.name][m.key] = std::move(m);
      return Status::Ok();
    }
    auto listing = source_.ListMessages(source, Detail::kNames);
    if (!listing.ok()) return listing.status().Annotate(source.Name());
    for (auto& m : *listing) {
      f.keys.insert(m.key);
      source_flags_[f.name][m.key] = std::move(m);
    }
    all_flags_.insert(f.name);
    return Status::Ok();
  }

  // Fingerprints of the vanished copies (from the target, where they still are) and of the
  // fresh messages (from the source).
  Status Fingerprints(const std::vector<Vanished>& vanished, const std::vector<Fresh>& fresh) {
    std::map<std::vector<std::string>, std::vector<const Vanished*>> by_target;
    for (const Vanished& v : vanished) {
      if (IsOurCopy(v.entry)) by_target[TargetPathOf(v.entry)].push_back(&v);
    }
    for (const auto& [path, list] : by_target) {
      if (!TargetHas(path)) continue;
      auto listing = target_.ListMessages(FolderAt(path), Detail::kFullWithMessageId);
      if (!listing.ok()) return listing.status();
      std::map<std::string, const MessageMeta*> by_key;
      for (const auto& m : *listing) by_key[m.key] = &m;
      for (const Vanished* v : list) {
        auto it = by_key.find(v->entry.target_key);
        if (it != by_key.end())
          fingerprints_[FingerprintKey(v->folder, v->key)] = FingerprintOf(*it->second);
      }
    }
    std::set<std::string> fresh_folders;
    for (const Fresh& f : fresh) fresh_folders.insert(f.folder);
    for (const auto& name : fresh_folders) {
      auto listing = source_.ListMessages(current_.at(name).source, Detail::kFullWithMessageId);
      if (!listing.ok()) return listing.status().Annotate(name);
      for (auto& m : *listing) {
        fingerprints_[FingerprintKey(name, m.key)] = FingerprintOf(m);
        fresh_meta_[FingerprintKey(name, m.key)] = std::move(m);
      }
    }
    return Status::Ok();
  }

  // A fingerprint proposes a move; where the copy's digest is known, the fresh message's bytes
  // must have it too (read once: cheaper than copying, and never a wrong message moved).
  Status MatchAndConfirmMoves(const std::vector<Vanished>& vanished,
                              const std::vector<Fresh>& fresh) {
    std::map<std::string, std::vector<MoveMatch>> by_folder;
    for (auto& m : MatchMoves(vanished, fresh, fingerprints_))
      by_folder[m.to.folder].push_back(std::move(m));
    for (auto& [name, matches] : by_folder) {
      std::vector<const MessageMeta*> to_read;
      for (const auto& m : matches) {
        if (!m.from.entry.digest.empty())
          to_read.push_back(&fresh_meta_.at(FingerprintKey(m.to.folder, m.to.key)));
      }
      std::map<std::string, std::string> digests;
      if (!to_read.empty()) {
        auto read = ReadDigests(source_, current_.at(name).source, to_read);
        if (!read.ok()) return read.status().Annotate(name);
        digests = std::move(*read);
      }
      for (auto& m : matches) {
        if (!m.from.entry.digest.empty() && digests[m.to.key] != m.from.entry.digest) continue;
        moves_.push_back(std::move(m));
      }
    }
    return Status::Ok();
  }

  void RenamedInTarget(const std::vector<std::string>& from, const std::vector<std::string>& to) {
    std::set<std::vector<std::string>> paths;
    for (const auto& p : target_paths_) {
      if (!Below(p, from)) {
        paths.insert(p);
        continue;
      }
      std::vector<std::string> moved = to;
      moved.insert(moved.end(), p.begin() + static_cast<long>(from.size()), p.end());
      paths.insert(std::move(moved));
    }
    target_paths_ = std::move(paths);
  }

  // The target folder is renamed (with the folders below it, as IMAP RENAME does), then the
  // map: a pass killed between finds the old folder gone and the new one there, and only
  // renames the map.
  Status ApplyRenames() {
    std::sort(renames_.begin(), renames_.end(), [](const Rename& a, const Rename& b) {
      return a.from_target.size() < b.from_target.size();
    });
    for (const Rename& r : renames_) {
      bool from_there = TargetHas(r.from_target), to_there = TargetHas(r.to_target);
      if (r.from_target != r.to_target && from_there && !to_there) {
        CM_RETURN_IF_ERROR(target_.RenameFolder(FolderAt(r.from_target), FolderAt(r.to_target)));
        RenamedInTarget(r.from_target, r.to_target);
        changed_ = true;
      } else if (r.from_target != r.to_target && from_there && to_there) {
        // The new name is taken in the target: our copies move into it one by one.
        CM_RETURN_IF_ERROR(MoveAllOurs(r));
      }
      CM_RETURN_IF_ERROR(map_.RenameFolder(r.from, r.to, Join(r.to_target, "/")));
      ++stats_.renamed_folders;
      stats_.renamed.push_back(
          fmt::format("{} -> {}", Join(r.from_target, "/"), Join(r.to_target, "/")));
    }
    return Status::Ok();
  }

  Status MoveAllOurs(const Rename& r) {
    const FolderNow& f = folders_.at(r.to);
    std::vector<std::string> source_keys, target_keys;
    for (const auto& [key, e] : f.entries) {
      if (!IsOurCopy(e)) continue;
      source_keys.push_back(key);
      target_keys.push_back(e.target_key);
    }
    auto moved = target_.MoveMessages(FolderAt(r.from_target), target_keys, FolderAt(r.to_target));
    if (!moved.ok()) return moved.status();
    changed_ = true;
    for (size_t k = 0; k < source_keys.size(); ++k) {
      const auto& e = f.entries.at(source_keys[k]);
      // Under the old name for now: the map's rename that follows carries them over.
      CM_RETURN_IF_ERROR((*moved)[k].empty()
                             ? map_.Forget(r.from, source_keys[k])
                             : map_.Copied(r.from, source_keys[k], Join(r.to_target, "/"),
                                           (*moved)[k], e.size, e.digest, true));
    }
    return map_.Flush();
  }

  // Moves: the intent of each (the message's new record, kMoving, and its old record gone) is
  // durable before the target is asked, its new key after.
  Status ApplyMoves() {
    std::map<std::pair<std::vector<std::string>, std::vector<std::string>>,
             std::vector<const MoveMatch*>>
        batches;
    for (const MoveMatch& m : moves_) {
      std::vector<std::string> from = TargetPathOf(m.from.entry);
      std::vector<std::string> to = current_.at(m.to.folder).target.path;
      const MessageMeta& meta = fresh_meta_.at(FingerprintKey(m.to.folder, m.to.key));
      if (from == to) {  // the same folder under a new key (UIDVALIDITY, a re-keyed rename)
        CM_RETURN_IF_ERROR(map_.Copied(m.to.folder, m.to.key, Join(to, "/"),
                                       m.from.entry.target_key, meta.size, m.from.entry.digest,
                                       m.from.entry.appended));
        CM_RETURN_IF_ERROR(map_.Forget(m.from.folder, m.from.key));
        continue;
      }
      batches[{from, to}].push_back(&m);
    }
    CM_RETURN_IF_ERROR(map_.Flush());
    for (const auto& [where, matches] : batches) {
      const auto& [from, to] = where;
      std::vector<std::string> target_keys;
      for (const MoveMatch* m : matches) {
        CM_RETURN_IF_ERROR(map_.Moving(m->to.folder, m->to.key, Join(from, "/"),
                                       m->from.entry.target_key, m->fingerprint,
                                       m->from.entry.digest, m->from.entry.appended));
        CM_RETURN_IF_ERROR(map_.Forget(m->from.folder, m->from.key));
        target_keys.push_back(m->from.entry.target_key);
      }
      CM_RETURN_IF_ERROR(map_.Flush());
      std::vector<std::string> moved(matches.size());
      if (TargetHas(from)) {
        auto keys = target_.MoveMessages(FolderAt(from), target_keys, FolderAt(to));
        if (!keys.ok()) return keys.status();
        moved = std::move(*keys);
        target_paths_.insert(to);
        changed_ = true;
      }
      for (size_t k = 0; k < matches.size(); ++k) {
        const MoveMatch& m = *matches[k];
        const MessageMeta& meta = fresh_meta_.at(FingerprintKey(m.to.folder, m.to.key));
        MessageMap::Entry intent = m.from.entry;
        intent.target_folder = Join(from, "/");
        intent.note = m.fingerprint;
        if (k < moved.size() && !moved[k].empty()) {
          CM_RETURN_IF_ERROR(map_.Copied(m.to.folder, m.to.key, Join(to, "/"), moved[k], meta.size,
                                         intent.digest, intent.appended));
        } else {  // not named by the server: found by fingerprint, or copied again
          CM_RETURN_IF_ERROR(FinishMove(m.to.folder, m.to.key, intent, to, meta.size, true));
        }
        ++stats_.moved;
      }
      CM_RETURN_IF_ERROR(map_.Flush());
    }
    return Status::Ok();
  }

  // Removed from the target first, then from the map: a pass killed between removes nothing
  // twice (the copy is gone) and forgets the record then.
  Status ApplyExpunges() {
    std::map<std::vector<std::string>, std::vector<const Vanished*>> by_target;
    for (const Vanished& v : expunge_) by_target[TargetPathOf(v.entry)].push_back(&v);
    for (const auto& [path, list] : by_target) {
      std::vector<std::string> keys;
      for (const Vanished* v : list) keys.push_back(v->entry.target_key);
      if (TargetHas(path)) {
        CM_RETURN_IF_ERROR(target_.DeleteMessages(FolderAt(path), keys));
        changed_ = true;
      }
      for (const Vanished* v : list) CM_RETURN_IF_ERROR(map_.Forget(v->folder, v->key));
      CM_RETURN_IF_ERROR(map_.Flush());
      stats_.expunged += list.size();
    }
    // Records of what was never ours to remove (refused, claimed by fingerprint) just go.
    for (const Vanished& v : forget_) CM_RETURN_IF_ERROR(map_.Forget(v.folder, v.key));
    return map_.Flush();
  }

  // Each of our copies gets its source message's flags and keywords: compared with the target's
  // where the source listed every message, set outright where it listed only those changed.
  Status ApplyFlags() {
    for (const auto& [name, flags] : source_flags_) {
      auto fm = current_.find(name);
      if (fm == current_.end() || flags.empty()) continue;
      const Folder& target = fm->second.target;
      auto recorded = map_.Load(name);
      if (!recorded.ok()) return recorded.status();
      std::map<std::string, MessageMeta> in_target;
      bool compare = all_flags_.count(name) > 0;
      if (compare) {
        if (!TargetHas(target.path)) continue;
        auto listing = target_.ListMessages(target, Detail::kNames);
        if (!listing.ok()) return listing.status();
        for (auto& m : *listing) in_target[m.key] = std::move(m);
      }
      std::vector<MessageMeta> changes;
      for (const auto& [key, e] : *recorded) {
        if (!IsOurCopy(e) || e.target_folder != target.Name()) continue;
        auto want = flags.find(key);
        if (want == flags.end()) continue;
        if (compare) {
          auto have = in_target.find(e.target_key);
          if (have == in_target.end() || SameFlags(have->second, want->second)) continue;
        }
        MessageMeta change = want->second;
        change.key = e.target_key;
        changes.push_back(std::move(change));
      }
      if (changes.empty()) continue;
      CM_RETURN_IF_ERROR(target_.SetFlags(target, changes).Annotate(target.Name()));
      changed_ = true;
      stats_.flags_changed += changes.size();
    }
    return Status::Ok();
  }

  // A folder gone from the source is known by its records; once its copies are expunged it would
  // be known by nothing, so a pass killed before deleting its target folder would leave it
  // behind: its target folder is recorded first, and forgotten only with the folder.
  Status RememberGoneFolders() {
    for (const auto& [name, f] : folders_) {
      if (f.exists || f.target_path.empty()) continue;
      bool anything = false;
      for (const auto& [key, e] : f.entries) anything |= e.state != MessageMap::State::kForeign;
      if (anything) CM_RETURN_IF_ERROR(map_.SaveSynced(name, {"", f.id, f.target_path}));
    }
    return Status::Ok();
  }

  // A folder gone from the source: its target folder goes too once it holds nothing (our copies
  // were expunged or moved above); one still holding mail we did not copy is kept and named.
  Status DeleteGoneFolders() {
    std::vector<const FolderNow*> gone;
    for (const auto& [name, f] : folders_) {
      if (f.exists) continue;
      bool anything = false;
      for (const auto& [key, e] : f.entries) anything |= e.state != MessageMap::State::kForeign;
      auto synced = map_.Synced(name);
      if (!synced.ok()) return synced.status();
      if (anything || !synced->target_path.empty()) gone.push_back(&f);
    }
    std::sort(gone.begin(), gone.end(), [](const FolderNow* a, const FolderNow* b) {
      return a->target_path.size() > b->target_path.size();  // children first
    });
    for (const FolderNow* f : gone) {
      const auto& path = f->target_path;
      if (!path.empty() && TargetHas(path) && !FolderAt(path).IsInbox()) {
        auto listing = target_.ListMessages(FolderAt(path), Detail::kNames);
        if (!listing.ok()) return listing.status();
        Status deleted = listing->empty()
                             ? target_.DeleteFolder(FolderAt(path))
                             : Status::Constraint(fmt::format(
                                   "it holds {} messages crossmove did not copy", listing->size()));
        if (deleted.ok()) {
          target_paths_.erase(path);
          ++stats_.deleted_folders;
          changed_ = true;
        } else if (deleted.code() == Status::Code::kUnavailable) {
          return deleted;
        } else {
          stats_.kept_folders.push_back(fmt::format("{}: {}", Join(path, "/"), deleted.message()));
        }
      }
      CM_RETURN_IF_ERROR(map_.ForgetFolder(f->name));
    }
    return Status::Ok();
  }

  Status SaveSynced() {
    for (const auto& [name, fm] : current_) {
      auto f = folders_.find(name);
      if (f == folders_.end() || !f->second.listed) continue;
      CM_RETURN_IF_ERROR(map_.SaveSynced(name, {fm.source.state, fm.source.id, fm.target.path}));
    }
    return Status::Ok();
  }

  MailStore& source_;
  MailStore& target_;
  MessageMap& map_;
  const DeltaOptions& options_;
  const MailStoreOptions& target_names_;
  DeltaStats& stats_;
  MailStoreOptions names_;
  std::map<std::string, FolderMapping> current_;  // source folder name -> its mapping
  std::set<std::vector<std::string>> target_paths_;
  std::vector<std::string> known_;  // folders the map knows
  std::map<std::string, FolderNow> folders_;
  // Source folder -> key -> flags now (every message, or those changed since the last pass).
  std::map<std::string, std::map<std::string, MessageMeta>> source_flags_;
  std::set<std::string> all_flags_;  // folders whose every message's flags are listed
  std::map<std::string, std::string> fingerprints_;  // FingerprintKey -> fingerprint
  std::map<std::string, MessageMeta> fresh_meta_;    // FingerprintKey -> listing
  std::vector<Rename> renames_;
  std::vector<MoveMatch> moves_;
  std::vector<Vanished> expunge_, forget_;
  bool changed_ = false;
};

}  // namespace

Result<DeltaStats> SyncMailbox(MailStore& source, MailStore& target, MessageMap& map,
                               const DeltaOptions& options, const MailStoreOptions& target_names) {
  struct FlushOnExit {
    MessageMap& map;
    ~FlushOnExit() { map.Flush(); }
  } flush_on_exit{map};
  for (int attempt = 0;; ++attempt) {
    DeltaStats stats;
    DeltaPass pass(source, target, map, options, target_names, stats);
    Status s = pass.Run();
    if (s.ok()) {
      if (stats.held) return stats;
      // New mail last: a message moved in is recorded by now and is not copied again.
      auto copied = CopyMailbox(source, target, map, options.copy, target_names);
      if (!copied.ok()) return copied.status();
      stats.copy = std::move(*copied);
      stats.new_messages = stats.copy.messages;
      return stats;
    }
    // A lost connection: every step above is recorded as it is made, so the pass starts over.
    if (s.code() != Status::Code::kUnavailable || attempt >= options.copy.retries) return s;
    std::this_thread::sleep_for(std::chrono::milliseconds(200 * (attempt + 1)));
  }
}

}  // namespace cm
