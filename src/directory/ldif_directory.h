// The embedded directory: an LDIF file loaded into memory, searched and changed through the
// Directory interface, and saved after every write by write-temp-then-rename so that a crash
// leaves either the old file or the new one. It enforces the AD-like rules of schema.h (required
// attributes, single values, no duplicate values, unique sAMAccountName, existing parents) so an
// embedded migration fails where a real domain controller would.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "directory/directory.h"

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
  Status CheckEntry(const Entry& e, const Entry* replacing) const;
  Status Save();
  Entry* Find(std::string_view dn);
  bool HasChildren(const std::string& normalized_dn) const;

  std::string url_;
  std::string path_;  // "" for in-memory
  bool read_only_ = false;
  std::vector<std::unique_ptr<Entry>> entries_;
  std::unordered_map<std::string, Entry*> by_dn_;  // NormalizeDn -> entry
};

// Filter evaluation under schema.h's matching rules (shared with any in-process backend).
bool Matches(const Filter& filter, const Entry& entry);

}  // namespace cm
