// Finds the source object a users-file row names (SPEC §3). Every filter is a cm::Filter tree,
// so an identity such as `*)(objectClass=*` is a literal value, never a wider search.
#pragma once

#include <string>
#include <vector>

#include "core/entry.h"
#include "core/filter.h"
#include "core/recipient.h"
#include "core/status.h"
#include "directory/directory.h"

namespace cm {

// The filter an identity of the given column means. `Identity` accepts what Exchange's
// -Identity does: DN, canonical name (fabrikam.test/People/Alice), GUID, SMTP address or UPN,
// DOMAIN\sam, alias, sAMAccountName, name or display name.
Result<Filter> IdentityFilter(std::string_view column, std::string_view identity,
                              const AttributeProfile& profile);

// Every object the identity matches, deduplicated (canonical names are checked exactly).
Result<std::vector<Entry>> ResolveIdentity(Directory& dir, std::string_view base,
                                           std::string_view column, std::string_view identity,
                                           const AttributeProfile& profile);

// How an identity of the column was read, for an error that says why nothing matched
// ("read as the canonical name of 'Smith, John' in fabrikam.test/People"); "" when plain.
std::string IdentityReading(std::string_view column, std::string_view identity);

}  // namespace cm
