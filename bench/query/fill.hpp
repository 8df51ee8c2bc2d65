#pragma once
// Filling a kelvin store with a synthetic fleet (synthetic_fleet.hpp) through the store's public
// write path, Store::commit, as the gateway's ingest does: every reading stored once, with its
// rollups (minute, hour, 8 hours) folded in the commit's transaction. Only the batches are
// larger than the ingest's (up to the largest it can be configured to commit, 100,000 readings),
// because fsyncs and rollup upserts are per commit, not per reading.

#include <cstddef>
#include <filesystem>

#include "kelvin/core/result.hpp"
#include "synthetic_fleet.hpp"

namespace kelvin::bench {

// The largest commit: the gateway's [ingest] batch_max_readings cannot be set higher.
inline constexpr std::size_t kMaxCommitReadings = 100'000;

struct FillOptions {
  int devices = 100;
  int days = 365;
  std::size_t commit_readings = kMaxCommitReadings;  // readings per commit, at most kMaxCommitReadings
};

// Makes `store_dir/telemetry.db` hold the fleet, and `store_dir/fill.txt` say so:
//  - a complete fill of the same devices and days is reused as it is;
//  - an incomplete one (an interrupted run) is resumed from the first minute some device lacks:
//    the store drops what it already holds as duplicates;
//  - anything else (another shape, no record) is refused if a store file exists: the caller
//    removes the directory first.
// The fleet's data ends at the current minute when a fill begins. Progress (percent, readings/s,
// time left) goes to stderr every two seconds.
Result<FillRecord> fill(const std::filesystem::path& store_dir, const FillOptions& options);

}  // namespace kelvin::bench
