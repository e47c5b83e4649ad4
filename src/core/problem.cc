#include "core/problem.h"

#include <fmt/format.h>

#include "core/strings.h"

namespace cm {

std::string Problem::ToString() const {
  std::string where;
  if (!file.empty()) where = line ? fmt::format("{}:{}", file, line) : file;
  std::string what = field.empty() ? message : fmt::format("{}: {}", field, message);
  // The one place problems become text: values from input (users-file cells, LDIF, server
  // answers) are in them, and none may reach a terminal as control characters.
  return EscapeControlCharacters(where.empty() ? what : fmt::format("{}: {}", where, what));
}

}  // namespace cm
