#pragma once
// Operators' silences (docs/alerts.md, "Silences"): the alert routes set and lift them through the
// book, and the gateways of a share group exchange them (alert_sharing.hpp). Every change made here
// is the newest version of its (rule, subject)'s silence, which the shared listener is told of;
// merge() takes a version from another gateway when it supersedes the one stored here
// (store::supersedes). alerts.db keeps the silences; the book holds no state of its own.
//
// Threads: any. Changes run one at a time: each holds the change mutex from its write to alerts.db
// to the listener's return, so the listener sees the versions in the order they were stored and a
// gateway never publishes an older version of a silence after a newer one. The change mutex is
// taken before alerts.db's write lock; the listener takes only leaf locks under it (its counters,
// the MQTT client's).

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string_view>

#include "kelvin/core/result.hpp"
#include "kelvin/store/alert_db.hpp"

namespace kelvin::gateway {

// A silence ends within this long of being set or changed (the API refuses a later end).
inline constexpr std::int64_t kMaxSilenceMs = 90LL * 86'400'000;

class SilenceBook {
 public:
  using SharedListener = std::function<void(const store::SilenceRecord&)>;

  // Called with the new version after each change stored (set or lifted here, or taken by
  // merge()). Set it before the first change; without one, changes are only stored.
  void on_shared_change(SharedListener listener);

  // store::AlertDb::silence, then tells the listener.
  Result<store::SilenceRecord> set(store::AlertDb& db, const store::SilenceRecord& silence, std::int64_t now_ms);
  // store::AlertDb::lift_silence, then tells the listener of the lift.
  Result<std::optional<store::SilenceRecord>> lift(store::AlertDb& db, std::int64_t id, std::string_view user,
                                                   std::int64_t now_ms);
  // store::AlertDb::take_silence with another gateway's version; tells the listener when taken.
  Result<bool> merge(store::AlertDb& db, const store::SilenceRecord& version);

 private:
  void tell_shared(const store::SilenceRecord& version) const;

  std::mutex change_mutex_;  // held by each change, from its write to the listener's return
  SharedListener shared_listener_;
};

}  // namespace kelvin::gateway
