// Commit throughput and CPU of the store, for two shapes of ingest batch:
//   batched  1000 readings (temperature and humidity) from 100 devices, 10 consecutive seqs per
//            device per batch: what the ingest commits when devices coalesce readings;
//   fleet    50 readings from 50 of 200 devices, one reading each, the devices taking turns: what
//            the ingest commits at 10,000 single-reading messages/s with a commit every 5 ms, where
//            every reading is a device of its own in its commit.
// Reports readings/s and CPU for new data and for a full resend (all duplicates), and the time of
// a year-long hourly query served from rollups. Each shape runs twice, in separate stores: with the
// rollups folded in every commit (fold interval 0, "-0") and with the default interval of a second ("-1s"), the
// commits' clock advancing by the shape's commit interval; the ratio is the folding's effect.
//
// Usage: store_bench [directory] [batches]   (directory defaults to $TMPDIR or /tmp; the
// database is created there and removed afterwards — put it on the disk you want to measure,
// because every commit fsyncs). Each shape commits the same number of readings: `batches`
// batches of the batched shape (default 200).

#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <string>
#include <vector>

#include "kelvin/store/store.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using kelvin::store::IngestBatch;

struct Shape {
  const char* name;
  int devices;                      // in the fleet
  int devices_per_batch;            // taking turns: batch b holds devices b*n .. b*n+n-1 (mod devices)
  int readings_per_device;          // consecutive seqs per device per batch
  std::int64_t commit_interval_ms;  // between the commits' clock readings
};
constexpr Shape kBatched{"batched", 100, 100, 10, 10};  // 100,000 readings/s
constexpr Shape kFleet{"fleet", 200, 50, 1, 5};         // 10,000 readings/s

constexpr std::int64_t kT0 = 1'735'689'600'000;
constexpr std::int64_t kInterval = 10'000;  // a reading every 10 s per device

std::string device_name(int index) {
  char name[24];
  std::snprintf(name, sizeof name, "bench-%04d", index);
  return name;
}

int readings_per_batch(const Shape& shape) {
  return shape.devices_per_batch * shape.readings_per_device;
}

// The batches of one shape, `readings` readings in all, in the order the ingest would commit them.
std::vector<IngestBatch> make_batches(const Shape& shape, int readings) {
  std::vector<IngestBatch> batches;
  std::vector<int> taken(static_cast<std::size_t>(shape.devices), 0);  // readings so far per device
  for (int b = 0; b * readings_per_batch(shape) < readings; ++b) {
    IngestBatch batch;
    batch.readings.reserve(static_cast<std::size_t>(readings_per_batch(shape)));
    for (int k = 0; k < shape.devices_per_batch; ++k) {
      const int d = (b * shape.devices_per_batch + k) % shape.devices;
      for (int i = 0; i < shape.readings_per_device; ++i) {
        const int n = taken[static_cast<std::size_t>(d)]++;  // 0-based reading number of this device
        kelvin::proto::Reading reading;
        reading.seq = static_cast<std::uint64_t>(n) + 1;
        reading.ts_ms = kT0 + static_cast<std::int64_t>(n) * kInterval + d;
        reading.set(kelvin::proto::Quantity::temperature, 20.0 + static_cast<double>((n + d) % 100) / 10.0);
        reading.set(kelvin::proto::Quantity::humidity, 40.0 + static_cast<double>((n * 7 + d) % 300) / 10.0);
        batch.readings.push_back({device_name(d), reading});
      }
    }
    batches.push_back(std::move(batch));
  }
  return batches;
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Commits every batch of `shape` into a new store in `dir`, then all of them again (duplicates),
// then queries a year of one device. Returns 0, or 1 after printing what failed.
int run_shape(const Shape& shape, const std::filesystem::path& dir, int readings, std::int64_t fold_interval_ms) {
  const auto prepared = make_batches(shape, readings);
  std::int64_t now = kT0 + static_cast<std::int64_t>(readings) * kInterval;
  kelvin::store::StoreOptions options;
  options.rollup_fold_interval_ms = fold_interval_ms;
  const std::string name = std::string(shape.name) + (fold_interval_ms == 0 ? "-0" : "-1s");
  auto store = kelvin::store::Store::open(dir / (name + ".db"), options);
  if (!store) {
    std::fprintf(stderr, "open: %s\n", store.error().message.c_str());
    return 1;
  }
  auto pass = [&](const char* label) {
    std::size_t stored = 0;
    std::size_t duplicates = 0;
    std::vector<double> commit_ms;  // each commit's duration: a slow one delays all of its readings
    commit_ms.reserve(prepared.size());
    const auto start = Clock::now();
    const std::clock_t cpu_start = std::clock();
    for (const auto& batch : prepared) {
      now += shape.commit_interval_ms;
      const auto commit_start = Clock::now();
      auto summary = store->commit(batch, now);
      commit_ms.push_back(seconds_since(commit_start) * 1000.0);
      if (!summary) {
        std::fprintf(stderr, "commit: %s\n", summary.error().message.c_str());
        return false;
      }
      stored += summary->stored;
      duplicates += summary->duplicates;
    }
    std::sort(commit_ms.begin(), commit_ms.end());
    const double elapsed = seconds_since(start);
    const double cpu = static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;
    const double total = static_cast<double>(prepared.size()) * readings_per_batch(shape);
    std::printf(
        "%-10s %-7s %zu batches x %d readings (%d devices each): %.2f s, %.0f readings/s, %.2f ms/commit"
        " (p99 %.1f, max %.1f), %.2f s CPU per 100k (stored %zu, duplicates %zu)\n",
        name.c_str(), label, prepared.size(), readings_per_batch(shape), shape.devices_per_batch, elapsed,
        total / elapsed, elapsed * 1000.0 / static_cast<double>(prepared.size()),
        commit_ms[commit_ms.size() * 99 / 100], commit_ms.back(), cpu * 100000.0 / total, stored, duplicates);
    return true;
  };
  if (!pass("new") || !pass("resend")) return 1;

  kelvin::store::Query query;
  query.device_id = device_name(0);
  query.quantity = kelvin::proto::Quantity::temperature;
  query.from_ms = kT0;
  query.to_ms = kT0 + 365LL * 86'400'000;
  query.step_ms = 3'600'000;
  const auto start = Clock::now();
  auto result = store->query(query);
  const double elapsed = seconds_since(start);
  if (!result) {
    std::fprintf(stderr, "query: %s\n", result.error().message.c_str());
    return 1;
  }
  std::printf("%-10s query   one device, a year at 1 h (%s): %zu buckets in %.2f ms\n", name.c_str(),
              std::string(kelvin::store::to_string(result->resolution)).c_str(), result->buckets.size(),
              elapsed * 1000.0);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::filesystem::path base = argc > 1 ? std::filesystem::path(argv[1]) : std::filesystem::temp_directory_path();
  const int batches = argc > 2 ? std::atoi(argv[2]) : 200;
  if (batches <= 0) {
    std::fprintf(stderr, "usage: store_bench [directory] [batches > 0]\n");
    return 2;
  }
  std::string pattern = (base / "kelvin-store-bench-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }
  const std::filesystem::path dir = pattern;
  const int readings = batches * readings_per_batch(kBatched);
  int status = 0;
  for (const Shape& shape : {kBatched, kFleet}) {
    for (std::int64_t fold_interval_ms : {std::int64_t{0}, std::int64_t{1000}}) {
      if (status == 0) status = run_shape(shape, dir, readings, fold_interval_ms);
    }
  }
  std::filesystem::remove_all(dir);
  return status;
}
