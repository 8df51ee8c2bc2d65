#pragma once
// Percentiles of the benchmarks' samples (make bench-query's query times, make bench-ota's
// download times).

#include <algorithm>
#include <cmath>
#include <vector>

namespace kelvin::bench {

// Nearest rank: the smallest value with at least p (0 < p <= 1) of the values at or below it; NAN
// without values.
inline double percentile(std::vector<double> values, double p) {
  if (values.empty()) return NAN;
  std::sort(values.begin(), values.end());
  const auto rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(values.size())));
  return values[std::clamp<std::size_t>(rank, 1, values.size()) - 1];
}

}  // namespace kelvin::bench
