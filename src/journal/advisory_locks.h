// Every PostgreSQL advisory lock a shared journal takes, in one place, so that no two uses
// collide. One-key locks are numbers no other program on the database uses ("crossmove" in a
// hash, and its neighbours); two-key locks live in spaces of their own (PostgreSQL keeps the
// one-key and two-key forms apart).
#pragma once

#include <cstdint>
#include <string_view>

namespace cm::advisory {

constexpr int64_t kRunLock = 7166839264;    // session, shared by runs, exclusive for rollback
constexpr int64_t kSchema = 7166839265;     // transaction: the schema created by one at a time
constexpr int64_t kCapsCount = 7166839266;  // transaction: claims over caps counted one at a time
constexpr int32_t kMailboxGuards = 7166;    // two-key space: (7166, mailbox id) per mailbox

// The two-key space of a server's connection places (max-connections across workers): a 31-bit
// hash (FNV-1a) of its "host:port", never the mailbox guards' space.
inline int32_t ConnectionPlaces(std::string_view server) {
  uint32_t h = 2166136261u;
  for (unsigned char c : server) h = (h ^ c) * 16777619u;
  auto space = static_cast<int32_t>(h & 0x7fffffff);
  return space == kMailboxGuards ? space + 1 : space;
}

}  // namespace cm::advisory
