// The live progress line (issue 12): cut to the terminal, whole-run ETA from bytes.
#include "app/progress_line.h"

#include <gtest/gtest.h>

#include <string>

#include "cli/run_crossmove.h"

namespace cm {
namespace {

size_t CodePoints(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

ProgressFigures Busy() {
  ProgressFigures f;
  f.active = {"łukasz.żółkiewski", "zoë.ångström", "alice.adams"};
  f.done = 12;
  f.total = 200;
  f.messages = 5120;
  f.bytes = 40'100'000;
  f.message_rate = 812;
  f.byte_rate = 6'300'000;
  f.eta_seconds = 125;
  return f;
}

TEST(ProgressLine, ShowsActiveMailboxesTotalsRatesAndTheEta) {
  EXPECT_EQ(FormatProgressLine(Busy(), 500),
            "12/200 moved | ETA 2m05s | 812 msg/s 6.3 MB/s | 5120 msgs 40.1 MB | 3 active: "
            "łukasz.żółkiewski, zoë.ångström +1");
}

TEST(ProgressLine, IsCutToTheTerminalWidthOnACharacterBoundary) {
  for (size_t width : {1u, 10u, 15u, 40u, 79u}) {
    std::string line = FormatProgressLine(Busy(), width);
    EXPECT_EQ(CodePoints(line), width) << line;
    EXPECT_TRUE(line.ends_with("…")) << line;
  }
  // A narrow terminal keeps the ETA and cuts the names, inside a character.
  EXPECT_EQ(FormatProgressLine(Busy(), 80),
            "12/200 moved | ETA 2m05s | 812 msg/s 6.3 MB/s | 5120 msgs 40.1 MB | 3 active: ł…");
  EXPECT_EQ(FormatProgressLine(Busy(), 0), "");
}

TEST(ProgressLine, AnUnknownEtaIsAQuestionMark) {
  ProgressFigures f;
  f.total = 3;
  EXPECT_EQ(FormatProgressLine(f, 200),
            "0/3 moved | ETA ? | 0 msg/s 0.0 MB/s | 0 msgs 0.0 MB | 0 active");
}

TEST(ProgressLine, TheEtaIsTheWholeRunsBytesLeftOverTheRate) {
  // Two of four mailboxes sized (100 MB together): the other two are estimated at 50 MB each.
  EXPECT_DOUBLE_EQ(EstimateSecondsLeft(40'000'000, 100'000'000, 2, 4, 10'000'000), 16.0);
  EXPECT_DOUBLE_EQ(EstimateSecondsLeft(0, 0, 0, 4, 10'000'000), -1);  // nothing sized yet
  EXPECT_DOUBLE_EQ(EstimateSecondsLeft(10, 100, 1, 1, 0), -1);        // no rate yet
  EXPECT_DOUBLE_EQ(EstimateSecondsLeft(200, 100, 1, 1, 5), 0);        // more than planned
  EXPECT_EQ(FormatDuration(59.4), "59s");
  EXPECT_EQ(FormatDuration(3725), "1h02m");
}

TEST(ProgressLine, TheRateIsSmoothedSoOneSlowSecondDoesNotRuleTheEta) {
  SmoothedRate rate;
  rate.Add(1000, 1);  // the first sample seeds it
  EXPECT_DOUBLE_EQ(rate.value(), 1000);
  rate.Add(0, 1);  // one stalled second
  EXPECT_GT(rate.value(), 700);
  EXPECT_LT(rate.value(), 1000);
  for (int i = 0; i < 60; ++i) rate.Add(100, 1);  // a minute at a new pace
  EXPECT_NEAR(rate.value(), 100, 1);
}

// Not a terminal: plain lines, one per mailbox, with the state it ends in.
TEST(ProgressLines, FinishedLinesTellTheFinalStateAndARerunSaysAlreadyDone) {
  testing::Workspace ws;
  auto first = testing::RunCrossmove({"run"}, ws.dir());
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_NE(first.err.find(": routing-verified (1 messages, 0.0 MB)\n"), std::string::npos)
      << first.err;
  EXPECT_EQ(first.err.find("source-cleaned"), std::string::npos) << first.err;
  EXPECT_EQ(first.err.find("\033["), std::string::npos);  // no redraws when not a terminal
  EXPECT_NE(first.err.find("[22/22] "), std::string::npos);
  auto again = testing::RunCrossmove({"run"}, ws.dir());
  ASSERT_EQ(again.exit_code, 0) << again.err;
  size_t already = 0;
  for (size_t at = again.err.find("already done (routing-verified)"); at != std::string::npos;
       at = again.err.find("already done (routing-verified)", at + 1))
    ++already;
  EXPECT_EQ(already, 22u) << again.err;
}

}  // namespace
}  // namespace cm
