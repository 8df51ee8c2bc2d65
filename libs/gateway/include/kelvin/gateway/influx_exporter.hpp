#pragma once
// The InfluxDB exporter: follows the store's export log and writes every stored reading to
// InfluxDB (docs/influxdb.md). Runs on its own threads with its own store connections, so a slow
// or absent InfluxDB never holds up the ingest.
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
//
// Read-ahead (start()): a reader thread with a connection of its own reads the batches after the
// one being written and formats them into their write bodies, at most kReadAhead batches ahead,
// so that InfluxDB does not wait for the store and the store not for InfluxDB. The export thread
// writes the prepared batches in order and alone decides what is accepted and moves the cursor,
// so read-ahead changes nothing of the contract above: a batch read ahead is written only after
// every batch before it was accepted, and a failed batch is retried as it is while the reader
// waits. step() does the same work without threads, one batch at a time (unit tests).

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "kelvin/gateway/rate_limited_log.hpp"
#include "kelvin/influx/writer.hpp"
#include "kelvin/store/store.hpp"

namespace kelvin::gateway {

// Writes one body of line protocol: influx::Writer::write in the gateway, a fake in unit tests.
// Called from one thread at a time (the export thread, or step()'s caller).
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
  std::uint64_t writes = 0;            // HTTP writes attempted
  std::uint64_t write_failures = 0;    // writes that failed in a way that is retried
  std::uint64_t cursor = 0;            // export position everything up to which is in InfluxDB
  std::uint64_t backlog_readings = 0;  // committed locally, not yet exported
  double lag_s = 0;                    // how long the oldest unexported reading has waited
  bool retrying = false;               // the last write failed and is being retried
  std::string last_error;              // of the last failed write; empty once one succeeds
  std::uint64_t batches_ready = 0;     // read ahead and formatted, waiting for the write in progress
};

class InfluxExporter {
 public:
  using WallClock = std::function<std::int64_t()>;  // Unix ms

  // Batches read ahead of the one being written (start()'s reader thread): enough to cover the
  // reader being scheduled late on a small machine, and a bound on memory (each ~1 MB at 5,000
  // readings).
  static constexpr std::size_t kReadAhead = 2;

  // `db_file` and `store_options` open the exporter's store connections (one for the cursor,
  // statuses and backlog, opened by load_cursor() or start(); one for the reader thread, opened by
  // start()), so the exporter never shares a connection with the ingest.
  InfluxExporter(std::filesystem::path db_file, store::StoreOptions store_options, LineSink sink,
                 ExporterOptions options, WallClock clock);
  ~InfluxExporter();
  InfluxExporter(const InfluxExporter&) = delete;
  InfluxExporter& operator=(const InfluxExporter&) = delete;

  // Opens the store connections, reads the cursor and starts the export and reader threads. After
  // stop() it may be called again and continues from the cursor. Errors (the store cannot be
  // opened or read; already running) start nothing.
  Result<void> start();
  // Returns after the write in progress (bounded by the writer's timeout); batches read ahead are
  // dropped and read again after the next start(), from the cursor.
  void stop();

  ExporterStats stats() const;

  // What one step did; the thread sleeps poll_interval after `idle`, the backoff after `failed`.
  enum class Step { idle, exported, failed };
  // One pass without threads or read-ahead: statuses if due, then the next batch of readings, read,
  // written and the cursor moved. Requires load_cursor() (opens the connection); `failed` without
  // it. For unit tests and tools; never while start()ed.
  Step step();
  Result<void> load_cursor();

 private:
  // One batch ready to write: the line protocol of its exportable readings in one body.
  struct PreparedBatch {
    std::string body;
    std::vector<std::size_t> line_ends;            // end of each line in body (after its newline)
    std::vector<store::ExportedReading> readings;  // the reading of each line, for logging a refused one
    std::uint64_t unexportable = 0;                // readings line protocol cannot carry (never stored in practice)
    std::uint64_t expired = 0;                     // read_export_batch's
    std::uint64_t end_position = 0;                // where the cursor moves once the batch is accepted
  };
  enum class Delivery { delivered, retry };

  static Result<PreparedBatch> prepare(store::Store& store, std::uint64_t after_position, std::size_t max_readings);
  // Writes the batch, isolating refused points, then moves the cursor and counts: `exported`, or
  // `failed` with nothing moved or counted (the caller retries the same batch).
  Step export_prepared(const PreparedBatch& batch);
  // Writes lines[first, last), splitting on bad data and adding the refused points to `rejected`;
  // `retry` as soon as a write fails for a reason that is not the data's, or stop() was called
  // (the caller retries the whole batch later).
  Delivery deliver(const PreparedBatch& batch, std::size_t first, std::size_t last, std::uint64_t& rejected);
  void export_statuses_if_due();
  void refresh_backlog();
  Result<void> open_store();
  void run();                           // the export thread
  void read_ahead(std::uint64_t from);  // the reader thread

  const std::filesystem::path db_file_;
  const store::StoreOptions store_options_;
  LineSink sink_;
  ExporterOptions options_;
  WallClock clock_;
  RateLimitedLog log_;

  // Used by one thread at a time: the caller until start(), then the export thread.
  std::optional<store::Store> store_;
  std::map<std::string, std::int64_t, std::less<>> statuses_sent_;  // device -> status at_ms written
  std::chrono::steady_clock::time_point next_status_check_{};
  // Used only by the reader thread (opened by start() before the thread).
  std::optional<store::Store> reader_store_;

  mutable std::mutex mutex_;  // guards everything below
  ExporterStats stats_;
  std::deque<PreparedBatch> ready_;      // read ahead, in position order; at most kReadAhead
  std::condition_variable batch_ready_;  // the export thread waits: a batch in ready_, or stop
  std::condition_variable room_;         // the reader waits: room in ready_, or stop
  bool stopping_ = false;
  std::thread thread_;
  std::thread reader_;
};

}  // namespace kelvin::gateway
