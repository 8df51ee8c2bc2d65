#include "kelvin/alerts/event_rates.hpp"

#include <algorithm>

namespace kelvin::alerts {

EventsPerMinute EventRates::sample(std::int64_t now_ms, const EventCounts& counts) {
  // Keep one sample at least a minute old, and nothing older than it.
  while (samples_.size() >= 2 && samples_[1].at_ms <= now_ms - kWindowMs) samples_.pop_front();
  EventsPerMinute rates{};
  if (!samples_.empty()) {
    const Sample& reference = samples_.front();
    const std::int64_t elapsed_ms = std::max(now_ms - reference.at_ms, kWindowMs);
    for (std::size_t i = 0; i < counts.size(); ++i) {
      if (!counts[i] || !reference.counts[i]) continue;
      // Counters only grow while the gateway runs; a smaller one would be a new count: nothing yet.
      const std::uint64_t events = *counts[i] >= *reference.counts[i] ? *counts[i] - *reference.counts[i] : 0;
      rates[i] = static_cast<double>(events) * static_cast<double>(kWindowMs) / static_cast<double>(elapsed_ms);
    }
  }
  samples_.push_back({.at_ms = now_ms, .counts = counts});
  return rates;
}

}  // namespace kelvin::alerts
