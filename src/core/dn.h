// Distinguished names, RFC 4514. Every DN the tool builds goes through MakeRdn/MakeDn so that a
// value such as `Smith, John` or `#1 "Ops"` can never change the structure of the name.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace cm {

struct Ava {  // attribute value assertion: one `type=value` of an RDN, value unescaped
  std::string type;
  std::string value;
};
using Rdn = std::vector<Ava>;  // multi-valued RDNs (`cn=a+sn=b`) are kept, rarely used

// Escapes a value for use in a DN string (RFC 4514 §2.4).
std::string EscapeDnValue(std::string_view value);
// `type=escaped(value)`.
std::string MakeRdn(std::string_view type, std::string_view value);
// rdn + "," + parent (parent may be empty).
std::string MakeDn(std::string_view type, std::string_view value, std::string_view parent);

// Parses a DN string into RDNs, most specific first. Accepts `\,` and `\2C` escapes,
// spaces around separators, and `#hex` BER values (kept as given).
Result<std::vector<Rdn>> ParseDn(std::string_view dn);
// Canonical form for comparison: lower-case types and values, re-escaped, no extra spaces.
// Invalid DNs normalize to their lower-cased text so comparisons still work.
std::string NormalizeDn(std::string_view dn);
bool DnEquals(std::string_view a, std::string_view b);
// True when `dn` is `base` or below it.
bool DnIsUnder(std::string_view dn, std::string_view base);
// The parent DN ("" for a single RDN), as text re-escaped in canonical spacing.
std::string ParentDn(std::string_view dn);
// The first RDN's first AVA ("cn", "Smith, John").
Result<Ava> LeadingAva(std::string_view dn);
// `dc=a,dc=b/OU/Name` style canonical name (Exchange "Identity" column): a.b/OU/Name, with AD's
// escaping: the RDN values unescaped, and only a `/` inside a name written `\/` (every other
// character, `,+"\<>;=#` and spaces included, is literal).
std::string CanonicalName(std::string_view dn);
// A canonical name split as AD reads it: the DNS domain first, then each container and the
// name, `\/` turned back into `/` (a backslash before anything else is literal). An error when
// the text is not a canonical name (no `/`, or the first part is not a DNS domain).
Result<std::vector<std::string>> ParseCanonicalName(std::string_view text);
// True when the DN's canonical name is `parts` (domain case-insensitive, as DNS is; containers
// and the name case-insensitive in ASCII, as caseIgnoreMatch compares them).
bool CanonicalNameIs(std::string_view dn, const std::vector<std::string>& parts);

}  // namespace cm
