#include "core/timestamp.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <ctime>

#include "core/strings.h"

namespace cm {

namespace {

// Reads exactly `digits` decimal digits at `pos`.
bool Digits(std::string_view s, size_t& pos, size_t digits, int& out) {
  if (pos + digits > s.size()) return false;
  auto [p, ec] = std::from_chars(s.data() + pos, s.data() + pos + digits, out);
  if (ec != std::errc() || p != s.data() + pos + digits) return false;
  pos += digits;
  return true;
}

bool Expect(std::string_view s, size_t& pos, char c) {
  if (pos >= s.size() || s[pos] != c) return false;
  ++pos;
  return true;
}

// Days since 1970-01-01 of a civil date (Howard Hinnant's days_from_civil).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned shifted_month = m > 2 ? m - 3 : m + 9;  // March is 0
  const unsigned doy = (153 * shifted_month + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

}  // namespace

Result<int64_t> ParseIsoTime(std::string_view text) {
  std::string_view s = Trim(text);
  auto bad = [&](std::string_view why) {
    return Status::InvalidInput(
        fmt::format("'{}' is not an ISO 8601 time ({}); write e.g. 2026-12-24T18:00:00Z or "
                    "2026-12-24T19:00:00+01:00",
                    text, why));
  };
  size_t pos = 0;
  int year, month, day, hour, minute, second = 0;
  if (!Digits(s, pos, 4, year) || !Expect(s, pos, '-') || !Digits(s, pos, 2, month) ||
      !Expect(s, pos, '-') || !Digits(s, pos, 2, day))
    return bad("the date is YYYY-MM-DD");
  if (pos >= s.size() || (s[pos] != 'T' && s[pos] != 't' && s[pos] != ' '))
    return bad("a time of day must follow the date");
  ++pos;
  if (!Digits(s, pos, 2, hour) || !Expect(s, pos, ':') || !Digits(s, pos, 2, minute))
    return bad("the time of day is HH:MM or HH:MM:SS");
  if (pos < s.size() && s[pos] == ':') {
    ++pos;
    if (!Digits(s, pos, 2, second)) return bad("the seconds are two digits");
  }
  if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {  // fractions of a second: dropped
    ++pos;
    size_t start = pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
    if (pos == start) return bad("a fraction needs digits");
  }
  // What is there is checked before what is missing: "25:00" is a wrong hour first.
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12) return bad("the month is out of range");
  int days_in_month = kDays[month - 1] + (month == 2 && IsLeap(year));
  if (day < 1 || day > days_in_month) return bad("the day is out of range");
  if (hour > 23 || minute > 59 || second > 60) return bad("the time of day is out of range");
  int offset = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int sign = s[pos] == '-' ? -1 : 1;
    ++pos;
    int oh, om = 0;
    if (!Digits(s, pos, 2, oh)) return bad("the offset is +HH:MM");
    if (pos < s.size() && s[pos] == ':') ++pos;
    if (pos < s.size() && !Digits(s, pos, 2, om)) return bad("the offset is +HH:MM");
    if (oh > 23 || om > 59) return bad("the offset is out of range");
    offset = sign * (oh * 3600 + om * 60);
  } else if (pos == s.size()) {
    return bad("it names no time zone: end it in Z for UTC or in an offset such as +01:00");
  }
  if (pos != s.size()) return bad("unexpected text after the time");
  int64_t days = DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  return days * 86400 + hour * 3600 + minute * 60 + std::min(second, 59) - offset;
}

std::string FormatIsoTime(int64_t seconds) {
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

int64_t UnixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Result<int64_t> ParseInterval(std::string_view text) {
  std::string_view s = Trim(text);
  auto bad = [&] {
    return Status::InvalidInput(
        fmt::format("'{}' is not an interval: write 24h, 30m, 90s, 2d, 1h30m or Exchange's "
                    "[d.]hh:mm:ss (1.00:00:00)",
                    text));
  };
  if (s.empty()) return bad();
  // Ten years: beyond any migration, and far from overflowing the arithmetic below.
  constexpr int64_t kLongest = 3650 * int64_t{86400};
  auto too_long = [&] {
    return Status::InvalidInput(
        fmt::format("'{}' is too long an interval (at most 3650 days)", text));
  };
  if (s.find(':') != std::string_view::npos) {
    int64_t days = 0;
    size_t dot = s.find('.');
    size_t colon = s.find(':');
    if (dot != std::string_view::npos && dot < colon) {
      auto [p, ec] = std::from_chars(s.data(), s.data() + dot, days);
      if (ec == std::errc::result_out_of_range || (ec == std::errc() && days > 3650))
        return too_long();
      if (ec != std::errc() || p != s.data() + dot || days < 0) return bad();
      s.remove_prefix(dot + 1);
    }
    std::vector<std::string> parts = Split(s, ':');
    if (parts.size() < 2 || parts.size() > 3) return bad();
    int64_t fields[3] = {0, 0, 0};
    for (size_t i = 0; i < parts.size(); ++i) {
      const std::string& part = parts[i];
      auto [p, ec] = std::from_chars(part.data(), part.data() + part.size(), fields[i]);
      if (part.empty() || ec != std::errc() || p != part.data() + part.size() || fields[i] < 0)
        return bad();
    }
    if (fields[1] > 59 || fields[2] > 59) return bad();
    // As Exchange's TimeSpan reads it: hours past 23 are an error there, not a day more, so a
    // value copied from a cmdlet means the same here.
    if (fields[0] > 23) {
      return Status::InvalidInput(fmt::format(
          "'{}' is not an interval: hours run 0-23 in [d.]hh:mm:ss; write {}.{:02}:{:02}:{:02} "
          "(or {}h)",
          text, days + fields[0] / 24, fields[0] % 24, fields[1], fields[2],
          days * 24 + fields[0]));
    }
    return days * 86400 + fields[0] * 3600 + fields[1] * 60 + fields[2];
  }
  // A bare number is seconds; else parts with units from days down, each once: 2d, 1h30m, 90s.
  if (std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    int64_t n = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec == std::errc::result_out_of_range || (ec == std::errc() && n > kLongest))
      return too_long();
    if (ec != std::errc() || p != s.data() + s.size()) return bad();
    return n;
  }
  static constexpr std::string_view kUnits = "dhms";
  static constexpr int64_t kSeconds[] = {86400, 3600, 60, 1};
  int64_t total = 0;
  size_t next_unit = 0;  // units must come in the order of kUnits
  while (!s.empty()) {
    int64_t n = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec == std::errc::result_out_of_range || (ec == std::errc() && n > kLongest))
      return too_long();
    if (ec != std::errc() || n < 0 || p == s.data() || p == s.data() + s.size()) return bad();
    char unit = *p;
    // 'M' reads as months in many tools and as minutes in others: neither is guessed.
    if (unit == 'M') {
      return Status::InvalidInput(fmt::format(
          "'{}' is not an interval: 'M' could mean minutes or months; write {}m for minutes", text,
          n));
    }
    size_t u = kUnits.find(static_cast<char>(AsciiLower(unit)));
    if (u == std::string_view::npos || u < next_unit) return bad();
    total += n * kSeconds[u];
    if (total > kLongest) return too_long();
    next_unit = u + 1;
    s.remove_prefix(p - s.data() + 1);
  }
  return total;
}

}  // namespace cm
