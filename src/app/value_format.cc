#include "app/value_format.h"

#include <fmt/format.h>

#include "core/strings.h"
#include "directory/schema.h"
#include "io/base64.h"

namespace cm {

std::string DisplayValue(std::string_view attribute, std::string_view value) {
  if (SyntaxOf(attribute) == Syntax::kBinary || !IsValidUtf8(value)) {
    // fmt rather than "{" + s + "}": GCC 12 -O3 raises a false -Wrestrict on the latter.
    if (value.size() == 16) return fmt::format("{{{}}}", GuidToString(value));
    return "base64:" + Base64Encode(value);
  }
  return std::string(value);
}

std::string AttributeValueLine(std::string_view attribute, std::string_view value) {
  if (SyntaxOf(attribute) == Syntax::kBinary || !IsValidUtf8(value))
    return fmt::format("{}:: {}", attribute, Base64Encode(value));
  return fmt::format("{}: {}", attribute, value);
}

}  // namespace cm
