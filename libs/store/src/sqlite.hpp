#pragma once
// Thin RAII layer over the SQLite C API: the one place in libs/store that turns SQLite result codes
// into kelvin errors. Owners close/finalize in their destructors; a statement is prepared once and
// reused, and a StatementReset returns it to its initial state on every exit path (a statement
// left mid-step would keep a read transaction open and pin the WAL).

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "kelvin/core/result.hpp"

namespace kelvin::store::sqlite {

struct DatabaseCloser {
  void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
struct StatementFinalizer {
  void operator()(sqlite3_stmt* stmt) const noexcept { sqlite3_finalize(stmt); }
};
using DatabasePtr = std::unique_ptr<sqlite3, DatabaseCloser>;

// Opens `db_file` read-write, creating it first with mode 0600 (SQLite would create it 0644 minus
// the umask; it gives its -wal and -shm files the database's mode). An existing file keeps its mode.
// `what` names the file in errors ("store database"). Errc::permission_denied for a file SQLite
// could open only read-only (it would fall back silently and fail at the first write).
Result<DatabasePtr> open_private_database(const std::filesystem::path& db_file, int busy_timeout_ms,
                                          std::string_view what);

// Maps a SQLite (extended) result code to the kelvin error kind callers branch on.
Errc errc_from_sqlite(int rc) noexcept;

// "<what>: <sqlite3_errmsg>" with the kind derived from `rc`.
Error sqlite_error(sqlite3* db, int rc, std::string_view what);

// A prepared statement. Binding indexes are 1-based (SQLite's). Bind failures are remembered and
// reported by the next step(), so call sites stay linear.
class Statement {
 public:
  Statement() = default;
  static Result<Statement> prepare(sqlite3* db, std::string_view sql);

  void bind(int index, std::int64_t value);
  void bind(int index, double value);
  void bind(int index, std::string_view value);  // copied by SQLite (SQLITE_TRANSIENT)
  void bind_null(int index);

  // Advances one row: true when a row is available, false when the statement is done.
  Result<bool> step();
  // Runs a statement that returns no rows (or whose rows are not needed) to completion.
  Result<void> run();

  std::int64_t column_int64(int index) const { return sqlite3_column_int64(stmt_.get(), index); }
  double column_double(int index) const { return sqlite3_column_double(stmt_.get(), index); }
  bool column_is_null(int index) const { return sqlite3_column_type(stmt_.get(), index) == SQLITE_NULL; }
  std::string column_text(int index) const;
  std::optional<std::int64_t> column_optional_int64(int index) const;

  // Rows changed by the last completed INSERT/UPDATE/DELETE of this connection.
  std::int64_t changes() const { return sqlite3_changes64(sqlite3_db_handle(stmt_.get())); }

  // Back to the initial state: bindings cleared, pending error forgotten.
  void reset() noexcept;

 private:
  explicit Statement(sqlite3_stmt* stmt) : stmt_(stmt) {}
  void note_bind(int rc, int index);

  std::unique_ptr<sqlite3_stmt, StatementFinalizer> stmt_;
  int bind_rc_ = SQLITE_OK;
  int bind_index_ = 0;
};

// Resets a statement when the scope ends, whatever path leaves it.
class StatementReset {
 public:
  explicit StatementReset(Statement& statement) : statement_(statement) {}
  StatementReset(const StatementReset&) = delete;
  StatementReset& operator=(const StatementReset&) = delete;
  ~StatementReset() { statement_.reset(); }

 private:
  Statement& statement_;
};

// Executes SQL text without results (DDL, PRAGMAs, BEGIN/COMMIT). Not for hot paths.
Result<void> exec(sqlite3* db, const char* sql, std::string_view what);

// A transaction, rolled back on destruction unless committed. A write transaction's BEGIN
// IMMEDIATE takes the write lock up front, so a busy database fails at the start (after
// busy_timeout) rather than half-way.
class Transaction {
 public:
  static Result<Transaction> begin(sqlite3* db);
  // A read transaction (BEGIN): every read inside it sees the database as of its first read.
  static Result<Transaction> begin_read(sqlite3* db);
  Transaction(Transaction&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();

  Result<void> commit();

 private:
  explicit Transaction(sqlite3* db) : db_(db) {}
  sqlite3* db_;
};

// SQLite stores signed 64-bit integers; seqs and counters are unsigned on the API side.
inline constexpr std::uint64_t kMaxSqlInteger = static_cast<std::uint64_t>(INT64_MAX);
inline std::int64_t to_sql(std::uint64_t value) {
  return static_cast<std::int64_t>(value);
}  // precondition: <= kMaxSqlInteger
inline std::uint64_t from_sql_unsigned(std::int64_t value) {
  return value < 0 ? 0 : static_cast<std::uint64_t>(value);
}

}  // namespace kelvin::store::sqlite
