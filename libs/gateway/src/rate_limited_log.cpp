#include "kelvin/gateway/rate_limited_log.hpp"

namespace kelvin::gateway {

std::optional<std::uint64_t> RateLimitedLog::admit(const std::string& key, std::chrono::steady_clock::time_point now) {
  std::lock_guard lock(mutex_);
  if (entries_.size() >= kMaxKeys && entries_.find(key) == entries_.end()) forget_quiet_keys(now);
  auto [it, inserted] = entries_.try_emplace(key);
  Entry& entry = it->second;
  if (!inserted && now - entry.last_logged < interval_) {
    ++entry.suppressed;
    return std::nullopt;
  }
  std::uint64_t suppressed = entry.suppressed;
  entry.last_logged = now;
  entry.suppressed = 0;
  return suppressed;
}

void RateLimitedLog::forget_quiet_keys(std::chrono::steady_clock::time_point now) {
  std::erase_if(entries_, [&](const auto& entry) { return now - entry.second.last_logged >= interval_; });
  if (entries_.size() >= kMaxKeys) entries_.clear();  // that many keys at once: start over
}

}  // namespace kelvin::gateway
