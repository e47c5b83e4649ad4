// Times and intervals of staged migrations (issue 13), as administrators write them: ISO 8601
// times in UTC or with an offset (Exchange's -StartAfter / -CompleteAfter), and intervals as
// Exchange's TimeSpan ("1.00:00:00", "04:00:00") or with a unit ("24h", "30m", "90s", "2d").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace cm {

// Seconds since the epoch (UTC) of "YYYY-MM-DDTHH:MM[:SS[.fff]](Z|+HH:MM|-HH:MM)" (a space for
// the T is accepted; a time without a zone is refused: it would mean another instant on
// another machine).
Result<int64_t> ParseIsoTime(std::string_view text);
// "2026-12-02T05:00:00Z".
std::string FormatIsoTime(int64_t seconds_since_epoch);
// The clock, in seconds since the epoch.
int64_t UnixNow();

// Seconds of an interval: "[d.]hh:mm[:ss]", or numbers with d, h, m or s from days down, each
// once ("1h30m"); a bare number is seconds, and 'M' (minutes or months?) is refused.
Result<int64_t> ParseInterval(std::string_view text);

}  // namespace cm
