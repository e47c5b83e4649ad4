// One change to one directory object: what the planner produces, what the journal records and
// what a Directory backend applies.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/entry.h"

namespace cm {

struct Modification {
  enum class Op { kAdd, kReplace, kDelete };
  Op op;
  std::string attribute;
  Values values;  // kDelete with no values deletes the attribute

  bool operator==(const Modification&) const = default;
};

enum class Side { kSource, kTarget };
std::string_view ToString(Side side);

struct DirectoryOp {
  enum class Kind { kAdd, kModify, kDelete, kRename };
  Side side;
  Kind kind;
  std::string dn;
  // kAdd: every attribute of the new object, in order (all Op::kAdd); kModify: the changes.
  std::vector<Modification> mods;
  std::string new_rdn;       // kRename
  std::string new_superior;  // kRename, "" keeps the parent
  std::string reason;        // why, for people reading the plan

  bool operator==(const DirectoryOp& o) const {
    return side == o.side && kind == o.kind && dn == o.dn && mods == o.mods &&
           new_rdn == o.new_rdn && new_superior == o.new_superior;
  }
  // The object an kAdd creates.
  Entry AsEntry() const;
};
std::string_view ToString(DirectoryOp::Kind kind);

}  // namespace cm
