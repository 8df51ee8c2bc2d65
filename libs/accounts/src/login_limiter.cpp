#include "kelvin/accounts/login_limiter.hpp"

#include <algorithm>

namespace kelvin::accounts {

namespace {

std::int64_t last_failure(const std::deque<std::int64_t>& times) {
  return times.empty() ? 0 : times.back();
}

}  // namespace

std::optional<std::int64_t> LoginLimiter::refused_for_ms(std::string_view account, std::string_view address,
                                                         std::int64_t now_ms) const {
  std::lock_guard lock(mutex_);
  std::int64_t wait = 0;
  if (auto found = accounts_.find(account); found != accounts_.end()) {
    wait = std::max(wait, found->second.locked_until_ms - now_ms);
  }
  if (auto found = addresses_.find(address); found != addresses_.end()) {
    const auto& times = found->second;
    const auto recent =
        std::count_if(times.begin(), times.end(), [&](std::int64_t at) { return at > now_ms - kAddressWindowMs; });
    if (static_cast<std::size_t>(recent) >= kAddressFailures) {
      // Blocked until enough of them age out to leave fewer than the limit.
      const std::int64_t oldest_counted = times[times.size() - kAddressFailures];
      wait = std::max(wait, oldest_counted + kAddressWindowMs - now_ms);
    }
  }
  if (wait <= 0) return std::nullopt;
  return wait;
}

template <class Map>
void LoginLimiter::forget_oldest(Map& map) {
  auto oldest = map.begin();
  for (auto it = map.begin(); it != map.end(); ++it) {
    if constexpr (std::is_same_v<typename Map::mapped_type, AccountState>) {
      if (it->second.last_failure_ms < oldest->second.last_failure_ms) oldest = it;
    } else {
      if (last_failure(it->second) < last_failure(oldest->second)) oldest = it;
    }
  }
  if (oldest != map.end()) map.erase(oldest);
}

void LoginLimiter::record_failure(std::string_view account, std::string_view address, std::int64_t now_ms) {
  std::lock_guard lock(mutex_);
  auto account_it = accounts_.find(account);
  if (account_it == accounts_.end()) {
    if (accounts_.size() >= kMaxTracked) forget_oldest(accounts_);
    account_it = accounts_.emplace(std::string(account), AccountState{}).first;
  }
  AccountState& state = account_it->second;
  state.failures += 1;
  state.last_failure_ms = now_ms;
  if (state.failures >= kAccountFreeFailures) {
    const int doublings = std::min(state.failures - kAccountFreeFailures, 10);
    const std::int64_t lock_ms = std::min(kAccountFirstLockMs << doublings, kAccountMaxLockMs);
    state.locked_until_ms = now_ms + lock_ms;
  }

  auto address_it = addresses_.find(address);
  if (address_it == addresses_.end()) {
    if (addresses_.size() >= kMaxTracked) forget_oldest(addresses_);
    address_it = addresses_.emplace(std::string(address), std::deque<std::int64_t>{}).first;
  }
  auto& times = address_it->second;
  times.push_back(now_ms);
  while (!times.empty() && (times.front() <= now_ms - kAddressWindowMs || times.size() > kAddressFailures)) {
    times.pop_front();
  }
}

void LoginLimiter::record_success(std::string_view account) {
  std::lock_guard lock(mutex_);
  if (auto found = accounts_.find(account); found != accounts_.end()) accounts_.erase(found);
}

}  // namespace kelvin::accounts
