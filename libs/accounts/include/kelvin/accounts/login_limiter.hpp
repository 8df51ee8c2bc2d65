#pragma once
// Slows password guessing down (docs/api.md, "Sign-in limits"), per account and per client address:
//   account  after kAccountFreeFailures failed sign-ins in a row, the account refuses sign-ins for
//            1 min, doubling with each further failure up to 15 min; a success resets it.
//   address  kAddressFailures failed sign-ins within kAddressWindow from one address block it
//            until the oldest of them leaves the window (any account: this stops spraying one
//            password over many accounts).
// In memory; Accounts::restore_sign_in_limits() rebuilds it from the audit log at a start.
// Bounded: at most kMaxTracked accounts and as many addresses are tracked; the least recently
// failed is forgotten.
// Thread-safe.

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace kelvin::accounts {

class LoginLimiter {
 public:
  static constexpr int kAccountFreeFailures = 5;
  static constexpr std::int64_t kAccountFirstLockMs = 60'000;
  static constexpr std::int64_t kAccountMaxLockMs = 15 * 60'000;
  static constexpr std::size_t kAddressFailures = 20;
  static constexpr std::int64_t kAddressWindowMs = 10 * 60'000;
  static constexpr std::size_t kMaxTracked = 10'000;

  // How long sign-ins of `account` from `address` are refused from `now_ms`; nullopt when allowed.
  std::optional<std::int64_t> refused_for_ms(std::string_view account, std::string_view address,
                                             std::int64_t now_ms) const;
  void record_failure(std::string_view account, std::string_view address, std::int64_t now_ms);
  // Resets the account's run of failures (the address keeps its record: one success must not
  // open a window for more guesses at other accounts).
  void record_success(std::string_view account);

 private:
  struct AccountState {
    int failures = 0;
    std::int64_t locked_until_ms = 0;
    std::int64_t last_failure_ms = 0;
  };
  template <class Map>
  static void forget_oldest(Map& map);

  mutable std::mutex mutex_;
  std::map<std::string, AccountState, std::less<>> accounts_;
  std::map<std::string, std::deque<std::int64_t>, std::less<>> addresses_;
};

}  // namespace kelvin::accounts
