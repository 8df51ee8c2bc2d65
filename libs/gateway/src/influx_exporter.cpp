#include "kelvin/gateway/influx_exporter.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "kelvin/gateway/influx_points.hpp"

namespace kelvin::gateway {

InfluxExporter::InfluxExporter(store::Store store, LineSink sink, ExporterOptions options, WallClock clock)
    : store_(std::move(store)), sink_(std::move(sink)), options_(std::move(options)), clock_(std::move(clock)) {
  options_.batch_readings = std::max<std::size_t>(options_.batch_readings, 1);
}

InfluxExporter::~InfluxExporter() { stop(); }

Result<void> InfluxExporter::load_cursor() {
  auto cursor = store_.export_cursor(options_.name);
  if (!cursor) return std::move(cursor).error();
  std::lock_guard lock(mutex_);
  stats_.cursor = *cursor;
  return {};
}

Result<void> InfluxExporter::start() {
  if (auto loaded = load_cursor(); !loaded) return loaded;
  refresh_backlog();
  thread_ = std::thread([this] { run(); });
  return {};
}

void InfluxExporter::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

ExporterStats InfluxExporter::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void InfluxExporter::run() {
  auto backoff = options_.retry_min;
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    const Step step_done = step();
    lock.lock();
    if (step_done == Step::exported) {
      backoff = options_.retry_min;
      continue;
    }
    const auto pause = step_done == Step::idle ? options_.poll_interval : backoff;
    if (step_done == Step::failed) backoff = std::min(backoff * 2, options_.retry_max);
    wake_.wait_for(lock, pause, [this] { return stopping_; });
  }
}

InfluxExporter::Step InfluxExporter::step() {
  if (std::chrono::steady_clock::now() >= next_status_check_) {
    export_statuses();
    next_status_check_ = std::chrono::steady_clock::now() + options_.status_interval;
  }

  const std::uint64_t cursor = stats().cursor;
  auto batch = store_.read_export_batch(cursor, options_.batch_readings);
  if (!batch) {
    spdlog::error("export: cannot read the store: {}", batch.error().message);
    return Step::failed;
  }
  if (batch->end_position == cursor) {
    refresh_backlog();
    return Step::idle;
  }

  std::vector<PendingLine> lines;
  lines.reserve(batch->readings.size());
  std::uint64_t unexportable = 0;
  for (const auto& exported : batch->readings) {
    PendingLine line;
    if (auto formatted = append_reading_line(line.text, exported); !formatted) {
      // The store holds nothing line protocol cannot carry; if it ever does, skip it loudly.
      ++unexportable;
      spdlog::error("export: {} seq {} cannot be exported: {}", exported.device_id, exported.reading.seq,
                    formatted.error().message);
      continue;
    }
    line.label = exported.device_id + " seq " + std::to_string(exported.reading.seq);
    lines.push_back(std::move(line));
  }

  std::uint64_t rejected_before = stats().points_rejected;
  if (!lines.empty() && deliver(lines, 0, lines.size()) == Delivery::retry) {
    refresh_backlog();  // the backlog grows while InfluxDB is away: keep the figure current
    return Step::failed;
  }

  if (auto advanced = store_.advance_export_cursor(options_.name, batch->end_position, clock_()); !advanced) {
    // InfluxDB has the data; the next pass writes it again, which is harmless.
    spdlog::error("export: cannot save the export cursor: {}", advanced.error().message);
    return Step::failed;
  }
  if (batch->expired > 0) {
    spdlog::warn("export: {} readings were deleted by retention before they could be exported", batch->expired);
  }
  {
    std::lock_guard lock(mutex_);
    const std::uint64_t rejected_now = stats_.points_rejected - rejected_before;
    stats_.readings_exported += lines.size() - rejected_now;
    stats_.points_rejected += unexportable;
    stats_.readings_expired += batch->expired;
    stats_.cursor = batch->end_position;
  }
  refresh_backlog();
  return Step::exported;
}

InfluxExporter::Delivery InfluxExporter::deliver(const std::vector<PendingLine>& lines, std::size_t first,
                                                 std::size_t last) {
  std::string body;
  for (std::size_t i = first; i < last; ++i) body += lines[i].text;
  const influx::WriteResult result = sink_(body);
  {
    std::lock_guard lock(mutex_);
    ++stats_.writes;
  }
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
      spdlog::warn("export: write to InfluxDB failed ({}: {}); retrying, {} readings waiting ({} similar suppressed)",
                   influx::to_string(result.status), result.message, stats_.backlog_readings, *suppressed);
    }
    return Delivery::retry;
  }
  if (last - first == 1) {
    std::lock_guard lock(mutex_);
    ++stats_.points_rejected;
    if (auto suppressed = log_.admit("rejected", std::chrono::steady_clock::now())) {
      spdlog::warn("export: InfluxDB refused {} ({}); skipped ({} similar suppressed)", lines[first].label,
                   result.message, *suppressed);
    }
    return Delivery::delivered;
  }
  // Halves until the refused points are isolated; the points InfluxDB already took from a partial
  // write are written again, which changes nothing.
  const std::size_t middle = first + (last - first) / 2;
  if (deliver(lines, first, middle) == Delivery::retry) return Delivery::retry;
  return deliver(lines, middle, last);
}

void InfluxExporter::export_statuses() {
  auto devices = store_.list_devices();
  if (!devices) {
    spdlog::error("export: cannot list devices: {}", devices.error().message);
    return;
  }
  std::string body;
  std::vector<std::pair<std::string, std::int64_t>> sent;
  for (const auto& device : *devices) {
    if (!device.status) continue;
    auto known = statuses_sent_.find(device.device_id);
    if (known != statuses_sent_.end() && known->second == device.status->at_ms) continue;
    if (append_status_line(body, device.device_id, *device.status)) sent.emplace_back(device.device_id, device.status->at_ms);
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
  auto backlog = store_.export_backlog(cursor);
  if (!backlog) return;
  const std::int64_t now = clock_();
  std::lock_guard lock(mutex_);
  stats_.backlog_readings = backlog->readings;
  stats_.lag_s = backlog->oldest_committed_ms ? static_cast<double>(std::max<std::int64_t>(now - *backlog->oldest_committed_ms, 0)) / 1000.0 : 0.0;
}

}  // namespace kelvin::gateway
