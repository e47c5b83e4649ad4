// The journal: states, failures that keep their place, one holder per mailbox, durability.
#include "journal/journal.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "journal/serialize.h"
#include "journal/test_journal.h"

namespace cm {
namespace {

using testing::TestJournal;

TEST(Journal, RecordsStatesAndKeepsThePlaceOfAFailure) {
  TestJournal t;
  ASSERT_EQ(t.error(), "");
  auto j = Journal::Open(t.where());
  ASSERT_TRUE(j.ok());
  auto id = (*j)->Register("Alias=john.smith", 4, "CN=Smith\\, John,OU=People,DC=x");
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(*(*j)->Register("alias=JOHN.SMITH", 4, "ignored"),
            *id);  // identities compare case-insensitively
  ASSERT_TRUE((*j)->Finish(*id, MailboxState::kSnapshotted).ok());
  ASSERT_TRUE((*j)->Fail(*id, "provision", "constraint violation: homeMDB").ok());
  auto m = (*j)->Find("Alias=john.smith");
  ASSERT_TRUE(m.ok() && *m);
  EXPECT_EQ((*m)->state, MailboxState::kSnapshotted);  // a rerun retries provisioning
  EXPECT_TRUE((*m)->failed());
  EXPECT_EQ((*m)->failed_step, "provision");
  ASSERT_TRUE((*j)->Finish(*id, MailboxState::kTargetProvisioned).ok());
  m = (*j)->Find("Alias=john.smith");
  EXPECT_FALSE((*m)->failed());
}

TEST(Journal, AMailboxIsHeldByOneLiveRunAtATime) {
  TestJournal t;
  ASSERT_EQ(t.error(), "");
  auto first = Journal::Open(t.where());
  auto second = Journal::Open(t.where());
  ASSERT_TRUE(first.ok() && second.ok());
  auto id = (*first)->Register("Alias=a", 2, "CN=a,DC=x");
  ASSERT_TRUE((*first)->Claim(*id).ok());
  Status s = (*second)->Claim(*id);
  EXPECT_EQ(s.code(), Status::Code::kUnavailable);
  EXPECT_NE(s.message().find(fmt::format("run {}", (*first)->run_id())), std::string::npos)
      << s.message();
  EXPECT_NE(s.message().find("since"), std::string::npos);
  auto held = (*second)->Find("Alias=a");
  EXPECT_NE((*held)->holder.find(fmt::format("run {}", (*first)->run_id())), std::string::npos);
  ASSERT_TRUE((*first)->Release(*id).ok());
  EXPECT_TRUE((*second)->Claim(*id).ok());
}

TEST(Journal, ALockLeftByAKilledRunIsTakenOver) {
  TestJournal t;
  ASSERT_EQ(t.error(), "");
  auto j = Journal::Open(t.where());
  auto id = (*j)->Register("Alias=a", 2, "CN=a,DC=x");
  pid_t child = fork();
  if (child == 0) _exit(0);
  waitpid(child, nullptr, 0);  // a pid that no longer exists
  char host[256] = "";
  gethostname(host, sizeof(host) - 1);
  ASSERT_TRUE(t.Tamper(fmt::format("UPDATE mailboxes SET holder_run=999, holder_pid={}, "
                                   "holder_host='{}', holder_since='x'",
                                   child, host))
                  .ok());
  EXPECT_TRUE((*j)->Claim(*id).ok());
}

TEST(Journal, RefusesAJournalOfAnotherSchemaVersion) {
  TestJournal t;
  ASSERT_EQ(t.error(), "");
  { ASSERT_TRUE(Journal::Open(t.where()).ok()); }
  ASSERT_TRUE(t.Tamper("UPDATE meta SET value='99' WHERE key='schema_version'").ok());
  auto j = Journal::Open(t.where());
  ASSERT_FALSE(j.ok());
  EXPECT_NE(j.status().message().find("schema version 99"), std::string::npos);
}

TEST(Journal, TheMessageMapSurvivesAReopen) {
  TestJournal t;
  ASSERT_EQ(t.error(), "");
  int64_t id;
  {
    auto j = Journal::Open(t.where());
    id = *(*j)->Register("Alias=a", 2, "CN=a,DC=x");
    auto map = (*j)->MessagesOf(id);
    MessageMeta m;
    m.key = "1690000000.M1P1.host";
    m.size = 10;
    ASSERT_TRUE(map->Copied("INBOX", m.key, "INBOX", "target-key", 10, "", true).ok());
    ASSERT_TRUE(map->Foreign("INBOX", "was-there-before").ok());
  }
  auto j = Journal::Open(t.where());
  auto loaded = (*j)->MessagesOf(id)->Load("INBOX");
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ((*loaded)["1690000000.M1P1.host"].state, MessageMap::State::kCopied);
  EXPECT_EQ((*loaded)["1690000000.M1P1.host"].target_key, "target-key");
  EXPECT_EQ((*loaded)["foreign:was-there-before"].state, MessageMap::State::kForeign);
}

TEST(Journal, AForgottenMailboxIsNewToTheNextRunWhichTakesOverTheMapOfItsCopies) {
  TestJournal t;
  ASSERT_EQ(t.error(), "");
  auto j = Journal::Open(t.where());
  ASSERT_TRUE(j.ok());
  int64_t id = *(*j)->Register("Alias=a", 2, "CN=a,DC=x");
  int64_t other = *(*j)->Register("Alias=b", 3, "CN=b,DC=x");
  ASSERT_TRUE((*j)->Finish(id, MailboxState::kRolledBack).ok());
  {
    auto map = (*j)->MessagesOf(id);
    ASSERT_TRUE(map->Copied("INBOX", "k1", "INBOX", "t1", 10, "", true).ok());
    ASSERT_TRUE(map->Flush().ok());
  }
  ASSERT_TRUE((*j)->Forget(id).ok());
  auto old_map = (*j)->MessagesOf(id)->Load("INBOX");
  ASSERT_TRUE(old_map.ok());
  EXPECT_TRUE(old_map->empty()) << "its message map is no longer that mailbox's";
  auto gone = (*j)->Find("Alias=a");
  ASSERT_TRUE(gone.ok());
  EXPECT_FALSE(*gone);
  EXPECT_TRUE((*(*j)->Find("Alias=b")).has_value()) << "only that mailbox is forgotten";
  EXPECT_FALSE(*(*j)->MovedBefore(other));
  // Registered again, it starts from pending and takes over the map of the copies its first
  // move left in the target (which its copy then brings to the source as it is).
  int64_t again = *(*j)->Register("alias=A", 2, "CN=a,DC=x");
  EXPECT_NE(again, other);
  auto m = (*j)->Find("Alias=a");
  EXPECT_EQ((*m)->state, MailboxState::kPending);
  auto loaded = (*j)->MessagesOf(again)->Load("INBOX");
  ASSERT_TRUE(loaded.ok());
  ASSERT_EQ(loaded->size(), 1u);
  EXPECT_EQ(loaded->at("k1").target_key, "t1");
  EXPECT_TRUE(*(*j)->MovedBefore(again));
  // Once: another mailbox registered later takes nothing.
  int64_t third = *(*j)->Register("Alias=c", 4, "CN=c,DC=x");
  EXPECT_FALSE(*(*j)->MovedBefore(third));
  EXPECT_TRUE((*j)->MessagesOf(third)->Load("INBOX")->empty());
}

TEST(Serialize, SnapshotsKeepEveryValueIncludingBinary) {
  Snapshot s;
  s.source = Entry("CN=Zoë,DC=x");
  s.source.Set("proxyAddresses", {"SMTP:zoe@x.test", "X400:c=US;a= ;p=X;"});
  s.source.Set("msExchMailboxGuid", {std::string("\x00\xff\x10\x80", 4)});
  s.store = "maildir:/m/x.test/zoe";
  s.folders = {{"INBOX", 3, 1200}, {"Projets/Été", 1, 10}};
  auto back = SnapshotFromJson(SnapshotToJson(s));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->source.dn(), s.source.dn());
  EXPECT_EQ(back->source.Get("proxyAddresses"), s.source.Get("proxyAddresses"));
  EXPECT_EQ(back->source.Get("msExchMailboxGuid"), s.source.Get("msExchMailboxGuid"));
  EXPECT_EQ(back->folders[1].name, "Projets/Été");
  EXPECT_FALSE(SnapshotFromJson("{not json").ok());
}

// Two processes record stage fields at once (`complete` while a run syncs): neither write
// undoes the other, and a journal opened read-only shows them.
TEST(Journal, EachStageWriteChangesOnlyItsOwnFields) {
  TestJournal t;
  ASSERT_EQ(t.error(), "");
  auto run = Journal::Open(t.where());
  auto operator_side = Journal::Open(t.where());
  ASSERT_TRUE(run.ok() && operator_side.ok());
  auto id = (*run)->Register("Alias=a", 2, "CN=a,DC=x");
  ASSERT_TRUE(id.ok());
  MailboxStage schedule;
  schedule.complete_after = 1798135200;
  schedule.sync_interval = 3600;
  ASSERT_TRUE((*run)->SaveSchedule(*id, schedule).ok());
  ASSERT_TRUE((*operator_side)->RequestCompletion(*id, /*approve_skipped=*/true).ok());
  ASSERT_TRUE((*run)->RecordSync(*id, 1798000000).ok());
  ASSERT_TRUE((*operator_side)->RequestCompletion(*id, /*approve_skipped=*/false).ok());
  ASSERT_TRUE((*operator_side)->SetSuspended(*id, true).ok());
  auto reader = Journal::OpenReadOnly(t.where());
  ASSERT_TRUE(reader.ok());
  auto stages = (*reader)->Stages();
  ASSERT_TRUE(stages.ok()) << stages.status().ToString();
  ASSERT_EQ(stages->count(*id), 1u);
  const MailboxStage& got = stages->at(*id);
  EXPECT_EQ(got.complete_after, 1798135200);
  EXPECT_FALSE(got.start_after.has_value());
  EXPECT_EQ(got.sync_interval, 3600);
  EXPECT_EQ(got.last_sync, 1798000000);
  EXPECT_TRUE(got.complete_requested);
  EXPECT_TRUE(got.approve_skipped) << "a later request without approval took it back";
  EXPECT_TRUE(got.suspended);
  ASSERT_TRUE((*run)->Forget(*id).ok());
  EXPECT_TRUE((*reader)->Stages()->empty()) << "forget leaves a stage record behind";
}

// A cap on moves at once (max-moves-per-target-database) counts the mailboxes held with that
// resource by every run of the journal: one over it waits (kResourceExhausted), not fails.
// Each run of a shared journal learns within seconds how many workers share it (what divides
// max-bytes-per-second among them), not a lease later: a run that joins is counted by the one
// already there, and one that ends stops being counted.
TEST(Journal, ARunLearnsWithinSecondsThatAnotherJoinedOrLeft) {
  if (testing::kJournal != testing::JournalBackend::kPostgres)
    GTEST_SKIP() << "only a shared journal has workers";
  TestJournal t;
  ASSERT_EQ(t.error(), "");
  std::atomic<int> live{0};  // before the journal: its heartbeat may call until it is closed
  auto first = Journal::Open(t.where());
  ASSERT_TRUE(first.ok());
  (*first)->OnHeartbeat([&](int n) { live = n; });
  auto await = [&](int n) {
    // The default lease (a minute) renews every 20 s; the count must come much sooner.
    for (int i = 0; i < 120 && live != n; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    return live.load();
  };
  EXPECT_EQ(await(1), 1);
  {
    auto second = Journal::Open(t.where());
    ASSERT_TRUE(second.ok());
    EXPECT_EQ(await(2), 2);
  }
  EXPECT_EQ(await(1), 1);
  (*first)->OnHeartbeat(nullptr);
}

TEST(Journal, AClaimOverACapWaitsUntilAHolderReleases) {
  TestJournal t;
  ASSERT_EQ(t.error(), "");
  auto first = Journal::Open(t.where());
  auto second = Journal::Open(t.where());
  ASSERT_TRUE(first.ok() && second.ok());
  int64_t a = *(*first)->Register("Alias=a", 2, "CN=a,DC=x");
  int64_t b = *(*first)->Register("Alias=b", 3, "CN=b,DC=x");
  int64_t c = *(*first)->Register("Alias=c", 4, "CN=c,DC=x");
  std::vector<Journal::ClaimCap> db1 = {
      {"target database DB-01", 1, "max-moves-per-target-database"}};
  std::vector<Journal::ClaimCap> db2 = {
      {"target database DB-02", 1, "max-moves-per-target-database"}};
  ASSERT_TRUE((*first)->Claim(a, db1).ok());
  Status over = (*second)->Claim(b, db1);
  EXPECT_EQ(over.code(), Status::Code::kResourceExhausted) << over.ToString();
  EXPECT_NE(over.message().find("max-moves-per-target-database = 1"), std::string::npos)
      << over.message();
  EXPECT_TRUE((*second)->Claim(c, db2).ok()) << "another database has its own cap";
  ASSERT_TRUE((*first)->Release(a).ok());
  EXPECT_TRUE((*second)->Claim(b, db1).ok()) << "a place is free once the holder releases";
}

}  // namespace
}  // namespace cm
