// Our IMAP client against a server that misbehaves on purpose (tests/imap/hostile_imap.py):
// answers out of order and interleaved, literals cut at every byte, stalls, cuts, sizes and UIDs
// that lie, answers left out, names that are not modified UTF-7. The oracle is the scenario
// itself (the bytes the server was given), never our own reader: every message must arrive
// byte-identical, or the read must fail with a clear error; nothing may be silently joined,
// skipped or taken as expunged while the server still lists it. Every test runs over both read
// paths: ReadMessages (the copy) and ReadDescribed (verification's read-back, which asks for the
// flags, date and size in the same FETCH and lists large messages first). A target's removals
// (UID STORE \Deleted, UID EXPUNGE) run against it as a writable server that runs a pipelined
// expunge first, or ignores it: each must end removed, or in an error.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>

#include "core/strings.h"
#include "mailstore/hostile_server.h"
#include "mailstore/imap_store.h"

namespace cm {
namespace {

using testing::HostileServer;
using testing::MakeMessage;
using testing::Msg;

// What a read handed on: each message's bytes and how it ended.
struct Collected : MessageSink {
  std::map<size_t, std::string> bytes;
  std::map<size_t, Status> done;
  std::map<size_t, MessageMeta> described;
  long open = -1;  // the message whose chunks are coming: one at a time
  bool interleaved = false;
  bool described_late = false;  // told after its bytes, or twice
  Status Described(size_t i, const MessageMeta& now) override {
    if (bytes.count(i) || done.count(i) || described.count(i)) described_late = true;
    described[i] = now;
    return Status::Ok();
  }
  Status Data(size_t i, std::string_view chunk) override {
    if (open != -1 && open != static_cast<long>(i)) interleaved = true;
    open = static_cast<long>(i);
    bytes[i].append(chunk);
    return Status::Ok();
  }
  Status Done(size_t i, const Status& read) override {
    if (open != -1 && open != static_cast<long>(i)) interleaved = true;
    open = -1;
    if (done.count(i)) interleaved = true;  // settled twice
    done[i] = read;
    return Status::Ok();
  }
};

struct ReadOutcome {
  Status read;  // what ReadMessages returned
  Collected got;
  std::vector<MessageMeta> listed;
  bool described = false;  // read with ReadDescribed
};

// `describe`: ReadDescribed, each message asked by its key and the size it was listed with (what
// verification knows from the journal).
ReadOutcome ReadAll(ImapStore& store, bool describe, const std::string& folder_name = "INBOX") {
  ReadOutcome out;
  auto folders = store.ListFolders();
  if (!folders.ok()) {
    out.read = folders.status();
    return out;
  }
  const Folder* folder = nullptr;
  for (const auto& f : *folders) {
    if (f.listed_name == folder_name || (folder_name == "INBOX" && f.IsInbox())) folder = &f;
  }
  if (!folder) {
    out.read = Status::NotFound("folder not listed: " + folder_name);
    return out;
  }
  auto listed = store.ListMessages(*folder, Detail::kFull);
  if (!listed.ok()) {
    out.read = listed.status();
    return out;
  }
  out.listed = *listed;
  std::vector<const MessageMeta*> todo;
  for (const auto& m : out.listed) todo.push_back(&m);
  out.described = describe;
  out.read = describe ? store.ReadDescribed(*folder, todo, out.got)
                      : store.ReadMessages(*folder, todo, out.got);
  return out;
}

// Every message handed on as complete is byte-identical to what the server holds; nothing is
// settled twice or interleaved with another; no listed message is taken as expunged.
void ExpectNothingWrongDelivered(const ReadOutcome& r, const std::vector<Msg>& truth) {
  EXPECT_FALSE(r.got.interleaved) << "a message's chunks were mixed with another's";
  EXPECT_FALSE(r.got.described_late) << "a message was described after its bytes, or twice";
  std::map<std::string, std::string> by_key;
  for (const auto& m : truth) by_key[fmt::format("7.{}", m.uid)] = m.bytes;
  for (const auto& [i, status] : r.got.done) {
    ASSERT_LT(i, r.listed.size());
    const std::string& key = r.listed[i].key;
    EXPECT_NE(status.code(), Status::Code::kNotFound)
        << key << " was taken as expunged, but the server still has it: " << status.ToString();
    if (!status.ok()) continue;
    auto it = by_key.find(key);
    ASSERT_NE(it, by_key.end()) << key;
    auto got = r.got.bytes.find(i);
    std::string bytes = got == r.got.bytes.end() ? "" : got->second;
    EXPECT_TRUE(bytes == it->second) << key << ": " << bytes.size() << " bytes handed on as "
                                     << "complete, " << it->second.size() << " on the server";
    // Described (ReadDescribed): as the server holds it, before its bytes.
    if (auto d = r.got.described.find(i); d != r.got.described.end()) {
      EXPECT_EQ(d->second.key, key);
      EXPECT_EQ(d->second.size, it->second.size()) << key;
      EXPECT_EQ(d->second.internal_date, r.listed[i].internal_date) << key;
      EXPECT_EQ(d->second.flags, r.listed[i].flags) << key;
    }
  }
}

void ExpectAllIdentical(const ReadOutcome& r, const std::vector<Msg>& truth) {
  ASSERT_TRUE(r.read.ok()) << r.read.ToString();
  ASSERT_EQ(r.listed.size(), truth.size());
  ExpectNothingWrongDelivered(r, truth);
  for (size_t i = 0; i < truth.size(); ++i) {
    ASSERT_TRUE(r.got.done.count(i)) << "message " << i << " never settled";
    EXPECT_TRUE(r.got.done.at(i).ok()) << r.got.done.at(i).ToString();
    if (r.described) {
      EXPECT_TRUE(r.got.described.count(i)) << "message " << i << " not described";
    }
  }
}

// The read failed, clearly, and handed on nothing wrong.
void ExpectClearFailure(const ReadOutcome& r, const std::vector<Msg>& truth,
                        const std::string& says = "") {
  ExpectNothingWrongDelivered(r, truth);
  bool failed = !r.read.ok();
  std::string message = r.read.message();
  for (const auto& [i, s] : r.got.done) {
    if (!s.ok()) {
      failed = true;
      message += " | " + s.message();
    }
  }
  EXPECT_TRUE(failed) << "every message read without an error from a lying server";
  if (!says.empty()) {
    EXPECT_NE(message.find(says), std::string::npos) << message;
  }
}

std::vector<Msg> Large(std::initializer_list<std::pair<uint32_t, size_t>> sizes) {
  std::vector<Msg> out;
  for (auto [uid, size] : sizes) out.push_back({uid, MakeMessage(uid, size)});
  return out;
}

const std::vector<Msg> kMixed = Large(
    {{1, 900}, {2, 5u << 20 | 12345}, {3, 2000}, {4, (3u << 20) + 1}, {5, 1u << 20}, {6, 100}});

class HostileServerTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    if (::system("python3 -c 'import sys' >/dev/null 2>&1") != 0) GTEST_SKIP() << "no python3";
  }
  ReadOutcome Read(ImapStore& store, const std::string& folder = "INBOX") {
    return ReadAll(store, GetParam(), folder);
  }
};

TEST_P(HostileServerTest, HonestServerGivesEveryByte) {
  HostileServer server("INBOX", kMixed, nlohmann::json::object());
  ASSERT_NE(server.port(), 0);
  auto store = server.Open();
  ExpectAllIdentical(Read(*store), kMixed);
}

TEST_P(HostileServerTest, PipelinedPartsAnsweredInReverseArePlacedByOrigin) {
  HostileServer server("INBOX", kMixed, {{"reorder", "reverse"}});
  auto store = server.Open();
  ExpectAllIdentical(Read(*store), kMixed);
}

TEST_P(HostileServerTest, InterleavedAnswersArePlacedByOrigin) {
  HostileServer server("INBOX", kMixed, {{"interleave", true}});
  auto store = server.Open();
  ExpectAllIdentical(Read(*store), kMixed);
}

TEST_P(HostileServerTest, InterleavedAndReversedTogether) {
  HostileServer server("INBOX", kMixed, {{"interleave", true}, {"reorder", "reverse"}});
  auto store = server.Open();
  ExpectAllIdentical(Read(*store), kMixed);
}

TEST_P(HostileServerTest, LiteralsCutAtEveryByte) {
  std::vector<Msg> small = Large({{1, 300}, {2, 257}, {3, 64}});
  HostileServer server("INBOX", small, {{"split_literals", 1}});
  auto store = server.Open();
  ExpectAllIdentical(Read(*store), small);
}

TEST_P(HostileServerTest, AStallEndsInATimeout) {
  HostileServer server("INBOX", kMixed, {{"stall_after_bytes", 1500000}});
  auto store = server.Open(/*timeout_seconds=*/2);
  auto r = Read(*store);
  ExpectClearFailure(r, kMixed);
  EXPECT_EQ(r.read.code(), Status::Code::kUnavailable) << r.read.ToString();
}

TEST_P(HostileServerTest, ACutMidMessageIsAnError) {
  HostileServer server("INBOX", kMixed, {{"close_after_bytes", 2500000}});
  auto store = server.Open();
  auto r = Read(*store);
  ExpectClearFailure(r, kMixed);
  EXPECT_EQ(r.read.code(), Status::Code::kUnavailable) << r.read.ToString();
}

TEST_P(HostileServerTest, ASizeThatLiesIsAnError) {
  for (const char* uid : {"1", "2", "3", "4", "6"}) {
    for (int delta : {-1, 1, -5000}) {
      SCOPED_TRACE(fmt::format("UID {} listed {:+} bytes off", uid, delta));
      HostileServer server("INBOX", kMixed, {{"size_lie", {{uid, delta}}}});
      auto store = server.Open();
      ExpectClearFailure(Read(*store), kMixed);
    }
  }
}

TEST_P(HostileServerTest, ALiteralShorterThanAnnouncedIsAnError) {
  HostileServer server("INBOX", kMixed, {{"literal_lie", {{"3", -10}}}});
  auto store = server.Open(2);
  ExpectClearFailure(Read(*store), kMixed);
}

TEST_P(HostileServerTest, AnswersForOtherUidsAreErrors) {
  for (const nlohmann::json& fault :
       {nlohmann::json{{"wrong_uid", {{"3", 99}}}}, nlohmann::json{{"wrong_uid", {{"3", 1}}}},
        nlohmann::json{{"wrong_uid", {{"2", 4}}}}, nlohmann::json{{"extra_uid", 42}},
        nlohmann::json{{"duplicate_uid", 3}}, nlohmann::json{{"duplicate_uid", 2}}}) {
    SCOPED_TRACE(fault.dump());
    HostileServer server("INBOX", kMixed, fault);
    auto store = server.Open();
    ExpectClearFailure(Read(*store), kMixed);
  }
}

TEST_P(HostileServerTest, AMissingAnswerIsAnErrorWhileTheServerListsTheMessage) {
  for (const nlohmann::json& fault :
       {nlohmann::json{{"omit_uids", {3}}}, nlohmann::json{{"omit_uids", {2}}},
        nlohmann::json{{"ok_only", true}}}) {
    SCOPED_TRACE(fault.dump());
    HostileServer server("INBOX", kMixed, fault);
    auto store = server.Open();
    ExpectClearFailure(Read(*store), kMixed, "though it still lists it");
  }
}

TEST_P(HostileServerTest, APartialAnswerNamingAnotherOriginIsAnError) {
  HostileServer server("INBOX", kMixed, {{"partial_origin_lie", true}});
  auto store = server.Open();
  ExpectClearFailure(Read(*store), kMixed);
}

TEST_P(HostileServerTest, FoldersAreOpenedByTheExactNameListed) {
  // "&AMk" is not modified UTF-7 (unterminated), "&,,,,-" decodes to nothing valid, "&AOk-t&AOk-"
  // is "été" written canonically; "Café" in UTF-8 is 8-bit bytes, which a name must not hold.
  std::vector<Msg> some = Large({{1, 500}, {2, 700}});
  for (const std::string& name : {std::string("&AMk"), std::string("&,,,,-"),
                                  std::string("Caf\xc3\xa9"), std::string("&AOk-t&AOk-")}) {
    SCOPED_TRACE(name);
    HostileServer server(name, some, nlohmann::json::object());
    auto store = server.Open();
    auto folders = store->ListFolders();
    ASSERT_TRUE(folders.ok()) << folders.status().ToString();
    const Folder* found = nullptr;
    for (const auto& f : *folders) {
      if (f.listed_name == name) found = &f;
    }
    ASSERT_NE(found, nullptr) << "the folder was not listed at all";
    bool canonical = name == "&AOk-t&AOk-";
    EXPECT_EQ(found->name_error.empty(), canonical) << found->name_error;
    if (canonical) {
      EXPECT_EQ(found->Name(), "\xc3\xa9t\xc3\xa9");
    }
    // Read by the very bytes listed: the server refuses every other spelling.
    ExpectAllIdentical(Read(*store, name), some);
  }
}

// A target's removals (the delta pass's expunges; a move without MOVE) on a server that writes.
// The oracle is what the server says it holds after each write (its log's "state" lines).
std::string LastState(const HostileServer& server, const std::string& folder) {
  std::string state;
  for (const auto& line : Split(server.Log(), '\n')) {
    size_t at = line.find("S: state " + folder + ": ");
    if (at != std::string::npos) state = line.substr(at + 9 + folder.size() + 2);
  }
  return state;
}

// The folder `name` as the store lists it.
Folder Listed(ImapStore& store, const std::string& name) {
  auto folders = store.ListFolders();
  EXPECT_TRUE(folders.ok()) << folders.status().ToString();
  for (const auto& f : folders.ok() ? *folders : std::vector<Folder>{}) {
    if (f.Name() == name) return f;
  }
  ADD_FAILURE() << name << " is not listed";
  return {};
}

TEST(HostileTarget, ARemovalWaitsForItsDeletedFlagBeforeTheExpunge) {
  // The server runs a UID EXPUNGE pipelined behind the UID STORE first, as Dovecot may: the
  // expunge must not be sent before the flags are set.
  HostileServer server("Work", Large({{1, 300}, {2, 310}, {3, 320}, {4, 330}}),
                       {{"expunge_first", true}}, {}, 0, /*writable=*/true);
  auto store = server.Open(10, /*read_only=*/false);
  Folder work = Listed(*store, "Work");
  Status removed = store->DeleteMessages(work, {"7.2", "7.4"});
  ASSERT_TRUE(removed.ok()) << removed.ToString() << server.Log();
  EXPECT_EQ(LastState(server, "Work"), "1 3 | deleted: ") << server.Log();
}

TEST(HostileTarget, AnExpungeThatRemovesNothingIsAnError) {
  HostileServer server("Work", Large({{1, 300}, {2, 310}, {3, 320}}), {{"expunge_ignored", true}},
                       {}, 0, /*writable=*/true);
  auto store = server.Open(10, /*read_only=*/false);
  Folder work = Listed(*store, "Work");
  Status removed = store->DeleteMessages(work, {"7.3", "7.1"});
  EXPECT_FALSE(removed.ok()) << server.Log();
  EXPECT_NE(removed.message().find("left UID 1,3"), std::string::npos) << removed.ToString();
  EXPECT_EQ(LastState(server, "Work"), "1 2 3 | deleted: 1 3") << server.Log();
}

INSTANTIATE_TEST_SUITE_P(Reads, HostileServerTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "ReadDescribed" : "ReadMessages";
                         });

}  // namespace
}  // namespace cm
