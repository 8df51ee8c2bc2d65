#pragma once
// What kelvin's small SQLite files (accounts.db, rollouts.db) share: opening one private file
// with WAL and FULL synchronisation, telling it from any other SQLite file by its application id,
// creating its schema once, and running statements with their arguments bound in one call. The
// telemetry store has its own, larger layer (statements.hpp).

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "kelvin/core/result.hpp"
#include "sqlite.hpp"

namespace kelvin::store::sqlite {

// One step of a small database's schema, from `from_version` to the next: its SQL and, for
// errors, what it does ("adding rollouts.target").
struct SmallDbMigration {
  std::int64_t from_version = 0;
  const char* sql = "";
  std::string_view doing{};
};

// Who a small database is: its SQLite application id, schema version, its name in errors
// ("accounts database"), and how its schema is made: `sql` creates the schema of the first
// version that has `migrations` after it (in order, each from the version the one before left),
// up to `version`. A new file runs `sql` and every migration, so a new file's schema is exactly an
// upgraded one's.
struct SmallDbSchema {
  std::int64_t application_id = 0;
  std::int64_t version = 0;
  const char* sql = "";
  std::string_view what;
  std::span<const SmallDbMigration> migrations{};
};

// Opens (creating 0600) `db_file` in WAL mode with synchronous=FULL and foreign keys, and creates
// the schema in an empty file or upgrades an older one, in one transaction under the write lock (a
// failed step leaves the file as it was, and the error names the file and the step). Errc::corrupt
// for a file that is not this database, Errc::conflict for a newer schema.
Result<DatabasePtr> open_small_db(const std::filesystem::path& db_file, int busy_timeout_ms,
                                  const SmallDbSchema& schema);

// The first column of the first row of `sql` (a PRAGMA or a count), 0 when there is no row.
Result<std::int64_t> query_integer(sqlite3* db, const char* sql);

inline void bind_all(Statement&, int) {}
// Binds `first`, `rest...` from `index` on: text (anything convertible to string_view), optional
// text (NULL when empty), std::nullopt (NULL), an integer, a double or an optional double (NULL
// when empty).
template <class First, class... Rest>
void bind_all(Statement& statement, int index, First&& first, Rest&&... rest) {
  if constexpr (std::is_same_v<std::decay_t<First>, std::nullopt_t>) {
    statement.bind_null(index);
  } else if constexpr (std::is_convertible_v<First, std::string_view>) {
    statement.bind(index, std::string_view(first));
  } else if constexpr (std::is_same_v<std::decay_t<First>, std::optional<std::string>>) {
    if (first) {
      statement.bind(index, std::string_view(*first));
    } else {
      statement.bind_null(index);
    }
  } else if constexpr (std::is_same_v<std::decay_t<First>, std::optional<double>>) {
    if (first) {
      statement.bind(index, *first);
    } else {
      statement.bind_null(index);
    }
  } else if constexpr (std::is_floating_point_v<std::decay_t<First>>) {
    statement.bind(index, static_cast<double>(first));
  } else {
    static_assert(std::is_integral_v<std::decay_t<First>>, "bind_all binds text, integers and doubles");
    statement.bind(index, static_cast<std::int64_t>(first));
  }
  bind_all(statement, index + 1, std::forward<Rest>(rest)...);
}

inline std::optional<std::string> optional_text(const Statement& statement, int index) {
  if (statement.column_is_null(index)) return std::nullopt;
  return statement.column_text(index);
}

// One connection to a small database, for one thread at a time: statements prepared with their
// arguments bound.
class SmallDb {
 public:
  explicit SmallDb(DatabasePtr db) : db_(std::move(db)) {}

  sqlite3* db() const { return db_.get(); }

  // Prepares `sql` with `args` bound, ready to step.
  template <class... Args>
  Result<Statement> statement(std::string_view sql, Args&&... args) {
    auto prepared = Statement::prepare(db_.get(), sql);
    if (!prepared) return std::move(prepared).error();
    bind_all(*prepared, 1, std::forward<Args>(args)...);
    return prepared;
  }

  // Runs a statement without rows; returns the rows it changed.
  template <class... Args>
  Result<std::int64_t> change(std::string_view sql, Args&&... args) {
    auto prepared = statement(sql, std::forward<Args>(args)...);
    if (!prepared) return std::move(prepared).error();
    if (auto ran = prepared->run(); !ran) return std::move(ran).error();
    return prepared->changes();
  }

 private:
  DatabasePtr db_;
};

}  // namespace kelvin::store::sqlite
