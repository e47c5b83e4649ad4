// LDAP search filters, RFC 4515, as a tree. The tool never concatenates filter strings: it builds
// a Filter (values held unescaped) and serializes it with escaping, so a crafted identity such as
// `*)(objectClass=*` stays a literal value. The parser exists for user-supplied filters (`export
// --filter`) and for the ldif: backend, which evaluates the tree itself.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace cm {

class Filter {
 public:
  enum class Kind {
    kAnd,
    kOr,
    kNot,
    kEquality,
    kSubstring,
    kPresent,
    kGreaterOrEqual,
    kLessOrEqual,
  };

  static Filter Eq(std::string attr, std::string value);
  static Filter Present(std::string attr);
  static Filter GreaterOrEqual(std::string attr, std::string value);
  static Filter LessOrEqual(std::string attr, std::string value);
  // Pieces of `attr=initial*any*...*final`; empty initial/final mean none.
  static Filter Substring(std::string attr, std::string initial, std::vector<std::string> any,
                          std::string final_part);
  static Filter And(std::vector<Filter> children);
  static Filter Or(std::vector<Filter> children);
  static Filter Not(Filter child);
  static Result<Filter> Parse(std::string_view text);

  Kind kind() const { return kind_; }
  const std::string& attribute() const { return attr_; }
  const std::string& value() const { return value_; }  // equality/ordering
  const std::string& initial() const { return value_; }
  const std::vector<std::string>& any() const { return any_; }
  const std::string& final_part() const { return final_; }
  const std::vector<Filter>& children() const { return children_; }

  std::string ToString() const;

 private:
  Kind kind_ = Kind::kPresent;
  std::string attr_;
  std::string value_;
  std::vector<std::string> any_;
  std::string final_;
  std::vector<Filter> children_;
};

// Escapes an assertion value per RFC 4515 §3: `*`, `(`, `)`, `\`, NUL, and non-UTF-8 bytes.
std::string EscapeFilterValue(std::string_view value);

}  // namespace cm
