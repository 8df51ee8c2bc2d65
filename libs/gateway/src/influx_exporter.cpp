#include "kelvin/gateway/influx_exporter.hpp"

#include <algorithm>

#include "kelvin/core/thread_name.hpp"
#include "kelvin/gateway/influx_points.hpp"
#include "kelvin/log/log.hpp"
#include "kelvin/log/subject.hpp"

namespace kelvin::gateway {

namespace {

// A line is about 90 bytes with a short device id (docs/benchmarks.md); reserving that per reading
// builds most bodies without reallocating.
constexpr std::size_t kLineBytesGuess = 96;

}  // namespace

InfluxExporter::InfluxExporter(std::filesystem::path db_file, store::StoreOptions store_options, LineSink sink,
                               ExporterOptions options, WallClock clock)
    : db_file_(std::move(db_file)),
      store_options_(store_options),
      sink_(std::move(sink)),
      options_(std::move(options)),
      clock_(std::move(clock)) {
  options_.batch_readings = std::max<std::size_t>(options_.batch_readings, 1);
}

InfluxExporter::~InfluxExporter() {
  stop();
}

Result<void> InfluxExporter::open_store() {
  if (store_) return {};
  auto store = store::Store::open(db_file_, store_options_);
  if (!store) return std::move(store).error();
  store_ = std::move(*store);
  return {};
}

Result<void> InfluxExporter::load_cursor() {
  if (auto opened = open_store(); !opened) return opened;
  auto cursor = store_->export_cursor(options_.name);
  if (!cursor) return std::move(cursor).error();
  std::lock_guard lock(mutex_);
  stats_.cursor = *cursor;
  return {};
}

Result<void> InfluxExporter::start() {
  if (thread_.joinable()) return make_error(Errc::conflict, "the InfluxDB exporter is already running");
  {
    std::lock_guard lock(mutex_);
    stopping_ = false;  // a stopped exporter may be started again
  }
  if (auto loaded = load_cursor(); !loaded) return loaded;
  auto reader_store = store::Store::open(db_file_, store_options_);
  if (!reader_store) return std::move(reader_store).error();
  reader_store_ = std::move(*reader_store);
  refresh_backlog();
  const std::uint64_t cursor = stats().cursor;
  thread_ = core::named_thread("influx-export", [this] { run(); });
  reader_ = core::named_thread("influx-read", [this, cursor] { read_ahead(cursor); });
  return {};
}

void InfluxExporter::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  batch_ready_.notify_all();
  room_.notify_all();
  if (reader_.joinable()) reader_.join();
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(mutex_);
  ready_.clear();
  stats_.batches_ready = 0;
}

ExporterStats InfluxExporter::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void InfluxExporter::read_ahead(std::uint64_t from) {
  // `position` is where the last batch handed over ends: the reader runs ahead of the cursor,
  // which only the export thread moves, once InfluxDB accepted each batch in turn.
  std::uint64_t position = from;
  auto backoff = options_.retry_min;
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    if (ready_.size() >= kReadAhead) {
      room_.wait(lock, [this] { return stopping_ || ready_.size() < kReadAhead; });
      continue;
    }
    lock.unlock();
    auto prepared = prepare(*reader_store_, position, options_.batch_readings);
    if (!prepared) log::component("export").error("cannot read the store: {}", prepared.error().message);
    lock.lock();
    if (!prepared) {
      room_.wait_for(lock, backoff, [this] { return stopping_; });
      backoff = std::min(backoff * 2, options_.retry_max);
      continue;
    }
    backoff = options_.retry_min;
    if (prepared->end_position == position) {  // caught up: look again later
      room_.wait_for(lock, options_.poll_interval, [this] { return stopping_; });
      continue;
    }
    position = prepared->end_position;
    ready_.push_back(std::move(*prepared));
    stats_.batches_ready = ready_.size();
    batch_ready_.notify_one();
  }
}

void InfluxExporter::run() {
  auto backoff = options_.retry_min;
  // The batch being written: taken from ready_ and kept until accepted, so a failure retries this
  // very batch; the reader meanwhile fills ready_ and then waits.
  std::optional<PreparedBatch> current;
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    export_statuses_if_due();
    lock.lock();
    if (stopping_) break;
    if (!current) {
      // Woken by the reader; otherwise every poll_interval, as a caught-up step() loop would be, for
      // the statuses and to keep backlog and lag current (readings the reader has not seen yet).
      if (!batch_ready_.wait_for(lock, options_.poll_interval, [this] { return stopping_ || !ready_.empty(); })) {
        lock.unlock();
        refresh_backlog();
        lock.lock();
        continue;
      }
      if (stopping_) break;
      current = std::move(ready_.front());
      ready_.pop_front();
      stats_.batches_ready = ready_.size();
      room_.notify_one();
    }
    lock.unlock();
    const Step step_done = export_prepared(*current);
    lock.lock();
    if (step_done == Step::exported) {
      current.reset();
      backoff = options_.retry_min;
      continue;
    }
    batch_ready_.wait_for(lock, backoff, [this] { return stopping_; });
    backoff = std::min(backoff * 2, options_.retry_max);
  }
}

InfluxExporter::Step InfluxExporter::step() {
  if (!store_) return Step::failed;  // load_cursor() was not called or failed
  export_statuses_if_due();

  const std::uint64_t cursor = stats().cursor;
  auto batch = prepare(*store_, cursor, options_.batch_readings);
  if (!batch) {
    log::component("export").error("cannot read the store: {}", batch.error().message);
    return Step::failed;
  }
  if (batch->end_position == cursor) {
    refresh_backlog();
    return Step::idle;
  }
  return export_prepared(*batch);
}

Result<InfluxExporter::PreparedBatch> InfluxExporter::prepare(store::Store& store, std::uint64_t after_position,
                                                              std::size_t max_readings) {
  auto read = store.read_export_batch(after_position, max_readings);
  if (!read) return std::move(read).error();
  PreparedBatch batch;
  batch.expired = read->expired;
  batch.end_position = read->end_position;
  batch.readings = std::move(read->readings);
  batch.body.reserve(batch.readings.size() * kLineBytesGuess);
  batch.line_ends.reserve(batch.readings.size());
  // Lines go straight into the one body; the readings of the lines stay, moved up over the
  // unexportable ones, so that line i is readings[i].
  std::size_t kept = 0;
  for (std::size_t i = 0; i < batch.readings.size(); ++i) {
    store::ExportedReading& exported = batch.readings[i];
    if (auto formatted = append_reading_line(batch.body, exported); !formatted) {
      // The store holds nothing line protocol cannot carry; if it ever does, skip it loudly.
      // append_reading_line leaves the body untouched on error.
      ++batch.unexportable;
      const log::Subjects about{{log::SubjectKey::device, exported.device_id}};
      log::component("export").error("{} seq {} cannot be exported: {}", exported.device_id, exported.reading.seq,
                                     formatted.error().message);
      continue;
    }
    batch.line_ends.push_back(batch.body.size());
    if (kept != i) batch.readings[kept] = std::move(exported);
    ++kept;
  }
  batch.readings.erase(batch.readings.begin() + static_cast<std::ptrdiff_t>(kept), batch.readings.end());
  return batch;
}

InfluxExporter::Step InfluxExporter::export_prepared(const PreparedBatch& batch) {
  // Refused points are counted only once the batch is accepted and the cursor moved, like the
  // exported ones: a batch retried after an outage during bisection counts them once.
  std::uint64_t rejected = 0;
  const std::size_t lines = batch.line_ends.size();
  if (lines > 0 && deliver(batch, 0, lines, rejected) == Delivery::retry) {
    refresh_backlog();  // the backlog grows while InfluxDB is away: keep the figure current
    return Step::failed;
  }

  if (auto advanced = store_->advance_export_cursor(options_.name, batch.end_position, clock_()); !advanced) {
    // InfluxDB has the data; the batch is written again, which is harmless.
    log::component("export").error("cannot save the export cursor: {}", advanced.error().message);
    return Step::failed;
  }
  if (batch.expired > 0) {
    log::component("export").warn("{} readings were deleted by retention before they could be exported", batch.expired);
  }
  {
    std::lock_guard lock(mutex_);
    stats_.readings_exported += lines - rejected;
    stats_.points_rejected += rejected + batch.unexportable;
    stats_.readings_expired += batch.expired;
    stats_.cursor = batch.end_position;
  }
  refresh_backlog();
  return Step::exported;
}

InfluxExporter::Delivery InfluxExporter::deliver(const PreparedBatch& batch, std::size_t first, std::size_t last,
                                                 std::uint64_t& rejected) {
  {
    // A bisection is many writes; stop() does not wait for all of them (the batch is written
    // again after the next start).
    std::lock_guard lock(mutex_);
    if (stopping_) return Delivery::retry;
    ++stats_.writes;
  }
  // Lines [first, last) are one contiguous range of the body: written without a copy.
  const std::size_t begin = first == 0 ? 0 : batch.line_ends[first - 1];
  const std::string_view body = std::string_view(batch.body).substr(begin, batch.line_ends[last - 1] - begin);
  const influx::WriteResult result = sink_(body);
  if (result.status == influx::WriteStatus::written) {
    std::lock_guard lock(mutex_);
    stats_.retrying = false;
    stats_.last_error.clear();
    return Delivery::delivered;
  }
  if (result.status != influx::WriteStatus::bad_points) {
    std::lock_guard lock(mutex_);
    ++stats_.write_failures;
    stats_.retrying = true;
    stats_.last_error = std::string(influx::to_string(result.status)) + ": " + result.message;
    if (auto suppressed = log_.admit("write", std::chrono::steady_clock::now())) {
      log::component("export").warn(
          "write to InfluxDB failed ({}: {}); retrying, {} readings waiting ({} similar suppressed)",
          influx::to_string(result.status), result.message, stats_.backlog_readings, *suppressed);
    }
    return Delivery::retry;
  }
  if (last - first == 1) {
    ++rejected;
    if (auto suppressed = log_.admit("rejected", std::chrono::steady_clock::now())) {
      const store::ExportedReading& refused = batch.readings[first];
      log::component("export").warn("InfluxDB refused {} seq {} ({}); skipped ({} similar suppressed)",
                                    refused.device_id, refused.reading.seq, result.message, *suppressed);
    }
    return Delivery::delivered;
  }
  // Halves until the refused points are isolated; the points InfluxDB already took from a partial
  // write are written again, which changes nothing.
  const std::size_t middle = first + (last - first) / 2;
  if (deliver(batch, first, middle, rejected) == Delivery::retry) return Delivery::retry;
  return deliver(batch, middle, last, rejected);
}

void InfluxExporter::export_statuses_if_due() {
  if (std::chrono::steady_clock::now() < next_status_check_) return;
  auto devices = store_->list_devices();
  next_status_check_ = std::chrono::steady_clock::now() + options_.status_interval;
  if (!devices) {
    log::component("export").error("cannot list devices: {}", devices.error().message);
    return;
  }
  std::string body;
  std::vector<std::pair<std::string, std::int64_t>> sent;
  for (const auto& device : *devices) {
    if (!device.status) continue;
    auto known = statuses_sent_.find(device.device_id);
    if (known != statuses_sent_.end() && known->second == device.status->at_ms) continue;
    if (append_status_line(body, device.device_id, *device.status))
      sent.emplace_back(device.device_id, device.status->at_ms);
  }
  if (sent.empty()) return;
  const influx::WriteResult result = sink_(body);
  std::lock_guard lock(mutex_);
  ++stats_.writes;
  if (result.status != influx::WriteStatus::written) {
    ++stats_.write_failures;
    return;  // tried again at the next check; the readings' path reports the failure
  }
  for (auto& [device, at_ms] : sent) statuses_sent_[device] = at_ms;
  stats_.statuses_exported += sent.size();
}

void InfluxExporter::refresh_backlog() {
  const std::uint64_t cursor = stats().cursor;
  auto backlog = store_->export_backlog(cursor);
  if (!backlog) return;
  const std::int64_t now = clock_();
  std::lock_guard lock(mutex_);
  stats_.backlog_readings = backlog->readings;
  stats_.lag_s = backlog->oldest_committed_ms
                     ? static_cast<double>(std::max<std::int64_t>(now - *backlog->oldest_committed_ms, 0)) / 1000.0
                     : 0.0;
}

}  // namespace kelvin::gateway
