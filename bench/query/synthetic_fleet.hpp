#pragma once
// The data of `make bench-query`: `devices` devices, each reading temperature and humidity once a
// minute for `days` days up to `end_ms`. Every reading is a pure function of (device, minute), so
// any part of the data can be made again without state: the fill makes it in commit order, and
// the measurement recomputes from it how many buckets each answer must hold.
//
// Device d reads at a fixed second of every minute of its own (its clock phase), as independent
// devices do; seq = minute index + 1, so a device's ack after the fill is the number of minutes.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "kelvin/core/result.hpp"
#include "kelvin/proto/telemetry.hpp"

namespace kelvin::bench {

struct FleetShape {
  int devices = 100;
  int days = 365;
  std::int64_t end_ms = 0;  // a whole minute; readings lie in [start_ms(), end_ms)

  std::int64_t minutes() const;  // readings per device
  std::int64_t start_ms() const;
  std::uint64_t readings() const;
};

// "bench-000", "bench-001", ...: valid device ids that sort in index order.
std::string device_name(int index);

// When device `device` reads in minute `minute` (0-based from start_ms()).
std::int64_t reading_ts(const FleetShape& shape, int device, std::int64_t minute);

// The reading of `device` in `minute`: seq minute + 1, a temperature with a yearly and a daily
// cycle, a per-device offset and noise (°C, two decimals), and a humidity that falls as it warms
// (%RH, one decimal, within 5..95).
proto::Reading make_reading(const FleetShape& shape, int device, std::int64_t minute);

// The buckets of `step_ms` (aligned to multiples of it since the epoch) that hold at least one
// reading of `device` with a timestamp in [from_ms, to_ms), by start, ascending: the points an
// answer over that range must have.
std::vector<std::int64_t> bucket_starts(const FleetShape& shape, int device, std::int64_t from_ms, std::int64_t to_ms,
                                        std::int64_t step_ms);

// What a store directory holds: the shape it was (or is being) filled with, and how the fill went.
// Kept in `fill.txt` beside the store, so a later run can reuse a complete fill or resume one.
struct FillRecord {
  FleetShape shape;
  std::size_t commit_readings = 0;  // readings per commit of the fill
  bool complete = false;
  double fill_seconds = 0;  // wall time of the fill, summed over resumed runs
};

// Errc::not_found when there is no record, Errc::corrupt when it cannot be read.
Result<FillRecord> read_fill_record(const std::filesystem::path& file);
// Written to a temporary file and renamed: a record is either the old one or the new one.
Result<void> write_fill_record(const std::filesystem::path& file, const FillRecord& record);

}  // namespace kelvin::bench
