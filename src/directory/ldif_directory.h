// The embedded directory: an LDIF file loaded into memory, searched and changed through the
// Directory interface, and saved after every write by write-temp-then-rename so that a crash
// leaves either the old file or the new one. Several processes may share the file (two
// operators each moving part of a batch): every write holds an exclusive lock on PATH.lock
// across its read-modify-write and first reloads the file if another process replaced it, and
// every search first reloads a replaced file, so no process rewrites the file from a stale copy
// and each operation sees every write finished before it began. It enforces the AD-like rules of
// schema.h (required attributes, single values, no duplicate values, unique sAMAccountName,
// existing parents) so an embedded migration fails where a real domain controller would.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "directory/directory.h"
#include "directory/entry_index.h"
#include "io/file.h"
#include "io/file_lock.h"

namespace cm {

class LdifDirectory : public Directory {
 public:
  // Loads PATH. With read_only, writes are refused and the file is never rewritten.
  static Result<std::unique_ptr<LdifDirectory>> Open(const std::string& path, bool read_only);
  // An in-memory directory (tests); `name` appears in errors. Never saved.
  static Result<std::unique_ptr<LdifDirectory>> FromText(std::string_view text,
                                                         std::string_view name);

  const std::string& url() const override { return url_; }
  std::string base_dn() const override;
  Result<std::vector<Entry>> Search(std::string_view base, Scope scope, const Filter& filter,
                                    const std::vector<std::string>& attributes = {}) override;
  Status Add(const Entry& entry) override;
  Status Modify(std::string_view dn, const std::vector<Modification>& mods) override;
  Status Delete(std::string_view dn) override;
  Status Rename(std::string_view dn, std::string_view new_rdn,
                std::string_view new_superior) override;

  // Applies an LDIF change file (as `ldapmodify -f` would), each record atomically; stops at the
  // first failing record and names its line.
  Status ApplyChangeFile(std::string_view text, std::string_view name);
  // The whole directory as LDIF, in load/creation order.
  std::string Serialize() const;
  size_t size() const { return entries_.size(); }

 private:
  LdifDirectory() = default;
  Status Load(std::string_view text, std::string_view name);
  // `unique_account` off: the caller checks sAMAccountName uniqueness itself (Load, with an
  // index, instead of comparing every pair of accounts).
  Status CheckEntry(const Entry& e, const Entry* replacing, bool unique_account = true) const;
  // Brings memory up to the file when another process replaced it since it was read.
  Status Refresh();
  // The file's write lock, with memory refreshed under it: held by each write from before it
  // reads the entry it changes until the file is replaced.
  Result<FileLock> BeginWrite();
  Status Save();
  Entry* Find(std::string_view dn);

  std::string url_;
  std::string path_;     // "" for in-memory
  FileVersion version_;  // of the file the entries in memory were read from or saved to
  bool read_only_ = false;
  std::vector<std::unique_ptr<Entry>> entries_;
  std::unordered_map<std::string, Entry*> by_dn_;  // NormalizeDn -> entry
  EntryIndex index_;  // values and children of entries_, so searches need not scan them all
  // Each entry as LDIF text, made once and dropped when the entry changes: a save writes the
  // whole file, and formatting every entry again for each write was most of a move's time.
  mutable std::unordered_map<const Entry*, std::string> text_;
};

// Filter evaluation under schema.h's matching rules (shared with any in-process backend).
bool Matches(const Filter& filter, const Entry& entry);

}  // namespace cm
