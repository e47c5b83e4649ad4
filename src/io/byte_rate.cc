#include "io/byte_rate.h"

#include <algorithm>
#include <map>
#include <thread>

namespace cm {

ByteRate::ByteRate(uint64_t bytes_per_second)
    : configured_(std::max<uint64_t>(1, bytes_per_second)) {}

uint64_t ByteRate::configured() const {
  std::lock_guard lock(mu_);
  return configured_;
}

void ByteRate::LowerTo(uint64_t bytes_per_second) {
  std::lock_guard lock(mu_);
  configured_ = std::max<uint64_t>(1, std::min(configured_, bytes_per_second));
}

uint64_t ByteRate::effective() const {
  std::lock_guard lock(mu_);
  return EffectiveLocked();
}

uint64_t ByteRate::EffectiveLocked() const {
  return std::max<uint64_t>(1, configured_ / static_cast<uint64_t>(std::max(1, share_)));
}

void ByteRate::SetShare(int workers) {
  std::lock_guard lock(mu_);
  share_ = std::max(1, workers);
}

ByteRate::Clock::duration ByteRate::Reserve(uint64_t bytes, Clock::time_point now) {
  std::lock_guard lock(mu_);
  uint64_t rate = EffectiveLocked();
  // A tenth of a second may be spent ahead; an idle spell earns no more than that.
  auto burst = std::chrono::milliseconds(100);
  if (due_ < now - burst) due_ = now - burst;
  due_ += std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(static_cast<double>(bytes) / static_cast<double>(rate)));
  return due_ > now ? due_ - now : Clock::duration::zero();
}

void ByteRate::Spend(uint64_t bytes) {
  auto wait = Reserve(bytes, Clock::now());
  if (wait > Clock::duration::zero()) std::this_thread::sleep_for(wait);
}

namespace {
struct Registry {
  std::mutex mu;
  std::map<std::string, std::shared_ptr<ByteRate>> rates;
  int share = 1;
};
Registry& TheRegistry() {
  static Registry* r = new Registry();  // never destroyed: connections may outlive main's end
  return *r;
}
}  // namespace

std::shared_ptr<ByteRate> ServerByteRate(const std::string& server, uint64_t bytes_per_second) {
  if (bytes_per_second == 0) return nullptr;
  Registry& r = TheRegistry();
  std::lock_guard lock(r.mu);
  auto& rate = r.rates[server];
  if (!rate) {
    rate = std::make_shared<ByteRate>(bytes_per_second);
    rate->SetShare(r.share);
  }
  rate->LowerTo(bytes_per_second);  // connections made before see it too
  return rate;
}

void SetByteRateShare(int workers) {
  Registry& r = TheRegistry();
  std::lock_guard lock(r.mu);
  r.share = std::max(1, workers);
  for (auto& [server, rate] : r.rates) rate->SetShare(r.share);
}

}  // namespace cm
