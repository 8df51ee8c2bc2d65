#pragma once
// The store's schema (all of it is in schema.cpp) and the checks made when a file is opened.

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>

#include "kelvin/core/result.hpp"

namespace kelvin::store {

// PRAGMA application_id marks the file as a kelvin store ("KLVN"); PRAGMA user_version is the
// schema version. Bump the version, and add a migration in ensure_schema, with every change.
inline constexpr std::int32_t kApplicationId = 0x4B4C564E;
inline constexpr std::int32_t kSchemaVersion = 1;

// Creates the schema in an empty database, or checks that an existing one is a kelvin store of a
// version this build understands. `db_file` names the file in messages.
Result<void> ensure_schema(sqlite3* db, const std::filesystem::path& db_file);

}  // namespace kelvin::store
