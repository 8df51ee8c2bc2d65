#pragma once
// A SQLite VFS that combines the many small writes of a WAL commit into few large ones.
//
// Why: SQLite writes each WAL frame with two calls (its 24-byte header, then the page), so a
// commit that dirties 200 pages makes 400 pwrite calls. On a gateway storing one reading per
// message from many devices every page of a commit is a different device's index leaf, and those
// system calls were the largest single cost of the commit thread (see docs/benchmarks.md).
//
// How: every file of a connection opened through this VFS wraps the default VFS's file. A WAL
// file keeps consecutive writes in a buffer and hands them to the real file in one write when
// anything else happens to it (a read, a sync, a truncate, its size asked, a non-consecutive
// write, close) or the buffer is full. The database file a WAL belongs to flushes that buffer
// before every shared-memory barrier or lock: a frame is in the file before the WAL index makes
// it visible to another connection, whatever the synchronous setting. The durability contract is
// unchanged: a commit is durable when its xSync returns, and xSync writes the buffer first.
//
// A write that fails when the buffer is flushed fails the call that flushed it (the commit's
// xSync, typically), so SQLite abandons that transaction as it would have after a failed write,
// and the next one can succeed once the disk has room again. Only a flush before a shared-memory
// barrier cannot report its failure (possible only below synchronous=FULL, which the store never
// runs): then the WAL file fails every later call until it is closed. Other files (journals,
// temp files) are the default VFS's own, untouched.

namespace kelvin::store::sqlite {

// Registers the VFS on first use (thread-safe) and returns its name for sqlite3_open_v2, or
// nullptr when registration failed (then the default VFS is used: slower, equally correct).
const char* wal_write_combining_vfs() noexcept;

}  // namespace kelvin::store::sqlite
