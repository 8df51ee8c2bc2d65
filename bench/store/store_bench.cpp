// Commit throughput and CPU of the store: batches of 1000 readings (temperature and humidity) from 100
// devices, 10 consecutive seqs per device per batch, the shape the gateway's ingest produces
// under load. Reports readings/s for new data and for a full resend (all duplicates), and the
// time of a year-long hourly query served from rollups.
//
// Usage: store_bench [directory] [batches]   (directory defaults to $TMPDIR or /tmp; the
// database is created there and removed afterwards — put it on the disk you want to measure,
// because every commit fsyncs).

#include <stdlib.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "kelvin/store/store.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using kelvin::store::IngestBatch;

constexpr int kDevices = 100;
constexpr int kReadingsPerDevice = 10;  // per batch
constexpr std::int64_t kT0 = 1'735'689'600'000;
constexpr std::int64_t kInterval = 10'000;  // a reading every 10 s per device

std::string device_name(int index) {
  char name[16];
  std::snprintf(name, sizeof name, "bench-%03d", index);
  return name;
}

IngestBatch make_batch(int batch_index, const std::vector<std::string>& devices) {
  IngestBatch batch;
  batch.readings.reserve(static_cast<std::size_t>(kDevices * kReadingsPerDevice));
  for (int d = 0; d < kDevices; ++d) {
    for (int i = 0; i < kReadingsPerDevice; ++i) {
      const int n = batch_index * kReadingsPerDevice + i;  // 0-based reading number of this device
      kelvin::proto::Reading reading;
      reading.seq = static_cast<std::uint64_t>(n) + 1;
      reading.ts_ms = kT0 + static_cast<std::int64_t>(n) * kInterval + d;
      reading.set(kelvin::proto::Quantity::temperature, 20.0 + static_cast<double>((n + d) % 100) / 10.0);
      reading.set(kelvin::proto::Quantity::humidity, 40.0 + static_cast<double>((n * 7 + d) % 300) / 10.0);
      batch.readings.push_back({devices[static_cast<std::size_t>(d)], reading});
    }
  }
  return batch;
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
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

  int status = 0;
  {
    auto store = kelvin::store::Store::open(dir / "store.db");
    if (!store) {
      std::fprintf(stderr, "open: %s\n", store.error().message.c_str());
      std::filesystem::remove_all(dir);
      return 1;
    }
    std::vector<std::string> devices;
    for (int d = 0; d < kDevices; ++d) devices.push_back(device_name(d));
    std::vector<IngestBatch> prepared;
    prepared.reserve(static_cast<std::size_t>(batches));
    for (int b = 0; b < batches; ++b) prepared.push_back(make_batch(b, devices));
    const std::int64_t now = kT0 + static_cast<std::int64_t>(batches * kReadingsPerDevice) * kInterval;

    auto run = [&](const char* label) {
      std::size_t stored = 0;
      std::size_t duplicates = 0;
      const auto start = Clock::now();
      const std::clock_t cpu_start = std::clock();
      for (const auto& batch : prepared) {
        auto summary = store->commit(batch, now);
        if (!summary) {
          std::fprintf(stderr, "commit: %s\n", summary.error().message.c_str());
          status = 1;
          return;
        }
        stored += summary->stored;
        duplicates += summary->duplicates;
      }
      const double elapsed = seconds_since(start);
      const double cpu = static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;
      const double readings = static_cast<double>(prepared.size()) * kDevices * kReadingsPerDevice;
      std::printf(
          "%-10s %d batches x %d readings: %.2f s, %.0f readings/s, %.1f ms/commit, %.2f s CPU per 100k"
          " (stored %zu, duplicates %zu)\n",
          label, batches, kDevices * kReadingsPerDevice, elapsed, readings / elapsed,
          elapsed * 1000.0 / static_cast<double>(batches), cpu * 100000.0 / readings, stored, duplicates);
    };
    run("new");
    if (status == 0) run("resend");

    if (status == 0) {
      kelvin::store::Query query;
      query.device_id = devices[0];
      query.quantity = kelvin::proto::Quantity::temperature;
      query.from_ms = kT0;
      query.to_ms = kT0 + 365LL * 86'400'000;
      query.step_ms = 3'600'000;
      const auto start = Clock::now();
      auto result = store->query(query);
      const double elapsed = seconds_since(start);
      if (!result) {
        std::fprintf(stderr, "query: %s\n", result.error().message.c_str());
        status = 1;
      } else {
        std::printf("query      one device, a year at 1 h (%s): %zu buckets in %.2f ms\n",
                    std::string(kelvin::store::to_string(result->resolution)).c_str(), result->buckets.size(),
                    elapsed * 1000.0);
      }
    }
  }
  std::filesystem::remove_all(dir);
  return status;
}
