// The PostgreSQL backend of the journal's database seam (journal/sql.h): one journal that the
// runs of many hosts share (issue 14), through libpq.
#pragma once

#include <memory>
#include <string>

#include "journal/sql.h"

namespace cm {

// Connects to `conninfo` (a postgresql:// URL or libpq keywords, without a password). The
// password, when there is one, comes as `password` (a credential the config names; never in the
// URL, argv or a message); libpq's own ~/.pgpass and PGPASSFILE apply otherwise. A `read_only`
// connection refuses every write.
// `idle_timeout_seconds`: the server ends the session when it sits that long inside a
// transaction (0: its default).
Result<std::unique_ptr<SqlConnection>> OpenPostgres(const std::string& conninfo,
                                                    const std::string& password, bool read_only,
                                                    int64_t idle_timeout_seconds = 0);

// The SQL of this seam (`?` and `?N` parameters) as PostgreSQL reads it (`$N`), and the number
// of parameters it names. Question marks inside quotes are left alone.
std::string PostgresParameters(const std::string& sql, int* count);

}  // namespace cm
