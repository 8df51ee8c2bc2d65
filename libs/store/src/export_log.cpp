// Export log: stored readings in commit order, for exporters that follow the store (InfluxDB).
//
// Positions come from counters.export_position inside each commit's transaction, so they grow
// strictly in commit order and a reader that has seen position P has seen every reading committed
// before it. The cursor is advanced by the exporter only after the receiver accepted the data:
// delivery is at least once, and exactly once where the receiver is idempotent.

#include <string>

#include "kelvin/core/identity.hpp"
#include "reading_values.hpp"
#include "store_impl.hpp"

namespace kelvin::store {
namespace {

using sqlite::StatementReset;

Result<void> check_exporter_name(std::string_view exporter) {
  // Same alphabet and length as a device id: it appears in logs and statistics.
  if (auto valid = validate_device_id(exporter); !valid) {
    return make_error(Errc::invalid_argument, "exporter name '" + std::string(exporter) + "' is not a valid name");
  }
  return {};
}

}  // namespace

Result<ExportBatch> Store::Impl::read_export_batch(std::uint64_t after_position, std::size_t max_readings) {
  if (after_position > sqlite::kMaxSqlInteger) {
    return make_error(Errc::invalid_argument, "export position " + std::to_string(after_position) + " is out of range");
  }
  ExportBatch batch;
  batch.end_position = after_position;
  if (max_readings == 0) return batch;

  auto& select = statements_.export_batch;
  StatementReset reset(select);
  select.bind(1, sqlite::to_sql(after_position));
  select.bind(2, static_cast<std::int64_t>(std::min<std::size_t>(max_readings, sqlite::kMaxSqlInteger)));
  for (;;) {
    auto row = select.step();
    if (!row) return std::move(row).error();
    if (!*row) break;
    ExportedReading reading;
    reading.position = sqlite::from_sql_unsigned(select.column_int64(0));
    batch.end_position = reading.position;
    // A reading whose values retention deleted (it waited above a gap) has nothing to export.
    if (!read_values(select, 4, reading.reading)) {
      ++batch.expired;
      continue;
    }
    reading.device_id = select.column_text(1);
    reading.reading.seq = sqlite::from_sql_unsigned(select.column_int64(2));
    reading.reading.ts_ms = select.column_int64(3);
    batch.readings.push_back(std::move(reading));
  }
  return batch;
}

Result<std::uint64_t> Store::Impl::export_cursor(std::string_view exporter) {
  if (auto valid = check_exporter_name(exporter); !valid) return std::move(valid).error();
  auto& select = statements_.export_cursor_select;
  StatementReset reset(select);
  select.bind(1, exporter);
  auto row = select.step();
  if (!row) return std::move(row).error();
  return *row ? sqlite::from_sql_unsigned(select.column_int64(0)) : 0;
}

Result<void> Store::Impl::advance_export_cursor(std::string_view exporter, std::uint64_t position,
                                                std::int64_t now_ms) {
  if (auto valid = check_exporter_name(exporter); !valid) return std::move(valid).error();
  if (position > sqlite::kMaxSqlInteger) {
    return make_error(Errc::invalid_argument, "export position " + std::to_string(position) + " is out of range");
  }
  auto& upsert = statements_.export_cursor_upsert;
  StatementReset reset(upsert);
  upsert.bind(1, exporter);
  upsert.bind(2, sqlite::to_sql(position));
  upsert.bind(3, now_ms);
  return upsert.run();
}

Result<ExportBacklog> Store::Impl::export_backlog(std::uint64_t after_position) {
  if (after_position > sqlite::kMaxSqlInteger) {
    return make_error(Errc::invalid_argument, "export position " + std::to_string(after_position) + " is out of range");
  }
  auto last = last_export_position();
  if (!last) return std::move(last).error();
  ExportBacklog backlog;
  const auto last_position = sqlite::from_sql_unsigned(*last);
  backlog.readings = last_position > after_position ? last_position - after_position : 0;

  auto& select = statements_.export_oldest_after;
  StatementReset reset(select);
  select.bind(1, sqlite::to_sql(after_position));
  auto row = select.step();
  if (!row) return std::move(row).error();
  if (*row) backlog.oldest_committed_ms = select.column_int64(0);
  return backlog;
}

}  // namespace kelvin::store
