// A directory object as the tool sees it: a DN and every value of every attribute. Attribute
// names compare case-insensitively (LDAP rule); the first spelling seen and the order in which
// attributes arrived are kept, so a saved directory or a printed plan reads like its input.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/strings.h"

namespace cm {

using Values = std::vector<std::string>;

class Entry {
 public:
  Entry() = default;
  explicit Entry(std::string dn) : dn_(std::move(dn)) {}

  const std::string& dn() const { return dn_; }
  void set_dn(std::string dn) { dn_ = std::move(dn); }

  bool Has(std::string_view attr) const;
  // Every value; empty when absent.
  const Values& Get(std::string_view attr) const;
  // The first value, or "" when absent (for single-valued attributes).
  std::string First(std::string_view attr) const;

  void Set(std::string_view attr, Values values);  // empty values remove the attribute
  void Add(std::string_view attr, std::string value);
  void Remove(std::string_view attr);

  // True when objectClass holds `cls` (case-insensitive).
  bool HasClass(std::string_view cls) const;

  using Attribute = std::pair<std::string, Values>;
  const std::vector<Attribute>& attributes() const { return attrs_; }

 private:
  std::string dn_;
  std::vector<Attribute>::iterator Find(std::string_view attr);
  std::vector<Attribute>::const_iterator Find(std::string_view attr) const;
  // Objects hold a few dozen attributes: a linear scan beats a map and keeps the order.
  std::vector<Attribute> attrs_;
};

}  // namespace cm
