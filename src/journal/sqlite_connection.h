// The SQLite backend of the journal's database seam (journal/sql.h): the embedded default, one
// file (WAL) on this host.
#pragma once

#include <memory>
#include <string>

#include "journal/sql.h"

namespace cm {

// Opens the database file (creating it unless `read_only`). A busy database is waited for, in
// short naps, up to 30 s.
Result<std::unique_ptr<SqlConnection>> OpenSqlite(const std::string& path, bool read_only);

}  // namespace cm
