// The consistency grade of a mailbox (issue 13), after Exchange's DataConsistencyScore: how much
// of the source a move leaves behind (messages the target refused, too large or malformed,
// and messages no pass could carry). The thresholds are docs/DECISIONS.md's.
#pragma once

#include <cstdint>
#include <string_view>

namespace cm {

// Ordered from best to worst.
enum class ConsistencyGrade { kPerfect, kGood, kInvestigate, kPoor };

std::string_view ToString(ConsistencyGrade grade);

// Perfect: nothing skipped. Good: at most 1% of the mailbox's messages skipped. Investigate
// (completes only when approved): at most 10%. Poor (never completes): more. `messages` is
// every message of the mailbox, skipped ones included.
ConsistencyGrade GradeOf(uint64_t messages, uint64_t skipped);

// A batch has the grade of its worst mailbox.
ConsistencyGrade Worst(ConsistencyGrade a, ConsistencyGrade b);

}  // namespace cm
