#pragma once
// The rates an event_rate rule judges (docs/alerts.md): the gateway's ever-growing counters of
// refusals sampled at each evaluation, turned into events in the last minute. No clock of its own.

#include <array>
#include <cstdint>
#include <deque>
#include <optional>

#include "kelvin/alerts/alert_rule.hpp"

namespace kelvin::alerts {

using EventCounts = std::array<std::optional<std::uint64_t>, kGatewayEventCount>;
using EventsPerMinute = std::array<std::optional<double>, kGatewayEventCount>;

class EventRates {
 public:
  static constexpr std::int64_t kWindowMs = 60'000;

  // Records `counts` (nullopt: not counted) at `now_ms` and returns, per event, how many were
  // counted in the last minute: against the newest sample at least a minute old, or, while the
  // samples span less than a minute, against the oldest (so a burst is never extrapolated into a
  // higher rate). nullopt for an event without an earlier sample.
  EventsPerMinute sample(std::int64_t now_ms, const EventCounts& counts);

 private:
  struct Sample {
    std::int64_t at_ms = 0;
    EventCounts counts{};
  };
  std::deque<Sample> samples_;  // oldest first; the first one at least a minute old once there is one
};

}  // namespace kelvin::alerts
