#pragma once
// Query validation and the choice of resolution, kept free of SQLite so the rules are plain to
// read and to test.
//
// Rules: the coarsest resolution whose bucket width divides step_ms (8 hours, hour, minute, then
// raw, which always qualifies) is used if retention has not thinned it past the start of the
// (widened) range. Otherwise the next finer candidate that still covers it; if none covers it, the
// candidate reaching furthest back — the best data there is.

#include <cstdint>
#include <limits>

#include "kelvin/core/result.hpp"
#include "kelvin/store/types.hpp"

namespace kelvin::store {

// Per resolution, the earliest time from which retention has deleted nothing: data at or after it
// is complete. The minimum means "retention never deleted anything". The 8-hour rollups have no
// horizon of their own: they go with the hour rollups, and of() answers the hour horizon for them.
struct RetentionHorizons {
  std::int64_t raw_ms = std::numeric_limits<std::int64_t>::min();
  std::int64_t minute_ms = std::numeric_limits<std::int64_t>::min();
  std::int64_t hour_ms = std::numeric_limits<std::int64_t>::min();

  std::int64_t of(Resolution resolution) const noexcept;
};

struct QueryPlan {
  Resolution resolution = Resolution::raw;
  std::int64_t start_ms = 0;  // from_ms aligned down to step_ms
  std::int64_t end_ms = 0;    // to_ms aligned up to step_ms (exclusive)
};

Result<QueryPlan> plan_query(const Query& query, const RetentionHorizons& horizons);

}  // namespace kelvin::store
