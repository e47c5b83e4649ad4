// `run` (SPEC §5): what is due now of every mailbox of the users file, once (cron-friendly) or,
// with --watch, until nothing is left (app/migration_pass.h).
#include "app/journal_commands.h"
#include "app/migration_pass.h"

namespace cm {

int RunMigration(const Config& config, const RunOptions& options, Console console) {
  PassOptions pass;
  pass.json = options.json;
  pass.wait = options.wait;
  pass.watch = options.watch;
  return Migrate(config, pass, console);
}

}  // namespace cm
