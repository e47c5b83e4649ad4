// Untrusted LDIF never crashes the loader; what loads serializes and loads again identically.
#include <cstdint>
#include <cstdlib>

#include "directory/ldif_directory.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto dir = cm::LdifDirectory::FromText(
      std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.ldif");
  if (!dir.ok()) return 0;
  std::string text = (*dir)->Serialize();
  auto again = cm::LdifDirectory::FromText(text, "again.ldif");
  if (!again.ok() || (*again)->Serialize() != text) std::abort();
  return 0;
}
