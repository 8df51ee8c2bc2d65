#pragma once
// Durable, permission-aware file operations (POSIX). Secrets (keys, passphrases) live in files
// that are created with their final restrictive mode from the first byte: there is never a
// window in which another user could open them.

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "kelvin/core/result.hpp"

namespace kelvin::files {

inline constexpr mode_t kPrivateDirMode = 0700;
inline constexpr mode_t kPrivateFileMode = 0600;
inline constexpr mode_t kPublicFileMode = 0644;

// Creates `dir` (and missing parents) with mode 0700. An existing directory is tightened to 0700.
Result<void> ensure_private_dir(const std::filesystem::path& dir);

// Replaces `path` atomically with `content`: written to a temporary file in the same directory
// (created with `mode`), fsynced, renamed over `path`, and the directory fsynced. After a crash,
// `path` holds either the old or the new content, never a mix.
Result<void> write_file_atomic(const std::filesystem::path& path, std::string_view content, mode_t mode);

// Copies `from` to `to`, which must not exist yet (Errc::already_exists), created with `mode`;
// the copy is fsynced before returning (its directory entry is not: see sync_directory). A failed
// copy leaves no `to` behind. `from` longer than `max_bytes` is Errc::invalid_argument once that
// much was read, so an endless source (a device file, a growing file) cannot fill the disk.
// `progress` (optional) hears the bytes copied so far after every 64 KiB written.
Result<void> copy_file_durably(const std::filesystem::path& from, const std::filesystem::path& to, mode_t mode,
                               std::uint64_t max_bytes = UINT64_MAX,
                               const std::function<void(std::uint64_t copied)>& progress = {});

// fsyncs a directory, making the entries created, renamed or removed in it durable.
Result<void> sync_directory(const std::filesystem::path& dir);

// Appends `content` to `path` (created with `mode` if missing) and fsyncs before returning.
Result<void> append_durably(const std::filesystem::path& path, std::string_view content, mode_t mode);

// Shrinks `path` to `size` bytes and fsyncs it (used to cut a torn tail off an append-only log).
Result<void> truncate_durably(const std::filesystem::path& path, std::size_t size);

// Reads a whole file; refuses files larger than `max_bytes`.
Result<std::string> read_file(const std::filesystem::path& path, std::size_t max_bytes = 16u << 20);

// Reads a secret (passphrase, token) from a file that only its owner may read or write: a file
// with any group or other permission bit is refused. One trailing newline ("\n" or "\r\n") is
// removed. A symlink is refused (its own mode says nothing about the target's).
Result<std::string> read_secret_file(const std::filesystem::path& path);

// The permission bits (e.g. 0600) of `path`, not following symlinks.
Result<mode_t> permissions_of(const std::filesystem::path& path);

// An exclusive advisory lock (flock) on `path`, created 0600 if missing, held until destruction.
// Serialises processes that mutate the same state directory.
class ExclusiveLock {
 public:
  static Result<ExclusiveLock> acquire(const std::filesystem::path& path);
  ExclusiveLock(ExclusiveLock&& other) noexcept;
  ExclusiveLock& operator=(ExclusiveLock&& other) noexcept;
  ExclusiveLock(const ExclusiveLock&) = delete;
  ExclusiveLock& operator=(const ExclusiveLock&) = delete;
  ~ExclusiveLock();

 private:
  explicit ExclusiveLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

// Turns the current errno into an Error: "<what> <path>: <strerror>".
Error error_from_errno(std::string_view what, const std::filesystem::path& path);

}  // namespace kelvin::files
