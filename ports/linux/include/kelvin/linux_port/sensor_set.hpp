#pragma once
// The agent's sensors as one: reads every source with retries, counts failures per source, and
// merges what they measured into one SensorValues. A failing source never stops the others.
//
// Merging: sources are read in configuration order and a later source only fills quantities
// that are still empty, so each quantity comes from the first source that measured it this
// round (list the preferred sensor first; a second one of the same quantity is a fallback).
//
// Portable logic (no OS calls); it lives in the Linux port because only the Linux agent has
// several sources so far. Not thread-safe: the agent loop owns it.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "kelvin/core/result.hpp"
#include "kelvin/device/sensor_source.hpp"

namespace kelvin::linux_port {

struct SensorSetOptions {
  int retries = 3;  // extra attempts after a failed read, so up to 1 + retries reads per round
  std::chrono::milliseconds retry_delay{100};  // between attempts (DHT11 needs a moment)
};

// Per-source counters, for the agent's status and logs.
struct SourceStats {
  std::uint64_t attempts = 0;         // reads tried, retries included
  std::uint64_t failed_attempts = 0;  // reads that returned an error
  std::uint64_t failed_rounds = 0;    // rounds in which every attempt failed
  std::string last_error;             // message of the latest failed attempt, "" if none yet
};

// What one round produced.
struct SensorSetReading {
  device::SensorValues values{};  // merged; all empty if no source produced anything
  // Sources whose every attempt failed this round, with the last error (for the log).
  std::vector<std::pair<std::string, Error>> failures;
  bool empty() const;
};

class SensorSet {
 public:
  // Waits between attempts; replaceable so tests do not sleep.
  using Sleeper = std::function<void(std::chrono::milliseconds)>;

  explicit SensorSet(std::vector<std::unique_ptr<device::SensorSource>> sources, SensorSetOptions options = {},
                     Sleeper sleeper = {});

  SensorSetReading read(std::int64_t now_ms);

  std::size_t size() const { return sources_.size(); }
  const device::SensorSource& source(std::size_t index) const { return *sources_[index]; }
  const SourceStats& stats(std::size_t index) const { return stats_[index]; }

 private:
  std::vector<std::unique_ptr<device::SensorSource>> sources_;
  std::vector<SourceStats> stats_;
  SensorSetOptions options_;
  Sleeper sleeper_;
};

// Reads `source` once plus up to `retries` more times until a read succeeds, updating `stats`.
// Returns the first success or the last error.
Result<device::SensorValues> read_with_retries(device::SensorSource& source, std::int64_t now_ms, int retries,
                                               SourceStats& stats, const std::function<void()>& between_attempts = {});

}  // namespace kelvin::linux_port
