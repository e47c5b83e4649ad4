// The one seam every mail store sits behind (isync's driver idea): `maildir:` and `imap:` /
// `imaps:`. A MailStore is one user's mailbox. Contracts:
// - Folder paths are UTF-8 components ({"INBOX"}, {"Projects", "Été"}): each driver translates
//   to its own separator and encoding, so the copy engine never sees either.
// - A message's `key` is stable for the life of the message in its folder (IMAP: the UID with
//   UIDVALIDITY; Maildir: the base file name) and is what the journal records.
// - Reading streams: ReadMessage hands the bytes to a sink in bounded chunks; nothing holds a
//   whole message. Appending streams the same way through a MessageWriter.
// - Every write is all-or-nothing per message: an aborted writer leaves no message behind.
// - Bulk paths (ReadMessages, OpenAppender) exist so a network store can keep many requests in
//   flight; their defaults do one message at a time through ReadMessage / BeginAppend.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace cm {

enum class SpecialUse { kNone, kSent, kDrafts, kTrash, kJunk, kArchive };
std::string_view ToString(SpecialUse use);  // "\\Sent", ... ("" for none)

struct Folder {
  std::vector<std::string> path;  // UTF-8 components; {"INBOX"} is the inbox
  SpecialUse special_use = SpecialUse::kNone;
  bool selectable = true;  // false: a parent that exists only by implication (\Noselect)
  bool subscribed = false;
  // Changes whenever the folder's messages may have (IMAP: UIDVALIDITY, UIDNEXT, MESSAGES,
  // HIGHESTMODSEQ from one LIST-STATUS); "" where the store cannot tell cheaply. A delta pass
  // skips a folder whose state is what it was when the last pass finished it.
  std::string state = {};
  // Counted by the listing where the store has it cheaply (IMAP STATUS MESSAGES and SIZE);
  // -1 otherwise.
  int64_t messages = -1;
  int64_t bytes = -1;
  // The name exactly as the store listed it (IMAP: the mailbox name's bytes), by which the
  // folder is opened again: a name re-encoded from `path` may name another folder, or none.
  // Empty for a folder we name ourselves (a target folder, Maildir).
  std::string listed_name = {};
  // Why `path` is not a faithful decoding of `listed_name` (invalid or non-canonical modified
  // UTF-7, bytes that are not text): such a folder can be read but not named in a target.
  std::string name_error = {};
  // A stable identity that survives a rename (IMAP MAILBOXID, RFC 8474); "" where the store has
  // none: a delta pass then recognises a renamed folder by its messages.
  std::string id = {};
  std::string Name() const;  // components joined with '/', for people and the journal
  bool IsInbox() const;
};

struct MessageMeta {
  std::string key;
  uint64_t size = 0;
  std::vector<std::string> flags;     // system flags: \Seen \Answered \Flagged \Deleted \Draft
  std::vector<std::string> keywords;  // $Forwarded, $Junk, ...
  int64_t internal_date = 0;          // seconds since the epoch (INTERNALDATE)
  std::string message_id;             // filled only when asked for (fingerprinting)
};

class MessageWriter {
 public:
  virtual ~MessageWriter() = default;  // destroying an uncommitted writer aborts it
  virtual Status Write(std::string_view chunk) = 0;
  // Makes the message visible; returns its key in the target folder.
  virtual Result<std::string> Commit() = 0;
};

using ChunkSink = std::function<Status(std::string_view)>;

// Receives messages read in bulk: one message at a time (its chunks, then Done), in any order.
class MessageSink {
 public:
  virtual ~MessageSink() = default;
  virtual Status Data(size_t index, std::string_view chunk) = 0;
  // messages[index] is complete, or could not be read (kNotFound: gone since it was listed).
  // An error returned here stops the read.
  virtual Status Done(size_t index, const Status& read) = 0;
  // ReadDescribed only: messages[index] as the store holds it now (key, size, flags, keywords,
  // INTERNALDATE), before its Data and Done.
  virtual Status Described(size_t /*index*/, const MessageMeta& /*now*/) { return Status::Ok(); }
};

// Appends many messages, possibly with many in flight (across folders too): each message is
// Begin, Write..., End (or Cancel), and its outcome (the new key, "" where the store cannot
// name it, or why the store refused it) reaches the callback with its sequence number, perhaps
// only during a later call or in Finish. Sequence numbers count the Begins from 0, so a caller
// knows a message's number before Begin returns (an outcome may come during Begin itself). A
// Status returned by a call itself means the store cannot go on (connection lost ...): what is
// in flight then has no outcome.
class MessageAppender {
 public:
  using Outcome = std::function<void(size_t seq, Result<std::string> key)>;
  virtual ~MessageAppender() = default;
  // `meta.size` is the exact byte count that will be written.
  virtual Result<size_t> Begin(const Folder& folder, const MessageMeta& meta) = 0;
  virtual Status Write(std::string_view chunk) = 0;
  virtual Status End() = 0;
  virtual Status Cancel() = 0;  // the message begun is not appended (its outcome is never sent)
  virtual Status Flush() = 0;   // sends what is held back for batching; waits for nothing
  virtual Status Finish() = 0;  // waits for every outcome

  // Asked at each commit point, the last moment a write can still be taken back (before the
  // byte that ends an APPEND command, before a message file goes into cur/). When it says no,
  // the write is abandoned (the connection dropped, so the server appends none of the batch)
  // and its Status returned: a worker stalled past its lease must not land mail after another
  // worker took the mailbox over and copied it again.
  using CommitGuard = std::function<Status()>;
  void GuardCommits(CommitGuard guard) { guard_ = std::move(guard); }

 protected:
  Status MayCommit() const { return guard_ ? guard_() : Status::Ok(); }

 private:
  CommitGuard guard_;
};

// How much a listing must fill in: drivers skip work the caller does not need (a Maildir names
// listing is a readdir).
enum class Detail {
  kNames,              // key, flags, keywords, size where the store has it cheaply (Maildir ,S=)
  kFull,               // + size and INTERNALDATE
  kFullWithMessageId,  // + Message-ID (fingerprinting after a crash)
};

// What a store can do, so the engine asks only for what it will get.
struct Capabilities {
  bool append_returns_key = false;  // Commit() names the new message (Maildir; IMAP with UIDPLUS)
  bool keywords = false;            // custom keywords are kept (Maildir: up to 26 per folder)
  bool special_use = false;         // folders carry special-use attributes (IMAP SPECIAL-USE)
  bool subscriptions = false;
  bool names_are_full = false;  // a kNames listing has sizes and dates already (IMAP)
  bool changed_since = false;   // ListChangedSince works (IMAP CONDSTORE)
};

// What a folder holds now and whose flags changed after a mod-sequence (ListChangedSince).
struct FolderChanges {
  std::vector<std::string> keys;     // every message the folder holds now
  std::vector<MessageMeta> changed;  // key, flags and keywords of those changed since
};

class MailStore {
 public:
  virtual ~MailStore() = default;
  virtual const std::string& location() const = 0;
  virtual Capabilities capabilities() const = 0;
  // The mailbox exists and can be opened with the credentials given ("can be logged into",
  // SPEC §4): checked for every source mailbox before anything is written.
  virtual Status CheckAccess() = 0;
  // The server (or file system) the mailbox would live on can be reached, before the mailbox
  // exists: checked once per target server before anything is written.
  virtual Status CheckServer() { return Status::Ok(); }
  // What CheckServer checks, for doing it once per server ("" = nothing to check).
  virtual std::string server() const { return ""; }
  // Every folder, INBOX first, parents before children.
  virtual Result<std::vector<Folder>> ListFolders() = 0;
  virtual Result<std::vector<MessageMeta>> ListMessages(const Folder& folder, Detail detail) = 0;
  virtual Status ReadMessage(const Folder& folder, const std::string& key,
                             const ChunkSink& sink) = 0;
  virtual Status ReadMessages(const Folder& folder, const std::vector<const MessageMeta*>& messages,
                              MessageSink& sink);
  // ReadMessages that also says what the store holds of each message now (sink.Described):
  // verification reads a target back this way, in one pass where the store can (IMAP asks for
  // the flags, the date, the size and the bytes in one FETCH) instead of a listing and a read.
  // `messages` need only a key and the size expected, a hint (what the store holds may differ);
  // one the store does not hold is Done with kNotFound. The default lists, then reads.
  virtual Status ReadDescribed(const Folder& folder,
                               const std::vector<const MessageMeta*>& messages, MessageSink& sink);
  // Creates the folder (not its implied parents); does nothing when it exists.
  virtual Status CreateFolder(const Folder& folder) = 0;
  virtual Status SetSubscribed(const Folder& folder, bool subscribed) = 0;
  virtual Result<std::unique_ptr<MessageWriter>> BeginAppend(const Folder& folder,
                                                             const MessageMeta& meta) = 0;
  virtual Result<std::unique_ptr<MessageAppender>> OpenAppender(MessageAppender::Outcome outcome);
  // Removes one message for good (a copy of ours that verification found bad, before it is
  // copied again); kNotFound when it is not there.
  virtual Status DeleteMessage(const Folder& folder, const std::string& key) = 0;
  // Makes everything written so far durable (called at step boundaries, not per message).
  virtual Status Flush() = 0;

  // What delta passes need (src/mailstore/delta_sync.h). The defaults say the store cannot.
  // The messages of `folder` whose flags or keywords changed after `modseq` (the folder's
  // HIGHESTMODSEQ when the last pass finished it), and every key it holds now; only where
  // capabilities().changed_since.
  virtual Result<FolderChanges> ListChangedSince(const Folder& folder, uint64_t modseq);
  // Replaces each listed message's flags and keywords with those given (key, flags, keywords).
  virtual Status SetFlags(const Folder& folder, const std::vector<MessageMeta>& messages);
  // Removes these messages and no other (never a message the user marked \Deleted); a key no
  // longer there is not an error.
  virtual Status DeleteMessages(const Folder& folder, const std::vector<std::string>& keys);
  // Moves messages to another folder, each whole or not at all; returns each one's key there
  // ("" where the store does not name it, or the message was not there to move).
  virtual Result<std::vector<std::string>> MoveMessages(const Folder& from,
                                                        const std::vector<std::string>& keys,
                                                        const Folder& to);
  // Renames a folder and, as IMAP RENAME does, the folders below it.
  virtual Status RenameFolder(const Folder& from, const Folder& to);
  // Deletes an empty folder (the folders below it stay); kConstraint when it holds messages.
  virtual Status DeleteFolder(const Folder& folder);
};

// The Message-ID header of a message's header block (first occurrence, unfolded); "" if none.
std::string MessageIdOf(std::string_view message_head);

// Well-known folder names of each special use, as Exchange, Dovecot and Outlook name them.
SpecialUse SpecialUseOfName(std::string_view top_level_name);

struct ImapAccess;

struct MailStoreOptions {
  bool read_only = false;  // the source store is only read (SPEC §5)
  // The target's name for each special-use folder (`Sent`, `Drafts`, ...), where the target does
  // not mark one itself (IMAP SPECIAL-USE).
  std::string sent = "Sent", drafts = "Drafts", trash = "Trash", junk = "Junk", archive = "Archive";
  // How to log into imap: stores (credentials, TLS, pipelining); shared by every mailbox of a
  // database.
  std::shared_ptr<const ImapAccess> imap;
};

// `maildir:/var/vmail/%d/%n` or `imap://%u@host:port/` with %u (address), %n (local part), %d
// (domain), %m (alias); in a URL the values are percent-encoded.
Result<std::string> ExpandStoreLocation(std::string_view tmpl, std::string_view address,
                                        std::string_view alias);
Result<std::unique_ptr<MailStore>> OpenMailStore(std::string_view location,
                                                 const MailStoreOptions& options);

}  // namespace cm
