#pragma once
// Logging for events a misbehaving device can trigger at any rate (bad payloads): at most one line
// per key and interval, with the number of lines suppressed since. Thread-safe. Keys may come from
// the network (a client's address): past kMaxKeys the keys quiet for an interval are forgotten,
// and if that is not enough all of them (their suppressed counts are then not reported).

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace kelvin::gateway {

class RateLimitedLog {
 public:
  explicit RateLimitedLog(std::chrono::milliseconds interval = std::chrono::seconds(10)) : interval_(interval) {}

  // Returns how many earlier events of `key` were suppressed when this one should be logged now,
  // nullopt when it should be suppressed.
  std::optional<std::uint64_t> admit(const std::string& key, std::chrono::steady_clock::time_point now);

  static constexpr std::size_t kMaxKeys = 4096;

 private:
  void forget_quiet_keys(std::chrono::steady_clock::time_point now);

  struct Entry {
    std::chrono::steady_clock::time_point last_logged;
    std::uint64_t suppressed = 0;
  };
  std::chrono::milliseconds interval_;
  std::mutex mutex_;
  std::map<std::string, Entry> entries_;
};

}  // namespace kelvin::gateway
