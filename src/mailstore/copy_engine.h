// The copy engine: folder mapping, streaming byte-for-byte copy, and verification (SPEC §5).
// It talks to stores only through MailStore and to the journal only through MessageMap, so any
// pair of drivers (Maildir, IMAP) copies the same way and a rerun copies nothing twice.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "mailstore/mail_store.h"

namespace cm {

// The per-message map the journal keeps: source folder + key -> target folder + key. Records may
// be batched: a crash can lose the last few, and the engine recognises what it had appended by
// fingerprint on the next pass (size, INTERNALDATE, Message-ID) instead of appending it again.
class MessageMap {
 public:
  // kGone: listed by a pass whose read the source then answered "no such message"; if the source
  // still lists it at verification, the copy is incomplete. kRepair: a copy verification found
  // missing or different (and removed, where it was ours): the next pass copies it again.
  // kMoving: a delta pass is moving our copy of a message another folder held to this one's
  // target folder; target_folder / target_key say where the copy was when the move began.
  enum class State { kNone, kCopied, kRefused, kForeign, kGone, kRepair, kMoving };
  struct Entry {
    State state = State::kNone;
    std::string target_key = {};
    std::string digest = {};  // kCopied: hex SHA-256 of the bytes as read and appended, or ""
    bool appended = false;  // kCopied: appended by us (not claimed by fingerprint): ours to remove
    std::string target_folder = {};  // kCopied, kMoving: the target folder's name
    std::string note = {};           // kRefused, kRepair: why; kMoving: the message's fingerprint
    uint64_t size = 0;               // kCopied: the message's size as copied
  };
  // What a delta pass saw of a source folder when it last finished it.
  struct SyncedFolder {
    std::string state;                     // Folder::state then ("" if never)
    std::string id;                        // Folder::id (MAILBOXID) then
    std::vector<std::string> target_path;  // the target folder it went to
  };
  virtual ~MessageMap() = default;
  // Everything recorded for one source folder, by source key. kForeign entries (target
  // messages no source message accounts for) are keyed "foreign:<target key>".
  virtual Result<std::map<std::string, Entry>> Load(const std::string& source_folder) = 0;
  // Asked before each message is written to the target: whether this run may still write the
  // mailbox (a worker whose claim may have run out must not: another may be copying it).
  virtual Status MayWrite() { return Status::Ok(); }
  // Asked again at each commit point of the target (MessageAppender::GuardCommits): a stall
  // between a message's begin and its commit (a batch is read from the source first) must not
  // land it after another worker took the mailbox over.
  virtual Status MayCommit() { return MayWrite(); }
  virtual Status Copied(const std::string& source_folder, const std::string& source_key,
                        const std::string& target_folder, const std::string& target_key,
                        uint64_t size, const std::string& digest, bool appended) = 0;
  virtual Status Refused(const std::string& source_folder, const std::string& source_key,
                         const std::string& reason) = 0;
  // A target message that was there before us (or whose source is gone): never ours to match.
  virtual Status Foreign(const std::string& source_folder, const std::string& target_key) = 0;
  virtual Status Gone(const std::string& source_folder, const std::string& source_key) = 0;
  virtual Status Repair(const std::string& source_folder, const std::string& source_key,
                        const std::string& reason) = 0;
  // The source folder's Folder::state when a pass last finished it ("" if never).
  virtual Result<std::string> FolderState(const std::string& source_folder) = 0;
  virtual Status SaveFolderState(const std::string& source_folder, const std::string& state) = 0;
  // Makes every record so far durable.
  virtual Status Flush() = 0;

  // For delta passes (delta_sync.h). A move's intent: `source_key` of `source_folder` is the
  // message our copy `target_key` in `target_folder` is being moved for.
  virtual Status Moving(const std::string& source_folder, const std::string& source_key,
                        const std::string& target_folder, const std::string& target_key,
                        const std::string& fingerprint, const std::string& digest,
                        bool appended) = 0;
  // Drops one record (a message expunged, or moved away, in the source).
  virtual Status Forget(const std::string& source_folder, const std::string& source_key) = 0;
  // Every source folder the map has records or a synced state for.
  virtual Result<std::vector<std::string>> Folders() = 0;
  // A source folder renamed: its records, state and synced state move to the new name, their
  // target folder becoming `target_to`. Durable when it returns.
  virtual Status RenameFolder(const std::string& from, const std::string& to,
                              const std::string& target_to) = 0;
  // A source folder deleted: every record of it goes, but those of foreign target messages.
  virtual Status ForgetFolder(const std::string& source_folder) = 0;
  virtual Result<SyncedFolder> Synced(const std::string& source_folder) = 0;
  virtual Status SaveSynced(const std::string& source_folder, const SyncedFolder& synced) = 0;
};

struct FolderMapping {
  Folder source;
  Folder target;
};

// INBOX to INBOX; a special-use folder (and its children) to the target's folder of that use
// (source `Sent Items` -> target `Sent`); anything else to the same path. Parents that exist
// only by implication are not mapped: they hold no mail and the target implies them too.
std::vector<FolderMapping> MapFolders(const std::vector<Folder>& source,
                                      const MailStoreOptions& target_names);
// The target's names for special-use folders: the top-level folders it marks with a use
// (IMAP SPECIAL-USE), else the configured names.
MailStoreOptions TargetNames(const std::vector<Folder>& target, const MailStoreOptions& defaults);

struct FolderStats {
  std::string source;
  std::string target;
  uint64_t messages = 0;  // copied in this pass
  uint64_t bytes = 0;
  uint64_t skipped = 0;    // already in the target from an earlier pass
  bool unchanged = false;  // its state says nothing happened since the last pass: not listed
  uint64_t refused = 0;    // the target would not take them
  uint64_t repaired = 0;   // copied again after verification found the earlier copy bad
  double seconds = 0;
};

struct CopyProgress {
  uint64_t messages = 0;
  uint64_t bytes = 0;
};

struct CopyOptions {
  int bad_item_limit = 0;  // counts this mailbox's refusals of every pass, earlier ones too
  size_t refused_before = 0;
  std::function<void(const CopyProgress&)> progress = {};  // called after each message
  // A folder pass that loses its connection starts again this many times (after a pause): what
  // was appended but not recorded is recognised by fingerprint, so nothing is doubled.
  int retries = 3;
  // Set (by a signal handler) to stop at the next safe point: after the message being written,
  // with what the target took recorded, so a later pass continues where this one stopped.
  const std::atomic<bool>* stop = nullptr;
};

struct CopyStats {
  std::vector<FolderStats> folders;
  std::vector<std::string> refused;   // "folder key: reason", for the report
  std::vector<std::string> repaired;  // "folder key": copied again after a failed verification
  uint64_t messages = 0, bytes = 0, skipped = 0;
};

// Copies every message not yet in the map: the source reads in bulk (ReadMessages) straight
// into the target's appender, so a network store keeps requests in flight both ways. Refused
// messages count against bad_item_limit; past it the copy fails. Safe to run again at any point:
// it continues where the map says.
Result<CopyStats> CopyMailbox(MailStore& source, MailStore& target, MessageMap& map,
                              const CopyOptions& options, const MailStoreOptions& target_names);

// Flags or keywords as compared: without \Recent, lower case, sorted.
std::vector<std::string> SortedFlags(std::vector<std::string> flags);
bool SameFlags(const MessageMeta& a, const MessageMeta& b);  // flags and keywords alike
// What recognises a message without reading it: size, INTERNALDATE and Message-ID (a listing of
// Detail::kFullWithMessageId).
std::string FingerprintOf(const MessageMeta& m);
// The SHA-256 (hex) of each message's bytes, by key.
Result<std::map<std::string, std::string>> ReadDigests(
    MailStore& store, const Folder& folder, const std::vector<const MessageMeta*>& messages);

// How much verification reads (`verify` setting).
enum class VerifyMode {
  kSizes,    // listings only: sizes, flags, keywords, INTERNALDATE (an explicit opt-out)
  kContent,  // + every target message read back and its SHA-256 compared with the bytes as
             //   copied (the journal's digest; the source is read again where it has none)
  kFull,     // + every source message read again too, and compared with both
};
Result<VerifyMode> ParseVerifyMode(std::string_view text);

// A message verification found missing or different in the target.
struct BadCopy {
  std::string source_folder, source_key;
  std::vector<std::string> target_path;
  std::string target_key;  // "" when there is no copy to remove
  std::string problem;
};

// A target message no record claims that is byte for byte one of our copies (same size,
// INTERNALDATE, Message-ID and SHA-256): a second landing of one of our appends (a stalled
// worker's batch that reached the server after another worker copied the mailbox again).
struct DuplicateCopy {
  std::vector<std::string> target_path;
  std::string target_key;  // the duplicate's key
  std::string source_folder, source_key;
  std::string copy_key;  // the recorded copy it duplicates
};

struct VerifyReport {
  uint64_t messages = 0;
  std::vector<std::string> problems;      // empty when the target holds every source message intact
  std::vector<BadCopy> bad;               // the problems a repair can mend (copy again)
  std::vector<DuplicateCopy> duplicates;  // not a problem: RemoveDuplicates mends them
  uint64_t arrived = 0;  // in the source but not copied yet: mail newer than the last pass
  bool ok() const { return problems.empty(); }
};

// Against the source, not only our records: per selectable source folder, every message the
// source lists must be in the target (same size, flags, keywords, INTERNALDATE and, from
// kContent on, the same bytes), or refused by the target, or newer than the last pass. A message
// the last pass listed but the source did not return, or a folder that could not be named in
// the target, is a problem. Source messages the map does not know arrived after the copy (mail
// keeps coming during a move): counted, and left to the next pass.
Result<VerifyReport> VerifyMailbox(MailStore& source, MailStore& target, MessageMap& map,
                                   VerifyMode mode, const MailStoreOptions& target_names);

// Removes the duplicates verification found. Only a second copy of a message we appended
// (never of one claimed by fingerprint, which may be the user's own), and only one no record
// claims, is ever found, so what goes was never the user's.
Status RemoveDuplicates(MailStore& target, const std::vector<DuplicateCopy>& duplicates);

// Prepares the next pass to copy every bad copy again: a copy we appended is removed from the
// target first (never a message we did not append: that one is set aside as foreign, and kept),
// the source message is marked for repair, and its folder's state is forgotten so the next pass
// lists it. Returns how many were marked.
Result<size_t> MarkForRepair(MailStore& target, MessageMap& map, const std::vector<BadCopy>& bad);

}  // namespace cm
