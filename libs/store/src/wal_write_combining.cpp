#include "wal_write_combining.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <cstddef>
#include <new>
#include <vector>

namespace kelvin::store::sqlite {
namespace {

// A commit of a few hundred pages fits; a larger one is written in several calls.
constexpr std::size_t kBufferCapacity = std::size_t{1} << 20;
// The most one call to the default VFS's xWrite may be given: the unix VFS writes at most
// 0x1ffff bytes per pwrite and masks larger amounts (a 1 MiB write would write nothing).
constexpr std::size_t kMaxWrite = std::size_t{64} << 10;

sqlite3_vfs* default_vfs = nullptr;
sqlite3_vfs combining_vfs{};

// The wrapper of a main database or WAL file. SQLite allocates szOsFile bytes per file and knows
// only `base`; the default VFS's file lives in the same allocation after the wrapper.
struct WrappedFile {
  sqlite3_file base{};              // first member: SQLite's view of this file
  sqlite3_file* real = nullptr;     // the default VFS's file
  WrappedFile* wal = nullptr;       // main database: the connection's WAL file while it is open
  WrappedFile* database = nullptr;  // WAL: the main database file it belongs to
  // WAL only: writes not yet handed to the real file, consecutive from pending_offset.
  std::vector<unsigned char> pending;
  sqlite3_int64 pending_offset = 0;
  int failed = SQLITE_OK;  // a flush failed where it could not be reported: every later call fails
};

constexpr std::size_t kRealFileOffset =
    (sizeof(WrappedFile) + alignof(std::max_align_t) - 1) / alignof(std::max_align_t) * alignof(std::max_align_t);

WrappedFile* wrapped(sqlite3_file* file) noexcept {
  return reinterpret_cast<WrappedFile*>(file);
}
const sqlite3_io_methods& real_methods(const WrappedFile* file) noexcept {
  return *file->real->pMethods;
}

// Hands the pending writes to the real file, in calls of at most kMaxWrite bytes. The pending
// writes are gone either way: after a failure SQLite abandons the transaction that wrote them.
int flush(WrappedFile* file) noexcept {
  if (file->failed != SQLITE_OK) return file->failed;
  int rc = SQLITE_OK;
  for (std::size_t done = 0; done < file->pending.size() && rc == SQLITE_OK; done += kMaxWrite) {
    const std::size_t amount = std::min(kMaxWrite, file->pending.size() - done);
    rc = real_methods(file).xWrite(file->real, file->pending.data() + done, static_cast<int>(amount),
                                   file->pending_offset + static_cast<sqlite3_int64>(done));
  }
  file->pending.clear();
  return rc;
}

// Before the WAL index is published (a barrier or lock on the database's shared memory), which
// cannot report an error: a failure there is kept and fails every later call of the WAL file.
void flush_linked_wal(WrappedFile* database) noexcept {
  WrappedFile* wal = database->wal;
  if (wal == nullptr) return;
  if (const int rc = flush(wal); rc != SQLITE_OK) wal->failed = rc;
}

// ---- methods shared by both kinds: plain forwarding ----
int forward_lock(sqlite3_file* file, int level) {
  return real_methods(wrapped(file)).xLock(wrapped(file)->real, level);
}
int forward_unlock(sqlite3_file* file, int level) {
  return real_methods(wrapped(file)).xUnlock(wrapped(file)->real, level);
}
int forward_check_reserved_lock(sqlite3_file* file, int* out) {
  return real_methods(wrapped(file)).xCheckReservedLock(wrapped(file)->real, out);
}
int forward_sector_size(sqlite3_file* file) {
  return real_methods(wrapped(file)).xSectorSize(wrapped(file)->real);
}
int forward_device_characteristics(sqlite3_file* file) {
  return real_methods(wrapped(file)).xDeviceCharacteristics(wrapped(file)->real);
}
int forward_shm_map(sqlite3_file* file, int region, int size, int extend, void volatile** out) {
  const auto& methods = real_methods(wrapped(file));
  if (methods.iVersion < 2 || methods.xShmMap == nullptr) return SQLITE_IOERR_SHMMAP;
  return methods.xShmMap(wrapped(file)->real, region, size, extend, out);
}
int forward_shm_unmap(sqlite3_file* file, int delete_flag) {
  const auto& methods = real_methods(wrapped(file));
  if (methods.iVersion < 2 || methods.xShmUnmap == nullptr) return SQLITE_OK;
  return methods.xShmUnmap(wrapped(file)->real, delete_flag);
}

// ---- main database file ----
int database_close(sqlite3_file* file) {
  WrappedFile* self = wrapped(file);
  if (self->wal != nullptr) self->wal->database = nullptr;
  const int rc = real_methods(self).xClose(self->real);
  self->~WrappedFile();
  return rc;
}
int database_read(sqlite3_file* file, void* out, int amount, sqlite3_int64 offset) {
  return real_methods(wrapped(file)).xRead(wrapped(file)->real, out, amount, offset);
}
int database_write(sqlite3_file* file, const void* data, int amount, sqlite3_int64 offset) {
  return real_methods(wrapped(file)).xWrite(wrapped(file)->real, data, amount, offset);
}
int database_truncate(sqlite3_file* file, sqlite3_int64 size) {
  return real_methods(wrapped(file)).xTruncate(wrapped(file)->real, size);
}
int database_sync(sqlite3_file* file, int flags) {
  return real_methods(wrapped(file)).xSync(wrapped(file)->real, flags);
}
int database_file_size(sqlite3_file* file, sqlite3_int64* out) {
  return real_methods(wrapped(file)).xFileSize(wrapped(file)->real, out);
}
int database_file_control(sqlite3_file* file, int op, void* arg) {
  return real_methods(wrapped(file)).xFileControl(wrapped(file)->real, op, arg);
}
// The WAL index is published under these: the frames it points to must be in the WAL file first.
// (With synchronous=FULL the commit's xSync has written them already.)
int database_shm_lock(sqlite3_file* file, int offset, int n, int flags) {
  flush_linked_wal(wrapped(file));
  const auto& methods = real_methods(wrapped(file));
  if (methods.iVersion < 2 || methods.xShmLock == nullptr) return SQLITE_IOERR_SHMLOCK;
  return methods.xShmLock(wrapped(file)->real, offset, n, flags);
}
void database_shm_barrier(sqlite3_file* file) {
  flush_linked_wal(wrapped(file));
  const auto& methods = real_methods(wrapped(file));
  if (methods.iVersion >= 2 && methods.xShmBarrier != nullptr) methods.xShmBarrier(wrapped(file)->real);
}
int database_fetch(sqlite3_file* file, sqlite3_int64 offset, int amount, void** out) {
  const auto& methods = real_methods(wrapped(file));
  if (methods.iVersion < 3 || methods.xFetch == nullptr) {
    *out = nullptr;
    return SQLITE_OK;
  }
  return methods.xFetch(wrapped(file)->real, offset, amount, out);
}
int database_unfetch(sqlite3_file* file, sqlite3_int64 offset, void* page) {
  const auto& methods = real_methods(wrapped(file));
  if (methods.iVersion < 3 || methods.xUnfetch == nullptr) return SQLITE_OK;
  return methods.xUnfetch(wrapped(file)->real, offset, page);
}

constexpr sqlite3_io_methods kDatabaseMethods = {
    3,
    database_close,
    database_read,
    database_write,
    database_truncate,
    database_sync,
    database_file_size,
    forward_lock,
    forward_unlock,
    forward_check_reserved_lock,
    database_file_control,
    forward_sector_size,
    forward_device_characteristics,
    forward_shm_map,
    database_shm_lock,
    database_shm_barrier,
    forward_shm_unmap,
    database_fetch,
    database_unfetch,
};

// ---- WAL file: every operation but a consecutive write flushes first ----
int wal_close(sqlite3_file* file) {
  WrappedFile* self = wrapped(file);
  const int flushed = flush(self);
  if (self->database != nullptr) self->database->wal = nullptr;
  const int rc = real_methods(self).xClose(self->real);
  self->~WrappedFile();
  return flushed != SQLITE_OK ? flushed : rc;
}
int wal_read(sqlite3_file* file, void* out, int amount, sqlite3_int64 offset) {
  if (const int rc = flush(wrapped(file)); rc != SQLITE_OK) return rc;
  return real_methods(wrapped(file)).xRead(wrapped(file)->real, out, amount, offset);
}
int wal_write(sqlite3_file* file, const void* data, int amount, sqlite3_int64 offset) {
  WrappedFile* self = wrapped(file);
  if (self->failed != SQLITE_OK) return self->failed;
  const auto size = static_cast<std::size_t>(amount);
  const bool consecutive = offset == self->pending_offset + static_cast<sqlite3_int64>(self->pending.size());
  // Writes reach the file in the order SQLite made them: what is pending goes before anything that
  // is not appended to it.
  const bool appended = consecutive && size <= kMaxWrite && self->pending.size() + size <= kBufferCapacity;
  if (!self->pending.empty() && !appended) {
    if (const int rc = flush(self); rc != SQLITE_OK) return rc;
  }
  if (size > kMaxWrite) return real_methods(self).xWrite(self->real, data, amount, offset);
  if (self->pending.empty()) {
    self->pending_offset = offset;
    if (self->pending.capacity() < kBufferCapacity) {
      try {
        self->pending.reserve(kBufferCapacity);
      } catch (const std::bad_alloc&) {
        return real_methods(self).xWrite(self->real, data, amount, offset);
      }
    }
  }
  const auto* bytes = static_cast<const unsigned char*>(data);
  self->pending.insert(self->pending.end(), bytes, bytes + size);  // within the reserved capacity
  return SQLITE_OK;
}
int wal_truncate(sqlite3_file* file, sqlite3_int64 size) {
  if (const int rc = flush(wrapped(file)); rc != SQLITE_OK) return rc;
  return real_methods(wrapped(file)).xTruncate(wrapped(file)->real, size);
}
int wal_sync(sqlite3_file* file, int flags) {
  if (const int rc = flush(wrapped(file)); rc != SQLITE_OK) return rc;
  return real_methods(wrapped(file)).xSync(wrapped(file)->real, flags);
}
int wal_file_size(sqlite3_file* file, sqlite3_int64* out) {
  if (const int rc = flush(wrapped(file)); rc != SQLITE_OK) return rc;
  return real_methods(wrapped(file)).xFileSize(wrapped(file)->real, out);
}
int wal_file_control(sqlite3_file* file, int op, void* arg) {
  if (const int rc = flush(wrapped(file)); rc != SQLITE_OK) return rc;
  return real_methods(wrapped(file)).xFileControl(wrapped(file)->real, op, arg);
}
int wal_shm_lock(sqlite3_file* file, int offset, int n, int flags) {
  const auto& methods = real_methods(wrapped(file));
  if (methods.iVersion < 2 || methods.xShmLock == nullptr) return SQLITE_IOERR_SHMLOCK;
  return methods.xShmLock(wrapped(file)->real, offset, n, flags);
}
void wal_shm_barrier(sqlite3_file* file) {
  const auto& methods = real_methods(wrapped(file));
  if (methods.iVersion >= 2 && methods.xShmBarrier != nullptr) methods.xShmBarrier(wrapped(file)->real);
}
int wal_fetch(sqlite3_file* file, sqlite3_int64 offset, int amount, void** out) {
  if (const int rc = flush(wrapped(file)); rc != SQLITE_OK) return rc;
  return database_fetch(file, offset, amount, out);
}

constexpr sqlite3_io_methods kWalMethods = {
    3,
    wal_close,
    wal_read,
    wal_write,
    wal_truncate,
    wal_sync,
    wal_file_size,
    forward_lock,
    forward_unlock,
    forward_check_reserved_lock,
    wal_file_control,
    forward_sector_size,
    forward_device_characteristics,
    forward_shm_map,
    wal_shm_lock,
    wal_shm_barrier,
    forward_shm_unmap,
    wal_fetch,
    database_unfetch,
};

// ---- the VFS: opens wrap main databases and WALs; everything else is the default VFS ----
int vfs_open(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* file, int flags, int* out_flags) {
  const bool is_wal = (flags & SQLITE_OPEN_WAL) != 0;
  if (!is_wal && (flags & SQLITE_OPEN_MAIN_DB) == 0) {
    // Journals and temporary files: the default VFS's file, in place (szOsFile is larger).
    return default_vfs->xOpen(default_vfs, name, file, flags, out_flags);
  }
  auto* self = new (file) WrappedFile{};
  self->real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(file) + kRealFileOffset);
  const int rc = default_vfs->xOpen(default_vfs, name, self->real, flags, out_flags);
  if (rc != SQLITE_OK) {
    self->~WrappedFile();
    file->pMethods = nullptr;  // SQLite calls no method of a file that failed to open
    return rc;
  }
  if (is_wal) {
    self->base.pMethods = &kWalMethods;
    sqlite3_file* database = sqlite3_database_file_object(name);
    if (database != nullptr && database->pMethods == &kDatabaseMethods) {
      self->database = wrapped(database);
      self->database->wal = self;
    }
  } else {
    self->base.pMethods = &kDatabaseMethods;
  }
  return SQLITE_OK;
}

int vfs_delete(sqlite3_vfs*, const char* name, int sync_dir) {
  return default_vfs->xDelete(default_vfs, name, sync_dir);
}
int vfs_access(sqlite3_vfs*, const char* name, int flags, int* out) {
  return default_vfs->xAccess(default_vfs, name, flags, out);
}
int vfs_full_pathname(sqlite3_vfs*, const char* name, int size, char* out) {
  return default_vfs->xFullPathname(default_vfs, name, size, out);
}
void* vfs_dl_open(sqlite3_vfs*, const char* name) {
  return default_vfs->xDlOpen(default_vfs, name);
}
void vfs_dl_error(sqlite3_vfs*, int size, char* out) {
  default_vfs->xDlError(default_vfs, size, out);
}
void (*vfs_dl_sym(sqlite3_vfs*, void* handle, const char* symbol))() {
  return default_vfs->xDlSym(default_vfs, handle, symbol);
}
void vfs_dl_close(sqlite3_vfs*, void* handle) {
  default_vfs->xDlClose(default_vfs, handle);
}
int vfs_randomness(sqlite3_vfs*, int size, char* out) {
  return default_vfs->xRandomness(default_vfs, size, out);
}
int vfs_sleep(sqlite3_vfs*, int microseconds) {
  return default_vfs->xSleep(default_vfs, microseconds);
}
int vfs_current_time(sqlite3_vfs*, double* out) {
  return default_vfs->xCurrentTime(default_vfs, out);
}
int vfs_get_last_error(sqlite3_vfs*, int size, char* out) {
  return default_vfs->xGetLastError != nullptr ? default_vfs->xGetLastError(default_vfs, size, out) : 0;
}
int vfs_current_time_int64(sqlite3_vfs*, sqlite3_int64* out) {
  if (default_vfs->iVersion >= 2 && default_vfs->xCurrentTimeInt64 != nullptr) {
    return default_vfs->xCurrentTimeInt64(default_vfs, out);
  }
  double days = 0;
  const int rc = default_vfs->xCurrentTime(default_vfs, &days);
  *out = static_cast<sqlite3_int64>(days * 86'400'000.0);
  return rc;
}

const char* register_vfs() noexcept {
  default_vfs = sqlite3_vfs_find(nullptr);
  if (default_vfs == nullptr) return nullptr;
  combining_vfs.iVersion = 2;
  combining_vfs.szOsFile = static_cast<int>(kRealFileOffset) + default_vfs->szOsFile;
  combining_vfs.mxPathname = default_vfs->mxPathname;
  combining_vfs.zName = "kelvin-wal-write-combining";
  combining_vfs.xOpen = vfs_open;
  combining_vfs.xDelete = vfs_delete;
  combining_vfs.xAccess = vfs_access;
  combining_vfs.xFullPathname = vfs_full_pathname;
  combining_vfs.xDlOpen = vfs_dl_open;
  combining_vfs.xDlError = vfs_dl_error;
  combining_vfs.xDlSym = vfs_dl_sym;
  combining_vfs.xDlClose = vfs_dl_close;
  combining_vfs.xRandomness = vfs_randomness;
  combining_vfs.xSleep = vfs_sleep;
  combining_vfs.xCurrentTime = vfs_current_time;
  combining_vfs.xGetLastError = vfs_get_last_error;
  combining_vfs.xCurrentTimeInt64 = vfs_current_time_int64;
  if (sqlite3_vfs_register(&combining_vfs, 0) != SQLITE_OK) return nullptr;
  return combining_vfs.zName;
}

}  // namespace

const char* wal_write_combining_vfs() noexcept {
  static const char* const name = register_vfs();
  return name;
}

}  // namespace kelvin::store::sqlite
