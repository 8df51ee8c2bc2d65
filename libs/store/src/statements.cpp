#include "statements.hpp"

#include <utility>

namespace kelvin::store {
namespace {

struct StatementText {
  sqlite::Statement Statements::*member;
  const char* sql;
};

// Parameters are numbered (?1, ?2, ...) so call sites can bind by position without counting.
constexpr StatementText kStatements[] = {
    {&Statements::data_version, "PRAGMA data_version"},

    // ---- Ingest ----
    {&Statements::device_ensure, "INSERT INTO devices (name) VALUES (?1) ON CONFLICT (name) DO NOTHING"},
    {&Statements::device_progress, "SELECT id, watermark, claimed_floor FROM devices WHERE name = ?1"},
    // Seqs consumed above the watermark: usually none, one range scan of each primary key.
    {&Statements::pending_seqs,
     "SELECT seq FROM readings WHERE device = ?1 AND seq > ?2 "
     "UNION ALL SELECT seq FROM rejected WHERE device = ?1 AND seq > ?2"},
    {&Statements::series_ensure,
     "INSERT INTO series (device, quantity) VALUES (?1, ?2) ON CONFLICT (device, quantity) DO NOTHING"},
    {&Statements::series_id, "SELECT id FROM series WHERE device = ?1 AND quantity = ?2"},
    // Values in kQuantities order (reading_values.hpp), as in every statement that names them.
    {&Statements::reading_insert,
     "INSERT INTO readings (export_position, device, seq, ts_ms, committed_ms, temperature, humidity)"
     " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"},
    {&Statements::export_position_select, "SELECT value FROM counters WHERE name = 'export_position'"},
    {&Statements::export_position_update, "UPDATE counters SET value = ?1 WHERE name = 'export_position'"},
    // ---- Rollups folded from the readings after their commit (rollups.cpp) ----
    {&Statements::rollup_position_select, "SELECT value FROM counters WHERE name = 'rollup_position'"},
    {&Statements::rollup_position_update, "UPDATE counters SET value = ?1 WHERE name = 'rollup_position'"},
    // The readings after the rollup position: one range of the table's rowid, the newest rows.
    // The unary + keeps SQLite from scanning the device's index instead (all of its readings).
    {&Statements::unrolled_readings,
     "SELECT device, seq, ts_ms, temperature, humidity FROM readings WHERE export_position > ?1"
     " AND (?2 IS NULL OR +device = ?2) ORDER BY export_position"},
    {&Statements::device_name_by_row, "SELECT name FROM devices WHERE id = ?1"},
    {&Statements::rejected_insert, "INSERT INTO rejected (device, seq, reason, at_ms) VALUES (?1, ?2, ?3, ?4)"},
    // Merges a batch's statistics of one bucket into the stored ones. SET expressions all see the
    // row as it was before the update, so the three "last" columns switch together.
    {&Statements::rollup_upsert,
     "INSERT INTO rollups (series, width_ms, bucket_start_ms, min_value, max_value, value_sum, value_count,"
     " last_ts_ms, last_seq, last_value) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) "
     "ON CONFLICT (series, width_ms, bucket_start_ms) DO UPDATE SET"
     " min_value = min(min_value, excluded.min_value),"
     " max_value = max(max_value, excluded.max_value),"
     " value_sum = value_sum + excluded.value_sum,"
     " value_count = value_count + excluded.value_count,"
     " last_value = iif((excluded.last_ts_ms, excluded.last_seq) > (last_ts_ms, last_seq),"
     " excluded.last_value, last_value),"
     " last_seq = iif((excluded.last_ts_ms, excluded.last_seq) > (last_ts_ms, last_seq), excluded.last_seq, last_seq),"
     " last_ts_ms = iif((excluded.last_ts_ms, excluded.last_seq) > (last_ts_ms, last_seq),"
     " excluded.last_ts_ms, last_ts_ms)"},
    // claimed_floor only grows: max() keeps it so even if the bound value were stale.
    {&Statements::device_after_commit,
     "UPDATE devices SET watermark = ?2, last_seen_ms = max(coalesce(last_seen_ms, ?3), ?3),"
     " readings_stored = readings_stored + ?4, rejected_total = rejected_total + ?5,"
     " claimed_floor = max(claimed_floor, ?6) WHERE id = ?1"},
    {&Statements::watermark_by_name, "SELECT watermark FROM devices WHERE name = ?1"},
    // Ranges other gateways consumed, above the watermark (clipped by the caller).
    {&Statements::elsewhere_pending,
     "SELECT first_seq, last_seq FROM consumed_elsewhere WHERE device = ?1 AND last_seq > ?2"},
    {&Statements::elsewhere_upsert,
     "INSERT INTO consumed_elsewhere (device, first_seq, last_seq) VALUES (?1, ?2, ?3) "
     "ON CONFLICT (device, first_seq) DO UPDATE SET last_seq = max(last_seq, excluded.last_seq)"},
    {&Statements::elsewhere_prune, "DELETE FROM consumed_elsewhere WHERE device = ?1 AND last_seq <= ?2"},
    {&Statements::readings_in_seq_range,
     "SELECT seq, ts_ms FROM readings WHERE device = ?1 AND seq >= ?2 AND seq <= ?3 ORDER BY seq"},
    {&Statements::reading_delete, "DELETE FROM readings WHERE device = ?1 AND seq = ?2"},
    {&Statements::rollup_replace,
     "UPDATE rollups SET min_value = ?4, max_value = ?5, value_sum = ?6, value_count = ?7, last_ts_ms = ?8,"
     " last_seq = ?9, last_value = ?10 WHERE series = ?1 AND width_ms = ?2 AND bucket_start_ms = ?3"},
    {&Statements::rollup_delete, "DELETE FROM rollups WHERE series = ?1 AND width_ms = ?2 AND bucket_start_ms = ?3"},
    {&Statements::device_uncount_readings, "UPDATE devices SET readings_stored = readings_stored - ?2 WHERE id = ?1"},
    {&Statements::devices_watermarks_by_name, "SELECT name, watermark FROM devices ORDER BY name"},
    // Every consumed seq (or range) above its device's watermark, for Store::consumption().
    {&Statements::consumed_above_watermarks,
     "SELECT d.name, r.seq, r.seq FROM readings r JOIN devices d ON d.id = r.device WHERE r.seq > d.watermark "
     "UNION ALL SELECT d.name, j.seq, j.seq FROM rejected j JOIN devices d ON d.id = j.device "
     "WHERE j.seq > d.watermark "
     "UNION ALL SELECT d.name, max(e.first_seq, d.watermark + 1), e.last_seq FROM consumed_elsewhere e "
     "JOIN devices d ON d.id = e.device WHERE e.last_seq > d.watermark"},

    // ---- Queries ----
    {&Statements::series_by_name,
     "SELECT series.id, series.device FROM series JOIN devices ON devices.id = series.device"
     " WHERE devices.name = ?1 AND series.quantity = ?2"},
    // A device's readings in [?2, ?3): one range scan of readings_by_time.
    {&Statements::readings_in_time_range,
     "SELECT ts_ms, seq, temperature, humidity FROM readings"
     " WHERE device = ?1 AND ts_ms >= ?2 AND ts_ms < ?3 ORDER BY ts_ms, seq"},
    {&Statements::rollups_in_range,
     "SELECT bucket_start_ms, min_value, max_value, value_sum, value_count, last_ts_ms, last_seq, last_value"
     " FROM rollups WHERE series = ?1 AND width_ms = ?2 AND bucket_start_ms >= ?3 AND bucket_start_ms < ?4"
     " ORDER BY bucket_start_ms"},
    // One quantity's rollups of one width for every device: a scan of the (small) series table,
    // then one range of the rollups' primary key per series. Sorted by device name, then time.
    {&Statements::fleet_rollups_in_range,
     "SELECT devices.name, rollups.bucket_start_ms, rollups.min_value, rollups.max_value, rollups.value_sum,"
     " rollups.value_count, rollups.last_ts_ms, rollups.last_seq, rollups.last_value"
     " FROM series JOIN devices ON devices.id = series.device"
     " JOIN rollups ON rollups.series = series.id AND rollups.width_ms = ?2"
     " AND rollups.bucket_start_ms >= ?3 AND rollups.bucket_start_ms < ?4"
     " WHERE series.quantity = ?1 ORDER BY devices.name, rollups.bucket_start_ms"},
    {&Statements::horizons_select, "SELECT resolution, horizon_ms FROM retention_horizons"},

    // ---- Retention and purge: each DELETE removes at most ?LIMIT rows, so it is short ----
    {&Statements::horizon_raise,
     "INSERT INTO retention_horizons (resolution, horizon_ms) VALUES (?1, ?2)"
     " ON CONFLICT (resolution) DO UPDATE SET horizon_ms = max(horizon_ms, excluded.horizon_ms)"},
    {&Statements::series_all, "SELECT id, device FROM series ORDER BY id"},
    {&Statements::devices_all_watermarks, "SELECT id, watermark FROM devices ORDER BY id"},
    {&Statements::rollups_delete_chunk,
     "DELETE FROM rollups WHERE (series, width_ms, bucket_start_ms) IN (SELECT series, width_ms, bucket_start_ms"
     " FROM rollups WHERE series = ?1 AND width_ms = ?2 AND bucket_start_ms <= ?3 ORDER BY bucket_start_ms LIMIT ?4)"},
    // Rows go only at or below the watermark: rows above it are what advances it later, so of
    // those only the values go.
    // Neither touches a reading the rollups do not hold yet (it goes once they do); the unary +
    // keeps the device's time index, not a scan of every position up to the rollups'.
    {&Statements::readings_delete_chunk,
     "DELETE FROM readings WHERE export_position IN (SELECT export_position FROM readings"
     " WHERE device = ?1 AND ts_ms < ?2 AND seq <= ?3"
     " AND +export_position <= (SELECT value FROM counters WHERE name = 'rollup_position') LIMIT ?4)"},
    {&Statements::reading_values_clear_chunk,
     "UPDATE readings SET temperature = NULL, humidity = NULL WHERE export_position IN (SELECT export_position"
     " FROM readings WHERE device = ?1 AND ts_ms < ?2 AND seq > ?3"
     " AND (temperature IS NOT NULL OR humidity IS NOT NULL)"
     " AND +export_position <= (SELECT value FROM counters WHERE name = 'rollup_position') LIMIT ?4)"},
    {&Statements::rejected_delete_chunk,
     "DELETE FROM rejected WHERE (device, seq) IN (SELECT device, seq FROM rejected"
     " WHERE device = ?1 AND at_ms < ?2 AND seq <= ?3 LIMIT ?4)"},

    // ---- Devices ----
    // Changes nothing (changes() == 0) when the device is already registered.
    {&Statements::device_register,
     "INSERT INTO devices (name, registered_ms) VALUES (?1, ?2)"
     " ON CONFLICT (name) DO UPDATE SET registered_ms = excluded.registered_ms WHERE registered_ms IS NULL"},
    // ?6 is the release check, NULL when the status has none.
    {&Statements::status_upsert,
     "INSERT INTO devices (name, status_state, status_firmware, status_dropped_total, status_at_ms, last_seen_ms,"
     " status_release_check) VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6) ON CONFLICT (name) DO UPDATE SET"
     // The last will ({"state":"offline"}) carries only the state: firmware, drop count and release
     // check stay as the device last reported them. A status without firmware or release check
     // (a device that has not checked yet since it started) keeps the last one reported too.
     " status_state = excluded.status_state,"
     " status_firmware = CASE WHEN excluded.status_firmware = '' THEN status_firmware"
     "                        ELSE excluded.status_firmware END,"
     " status_dropped_total = CASE WHEN excluded.status_state = 'offline' THEN status_dropped_total"
     "                             ELSE excluded.status_dropped_total END,"
     " status_release_check = coalesce(excluded.status_release_check, status_release_check),"
     " status_at_ms = excluded.status_at_ms,"
     " last_seen_ms = max(coalesce(last_seen_ms, excluded.last_seen_ms), excluded.last_seen_ms)"},
    {&Statements::devices_list,
     "SELECT id, name, registered_ms, watermark, last_seen_ms, readings_stored, rejected_total,"
     " status_state, status_firmware, status_dropped_total, status_at_ms, status_release_check"
     " FROM devices ORDER BY name"},
    {&Statements::devices_by_status_state,
     "SELECT coalesce(status_state, ''), count(*) FROM devices GROUP BY 1 ORDER BY 1"},
    {&Statements::device_by_name,
     "SELECT id, name, registered_ms, watermark, last_seen_ms, readings_stored, rejected_total,"
     " status_state, status_firmware, status_dropped_total, status_at_ms, status_release_check"
     " FROM devices WHERE name = ?1"},
    {&Statements::series_of_device, "SELECT id, quantity FROM series WHERE device = ?1 ORDER BY id"},
    {&Statements::device_latest_reading,
     "SELECT ts_ms, seq, temperature, humidity FROM readings"
     " WHERE device = ?1 AND (temperature IS NOT NULL OR humidity IS NOT NULL) ORDER BY ts_ms DESC, seq DESC LIMIT 1"},
    // A range scan of the device's part of rejected's primary key (device, seq).
    {&Statements::device_rejections_by_reason,
     "SELECT reason, count(*) FROM rejected WHERE device = (SELECT id FROM devices WHERE name = ?1)"
     " GROUP BY reason ORDER BY reason"},
    {&Statements::device_has_data,
     "SELECT watermark > 0 OR readings_stored > 0 OR rejected_total > 0"
     " OR EXISTS (SELECT 1 FROM series WHERE device = ?1) OR EXISTS (SELECT 1 FROM readings WHERE device = ?1)"
     " OR EXISTS (SELECT 1 FROM rejected WHERE device = ?1) FROM devices WHERE id = ?1"},
    {&Statements::device_forget,
     "UPDATE devices SET registered_ms = NULL, status_state = NULL, status_firmware = NULL,"
     " status_dropped_total = NULL, status_at_ms = NULL, status_release_check = NULL WHERE id = ?1"},
    {&Statements::device_delete, "DELETE FROM devices WHERE id = ?1"},

    // ---- Labels ----
    {&Statements::device_row_by_name, "SELECT id FROM devices WHERE name = ?1"},
    // Range scans of device_labels' primary key (device, label), so already in label order.
    {&Statements::labels_of_device, "SELECT label FROM device_labels WHERE device = ?1 ORDER BY label"},
    {&Statements::labels_all, "SELECT device, label FROM device_labels ORDER BY device, label"},
    {&Statements::labels_clear, "DELETE FROM device_labels WHERE device = ?1"},
    {&Statements::label_insert, "INSERT INTO device_labels (device, label) VALUES (?1, ?2)"},
    // A range scan of device_labels_by_label.
    {&Statements::devices_with_label,
     "SELECT devices.name FROM device_labels JOIN devices ON devices.id = device_labels.device"
     " WHERE device_labels.label = ?1 ORDER BY devices.name"},

    // ---- Export log ----
    // The next readings after a position: a range scan of the table itself.
    {&Statements::export_batch,
     "SELECT readings.export_position, devices.name, readings.seq, readings.ts_ms, readings.temperature,"
     " readings.humidity FROM readings JOIN devices ON devices.id = readings.device"
     " WHERE readings.export_position > ?1 ORDER BY readings.export_position LIMIT ?2"},
    {&Statements::export_oldest_after,
     "SELECT committed_ms FROM readings WHERE export_position > ?1 ORDER BY export_position LIMIT 1"},
    {&Statements::export_cursor_select, "SELECT position FROM export_cursors WHERE exporter = ?1"},
    {&Statements::export_cursor_upsert,
     "INSERT INTO export_cursors (exporter, position, updated_ms) VALUES (?1, ?2, ?3)"
     " ON CONFLICT (exporter) DO UPDATE SET position = max(position, excluded.position),"
     " updated_ms = excluded.updated_ms"},
};

}  // namespace

Result<Statements> Statements::prepare(sqlite3* db) {
  Statements statements;
  for (const auto& [member, sql] : kStatements) {
    auto prepared = sqlite::Statement::prepare(db, sql);
    if (!prepared) return std::move(prepared).error();
    statements.*member = std::move(*prepared);
  }
  return statements;
}

}  // namespace kelvin::store
