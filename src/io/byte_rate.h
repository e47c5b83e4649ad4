// Pacing of the bytes crossmove exchanges with one server (`max-bytes-per-second`): production
// servers keep serving their users while a move runs. One ByteRate per server and process,
// shared by every connection to it; the workers of a shared journal each take an equal share
// (SetByteRateShare), so that together they stay within the setting.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

namespace cm {

class ByteRate {
 public:
  using Clock = std::chrono::steady_clock;
  // `bytes_per_second` > 0. A burst of up to a tenth of a second's bytes goes without waiting.
  explicit ByteRate(uint64_t bytes_per_second);

  // Accounts for `bytes` about to be sent or just received, and waits as long as the rate
  // asks (outside the lock: other connections go on meanwhile).
  void Spend(uint64_t bytes);
  // The arithmetic of Spend, without sleeping: how long a spender must wait at `now` (GCRA: the
  // bytes are due at the theoretical arrival time, which each spend moves by bytes / rate).
  Clock::duration Reserve(uint64_t bytes, Clock::time_point now);

  uint64_t configured() const;
  void LowerTo(uint64_t bytes_per_second);  // never raises it
  // The rate in effect: the configured one divided by the share count (at least 1 byte/s).
  uint64_t effective() const;
  void SetShare(int workers);

 private:
  uint64_t EffectiveLocked() const;  // mu_ held
  mutable std::mutex mu_;
  uint64_t configured_;
  int share_ = 1;
  Clock::time_point due_ = Clock::time_point::min();  // when the bytes spent so far are paid for
};

// The process's ByteRate for `server` ("host:port"), made on first use. When the databases on
// one server name different rates, the smallest holds. 0 = no pacing (nullptr).
std::shared_ptr<ByteRate> ServerByteRate(const std::string& server, uint64_t bytes_per_second);
// Every server's rate in this process divided among `workers` (the live workers of a shared
// journal; 1 alone).
void SetByteRateShare(int workers);

}  // namespace cm
