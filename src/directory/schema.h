// What the tool knows of attribute syntaxes and object classes, modelled on Active Directory
// with the Exchange schema extension (the lab's msexch.ldif uses the same names). The ldif:
// backend enforces it so that an embedded run fails where a real server would.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace cm {

enum class Syntax { kString, kInteger, kBinary, kDn };

Syntax SyntaxOf(std::string_view attribute);
bool IsSingleValued(std::string_view attribute);
// Equality under the attribute's matching rule (caseIgnore, integer, octet string, DN).
bool ValuesEqual(std::string_view attribute, std::string_view a, std::string_view b);
// Ordering for >= / <= filters: negative, zero, positive.
int CompareValues(std::string_view attribute, std::string_view a, std::string_view b);
// Attributes every object of the class must hold.
std::vector<std::string> RequiredAttributes(std::string_view object_class);

// AD's GUID text form: {33221100-5544-7766-8899-aabbccddeeff} for bytes 00 11 22 ... ff
// (first three groups little-endian). "" when the value is not 16 bytes.
// Attributes Active Directory maintains itself and refuses from a client (objectGUID, objectSid,
// whenChanged ...): never written back when an object is recreated or restored.
bool IsActiveDirectoryManaged(std::string_view attribute);

std::string GuidToString(std::string_view bytes);
// Accepts the form above with or without braces; empty on malformed input.
std::string GuidFromString(std::string_view text);

}  // namespace cm
