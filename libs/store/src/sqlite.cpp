#include "sqlite.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>

#include "kelvin/core/files.hpp"
#include "wal_write_combining.hpp"

namespace kelvin::store::sqlite {

Errc errc_from_sqlite(int rc) noexcept {
  switch (rc & 0xff) {  // the primary code; extended codes refine it
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
    case SQLITE_FORMAT:
      return Errc::corrupt;
    case SQLITE_PERM:
    case SQLITE_AUTH:
      return Errc::permission_denied;
    case SQLITE_CONSTRAINT:
      return Errc::conflict;
    case SQLITE_TOOBIG:
    case SQLITE_RANGE:
    case SQLITE_MISMATCH:
      return Errc::invalid_argument;
    case SQLITE_NOTFOUND:
      return Errc::not_found;
    default:  // SQLITE_IOERR, SQLITE_FULL, SQLITE_CANTOPEN, SQLITE_READONLY, SQLITE_BUSY, ...
      return Errc::io;
  }
}

namespace {

Result<void> create_private_file(const std::filesystem::path& db_file, std::string_view what) {
  int fd = ::open(db_file.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, files::kPrivateFileMode);
  if (fd < 0) {
    if (errno == EEXIST) return {};
    return files::error_from_errno("cannot create " + std::string(what), db_file);
  }
  // The umask could have cleared owner bits; the mode must be exactly 0600.
  const bool chmod_ok = ::fchmod(fd, files::kPrivateFileMode) == 0;
  Error chmod_error = chmod_ok ? Error{} : files::error_from_errno("cannot set mode 0600 on", db_file);
  ::close(fd);
  if (!chmod_ok) return chmod_error;
  return {};
}

}  // namespace

Result<DatabasePtr> open_private_database(const std::filesystem::path& db_file, int busy_timeout_ms,
                                          std::string_view what) {
  if (auto created = create_private_file(db_file, what); !created) return std::move(created).error();
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(db_file.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE,
                           wal_write_combining_vfs());
  DatabasePtr db(raw);  // closed on every path, also when open itself failed
  if (rc != SQLITE_OK) return sqlite_error(db.get(), rc, "cannot open " + std::string(what) + " " + db_file.string());
  if (sqlite3_db_readonly(db.get(), "main") == 1) {
    return make_error(Errc::permission_denied, std::string(what) + " " + db_file.string() + " is not writable");
  }
  sqlite3_busy_timeout(db.get(), busy_timeout_ms);
  return db;
}

Error sqlite_error(sqlite3* db, int rc, std::string_view what) {
  std::string message(what);
  message += ": ";
  // sqlite3_errmsg describes the connection's most recent failure; sqlite3_errstr only the code
  // (used when there is no connection or it has moved on).
  message += db != nullptr && sqlite3_extended_errcode(db) == rc ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  return make_error(errc_from_sqlite(rc), std::move(message));
}

Result<Statement> Statement::prepare(sqlite3* db, std::string_view sql) {
  sqlite3_stmt* raw = nullptr;
  if (sql.size() > static_cast<std::size_t>(INT_MAX)) return make_error(Errc::invalid_argument, "SQL text too long");
  int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(raw);
    std::string first_line(sql.substr(0, sql.find('\n')));
    return sqlite_error(db, rc, "cannot prepare '" + first_line + "'");
  }
  return Statement(raw);
}

void Statement::note_bind(int rc, int index) {
  if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) {
    bind_rc_ = rc;
    bind_index_ = index;
  }
}

void Statement::bind(int index, std::int64_t value) {
  note_bind(sqlite3_bind_int64(stmt_.get(), index, value), index);
}

void Statement::bind(int index, double value) {
  note_bind(sqlite3_bind_double(stmt_.get(), index, value), index);
}

void Statement::bind(int index, std::string_view value) {
  // SQLite binds a null pointer as NULL, and an empty string_view may have one: "" is text.
  const char* text = value.data() != nullptr ? value.data() : "";
  note_bind(sqlite3_bind_text64(stmt_.get(), index, text, value.size(), SQLITE_TRANSIENT, SQLITE_UTF8), index);
}

void Statement::bind_null(int index) {
  note_bind(sqlite3_bind_null(stmt_.get(), index), index);
}

Result<bool> Statement::step() {
  sqlite3* db = sqlite3_db_handle(stmt_.get());
  if (bind_rc_ != SQLITE_OK) {
    return sqlite_error(
        db, bind_rc_,
        "cannot bind parameter " + std::to_string(bind_index_) + " of '" + std::string(sqlite3_sql(stmt_.get())) + "'");
  }
  int rc = sqlite3_step(stmt_.get());
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return sqlite_error(db, rc, "cannot execute '" + std::string(sqlite3_sql(stmt_.get())) + "'");
}

Result<void> Statement::run() {
  for (;;) {
    auto row = step();
    if (!row) return std::move(row).error();
    if (!*row) return {};
  }
}

std::string Statement::column_text(int index) const {
  const unsigned char* text = sqlite3_column_text(stmt_.get(), index);
  if (text == nullptr) return {};
  const int size = sqlite3_column_bytes(stmt_.get(), index);
  return std::string(reinterpret_cast<const char*>(text), static_cast<std::size_t>(size));
}

std::optional<std::int64_t> Statement::column_optional_int64(int index) const {
  if (column_is_null(index)) return std::nullopt;
  return column_int64(index);
}

void Statement::reset() noexcept {
  if (!stmt_) return;
  sqlite3_reset(stmt_.get());
  sqlite3_clear_bindings(stmt_.get());
  bind_rc_ = SQLITE_OK;
  bind_index_ = 0;
}

Result<void> exec(sqlite3* db, const char* sql, std::string_view what) {
  char* raw_message = nullptr;
  int rc = sqlite3_exec(db, sql, nullptr, nullptr, &raw_message);
  if (rc == SQLITE_OK) return {};
  std::string message(what);
  message += ": ";
  message += raw_message != nullptr ? raw_message : sqlite3_errstr(rc);
  sqlite3_free(raw_message);
  return make_error(errc_from_sqlite(rc), std::move(message));
}

Result<Transaction> Transaction::begin(sqlite3* db) {
  auto begun = exec(db, "BEGIN IMMEDIATE", "cannot begin a write transaction");
  if (!begun) return std::move(begun).error();
  return Transaction(db);
}

Result<Transaction> Transaction::begin_read(sqlite3* db) {
  auto begun = exec(db, "BEGIN", "cannot begin a read transaction");
  if (!begun) return std::move(begun).error();
  return Transaction(db);
}

Transaction::~Transaction() {
  // A failed statement may already have rolled the transaction back (e.g. SQLITE_FULL); only
  // roll back what is still open.
  if (db_ != nullptr && sqlite3_get_autocommit(db_) == 0) {
    (void)exec(db_, "ROLLBACK", "cannot roll back");
  }
}

Result<void> Transaction::commit() {
  sqlite3* db = std::exchange(db_, nullptr);
  auto committed = exec(db, "COMMIT", "cannot commit");
  if (!committed && sqlite3_get_autocommit(db) == 0) (void)exec(db, "ROLLBACK", "cannot roll back");
  return committed;
}

}  // namespace kelvin::store::sqlite
