#include "kelvin/core/files.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

namespace kelvin::files {
namespace fs = std::filesystem;

namespace {

// Closes a file descriptor on scope exit.
class FdGuard {
 public:
  explicit FdGuard(int fd) : fd_(fd) {}
  FdGuard(const FdGuard&) = delete;
  FdGuard& operator=(const FdGuard&) = delete;
  ~FdGuard() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  // Closes now, reporting failure (close can report a deferred write error).
  bool close() {
    int fd = std::exchange(fd_, -1);
    return fd < 0 || ::close(fd) == 0;
  }

 private:
  int fd_;
};

Errc errc_from_errno(int err) {
  switch (err) {
    case EACCES:
    case EPERM:
      return Errc::permission_denied;
    case ENOENT:
    case ENOTDIR:
      return Errc::not_found;
    case EEXIST:
      return Errc::already_exists;
    default:
      return Errc::io;
  }
}

Result<void> write_all(int fd, std::string_view content, const fs::path& path) {
  while (!content.empty()) {
    ssize_t n = ::write(fd, content.data(), content.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return error_from_errno("cannot write", path);
    }
    content.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

}  // namespace

Result<void> sync_directory(const fs::path& dir) {
  FdGuard fd(::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return error_from_errno("cannot open directory", dir);
  if (::fsync(fd.get()) != 0) return error_from_errno("cannot sync directory", dir);
  return {};
}

Result<void> copy_file_durably(const fs::path& from, const fs::path& to, mode_t mode, std::uint64_t max_bytes,
                               const std::function<void(std::uint64_t)>& progress) {
  FdGuard in(::open(from.c_str(), O_RDONLY | O_CLOEXEC));
  if (in.get() < 0) return error_from_errno("cannot open", from);
  // O_EXCL: never writes through an existing file or a symlink planted in its place.
  FdGuard out(::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode));
  if (out.get() < 0) return error_from_errno("cannot create", to);
  auto fail = [&](Error e) -> Result<void> {
    ::unlink(to.c_str());
    return e;
  };
  if (::fchmod(out.get(), mode) != 0) return fail(error_from_errno("cannot set permissions of", to));
  std::string buffer(64 * 1024, '\0');
  std::uint64_t copied = 0;
  for (;;) {
    const ssize_t n = ::read(in.get(), buffer.data(), buffer.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(error_from_errno("cannot read", from));
    }
    if (n == 0) break;
    if (static_cast<std::uint64_t>(n) > max_bytes - copied) {
      return fail(make_error(Errc::invalid_argument,
                             from.string() + " is longer than " + std::to_string(max_bytes) + " bytes"));
    }
    copied += static_cast<std::uint64_t>(n);
    if (auto w = write_all(out.get(), std::string_view(buffer.data(), static_cast<std::size_t>(n)), to); !w) {
      return fail(std::move(w).error());
    }
    if (progress) progress(copied);
  }
  if (::fsync(out.get()) != 0) return fail(error_from_errno("cannot sync", to));
  if (!out.close()) return fail(error_from_errno("cannot close", to));
  return {};
}

Error error_from_errno(std::string_view what, const fs::path& path) {
  int err = errno;
  return make_error(errc_from_errno(err), std::string(what) + " " + path.string() + ": " + std::strerror(err));
}

Result<void> ensure_private_dir(const fs::path& dir) {
  if (dir.has_parent_path() && dir.parent_path() != dir) {
    struct stat parent {};
    if (::stat(dir.parent_path().c_str(), &parent) != 0) {
      if (errno != ENOENT) return error_from_errno("cannot inspect", dir.parent_path());
      if (auto made = ensure_private_dir(dir.parent_path()); !made) return made;
    }
  }
  // mkdir applies the umask, which can only remove bits: 0700 can never come out wider.
  if (::mkdir(dir.c_str(), kPrivateDirMode) == 0) return {};
  if (errno != EEXIST) return error_from_errno("cannot create directory", dir);

  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0) return error_from_errno("cannot inspect", dir);
  if (!S_ISDIR(st.st_mode)) {
    return make_error(Errc::already_exists, dir.string() + " exists and is not a directory");
  }
  if ((st.st_mode & 07777) != kPrivateDirMode && ::chmod(dir.c_str(), kPrivateDirMode) != 0) {
    return error_from_errno("cannot restrict permissions of", dir);
  }
  return {};
}

Result<void> write_file_atomic(const fs::path& path, std::string_view content, mode_t mode) {
  fs::path tmp_template = path;
  tmp_template += ".tmp.XXXXXX";
  std::string tmp_name = tmp_template.string();
  // mkstemp creates the file 0600; widening (for public files) happens before any content exists.
  FdGuard fd(::mkostemp(tmp_name.data(), O_CLOEXEC));
  if (fd.get() < 0) return error_from_errno("cannot create a file in", path.parent_path());
  const fs::path tmp_path(tmp_name);

  auto fail = [&](Error e) -> Result<void> {
    ::unlink(tmp_path.c_str());
    return e;
  };
  if (::fchmod(fd.get(), mode) != 0) return fail(error_from_errno("cannot set permissions of", tmp_path));
  if (auto w = write_all(fd.get(), content, tmp_path); !w) return fail(std::move(w).error());
  if (::fsync(fd.get()) != 0) return fail(error_from_errno("cannot sync", tmp_path));
  if (!fd.close()) return fail(error_from_errno("cannot close", tmp_path));
  if (::rename(tmp_path.c_str(), path.c_str()) != 0) return fail(error_from_errno("cannot replace", path));
  return sync_directory(path.parent_path());
}

Result<void> append_durably(const fs::path& path, std::string_view content, mode_t mode) {
  bool existed = ::access(path.c_str(), F_OK) == 0;
  FdGuard fd(::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, mode));
  if (fd.get() < 0) return error_from_errno("cannot open", path);
  if (auto w = write_all(fd.get(), content, path); !w) return w;
  if (::fsync(fd.get()) != 0) return error_from_errno("cannot sync", path);
  if (!fd.close()) return error_from_errno("cannot close", path);
  return existed ? Result<void>{} : sync_directory(path.parent_path());
}

Result<void> truncate_durably(const fs::path& path, std::size_t size) {
  FdGuard fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (fd.get() < 0) return error_from_errno("cannot open", path);
  if (::ftruncate(fd.get(), static_cast<off_t>(size)) != 0) return error_from_errno("cannot truncate", path);
  if (::fsync(fd.get()) != 0) return error_from_errno("cannot sync", path);
  return {};
}

Result<std::string> read_file(const fs::path& path, std::size_t max_bytes) {
  FdGuard fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return error_from_errno("cannot open", path);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return error_from_errno("cannot inspect", path);
  if (!S_ISREG(st.st_mode)) return make_error(Errc::io, path.string() + " is not a regular file");
  if (static_cast<std::size_t>(st.st_size) > max_bytes) {
    return make_error(Errc::io, path.string() + " is larger than " + std::to_string(max_bytes) + " bytes");
  }
  std::string content;
  char buffer[8192];
  for (;;) {
    ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      return error_from_errno("cannot read", path);
    }
    if (n == 0) break;
    content.append(buffer, static_cast<std::size_t>(n));
    if (content.size() > max_bytes) {
      return make_error(Errc::io, path.string() + " is larger than " + std::to_string(max_bytes) + " bytes");
    }
  }
  return content;
}

Result<std::string> read_secret_file(const fs::path& path) {
  auto mode = permissions_of(path);
  if (!mode) return std::move(mode).error();
  if ((*mode & 077) != 0) {
    char octal[12];
    std::snprintf(octal, sizeof octal, "%04o", static_cast<unsigned>(*mode));
    return make_error(Errc::permission_denied, "refusing secret file " + path.string() + " with mode " + octal +
                                                   ": others may read it; run chmod 600 " + path.string());
  }
  auto content = read_file(path, 64u << 10);
  if (!content) return content;
  std::string secret = std::move(content).value();
  if (!secret.empty() && secret.back() == '\n') {
    secret.pop_back();
    if (!secret.empty() && secret.back() == '\r') secret.pop_back();
  }
  return secret;
}

Result<mode_t> permissions_of(const fs::path& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return error_from_errno("cannot inspect", path);
  return static_cast<mode_t>(st.st_mode & 07777);
}

Result<ExclusiveLock> ExclusiveLock::acquire(const fs::path& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, kPrivateFileMode);
  if (fd < 0) return error_from_errno("cannot open lock file", path);
  while (::flock(fd, LOCK_EX) != 0) {
    if (errno == EINTR) continue;
    Error e = error_from_errno("cannot lock", path);
    ::close(fd);
    return e;
  }
  return ExclusiveLock(fd);
}

ExclusiveLock::ExclusiveLock(ExclusiveLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

ExclusiveLock& ExclusiveLock::operator=(ExclusiveLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

ExclusiveLock::~ExclusiveLock() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the flock
}

}  // namespace kelvin::files
