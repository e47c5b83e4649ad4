// max-bytes-per-second's pacing (io/byte_rate.h), on a clock of the test's own: a spender that
// waits what it is told moves bytes at the rate set, whatever the sizes it spends in, and
// workers that share a rate each get their part.
#include "io/byte_rate.h"

#include <gtest/gtest.h>

#include <chrono>

namespace cm {
namespace {

using Clock = ByteRate::Clock;
using std::chrono::duration;
using std::chrono::milliseconds;

double Seconds(Clock::duration d) { return duration<double>(d).count(); }

// Spends `total` bytes in pieces of `piece`, sleeping (on the test's clock) what Reserve asks;
// returns the time it took.
double Transfer(ByteRate& rate, uint64_t total, uint64_t piece, Clock::time_point& now) {
  Clock::time_point start = now;
  for (uint64_t sent = 0; sent < total; sent += piece) now += rate.Reserve(piece, now);
  return Seconds(now - start);
}

TEST(ByteRate, ASpenderThatWaitsAsToldMovesAtTheRateWhateverItsPieces) {
  for (uint64_t piece : {1u << 10, 64u << 10, 4u << 20}) {
    ByteRate rate(1'000'000);
    Clock::time_point now{};
    double took = Transfer(rate, 100'000'000, piece, now);
    // 100 s of bytes; only the burst (a tenth of a second) and the last piece are ahead.
    EXPECT_NEAR(took, 100.0, 0.1 + static_cast<double>(piece) / 1e6) << piece;
  }
}

TEST(ByteRate, ABurstOfATenthOfASecondGoesAtOnceAndIdlenessEarnsNoMore) {
  ByteRate rate(1'000'000);
  Clock::time_point now{};
  EXPECT_EQ(rate.Reserve(100'000, now), Clock::duration::zero());
  EXPECT_NEAR(Seconds(rate.Reserve(1'000'000, now)), 1.0, 1e-6);
  now += std::chrono::seconds(60);  // a minute idle: still only a tenth of a second ahead
  EXPECT_NEAR(Seconds(rate.Reserve(1'000'000, now)), 0.9, 1e-6);
}

TEST(ByteRate, WorkersSharingARateEachGetTheirPart) {
  ByteRate rate(8'000'000);
  rate.SetShare(4);
  EXPECT_EQ(rate.effective(), 2'000'000u);
  Clock::time_point now{};
  EXPECT_NEAR(Transfer(rate, 20'000'000, 64u << 10, now), 10.0, 0.2);
  rate.SetShare(0);  // never below one share
  EXPECT_EQ(rate.effective(), 8'000'000u);
}

TEST(ByteRate, OneRatePerServerTheSmallestSettingHoldingAndNoneForZero) {
  EXPECT_EQ(ServerByteRate("imap.test:143", 0), nullptr);
  auto a = ServerByteRate("imap.test:143", 5'000'000);
  auto b = ServerByteRate("imap.test:143", 2'000'000);
  auto c = ServerByteRate("imap.test:143", 9'000'000);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a, b);
  EXPECT_EQ(a, c);
  EXPECT_EQ(a->configured(), 2'000'000u);  // lowered for the connections made before too
  auto other = ServerByteRate("other.test:143", 9'000'000);
  EXPECT_NE(other, a);
  SetByteRateShare(3);
  EXPECT_EQ(a->effective(), 666'666u);
  EXPECT_EQ(other->effective(), 3'000'000u);
  SetByteRateShare(1);
}

}  // namespace
}  // namespace cm
