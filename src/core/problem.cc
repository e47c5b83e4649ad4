#include "core/problem.h"

#include <fmt/format.h>

namespace cm {

std::string Problem::ToString() const {
  std::string where;
  if (!file.empty()) where = line ? fmt::format("{}:{}", file, line) : file;
  std::string what = field.empty() ? message : fmt::format("{}: {}", field, message);
  return where.empty() ? what : fmt::format("{}: {}", where, what);
}

}  // namespace cm
