// legacyExchangeDN values, X500 proxies, IMCEAEX encapsulation and unique-name suffixes.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace cm {

inline constexpr std::string_view kAdminGroup = "Exchange Administrative Group (FYDIBOHF23SPDLT)";

// `/o=<org>/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=<alias>`
std::string BuildLegacyExchangeDn(std::string_view org, std::string_view alias);

// Returns `base` when free, else `base` + "1", "2", ... (keeping the result within max_chars by
// shortening base), as Exchange and AD tools do for cn, sAMAccountName and legacyExchangeDN.
// `taken` is asked case-insensitively by the caller's own rule.
std::string UniqueName(std::string_view base, size_t max_chars,
                       const std::function<bool(std::string_view)>& taken);

// Decodes an IMCEAEX address (how Exchange encapsulates an EX address in SMTP, seen on NDRs and
// in cached Outlook entries): `IMCEAEX-_O=ORG_OU=..._CN=ALICE@domain` -> `/O=ORG/OU=.../CN=ALICE`.
// `_` stands for '/', `+XX` for the byte 0xXX. Returns the legacy DN without the X500: prefix.
Result<std::string> DecodeImceaex(std::string_view address);
// The reverse, for tests and reports.
std::string EncodeImceaex(std::string_view legacy_dn, std::string_view domain);

}  // namespace cm
