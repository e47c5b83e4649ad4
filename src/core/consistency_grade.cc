#include "core/consistency_grade.h"

#include <algorithm>

namespace cm {

std::string_view ToString(ConsistencyGrade grade) {
  switch (grade) {
    case ConsistencyGrade::kPerfect:
      return "Perfect";
    case ConsistencyGrade::kGood:
      return "Good";
    case ConsistencyGrade::kInvestigate:
      return "Investigate";
    case ConsistencyGrade::kPoor:
      return "Poor";
  }
  return "?";
}

ConsistencyGrade GradeOf(uint64_t messages, uint64_t skipped) {
  if (skipped == 0) return ConsistencyGrade::kPerfect;
  // Compared in whole numbers: skipped / messages <= 1% is 100 * skipped <= messages.
  uint64_t total = std::max(messages, skipped);
  if (100 * skipped <= total) return ConsistencyGrade::kGood;
  if (10 * skipped <= total) return ConsistencyGrade::kInvestigate;
  return ConsistencyGrade::kPoor;
}

ConsistencyGrade Worst(ConsistencyGrade a, ConsistencyGrade b) { return std::max(a, b); }

}  // namespace cm
