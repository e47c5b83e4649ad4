// bench/incremental.sh's driver for crossmove's delta pass until `crossmove complete` calls it:
// one mailbox, IMAP to IMAP, the journal's map in JOURNAL.
//
//   delta_pass JOURNAL SOURCE_URL TARGET_URL SECRET_FILE init|sync
//
// `init` copies the mailbox (CopyMailbox: the first pass); `sync` runs one delta pass
// (SyncMailbox, deletions approved). Logs in as the master user `migrator`. Prints
// "seconds new flags expunged moved renamed deleted".
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>

#include "core/strings.h"
#include "journal/journal.h"
#include "mailstore/delta_sync.h"
#include "mailstore/imap_client.h"

int main(int argc, char** argv) {
  using namespace cm;
  if (argc != 6) {
    std::fprintf(stderr, "usage: delta_pass JOURNAL SOURCE_URL TARGET_URL SECRET_FILE init|sync\n");
    return 2;
  }
  std::string secret;
  std::getline(std::ifstream(argv[4]), secret);
  auto access = std::make_shared<ImapAccess>();
  access->admin = "migrator";
  access->admin_secret = secret;
  MailStoreOptions ro, rw;
  ro.read_only = true;
  ro.imap = rw.imap = access;
  auto source = OpenMailStore(argv[2], ro);
  auto target = OpenMailStore(argv[3], rw);
  auto journal = Journal::Open(argv[1]);
  if (!source.ok() || !target.ok() || !journal.ok()) {
    std::fprintf(stderr, "cannot open the stores or the journal\n");
    return 1;
  }
  auto id = (*journal)->Register("bench", 1, "CN=bench");
  if (!id.ok()) return 1;
  auto map = (*journal)->MessagesOf(*id);
  auto started = std::chrono::steady_clock::now();
  DeltaStats stats;
  if (std::string(argv[5]) == "init") {
    auto copied = CopyMailbox(**source, **target, *map, {}, {});
    if (!copied.ok()) {
      std::fprintf(stderr, "%s\n", copied.status().ToString().c_str());
      return 1;
    }
    stats.new_messages = copied->messages;
  } else {
    DeltaOptions options;
    options.approve_deletions = true;
    auto synced = SyncMailbox(**source, **target, *map, options, {});
    if (!synced.ok()) {
      std::fprintf(stderr, "%s\n", synced.status().ToString().c_str());
      return 1;
    }
    stats = std::move(*synced);
  }
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf("%.3f %llu %llu %llu %llu %llu %llu\n", seconds,
              static_cast<unsigned long long>(stats.new_messages),
              static_cast<unsigned long long>(stats.flags_changed),
              static_cast<unsigned long long>(stats.expunged),
              static_cast<unsigned long long>(stats.moved),
              static_cast<unsigned long long>(stats.renamed_folders),
              static_cast<unsigned long long>(stats.deleted_folders));
  return 0;
}
