// LDIF (RFC 2849) for the ldif: backend and for `plan --ldif`. Values are encoded and decoded by
// libldap (ldif_parse_line2 / ldif_put_wrap: base64 and safe-string rules); records, changetypes
// and modify blocks are read here so every error names the file and line.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/directory_op.h"
#include "core/status.h"

namespace cm {

struct LdifRecord {
  unsigned long line = 0;  // where the record's dn: line is
  DirectoryOp op;          // an entry in a content file is a kAdd
};

// Parses content records (entries) and change records. `name` prefixes errors ("x.ldif:12: ...").
// `:<` URL values are refused: an LDIF file must not make the tool read other local files.
Result<std::vector<LdifRecord>> ParseLdif(std::string_view text, std::string_view name);

// `attr: value` lines (base64 where RFC 2849 requires it), folded at 76 columns.
std::string FormatAttribute(std::string_view attr, std::string_view value);
std::string FormatEntry(const Entry& entry);
// A change record `ldapmodify` applies as is.
std::string FormatChange(const DirectoryOp& op);

}  // namespace cm
