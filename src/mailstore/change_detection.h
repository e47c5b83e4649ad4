// What changed in a source mailbox since the last pass, for the messages the journal says we
// copied: which folders were renamed, which recorded messages vanished from where they were,
// which messages are new where they are, and which new message is a vanished one moved. Pure:
// it decides from listings and the map, and does no I/O (delta_sync.cc lists and applies).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "mailstore/copy_engine.h"

namespace cm {

// A value of a Folder::state ("UIDVALIDITY=7 HIGHESTMODSEQ=42 "): nullopt when absent.
std::optional<uint64_t> StateValue(std::string_view state, std::string_view item);

// One source folder as a delta pass sees it: what the map records of it and, when it was
// listed, what it holds now.
struct FolderNow {
  std::string name;  // the map's name for it (Folder::Name)
  std::vector<std::string> target_path;
  std::string id;       // MAILBOXID now (current folders) or when last synced (gone ones)
  bool exists = true;   // false: no longer in the source
  bool listed = false;  // `keys` is what it holds now (false: unchanged since the last pass)
  std::set<std::string> keys;
  std::map<std::string, MessageMap::Entry> entries;  // as recorded, by source key
};

// A recorded copy whose source message is no longer where the map says.
struct Vanished {
  std::string folder, key;
  MessageMap::Entry entry;
};
// A source message no record accounts for.
struct Fresh {
  std::string folder, key;
};

// Ours to move, expunge or change: appended by us (not claimed by fingerprint, which may be the
// user's own message) and copied.
bool IsOurCopy(const MessageMap::Entry& e);

std::vector<Vanished> VanishedOf(const FolderNow& folder);  // only where listed or gone
std::vector<Fresh> FreshOf(const FolderNow& folder);

// Source folder -> the folder it was renamed to. A gone folder with our copies is the new folder
// (one the map does not know) with the same MAILBOXID, else the one holding more than half of
// its recorded keys (Maildir file names survive a rename; so do IMAP UIDs on most servers),
// else the one where more than half of its vanished copies' fingerprints turn up. A gone folder
// we synced empty is the new empty folder with its MAILBOXID, at its place below its renamed
// parent, or, when it is the only one and one new empty folder appeared, that one. Parents are
// decided before children.
// `fingerprints`: "folder\nkey" -> fingerprint, of vanished copies (by their source folder and
// key) and of fresh messages.
std::map<std::string, std::string> RecognizeRenames(
    const std::map<std::string, FolderNow>& folders,
    const std::map<std::string, std::string>& fingerprints);

// Moves the map's view of `from` (gone) to `to` (new): its records become `to`'s, their target
// folder `to`'s target folder, and the fingerprints of its copies are known under `to` too.
void MergeRenamed(std::map<std::string, FolderNow>& folders,
                  std::map<std::string, std::string>& fingerprints, const std::string& from,
                  const std::string& to);

struct MoveMatch {
  Vanished from;
  Fresh to;
  std::string fingerprint;
};
// Pairs each fresh message with a vanished copy of the same fingerprint (each used once). Only
// our copies move; a fingerprint without a Message-ID is too weak to call two messages one.
std::vector<MoveMatch> MatchMoves(const std::vector<Vanished>& vanished,
                                  const std::vector<Fresh>& fresh,
                                  const std::map<std::string, std::string>& fingerprints);

std::string FingerprintKey(const std::string& folder, const std::string& key);

}  // namespace cm
