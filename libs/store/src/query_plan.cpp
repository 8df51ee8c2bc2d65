#include "query_plan.hpp"

#include <array>
#include <string>

#include "buckets.hpp"

namespace kelvin::store {
namespace {

Error invalid(std::string message) {
  return make_error(Errc::invalid_argument, "invalid query: " + std::move(message));
}

bool divides_step(Resolution resolution, std::int64_t step_ms) {
  auto width = rollup_width_ms(resolution);
  return !width || step_ms % *width == 0;
}

}  // namespace

std::int64_t RetentionHorizons::of(Resolution resolution) const noexcept {
  switch (resolution) {
    case Resolution::raw:
      return raw_ms;
    case Resolution::minute:
      return minute_ms;
    case Resolution::hour:
      return hour_ms;
    case Resolution::eight_hours:
      // Retention deletes 8-hour rollups with the hour ones (the same cutoff), so they are
      // complete from align_down(cutoff, 8 h), at or before the hour horizon: claiming the hour
      // horizon claims no data that is gone.
      return hour_ms;
  }
  return raw_ms;
}

Result<QueryPlan> plan_query(const Query& query, const RetentionHorizons& horizons) {
  if (query.step_ms <= 0) return invalid("step_ms must be > 0, got " + std::to_string(query.step_ms));
  if (query.from_ms >= query.to_ms) {
    return invalid("from_ms " + std::to_string(query.from_ms) + " must be before to_ms " + std::to_string(query.to_ms));
  }
  std::int64_t span = 0;
  if (__builtin_sub_overflow(query.to_ms, query.from_ms, &span) || span / query.step_ms > kMaxQueryBuckets) {
    return invalid("the range holds more than " + std::to_string(kMaxQueryBuckets) + " steps of " +
                   std::to_string(query.step_ms) + " ms; use a larger step_ms");
  }

  QueryPlan plan;
  auto start = align_down(query.from_ms, query.step_ms);
  auto last_start = align_down(query.to_ms - 1, query.step_ms);
  if (!start || !last_start || __builtin_add_overflow(*last_start, query.step_ms, &plan.end_ms)) {
    return invalid("the range cannot be aligned to step_ms (timestamps out of bounds)");
  }
  plan.start_ms = *start;

  if (query.force_resolution) {
    if (!divides_step(*query.force_resolution, query.step_ms)) {
      return invalid("resolution " + std::string(to_string(*query.force_resolution)) +
                     " needs step_ms to be a multiple of " +
                     std::to_string(rollup_width_ms(*query.force_resolution).value_or(1)));
    }
    plan.resolution = *query.force_resolution;
    return plan;
  }

  constexpr std::array<Resolution, 4> kCoarseToFine = {Resolution::eight_hours, Resolution::hour, Resolution::minute,
                                                       Resolution::raw};
  bool have_best = false;
  for (Resolution candidate : kCoarseToFine) {
    if (!divides_step(candidate, query.step_ms)) continue;
    if (horizons.of(candidate) <= plan.start_ms) {
      plan.resolution = candidate;
      return plan;
    }
    // Strictly earlier horizon wins, so ties keep the coarser (cheaper) candidate.
    if (!have_best || horizons.of(candidate) < horizons.of(plan.resolution)) {
      plan.resolution = candidate;
      have_best = true;
    }
  }
  return plan;
}

}  // namespace kelvin::store
