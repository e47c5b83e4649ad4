#include "input/journal_location.h"

#include <fmt/format.h>
#include <libpq-fe.h>

#include "core/strings.h"

namespace cm {

bool IsPostgresJournal(std::string_view spec) {
  return IStartsWith(spec, "postgresql://") || IStartsWith(spec, "postgres://");
}

Result<JournalLocation> ParseJournalLocation(std::string_view spec) {
  JournalLocation where;
  if (!IsPostgresJournal(spec)) {
    where.path = std::string(IStartsWith(spec, "sqlite:") ? spec.substr(7) : spec);
    if (where.path.empty()) return Status::InvalidInput("no file named");
    return where;
  }
  where.kind = JournalLocation::Kind::kPostgres;
  where.conninfo = std::string(spec);
  // libpq's own parser, so that what is refused here is what libpq would read.
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(where.conninfo.c_str(), &error);
  if (!options) {
    std::string why = error ? std::string(Trim(error)) : "out of memory";
    PQfreemem(error);
    return Status::InvalidInput(fmt::format("not a PostgreSQL URL: {}", why));
  }
  bool has_password = false;
  for (PQconninfoOption* o = options; o->keyword; ++o) {
    if (std::string_view(o->keyword) == "password" && o->val && *o->val) has_password = true;
  }
  PQconninfoFree(options);
  if (has_password) {
    // Not the URL itself in this message: it holds the password.
    return Status::InvalidInput(
        "the URL holds a password; take it out and set journal-credential = "
        "\"file:PATH\" (mode 0600) or \"env:NAME\", or put it in ~/.pgpass");
  }
  return where;
}

}  // namespace cm
