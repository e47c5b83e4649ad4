// How attribute values are shown to people and in JSON/CSV: text as is, GUIDs in AD's text
// form, other binary values as base64 (so an export never holds raw bytes).
#pragma once

#include <string>
#include <string_view>

namespace cm {

std::string DisplayValue(std::string_view attribute, std::string_view value);

// One value of a change as `plan` and `rollback --dry-run` print it, LDIF style: `attr: text`,
// or `attr:: BASE64` for a binary attribute (msExchMailboxGuid, objectGUID ...) or bytes that are
// not UTF-8, so what is shown is the bytes written, not a rendering of them.
std::string AttributeValueLine(std::string_view attribute, std::string_view value);

}  // namespace cm
