#pragma once
// The InfluxDB exporter: follows the store's export log and writes every stored reading to
// InfluxDB (docs/influxdb.md). Runs on its own thread with its own store connection, so a slow or
// absent InfluxDB never holds up the ingest.
//
// Contract:
//  - At least once, in commit order: the cursor (store.export_cursor(name)) moves only after
//    InfluxDB accepted the readings up to it, and survives restarts. Points are idempotent
//    (influx_points.hpp), so a write repeated after a crash or a retry duplicates nothing.
//  - InfluxDB unreachable, slow, 5xx, 401/403/404, TLS failure: the same batch is retried with
//    exponential backoff (retry_min doubling to retry_max); the cursor waits, the ingest goes on.
//  - A batch refused for its data (400, 413, 422) is split in halves until the refused points are
//    single readings; those are logged (rate-limited) and counted in points_rejected, everything
//    else is written, and the export goes on past them.
//  - Device statuses are written as they change (checked every status_interval), best effort:
//    a failed status write is retried at the next check.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "kelvin/gateway/rate_limited_log.hpp"
#include "kelvin/influx/writer.hpp"
#include "kelvin/store/store.hpp"

namespace kelvin::gateway {

// Writes one body of line protocol: influx::Writer::write in the gateway, a fake in unit tests.
using LineSink = std::function<influx::WriteResult(std::string_view lines)>;

struct ExporterOptions {
  std::string name = "influxdb";  // the store's cursor name
  std::size_t batch_readings = 5000;
  std::chrono::milliseconds poll_interval{250};  // how often a caught-up exporter looks again
  std::chrono::milliseconds retry_min{1000};
  std::chrono::milliseconds retry_max{30'000};
  std::chrono::milliseconds status_interval{5000};
};

struct ExporterStats {
  std::uint64_t readings_exported = 0;  // accepted by InfluxDB (a retried reading counts once per acceptance)
  std::uint64_t points_rejected = 0;    // readings InfluxDB refused as bad data: skipped
  std::uint64_t readings_expired = 0;   // deleted by retention before they could be exported
  std::uint64_t statuses_exported = 0;
  std::uint64_t writes = 0;             // HTTP writes attempted
  std::uint64_t write_failures = 0;     // writes that failed in a way that is retried
  std::uint64_t cursor = 0;             // export position everything up to which is in InfluxDB
  std::uint64_t backlog_readings = 0;   // committed locally, not yet exported
  double lag_s = 0;                     // how long the oldest unexported reading has waited
  bool retrying = false;                // the last write failed and is being retried
  std::string last_error;               // of the last failed write; empty once one succeeds
};

class InfluxExporter {
 public:
  using WallClock = std::function<std::int64_t()>;  // Unix ms

  InfluxExporter(store::Store store, LineSink sink, ExporterOptions options, WallClock clock);
  ~InfluxExporter();
  InfluxExporter(const InfluxExporter&) = delete;
  InfluxExporter& operator=(const InfluxExporter&) = delete;

  // Reads the cursor and starts the export thread.
  Result<void> start();
  // Returns after the write in progress (bounded by the writer's timeout).
  void stop();

  ExporterStats stats() const;

  // What one step did; the thread sleeps poll_interval after `idle`, the backoff after `failed`.
  enum class Step { idle, exported, failed };
  // One pass: statuses if due, then the next batch of readings. Used by the thread, and directly by
  // unit tests (without start()). Requires the cursor loaded (start() or load_cursor()).
  Step step();
  Result<void> load_cursor();

 private:
  struct PendingLine {
    std::string text;   // line protocol, newline included
    std::string label;  // "<device> seq <n>", for the log when InfluxDB refuses it
  };
  enum class Delivery { delivered, retry };
  // Writes lines[first, last), splitting on bad data; `retry` as soon as a write fails for a
  // reason that is not the data's (the caller retries the whole batch later).
  Delivery deliver(const std::vector<PendingLine>& lines, std::size_t first, std::size_t last);
  void export_statuses();
  void refresh_backlog();
  void run();

  store::Store store_;
  LineSink sink_;
  ExporterOptions options_;
  WallClock clock_;
  RateLimitedLog log_;

  std::map<std::string, std::int64_t, std::less<>> statuses_sent_;  // device -> status at_ms written
  std::chrono::steady_clock::time_point next_status_check_{};

  mutable std::mutex mutex_;
  ExporterStats stats_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace kelvin::gateway
