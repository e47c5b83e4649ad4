// max-connections across workers (mailstore/imap_store.h): a connection takes one of the
// server's numbered places that no other process holds, waits for one up to the timeout, and
// gives it back when it closes, whether the connection worked or not.
#include <gtest/gtest.h>

#include <mutex>
#include <set>
#include <string>

#include "io/net_stream.h"
#include "mailstore/imap_store.h"

namespace cm {
namespace {

// The places other processes hold (`busy`), and what this one took and gave back.
class Places : public SharedConnectionSlots {
 public:
  explicit Places(std::set<int> busy) : busy_(std::move(busy)) {}
  Result<bool> TryTake(const std::string& server, int place) override {
    std::lock_guard lock(mu_);
    server_ = server;
    if (busy_.count(place) || held_.count(place)) return false;
    held_.insert(place);
    ++taken_;
    return true;
  }
  void Release(const std::string&, int place) override {
    std::lock_guard lock(mu_);
    held_.erase(place);
    ++released_;
  }
  int taken_ = 0, released_ = 0;
  std::set<int> held_;
  std::string server_;

 private:
  std::mutex mu_;
  std::set<int> busy_;
};

// A port nothing listens on: the connection itself fails, after its place was taken.
ImapEndpoint Nowhere() {
  ImapEndpoint e;
  e.host = "127.0.0.1";
  e.port = 9;  // discard: closed here
  e.user = "alice@contoso.test";
  return e;
}

TEST(ConnectionPlaces, EveryPlaceHeldElsewhereIsABusyServerAfterTheTimeoutNotAHang) {
  auto places = std::make_shared<Places>(std::set<int>{0, 1});
  ShareConnectionSlots(places);
  ImapAccess access;
  access.max_connections = 2;
  access.timeout_seconds = 1;
  Status s = CheckImapConnection(Nowhere(), access, /*log_in=*/false);
  EXPECT_EQ(s.code(), Status::Code::kUnavailable) << s.ToString();
  EXPECT_NE(s.message().find("all 2 connections (max-connections, across the workers) stayed "
                             "busy for 1 s"),
            std::string::npos)
      << s.message();
  EXPECT_EQ(places->taken_, 0);
  // Nothing of this process is left counted: with the places free, the next one gets one.
  auto free = std::make_shared<Places>(std::set<int>{});
  ShareConnectionSlots(free);
  access.max_connections = 1;
  Status refused = CheckImapConnection(Nowhere(), access, /*log_in=*/false);
  EXPECT_FALSE(refused.ok()) << "nothing listens there";
  EXPECT_EQ(refused.message().find("stayed busy"), std::string::npos) << refused.message();
  EXPECT_EQ(free->server_, "127.0.0.1:9");
  EXPECT_EQ(free->taken_, 1);
  EXPECT_EQ(free->released_, 1) << "the place of a connection that failed was kept";
  EXPECT_TRUE(free->held_.empty());
  ShareConnectionSlots(nullptr);
}

TEST(ConnectionPlaces, APlaceHeldElsewhereIsSkippedForAFreeOne) {
  auto places = std::make_shared<Places>(std::set<int>{0});
  ShareConnectionSlots(places);
  ImapAccess access;
  access.max_connections = 2;
  access.timeout_seconds = 1;
  (void)CheckImapConnection(Nowhere(), access, /*log_in=*/false);
  EXPECT_EQ(places->taken_, 1);
  EXPECT_EQ(places->released_, 1);
  ShareConnectionSlots(nullptr);
}

}  // namespace
}  // namespace cm
