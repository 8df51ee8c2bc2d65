#pragma once
// Every SQL statement the store runs, prepared once when the store opens and reused. The SQL text
// is in statements.cpp, next to nothing else, so it can be read against the schema (schema.cpp).

#include <sqlite3.h>

#include "kelvin/core/result.hpp"
#include "sqlite.hpp"

namespace kelvin::store {

// The column of readings_in_time_range where a reading's values begin (reading_values.hpp).
inline constexpr int kTimeRangeFirstValue = 2;
// The column of unrolled_readings where a reading's values begin.
inline constexpr int kUnrolledFirstValue = 3;

struct Statements {
  // Connection state.
  sqlite::Statement data_version;

  // Ingest.
  sqlite::Statement device_ensure;
  sqlite::Statement device_progress;
  sqlite::Statement pending_seqs;
  sqlite::Statement series_ensure;
  sqlite::Statement series_id;
  sqlite::Statement reading_insert;
  sqlite::Statement export_position_select;
  sqlite::Statement export_position_update;
  sqlite::Statement rejected_insert;
  sqlite::Statement rollup_upsert;
  // Rollups folded after the commit (rollups.cpp).
  sqlite::Statement rollup_position_select;
  sqlite::Statement rollup_position_update;
  sqlite::Statement unrolled_readings;  // device, seq, ts_ms, then the values from kUnrolledFirstValue
  sqlite::Statement device_name_by_row;
  sqlite::Statement device_after_commit;
  sqlite::Statement watermark_by_name;
  sqlite::Statement elsewhere_pending;
  sqlite::Statement elsewhere_upsert;
  sqlite::Statement elsewhere_prune;
  sqlite::Statement devices_watermarks_by_name;
  sqlite::Statement consumed_above_watermarks;
  // Withdrawing own copies of readings a peer gateway stored too (withdraw.cpp).
  sqlite::Statement readings_in_seq_range;
  sqlite::Statement reading_delete;
  sqlite::Statement rollup_replace;
  sqlite::Statement rollup_delete;
  sqlite::Statement device_uncount_readings;

  // Queries.
  sqlite::Statement series_by_name;
  sqlite::Statement readings_in_time_range;  // ts_ms, seq, then the values from kTimeRangeFirstValue
  sqlite::Statement rollups_in_range;
  sqlite::Statement fleet_rollups_in_range;
  sqlite::Statement horizons_select;

  // Retention and purge.
  sqlite::Statement horizon_raise;
  sqlite::Statement series_all;
  sqlite::Statement devices_all_watermarks;
  sqlite::Statement rollups_delete_chunk;
  sqlite::Statement readings_delete_chunk;
  sqlite::Statement reading_values_clear_chunk;
  sqlite::Statement rejected_delete_chunk;

  // Devices.
  sqlite::Statement device_register;
  sqlite::Statement status_upsert;
  sqlite::Statement devices_list;
  sqlite::Statement devices_by_status_state;
  sqlite::Statement device_by_name;
  sqlite::Statement series_of_device;
  sqlite::Statement device_latest_reading;
  sqlite::Statement device_rejections_by_reason;
  sqlite::Statement device_has_data;
  sqlite::Statement device_forget;
  sqlite::Statement device_delete;

  // Labels.
  sqlite::Statement device_row_by_name;
  sqlite::Statement labels_of_device;
  sqlite::Statement labels_all;
  sqlite::Statement labels_clear;
  sqlite::Statement label_insert;
  sqlite::Statement devices_with_label;

  // Export log.
  sqlite::Statement export_batch;
  sqlite::Statement export_oldest_after;
  sqlite::Statement export_cursor_select;
  sqlite::Statement export_cursor_upsert;

  static Result<Statements> prepare(sqlite3* db);
};

}  // namespace kelvin::store
