// The copy engine: folder mapping, streaming byte-for-byte copy, and verification (SPEC §5).
// It talks to stores only through MailStore and to the journal only through MessageMap, so any
// pair of drivers (Maildir, IMAP) copies the same way and a rerun copies nothing twice.
#pragma once

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
  enum class State { kNone, kCopied, kRefused, kForeign };
  struct Entry {
    State state = State::kNone;
    std::string target_key;
  };
  virtual ~MessageMap() = default;
  // Everything recorded for one source folder, by source key. kForeign entries (target
  // messages no source message accounts for) are keyed "foreign:<target key>".
  virtual Result<std::map<std::string, Entry>> Load(const std::string& source_folder) = 0;
  virtual Status Copied(const std::string& source_folder, const std::string& source_key,
                        const std::string& target_folder, const std::string& target_key,
                        uint64_t size) = 0;
  virtual Status Refused(const std::string& source_folder, const std::string& source_key,
                         const std::string& reason) = 0;
  // A target message that was there before us (or whose source is gone): never ours to match.
  virtual Status Foreign(const std::string& source_folder, const std::string& target_key) = 0;
  // The source folder's Folder::state when a pass last finished it ("" if never).
  virtual Result<std::string> FolderState(const std::string& source_folder) = 0;
  virtual Status SaveFolderState(const std::string& source_folder, const std::string& state) = 0;
  // Makes every record so far durable.
  virtual Status Flush() = 0;
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
};

struct CopyStats {
  std::vector<FolderStats> folders;
  std::vector<std::string> refused;  // "folder key: reason", for the report
  uint64_t messages = 0, bytes = 0, skipped = 0;
};

// Copies every message not yet in the map: the source reads in bulk (ReadMessages) straight
// into the target's appender, so a network store keeps requests in flight both ways. Refused
// messages count against bad_item_limit; past it the copy fails. Safe to run again at any point:
// it continues where the map says.
Result<CopyStats> CopyMailbox(MailStore& source, MailStore& target, MessageMap& map,
                              const CopyOptions& options, const MailStoreOptions& target_names);

struct VerifyReport {
  uint64_t messages = 0;
  std::vector<std::string> problems;  // empty when the target holds every copied message intact
  uint64_t arrived = 0;  // in the source but not copied yet: mail newer than the last pass
  bool ok() const { return problems.empty(); }
};

// Per folder: every source message the map says was copied is in the target, with the same
// size, flags, keywords and INTERNALDATE; with `full`, the same SHA-256 of the content. Source
// messages the map does not know arrived after the copy (mail keeps coming during a move): they
// are counted, and left to the next pass, not held against the copy.
Result<VerifyReport> VerifyMailbox(MailStore& source, MailStore& target, MessageMap& map, bool full,
                                   const MailStoreOptions& target_names);

}  // namespace cm
