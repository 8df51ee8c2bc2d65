#include "small_db.hpp"

namespace kelvin::store::sqlite {
namespace {

Result<void> ensure_schema(sqlite3* db, const std::filesystem::path& db_file, const SmallDbSchema& schema) {
  auto application_id = query_integer(db, "PRAGMA application_id");
  if (!application_id) return std::move(application_id).error();
  auto version = query_integer(db, "PRAGMA user_version");
  if (!version) return std::move(version).error();
  auto objects = query_integer(db, "SELECT count(*) FROM sqlite_schema");
  if (!objects) return std::move(objects).error();
  if (*application_id == 0 && *objects == 0) {
    auto transaction = Transaction::begin(db);
    if (!transaction) return std::move(transaction).error();
    const std::string sql = std::string(schema.sql) +
                            "PRAGMA application_id = " + std::to_string(schema.application_id) +
                            "; PRAGMA user_version = " + std::to_string(schema.version) + ";";
    if (auto created = exec(db, sql.c_str(), "cannot create the " + std::string(schema.what) + " " + db_file.string());
        !created) {
      return created;
    }
    return transaction->commit();
  }
  if (*application_id != schema.application_id) {
    return make_error(Errc::corrupt, db_file.string() + " is not kelvin's " + std::string(schema.what));
  }
  if (*version > schema.version) {
    return make_error(Errc::conflict, db_file.string() + " was written by a newer kelvin (" + std::string(schema.what) +
                                          " schema " + std::to_string(*version) + "); upgrade kelvin");
  }
  return {};
}

}  // namespace

Result<std::int64_t> query_integer(sqlite3* db, const char* sql) {
  auto statement = Statement::prepare(db, sql);
  if (!statement) return std::move(statement).error();
  auto row = statement->step();
  if (!row) return std::move(row).error();
  return *row ? statement->column_int64(0) : 0;
}

Result<DatabasePtr> open_small_db(const std::filesystem::path& db_file, int busy_timeout_ms,
                                  const SmallDbSchema& schema) {
  auto opened = open_private_database(db_file, busy_timeout_ms, schema.what);
  if (!opened) return std::move(opened).error();
  DatabasePtr db = std::move(*opened);
  // WAL so a reader (a session lookup, a device asking for its update) never waits for another
  // process's write; FULL because what was written (a removed user, an aborted rollout) must stay
  // so after a power cut.
  if (auto configured = exec(db.get(),
                             "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
                             " PRAGMA foreign_keys = ON; PRAGMA trusted_schema = OFF;",
                             "cannot configure the " + std::string(schema.what) + " " + db_file.string());
      !configured) {
    return std::move(configured).error();
  }
  if (auto created = ensure_schema(db.get(), db_file, schema); !created) return std::move(created).error();
  return db;
}

}  // namespace kelvin::store::sqlite
