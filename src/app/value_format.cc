#include "app/value_format.h"

#include <fmt/format.h>
#include <openssl/evp.h>

#include "core/strings.h"
#include "directory/schema.h"

namespace cm {

std::string Base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::string DisplayValue(std::string_view attribute, std::string_view value) {
  if (SyntaxOf(attribute) == Syntax::kBinary || !IsValidUtf8(value)) {
    // fmt rather than "{" + s + "}": GCC 12 -O3 raises a false -Wrestrict on the latter.
    if (value.size() == 16) return fmt::format("{{{}}}", GuidToString(value));
    return "base64:" + Base64(value);
  }
  return std::string(value);
}

}  // namespace cm
