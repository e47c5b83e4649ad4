// The embedded directory's indexes (ldif_directory.h): which entries hold a value of an
// attribute, under the attribute's matching rule, so that an equality filter (alone, in an AND,
// or an OR of them) is answered without looking at every entry; and how many children each
// entry has. Candidates are a superset: the caller still matches each against the whole filter.
// Written by hand because the embedded directory is ours: what a server's index does for LDAP.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/entry.h"
#include "core/filter.h"

namespace cm {

class EntryIndex {
 public:
  // Indexes `e` (its values, its place under its parent). An entry keeps the order it was first
  // indexed in (its place in the file) until it is forgotten.
  void Index(const Entry* e);
  // Takes `e` out of the indexes, keeping its order (it is indexed again after a change).
  void Unindex(const Entry* e);
  void Forget(const Entry* e);  // unindexed for good (deleted)
  void Clear();

  // The entries that may match `filter`, in order; nullopt when no index narrows it (every
  // entry may).
  std::optional<std::vector<const Entry*>> Candidates(const Filter& filter) const;
  // The entries holding `value` of `attribute` (by its matching rule), in order.
  std::vector<const Entry*> Holders(std::string_view attribute, std::string_view value) const;
  bool HasChildren(const std::string& normalized_dn) const;

 private:
  // key -> entries: a set, so that indexing and unindexing an entry cost its values, not the
  // number of entries sharing one (every user holds objectClass=user)
  using Postings = std::unordered_map<std::string, std::unordered_set<const Entry*>>;
  std::optional<std::vector<const Entry*>> Lookup(const Filter& f) const;
  void Sort(std::vector<const Entry*>& entries) const;

  std::unordered_map<std::string, Postings> values_;  // lower-cased attribute -> postings
  std::unordered_map<std::string, size_t> children_;  // normalized parent DN -> children
  std::unordered_map<const Entry*, uint64_t> order_;
  uint64_t next_ = 0;
};

}  // namespace cm
