// `crossmove export`: the inverse of the users file (SPEC §3). Every value of every attribute
// is written, multi-valued ones joined by a separator, so nothing is lost on the way back in.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "core/entry.h"
#include "core/recipient.h"

namespace cm {

struct ExportOptions {
  std::string side = "source";  // which directory
  std::string filter;           // LDAP filter ANDed with the recipient selection
  std::string identity;         // wildcard on name, alias, account or address ("j*", "*smith*")
  std::string format = "csv";   // csv | json
  std::string output;           // file; "" = stdout
  std::string separator = ";";  // joins multi-valued cells
  bool all_recipients = false;  // every recipient, not just mailboxes
  bool json = false;            // --json: format json, and errors as {"error": ...} too
};

// The CSV: `#TYPE` line, header, one quoted row per object, CRLF (as Export-Csv writes).
// A value holding the separator or a backslash has it escaped with a backslash.
std::string ExportCsv(const std::vector<Entry>& entries, const AttributeProfile& profile,
                      std::string_view separator);
std::string ExportJson(const std::vector<Entry>& entries, const AttributeProfile& profile);
// Splits a cell written by ExportCsv back into values.
std::vector<std::string> SplitMultiValued(std::string_view cell, std::string_view separator);

}  // namespace cm
