// One finding of pre-validation: where it is (file, line, field) and what is wrong. Validation
// collects every problem before anything is written (SPEC §4), so errors are a list, not a throw.
#pragma once

#include <string>
#include <vector>

namespace cm {

struct Problem {
  std::string file;        // "" when the problem is not in a file (a server, a parameter)
  unsigned long line = 0;  // 0 when unknown
  std::string field;       // column, config key or attribute
  std::string message;

  // "users.csv:4: column Identity: ..." / "parameter nt-account-ou: ..."; control characters
  // escaped (EscapeControlCharacters): this is what a terminal shows.
  std::string ToString() const;
};

using Problems = std::vector<Problem>;

}  // namespace cm
