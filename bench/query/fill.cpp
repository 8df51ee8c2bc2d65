#include "fill.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <future>
#include <string>
#include <vector>

#include "kelvin/core/time_arguments.hpp"
#include "kelvin/store/store.hpp"

namespace kelvin::bench {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kProgressInterval = std::chrono::seconds(2);

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Minutes per commit: as many as `commit_readings` allows for all devices, in whole hours when
// that is at least one, so that each hour rollup is written by one commit instead of being
// upserted again by the next (the rollup comes out the same either way).
std::int64_t minutes_per_commit(const FillOptions& options) {
  const auto readings = std::min(options.commit_readings, kMaxCommitReadings);
  const auto minutes = std::max<std::int64_t>(1, static_cast<std::int64_t>(readings) / options.devices);
  constexpr std::int64_t kMinutesPerHour = kHourMs / kMinuteMs;
  return minutes >= kMinutesPerHour ? minutes / kMinutesPerHour * kMinutesPerHour : minutes;
}

// Minutes [first, last) of every device, minute after minute: the order in which a fleet's
// readings arrive.
store::IngestBatch make_batch(const FleetShape& shape, const std::vector<std::string>& names, std::int64_t first,
                              std::int64_t last) {
  store::IngestBatch batch;
  batch.readings.reserve(static_cast<std::size_t>((last - first) * shape.devices));
  for (std::int64_t minute = first; minute < last; ++minute) {
    for (int device = 0; device < shape.devices; ++device) {
      batch.readings.push_back({names[static_cast<std::size_t>(device)], make_reading(shape, device, minute)});
    }
  }
  return batch;
}

std::string duration_text(double seconds) {
  const long whole = std::lround(seconds);
  char text[32];
  std::snprintf(text, sizeof text, "%ld min %02ld s", whole / 60, whole % 60);
  return text;
}

class Progress {
 public:
  Progress(std::uint64_t total, std::uint64_t done) : total_(total), resumed_at_(done) {}

  // Prints at most every kProgressInterval (or when forced); says whether it printed.
  bool report(std::uint64_t done, bool force = false) {
    if (!force && Clock::now() - last_ < kProgressInterval) return false;
    last_ = Clock::now();
    const double elapsed = seconds_since(start_);
    const double rate = elapsed > 0 ? static_cast<double>(done - resumed_at_) / elapsed : 0;
    const double left = rate > 0 ? static_cast<double>(total_ - done) / rate : 0;
    std::fprintf(stderr, "fill: %5.1f %% (%llu of %llu readings), %.0f readings/s, %s left\n",
                 100.0 * static_cast<double>(done) / static_cast<double>(total_), static_cast<unsigned long long>(done),
                 static_cast<unsigned long long>(total_), rate, duration_text(left).c_str());
    return true;
  }

 private:
  std::uint64_t total_;
  std::uint64_t resumed_at_;
  Clock::time_point start_ = Clock::now();
  Clock::time_point last_ = Clock::now();
};

// The first minute not yet stored for every device: the smallest ack (seq = minute + 1).
Result<std::int64_t> first_missing_minute(store::Store& store, const FleetShape& shape) {
  auto smallest = static_cast<std::uint64_t>(shape.minutes());
  for (int device = 0; device < shape.devices; ++device) {
    auto acked = store.acked_seq(device_name(device));
    if (!acked) return std::move(acked).error();
    smallest = std::min(smallest, *acked);
  }
  return static_cast<std::int64_t>(smallest);
}

// Where the fill starts: a new record, or the one an interrupted fill of the same shape left.
Result<FillRecord> plan(const std::filesystem::path& store_dir, const FillOptions& options) {
  auto existing = read_fill_record(store_dir / "fill.txt");
  if (existing) {
    if (existing->shape.devices == options.devices && existing->shape.days == options.days) return existing;
    return make_error(Errc::conflict, store_dir.string() + " holds " + std::to_string(existing->shape.devices) +
                                          " devices x " + std::to_string(existing->shape.days) +
                                          " days; remove it to fill another shape");
  }
  if (existing.error().code != Errc::not_found) return std::move(existing).error();
  if (std::filesystem::exists(store_dir / "telemetry.db")) {
    return make_error(Errc::conflict, store_dir.string() + " has a store but no fill record; remove it first");
  }
  FillRecord record;
  record.shape.devices = options.devices;
  record.shape.days = options.days;
  record.shape.end_ms = wall_clock_ms() / kMinuteMs * kMinuteMs;
  record.commit_readings = static_cast<std::size_t>(minutes_per_commit(options) * options.devices);
  if (auto written = write_fill_record(store_dir / "fill.txt", record); !written) return std::move(written).error();
  return record;
}

// Commits minutes [from, shape.minutes()) while the next batch is made on another thread; calls
// `checkpoint` with each progress report.
template <class Checkpoint>
Result<void> commit_minutes(store::Store& store, const FleetShape& shape, std::int64_t from, std::int64_t per_commit,
                            Checkpoint checkpoint) {
  std::vector<std::string> names;
  names.reserve(static_cast<std::size_t>(shape.devices));
  for (int device = 0; device < shape.devices; ++device) names.push_back(device_name(device));
  auto batch_at = [&](std::int64_t first) {
    return std::async(std::launch::async, make_batch, std::cref(shape), std::cref(names), first,
                      std::min(first + per_commit, shape.minutes()));
  };
  Progress progress(shape.readings(), static_cast<std::uint64_t>(from * shape.devices));
  auto next = batch_at(from);
  for (std::int64_t first = from; first < shape.minutes(); first += per_commit) {
    store::IngestBatch batch = next.get();
    if (first + per_commit < shape.minutes()) next = batch_at(first + per_commit);
    auto committed = store.commit(batch, wall_clock_ms());
    if (!committed) return std::move(committed).error();
    const std::int64_t done = std::min(first + per_commit, shape.minutes());
    if (progress.report(static_cast<std::uint64_t>(done * shape.devices), done == shape.minutes())) checkpoint();
  }
  return {};
}

}  // namespace

Result<FillRecord> fill(const std::filesystem::path& store_dir, const FillOptions& options) {
  auto record = plan(store_dir, options);
  if (!record) return record;
  if (record->complete) return record;
  auto store = store::Store::open(store_dir / "telemetry.db");
  if (!store) return std::move(store).error();
  auto from = first_missing_minute(*store, record->shape);
  if (!from) return std::move(from).error();
  const std::int64_t per_commit = static_cast<std::int64_t>(record->commit_readings) / record->shape.devices;
  std::fprintf(stderr, "fill: %d devices x %d days of one-minute readings, %llu readings, commits of %zu%s\n",
               record->shape.devices, record->shape.days, static_cast<unsigned long long>(record->shape.readings()),
               record->commit_readings, *from > 0 ? (", resuming at minute " + std::to_string(*from)).c_str() : "");
  // The record keeps the time spent so far, so that a resumed fill reports the whole of it.
  const auto start = Clock::now();
  const double earlier_seconds = record->fill_seconds;
  auto checkpoint = [&] {
    record->fill_seconds = earlier_seconds + seconds_since(start);
    (void)write_fill_record(store_dir / "fill.txt", *record);
  };
  auto committed = commit_minutes(*store, record->shape, *from, per_commit, checkpoint);
  if (!committed) return std::move(committed).error();
  record->fill_seconds = earlier_seconds + seconds_since(start);
  record->complete = true;
  if (auto written = write_fill_record(store_dir / "fill.txt", *record); !written) return std::move(written).error();
  return record;
}

}  // namespace kelvin::bench
