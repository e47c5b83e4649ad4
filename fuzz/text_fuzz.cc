// The small grammars: LDAP filters, DNs, modified UTF-7, proxy addresses, IMCEAEX. Each must
// not crash, and where a round trip is defined it must hold.
#include <cstdint>
#include <cstdlib>

#include "core/dn.h"
#include "core/filter.h"
#include "core/legacy_dn.h"
#include "core/mutf7.h"
#include "core/proxy_address.h"
#include "core/strings.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  if (auto f = cm::Filter::Parse(in); f.ok()) {
    auto again = cm::Filter::Parse(f->ToString());
    if (!again.ok() || again->ToString() != f->ToString()) std::abort();
  }
  if (auto dn = cm::ParseDn(in); dn.ok()) (void)cm::NormalizeDn(in);
  // Any value survives MakeDn -> ParseDn unchanged (escaping is complete).
  std::string value(in.substr(0, 64));
  if (!value.empty() && value.find('\0') == std::string::npos && !value.starts_with('#')) {
    auto parsed = cm::ParseDn(cm::MakeDn("cn", value, "dc=x"));
    if (!parsed.ok() || parsed->size() != 2 || (*parsed)[0][0].value != value) std::abort();
  }
  if (auto decoded = cm::DecodeMutf7(in); decoded.ok()) {
    auto encoded = cm::EncodeMutf7(*decoded);
    if (!encoded.ok() || *encoded != in) std::abort();  // strict: one name, one encoding
  }
  if (cm::IsValidUtf8(in)) {
    auto encoded = cm::EncodeMutf7(in);
    auto back = encoded.ok() ? cm::DecodeMutf7(*encoded) : encoded;
    if (!back.ok() || *back != in) std::abort();
  }
  if (auto p = cm::ProxyAddress::Parse(in); p.ok()) (void)p->ToString();
  (void)cm::DecodeImceaex(in);
  return 0;
}
