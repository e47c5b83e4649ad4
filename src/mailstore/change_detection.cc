#include "mailstore/change_detection.h"

#include <algorithm>
#include <charconv>
#include <set>

#include "core/strings.h"

namespace cm {

std::optional<uint64_t> StateValue(std::string_view state, std::string_view item) {
  for (const auto& part : Split(state, ' ')) {
    size_t eq = part.find('=');
    if (eq == std::string::npos || !IEquals(std::string_view(part).substr(0, eq), item)) continue;
    uint64_t value = 0;
    auto [p, ec] = std::from_chars(part.data() + eq + 1, part.data() + part.size(), value);
    if (ec == std::errc() && p == part.data() + part.size()) return value;
  }
  return std::nullopt;
}

bool IsOurCopy(const MessageMap::Entry& e) {
  return e.state == MessageMap::State::kCopied && e.appended;
}

std::string FingerprintKey(const std::string& folder, const std::string& key) {
  return folder + "\n" + key;
}

std::vector<Vanished> VanishedOf(const FolderNow& folder) {
  std::vector<Vanished> out;
  if (folder.exists && !folder.listed) return out;
  for (const auto& [key, e] : folder.entries) {
    // Foreign records name target messages, not source ones; a message sent back for repair
    // is the copy pass's.
    if (e.state == MessageMap::State::kForeign || e.state == MessageMap::State::kRepair ||
        e.state == MessageMap::State::kNone)
      continue;
    if (!folder.exists || !folder.keys.count(key)) out.push_back({folder.name, key, e});
  }
  return out;
}

std::vector<Fresh> FreshOf(const FolderNow& folder) {
  std::vector<Fresh> out;
  if (!folder.exists || !folder.listed) return out;
  for (const auto& key : folder.keys) {
    if (!folder.entries.count(key)) out.push_back({folder.name, key});
  }
  return out;
}

namespace {

bool StrongFingerprint(const std::string& fp) { return !fp.empty() && fp.back() != '|'; }

bool IsNew(const FolderNow& f) { return f.exists && f.listed && f.entries.empty(); }

size_t OurCopies(const FolderNow& f) {
  size_t n = 0;
  for (const auto& [key, e] : f.entries) n += IsOurCopy(e) ? 1 : 0;
  return n;
}

// A gone folder that held none of our copies: the new folder with its MAILBOXID, else the one
// at its place below its renamed parent ("Projects/Old" -> "Work/Old" when "Projects" became
// "Work"), if that one is new and empty.
const FolderNow* EmptyRenamedTo(const FolderNow& from,
                                const std::map<std::string, FolderNow>& folders,
                                const std::map<std::string, std::string>& renamed,
                                const std::set<std::string>& taken) {
  for (const auto& [name, to] : folders) {
    if (!from.id.empty() && IsNew(to) && !taken.count(name) && to.id == from.id) return &to;
  }
  for (const auto& [parent, now] : renamed) {
    if (from.name.size() <= parent.size() || from.name.compare(0, parent.size(), parent) != 0 ||
        from.name[parent.size()] != '/')
      continue;
    auto to = folders.find(now + from.name.substr(parent.size()));
    if (to != folders.end() && IsNew(to->second) && to->second.keys.empty() &&
        !taken.count(to->first))
      return &to->second;
  }
  return nullptr;
}

}  // namespace

std::map<std::string, std::string> RecognizeRenames(
    const std::map<std::string, FolderNow>& folders,
    const std::map<std::string, std::string>& fingerprints) {
  std::vector<const FolderNow*> gone;
  for (const auto& [name, f] : folders) {
    // An empty folder we synced counts too: its MAILBOXID or its place can still tell.
    if (!f.exists && (OurCopies(f) > 0 || !f.target_path.empty())) gone.push_back(&f);
  }
  // Parents first: a parent's rename decides where its children are looked for.
  std::sort(gone.begin(), gone.end(), [](const FolderNow* a, const FolderNow* b) {
    return a->target_path.size() < b->target_path.size() ||
           (a->target_path.size() == b->target_path.size() && a->name < b->name);
  });
  std::map<std::string, std::string> renamed;
  std::set<std::string> taken;
  std::vector<const FolderNow*> empty_unmatched;
  for (const FolderNow* from : gone) {
    size_t ours = OurCopies(*from);
    if (ours == 0) {
      if (const FolderNow* to = EmptyRenamedTo(*from, folders, renamed, taken)) {
        renamed[from->name] = to->name;
        taken.insert(to->name);
      } else {
        empty_unmatched.push_back(from);
      }
      continue;
    }
    std::multiset<std::string> vanished_fps;
    for (const auto& [key, e] : from->entries) {
      if (!IsOurCopy(e)) continue;
      auto fp = fingerprints.find(FingerprintKey(from->name, key));
      if (fp != fingerprints.end() && StrongFingerprint(fp->second))
        vanished_fps.insert(fp->second);
    }
    const FolderNow* best = nullptr;
    size_t best_score = 0;
    for (const auto& [name, to] : folders) {
      if (!IsNew(to) || taken.count(name)) continue;
      if (!from->id.empty() && from->id == to.id) {
        best = &to;
        break;
      }
      size_t same_keys = 0, same_fps = 0;
      for (const auto& [key, e] : from->entries) {
        if (!IsOurCopy(e) || !to.keys.count(key)) continue;
        // The same key may be another message (IMAP UIDs of two folders of one UIDVALIDITY):
        // where both fingerprints are known they must agree.
        auto was = fingerprints.find(FingerprintKey(from->name, key));
        auto is = fingerprints.find(FingerprintKey(name, key));
        if (was != fingerprints.end() && is != fingerprints.end() && was->second != is->second)
          continue;
        ++same_keys;
      }
      std::multiset<std::string> unmatched = vanished_fps;
      for (const auto& key : to.keys) {
        auto fp = fingerprints.find(FingerprintKey(name, key));
        if (fp == fingerprints.end()) continue;
        if (auto it = unmatched.find(fp->second); it != unmatched.end()) {
          unmatched.erase(it);
          ++same_fps;
        }
      }
      size_t score = std::max(same_keys, same_fps);
      if (2 * score > ours && score > best_score) {
        best = &to;
        best_score = score;
      }
    }
    if (best) {
      renamed[from->name] = best->name;
      taken.insert(best->name);
    }
  }
  // Without an id, one empty folder gone and one empty folder new can only be a rename (a
  // delete and a create would end the same in the target, but be reported as a loss); more of
  // either is ambiguous, and they are deleted and created.
  std::vector<const FolderNow*> empty_new;
  for (const auto& [name, to] : folders) {
    if (IsNew(to) && to.keys.empty() && !taken.count(name)) empty_new.push_back(&to);
  }
  if (empty_unmatched.size() == 1 && empty_new.size() == 1 && empty_unmatched[0]->id.empty() &&
      empty_new[0]->id.empty())
    renamed[empty_unmatched[0]->name] = empty_new[0]->name;
  return renamed;
}

void MergeRenamed(std::map<std::string, FolderNow>& folders,
                  std::map<std::string, std::string>& fingerprints, const std::string& from,
                  const std::string& to) {
  auto f = folders.find(from);
  auto t = folders.find(to);
  if (f == folders.end() || t == folders.end()) return;
  std::string target = Join(t->second.target_path, "/");
  for (auto& [key, e] : f->second.entries) {
    if (!e.target_folder.empty()) e.target_folder = target;
    auto fp = fingerprints.find(FingerprintKey(from, key));
    if (fp != fingerprints.end()) fingerprints.try_emplace(FingerprintKey(to, key), fp->second);
  }
  t->second.entries = std::move(f->second.entries);
  folders.erase(f);
}

std::vector<MoveMatch> MatchMoves(const std::vector<Vanished>& vanished,
                                  const std::vector<Fresh>& fresh,
                                  const std::map<std::string, std::string>& fingerprints) {
  std::multimap<std::string, const Vanished*> by_fp;
  for (const Vanished& v : vanished) {
    if (!IsOurCopy(v.entry)) continue;
    auto fp = fingerprints.find(FingerprintKey(v.folder, v.key));
    if (fp != fingerprints.end() && StrongFingerprint(fp->second)) by_fp.emplace(fp->second, &v);
  }
  std::vector<MoveMatch> out;
  for (const Fresh& f : fresh) {
    auto fp = fingerprints.find(FingerprintKey(f.folder, f.key));
    if (fp == fingerprints.end() || !StrongFingerprint(fp->second)) continue;
    auto it = by_fp.find(fp->second);
    if (it == by_fp.end()) continue;
    out.push_back({*it->second, f, fp->second});
    by_fp.erase(it);
  }
  return out;
}

}  // namespace cm
