// Maildir++ exactly as Dovecot lays it out, so a Dovecot pointed at the tree serves it:
// INBOX is the root's cur/new/tmp; folder A/B is `.A.B` with each component in modified UTF-7;
// messages go tmp/ -> cur/ by rename as `<unique>,S=<size>,W=<vsize>:2,<flags>` with flags in
// ASCII order and keywords as the letters of the folder's `dovecot-keywords`; the file mtime is
// the INTERNALDATE; subscriptions are Dovecot's version-2 `subscriptions` file.
#pragma once

#include <map>
#include <set>
#include <string>

#include "mailstore/mail_store.h"

namespace cm {

class MaildirStore : public MailStore {
 public:
  MaildirStore(std::string root, MailStoreOptions options);

  const std::string& location() const override { return location_; }
  // Special use comes from well-known names, not attributes: Maildir has none.
  Capabilities capabilities() const override { return {true, true, false, true, false}; }
  Status CheckAccess() override;
  // What of the mailbox's path exists is directories we can write in (checked per mailbox).
  Status CheckServer() override;
  std::string server() const override { return root_; }
  Result<std::vector<Folder>> ListFolders() override;
  Result<std::vector<MessageMeta>> ListMessages(const Folder& folder, Detail detail) override;
  Status ReadMessage(const Folder& folder, const std::string& key, const ChunkSink& sink) override;
  Status CreateFolder(const Folder& folder) override;
  Status SetSubscribed(const Folder& folder, bool subscribed) override;
  Result<std::unique_ptr<MessageWriter>> BeginAppend(const Folder& folder,
                                                     const MessageMeta& meta) override;
  Status DeleteMessage(const Folder& folder, const std::string& key) override;
  Status Flush() override;
  // Flags are the file name: a rename in cur/. A move is one rename into the other folder (its
  // keyword letters translated), so a message is never in both folders or in neither.
  Status SetFlags(const Folder& folder, const std::vector<MessageMeta>& messages) override;
  Result<std::vector<std::string>> MoveMessages(const Folder& from,
                                                const std::vector<std::string>& keys,
                                                const Folder& to) override;
  Status RenameFolder(const Folder& from, const Folder& to) override;
  Status DeleteFolder(const Folder& folder) override;

  // The directory of a folder ("" for an unrepresentable name).
  Result<std::string> FolderDir(const Folder& folder) const;

 private:
  friend class MaildirWriter;
  Result<std::vector<std::string>> Keywords(const std::string& dir);
  // The info part of a file name (":2," and what follows) for these flags and keywords.
  Result<std::string> InfoOf(const std::string& dir, const std::vector<std::string>& flags,
                             const std::vector<std::string>& keywords);
  Result<std::string> KeywordLetters(const std::string& dir,
                                     const std::vector<std::string>& keywords);
  Result<std::vector<std::vector<std::string>>> ReadSubscriptions() const;
  Status WriteSubscriptions(const std::vector<std::vector<std::string>>& subscribed);
  Result<std::string> FindFile(const std::string& dir, const std::string& key);

  std::string root_;
  std::string location_;
  MailStoreOptions options_;
  std::map<std::string, std::map<std::string, std::string>> paths_;  // dir -> key -> file path
  unsigned long counter_ = 0;
  std::set<std::string> ready_dirs_;  // folders known to exist (no stat per append)
  std::map<std::string, std::vector<std::string>> keywords_;  // dir -> dovecot-keywords table
};

}  // namespace cm
