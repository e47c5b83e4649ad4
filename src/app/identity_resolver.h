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

// A mailbox of the journal, as an identity typed at `status`, `verify`, `rollback` or `forget`
// is matched against it.
struct JournaledIdentity {
  std::string key;                // the journal's "Column=value" (the users-file identity)
  std::string source_dn;          // as registered
  const Entry* source = nullptr;  // the snapshot of the source object; null before the snapshot
  // Its primary SMTP address in the target after the move (the plan's), the address users know
  // it by afterwards; "" before it is planned.
  std::string target_primary_smtp = {};
  // Its object in the target (DN, and so canonical name) and the target's legacyExchangeDN:
  // what `export --side target` and the target's own tools show. "" before it is planned.
  std::string target_dn = {};
  std::string target_legacy_dn = {};
};

// The mailboxes an identity in any form a user types names, matched case-insensitively: an SMTP
// address (primary or proxy, mail, UPN, the new primary in the target) or X500 /
// legacyExchangeDN (the source's or the target's), an alias (mailNickname, sAMAccountName with
// or without DOMAIN\, cn, displayName), a DN or canonical name (of the source object or of the
// target object), the users-file value or the journal's Column=value; spaces around it ignored.
// Indices into `mailboxes`, in their order, each once. An identity that matches nothing is an error
// naming what was tried; one that matches several is an error naming them. Every identity's problem
// is listed, one a line.
Result<std::vector<size_t>> SelectJournaled(const std::vector<std::string>& typed,
                                            const std::vector<JournaledIdentity>& mailboxes,
                                            const AttributeProfile& profile);

}  // namespace cm
