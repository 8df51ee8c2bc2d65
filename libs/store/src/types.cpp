#include "kelvin/store/types.hpp"

#include <algorithm>
#include <array>
#include <utility>

namespace kelvin::store {
namespace {

constexpr std::array<std::pair<Aggregate, std::string_view>, 5> kAggregateNames = {{
    {Aggregate::mean, "mean"},
    {Aggregate::min, "min"},
    {Aggregate::max, "max"},
    {Aggregate::count, "count"},
    {Aggregate::last, "last"},
}};

constexpr std::array<std::pair<Resolution, std::string_view>, 4> kResolutionNames = {{
    {Resolution::raw, "raw"},
    {Resolution::minute, "minute"},
    {Resolution::hour, "hour"},
    {Resolution::eight_hours, "8h"},
}};

}  // namespace

bool in_runs(const std::vector<SeqRun>& runs, std::uint64_t seq) noexcept {
  return std::any_of(runs.begin(), runs.end(),
                     [seq](const SeqRun& run) { return seq >= run.first && seq <= run.last; });
}

std::string_view to_string(Aggregate aggregate) noexcept {
  for (const auto& [value, name] : kAggregateNames) {
    if (value == aggregate) return name;
  }
  return "unknown";
}

std::optional<Aggregate> parse_aggregate(std::string_view name) noexcept {
  for (const auto& [value, known] : kAggregateNames) {
    if (known == name) return value;
  }
  return std::nullopt;
}

std::string_view to_string(Resolution resolution) noexcept {
  for (const auto& [value, name] : kResolutionNames) {
    if (value == resolution) return name;
  }
  return "unknown";
}

std::optional<Resolution> parse_resolution(std::string_view name) noexcept {
  for (const auto& [value, known] : kResolutionNames) {
    if (known == name) return value;
  }
  return std::nullopt;
}

double value_of(const Bucket& bucket, Aggregate aggregate) noexcept {
  switch (aggregate) {
    case Aggregate::mean:
      return bucket.mean;
    case Aggregate::min:
      return bucket.min;
    case Aggregate::max:
      return bucket.max;
    case Aggregate::count:
      return static_cast<double>(bucket.count);
    case Aggregate::last:
      return bucket.last;
  }
  return bucket.mean;
}

}  // namespace kelvin::store
