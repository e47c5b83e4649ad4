// Times and intervals of staged moves, and the consistency grade's thresholds, against values
// worked out by hand (date -u -d ... +%s).
#include "core/timestamp.h"

#include <gtest/gtest.h>

#include "core/consistency_grade.h"

namespace cm {
namespace {

TEST(Timestamp, ReadsUtcAndOffsetsAsTheSameInstant) {
  // date -u -d 2026-12-24T18:00:00Z +%s
  EXPECT_EQ(*ParseIsoTime("2026-12-24T18:00:00Z"), 1798135200);
  EXPECT_EQ(*ParseIsoTime("2026-12-24T19:00:00+01:00"), 1798135200);
  EXPECT_EQ(*ParseIsoTime("2026-12-24 13:00-05:00"), 1798135200);
  EXPECT_EQ(*ParseIsoTime("2026-12-24T18:00:00.250Z"), 1798135200);
  EXPECT_EQ(*ParseIsoTime("2000-02-29T00:00:00Z"), 951782400);
  EXPECT_EQ(FormatIsoTime(1798135200), "2026-12-24T18:00:00Z");
}

TEST(Timestamp, RefusesATimeWithoutAZoneAndImpossibleDates) {
  for (const char* bad :
       {"2026-12-24T18:00:00", "2026-02-30T00:00Z", "2025-02-29T00:00Z", "2026-13-01T00:00Z",
        "2026-12-24", "tomorrow", "2026-12-24T25:00Z", "2026-12-24T18:00Zjunk", ""}) {
    auto t = ParseIsoTime(bad);
    EXPECT_FALSE(t.ok()) << bad;
    if (!t.ok()) {
      EXPECT_NE(t.status().message().find("ISO 8601"), std::string::npos) << bad;
    }
  }
  // A wrong hour is named as such, even where the zone is missing too.
  auto hour = ParseIsoTime("2026-12-24 25:00");
  ASSERT_FALSE(hour.ok());
  EXPECT_NE(hour.status().message().find("the time of day is out of range"), std::string::npos)
      << hour.status().message();
}

TEST(Timestamp, ReadsIntervalsInExchangeAndUnitForms) {
  EXPECT_EQ(*ParseInterval("1.00:00:00"), 86400);
  EXPECT_EQ(*ParseInterval("04:30:00"), 16200);
  EXPECT_EQ(*ParseInterval("00:05"), 300);
  EXPECT_EQ(*ParseInterval("24h"), 86400);
  EXPECT_EQ(*ParseInterval("30m"), 1800);
  EXPECT_EQ(*ParseInterval("2d"), 172800);
  EXPECT_EQ(*ParseInterval("90"), 90);
  EXPECT_EQ(*ParseInterval("0"), 0);
  EXPECT_EQ(*ParseInterval("1h30m"), 5400);
  EXPECT_EQ(*ParseInterval("1d12h"), 129600);
  EXPECT_EQ(*ParseInterval("2m30s"), 150);
  EXPECT_EQ(*ParseInterval("24H"), 86400);
  for (const char* huge : {"999999999999999999999", "3651d", "99999999.00:00:00", "87601h"}) {
    auto r = ParseInterval(huge);
    ASSERT_FALSE(r.ok()) << huge;
    EXPECT_NE(r.status().message().find("too long an interval"), std::string::npos)
        << r.status().message();
  }
  EXPECT_EQ(*ParseInterval("3650d"), 3650 * 86400);
  // 'M' is minutes to some and months to others: refused, with the spelling for minutes.
  auto big_m = ParseInterval("30M");
  ASSERT_FALSE(big_m.ok());
  EXPECT_NE(big_m.status().message().find("write 30m for minutes"), std::string::npos)
      << big_m.status().message();
  // Hours past 23 are refused, as Exchange's TimeSpan does, with the spelling it means.
  auto day_and_hour = ParseInterval("25:00:00");
  ASSERT_FALSE(day_and_hour.ok());
  EXPECT_NE(day_and_hour.status().message().find("1.01:00:00"), std::string::npos)
      << day_and_hour.status().message();
  for (const char* bad :
       {"", "h", "-1h", "1:61:00", "1.2.3:00", "soon", "30m1h", "1h1h", "1h30", "1h-5m", "1w"})
    EXPECT_FALSE(ParseInterval(bad).ok()) << bad;
}

TEST(ConsistencyGrade, FollowsTheDocumentedThresholds) {
  EXPECT_EQ(GradeOf(1000, 0), ConsistencyGrade::kPerfect);
  EXPECT_EQ(GradeOf(0, 0), ConsistencyGrade::kPerfect);
  EXPECT_EQ(GradeOf(1000, 10), ConsistencyGrade::kGood);          // 1%
  EXPECT_EQ(GradeOf(1000, 11), ConsistencyGrade::kInvestigate);   // just over 1%
  EXPECT_EQ(GradeOf(1000, 100), ConsistencyGrade::kInvestigate);  // 10%
  EXPECT_EQ(GradeOf(1000, 101), ConsistencyGrade::kPoor);
  EXPECT_EQ(GradeOf(3, 3), ConsistencyGrade::kPoor);
  EXPECT_EQ(Worst(ConsistencyGrade::kGood, ConsistencyGrade::kInvestigate),
            ConsistencyGrade::kInvestigate);
}

}  // namespace
}  // namespace cm
