#pragma once
// The store's schema (all of it is in schema.cpp) and the checks made when a file is opened.

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>

#include "kelvin/core/result.hpp"

namespace kelvin::store {

// PRAGMA application_id marks the file as a kelvin store ("KLVN"); PRAGMA user_version is the
// schema version. Bump the version, and add a migration in ensure_schema, with every change: a
// released version must open in every later build.
//   1  released (kelvin up to 72cbb5b); development builds after it wrote the export log columns
//      and tables under the same number.
//   2  the export log (readings.export_position and committed_ms, export_cursors, counters) and
//      consumed_elsewhere.
//   3  devices.claimed_floor: the highest oldest_seq a device reported, held until the readings
//      it concerns arrive.
//   4  one `readings` row per reading with a column per quantity, its rowid the export position;
//      `samples` (a row per value) is gone.
//   5  device_labels: the labels an operator gave each device.
//   6  devices.status_release_check: the verdict of the device's release timestamp check.
//   7  counters.rollup_position: rollups are folded from the readings after their commit, and
//      cover the readings up to that position (an older build would leave the rest out).
//   8  8-hour rollups (rollups.width_ms 28800000), computed from the hour rollups on upgrade.
inline constexpr std::int32_t kApplicationId = 0x4B4C564E;
inline constexpr std::int32_t kSchemaVersion = 8;

// Creates the schema in an empty database; upgrades a version 1 to 7 store to the current
// version, in one transaction under the write lock (rebuilding `readings`, which takes time and
// disk space in proportion to it: about 5 s per million readings on the development machine); or
// checks that an existing store is of the current version. Logs nothing; errors: Errc::corrupt for
// a file that is not a kelvin store or has an unknown version, Errc::conflict for a newer version,
// and the SQLite failure of the migration step that failed (the file is then left as it was).
// `db_file` names the file in messages.
Result<void> ensure_schema(sqlite3* db, const std::filesystem::path& db_file);

}  // namespace kelvin::store
