#pragma once
// The measurement of `make bench-query`: the dashboard's series query (one device, a time range, a
// step giving about 1,000 points) asked of the embedded store directly, of the gateway's HTTPS API,
// and of InfluxDB 1.x holding the same readings, for ranges from an hour to the whole fill.
//
// For each range the same sequence of random devices is asked of all three, query after query, in
// an order that rotates (store, API, InfluxDB; API, InfluxDB, store; ...) so that neither drift of
// the shared machine nor caching favours one. Every answer is checked after its clock stopped: a
// 200 (or a store answer), exactly the buckets the fleet's model says the range holds, and the same
// numbers as the store's answer (the API: identical; InfluxDB: min and max identical and mean to
// 1e-9 in every bucket the range covers whole). Failures are counted and reported, never timed
// as successes.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>

#include "influx_load.hpp"
#include "kelvin/core/result.hpp"
#include "synthetic_fleet.hpp"

namespace kelvin::bench {

struct MeasureOptions {
  std::filesystem::path store_dir;  // holds telemetry.db, filled with `shape`
  FleetShape shape;
  std::size_t queries = 200;  // timed per range and system
  std::size_t warmup = 5;     // asked first per range and system, checked but not timed
  std::uint64_t seed = 1;     // of the random devices
  // The gateway's HTTPS API, signed in as this user (any role reads series).
  int api_port = 0;
  std::filesystem::path api_ca_file;
  std::string api_user;
  std::string api_password;
  InfluxTarget influx;
};

// Runs every range and prints the results as Markdown to `out`; progress goes to stderr. Fails
// only when something cannot be set up (the store cannot be opened, the sign-in is refused).
Result<void> measure(const MeasureOptions& options, std::FILE* out);

}  // namespace kelvin::bench
