// The imap: / imaps: mail store: one user's mailbox on any RFC 3501 server, through our own
// pipelined client (imap_client.h).
// - Folders: the personal namespace (NAMESPACE) with its separator; names in modified UTF-7;
//   special use from SPECIAL-USE attributes (by well-known name where the server marks none);
//   subscriptions and a per-folder state token from one LIST-EXTENDED + LIST-STATUS command.
// - Messages: key "UIDVALIDITY.UID"; listed with one UID FETCH per folder; read with UID FETCH
//   windows kept in flight (a large message in 1 MiB partial fetches, so memory stays bounded);
//   the source is only EXAMINEd and read with BODY.PEEK, so not even \Seen changes.
// - Appends: MULTIAPPEND batches (one save transaction on the server: Dovecot syncs a folder per
//   APPEND command, so batching is what makes it fast) with LITERAL+, several in flight;
//   APPENDUID names each new message. A batch the server refuses is sent again one message at a
//   time so that only the bad message is refused, by name. A message larger than a batch
//   streams through alone.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mailstore/imap_client.h"
#include "mailstore/mail_store.h"

namespace cm {

class ConnectionSlot;

// Places among the connections to a server held by other processes too (the workers of a
// shared journal), so that `max-connections` holds across all of them: a connection takes one
// of the server's `max` numbered places that no process holds. Set by the application, once
// per run (nullptr: the cap holds per process only).
class SharedConnectionSlots {
 public:
  virtual ~SharedConnectionSlots() = default;
  // Takes place `slot` of `server` if no other process holds it (true), else false at once.
  virtual Result<bool> TryTake(const std::string& server, int slot) = 0;
  virtual void Release(const std::string& server, int slot) = 0;
};
void ShareConnectionSlots(std::shared_ptr<SharedConnectionSlots> slots);

// A connection of its own to check a server (greeting and TLS; with `log_in`, the login too)
// that takes its place among the server's connections like any other, then closes.
Status CheckImapConnection(const ImapEndpoint& endpoint, const ImapAccess& access, bool log_in);

class ImapStore : public MailStore {
 public:
  ImapStore(ImapEndpoint endpoint, MailStoreOptions options);
  ~ImapStore() override;

  const std::string& location() const override { return location_; }
  Capabilities capabilities() const override;
  Status CheckAccess() override;
  // Connects, reads the greeting and sets up TLS, without logging in: the mailbox's user may
  // not exist before its target account is provisioned.
  Status CheckServer() override;
  std::string server() const override;
  Result<std::vector<Folder>> ListFolders() override;
  Result<std::vector<MessageMeta>> ListMessages(const Folder& folder, Detail detail) override;
  Status ReadMessage(const Folder& folder, const std::string& key, const ChunkSink& sink) override;
  Status ReadMessages(const Folder& folder, const std::vector<const MessageMeta*>& messages,
                      MessageSink& sink) override;
  Status ReadDescribed(const Folder& folder, const std::vector<const MessageMeta*>& messages,
                       MessageSink& sink) override;
  Status CreateFolder(const Folder& folder) override;
  Status SetSubscribed(const Folder& folder, bool subscribed) override;
  Result<std::unique_ptr<MessageWriter>> BeginAppend(const Folder& folder,
                                                     const MessageMeta& meta) override;
  Status DeleteMessage(const Folder& folder, const std::string& key) override;
  Result<std::unique_ptr<MessageAppender>> OpenAppender(MessageAppender::Outcome outcome) override;
  Result<FolderChanges> ListChangedSince(const Folder& folder, uint64_t modseq) override;
  Status SetFlags(const Folder& folder, const std::vector<MessageMeta>& messages) override;
  Status DeleteMessages(const Folder& folder, const std::vector<std::string>& keys) override;
  // UID MOVE (RFC 6851) where offered, else UID COPY + \Deleted + UID EXPUNGE of those UIDs.
  Result<std::vector<std::string>> MoveMessages(const Folder& from,
                                                const std::vector<std::string>& keys,
                                                const Folder& to) override;
  Status RenameFolder(const Folder& from, const Folder& to) override;
  Status DeleteFolder(const Folder& folder) override;
  // The server makes every APPEND durable before it answers OK.
  Status Flush() override { return Status::Ok(); }

  // The server's name for a folder: namespace prefix, separator, modified UTF-7.
  Result<std::string> MailboxName(const Folder& folder);

 private:
  friend class ImapAppender;
  // Connected and logged in; connects again (with backoff) after a dropped connection.
  Result<ImapClient*> Client();
  Status LearnNamespace(ImapClient& client);
  // The folder's path in this mailbox (with name_error set where a part does not decode
  // strictly), or nullopt for a name outside the personal namespace.
  std::optional<Folder> FolderOf(const std::string& mailbox) const;
  // EXAMINE (read-only, so the source's \Recent and \Seen stay as they are); remembers
  // UIDVALIDITY.
  Status Examine(ImapClient& client, const std::string& mailbox);
  // ReadMessages and ReadDescribed: `describe` asks each message's flags, date and size too.
  Status Read(const Folder& folder, const std::vector<const MessageMeta*>& messages,
              MessageSink& sink, bool describe);
  Result<uint32_t> UidOf(const std::string& key) const;  // kNotFound for another UIDVALIDITY
  // The UIDs of these keys in the selected folder; keys of another UIDVALIDITY are left out.
  Result<std::vector<uint32_t>> UidsOf(const std::vector<std::string>& keys) const;
  // SELECT (read-write); remembers UIDVALIDITY.
  Status Select(ImapClient& client, const std::string& mailbox);
  Status OpenMailbox(ImapClient& client, const std::string& mailbox, bool writable);
  Status Unselect(ImapClient& client);
  // Leaves the folder the last read EXAMINEd before a folder is deleted or renamed: Dovecot
  // disconnects a session whose selected folder is deleted ("BYE Selected mailbox was
  // deleted"), and STATUS of the selected folder is a client bug (RFC 3501 6.3.10).
  Status LeaveSelected(ImapClient& client);
  // \Deleted + UID EXPUNGE of exactly these UIDs in the selected folder.
  Status ExpungeUids(ImapClient& client, const std::string& mailbox,
                     const std::vector<uint32_t>& uids);
  Status Drop(Status why);  // closes a connection left in an unknown state

  ImapEndpoint endpoint_;
  MailStoreOptions options_;
  std::string location_;
  std::unique_ptr<ImapClient> client_;
  std::unique_ptr<ConnectionSlot> slot_;
  Capabilities capabilities_{true, true, true, true, true, false};
  bool namespace_known_ = false;
  std::string prefix_;  // personal namespace prefix ("" or "INBOX.")
  char separator_ = '/';
  std::vector<std::string> other_prefixes_;  // other users' and shared namespaces
  // Each folder's state in the last ListFolders, and how many ListFolders there were.
  std::map<std::string, std::string> folder_states_;  // by the server's folder name
  uint64_t folder_listings_ = 0;
  // The last listing of each folder's messages, with the folder's state and the count of
  // ListFolders when it was made (ListMessages reuses it while the state stays the same).
  struct Listing {
    std::string state;
    uint64_t folder_listings;
    Detail detail;
    std::vector<MessageMeta> messages;
  };
  std::map<std::string, Listing> listings_;  // by the server's folder name
  std::string selected_;
  uint32_t uidvalidity_ = 0;
};

}  // namespace cm
