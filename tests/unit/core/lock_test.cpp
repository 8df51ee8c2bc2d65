#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <optional>

#include "kelvin/core/files.hpp"
#include "kelvin/testing/temp_dir.hpp"

namespace kelvin {
namespace {

namespace fs = std::filesystem;
using kelvin::testing::TempDir;

constexpr int kWouldBlock = 10;
constexpr int kAcquired = 11;
constexpr int kOtherError = 12;
constexpr int kProbeFailed = -1;

// Forks a child that tries a non-blocking flock (exclusive by default) on `path` and reports what
// happened. flock locks belong to open file descriptions, so a separate process is the honest test.
int probe_lock_from_child(const fs::path& path, int operation = LOCK_EX) {
  pid_t pid = ::fork();
  if (pid < 0) return kProbeFailed;
  if (pid == 0) {
    int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) ::_exit(kOtherError);
    if (::flock(fd, operation | LOCK_NB) == 0) ::_exit(kAcquired);
    ::_exit(errno == EWOULDBLOCK ? kWouldBlock : kOtherError);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return kProbeFailed;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : kProbeFailed;
}

TEST(ExclusiveLock, CreatesLockFileWithMode0600) {
  TempDir tmp;
  const fs::path path = tmp / ".lock";
  auto lock = files::ExclusiveLock::acquire(path);
  ASSERT_TRUE(lock.ok()) << lock.error().message;
  ASSERT_TRUE(fs::exists(path));
  auto mode = files::permissions_of(path);
  ASSERT_TRUE(mode.ok());
  EXPECT_EQ(*mode, 0600u);
}

TEST(ExclusiveLock, ExcludesOtherProcessesUntilReleased) {
  TempDir tmp;
  const fs::path path = tmp / ".lock";
  {
    auto lock = files::ExclusiveLock::acquire(path);
    ASSERT_TRUE(lock.ok()) << lock.error().message;
    EXPECT_EQ(probe_lock_from_child(path), kWouldBlock);
    // Exclusive means readers (shared locks) are kept out too.
    EXPECT_EQ(probe_lock_from_child(path, LOCK_SH), kWouldBlock);
  }
  EXPECT_EQ(probe_lock_from_child(path), kAcquired);
}

TEST(ExclusiveLock, CanBeReacquiredAfterRelease) {
  TempDir tmp;
  const fs::path path = tmp / ".lock";
  for (int i = 0; i < 2; ++i) {
    {
      auto lock = files::ExclusiveLock::acquire(path);
      ASSERT_TRUE(lock.ok()) << lock.error().message;
      EXPECT_EQ(probe_lock_from_child(path), kWouldBlock);
    }
    // Checked before acquiring again: a lock that is never released would block forever.
    ASSERT_EQ(probe_lock_from_child(path), kAcquired);
  }
}

TEST(ExclusiveLock, MovedLockStaysHeld) {
  TempDir tmp;
  const fs::path path = tmp / ".lock";
  std::optional<files::ExclusiveLock> holder;
  {
    auto lock = files::ExclusiveLock::acquire(path);
    ASSERT_TRUE(lock.ok()) << lock.error().message;
    files::ExclusiveLock moved(std::move(lock).value());
    holder.emplace(std::move(moved));
    // `lock` and `moved` are destroyed here; neither may release the lock.
  }
  EXPECT_EQ(probe_lock_from_child(path), kWouldBlock);
  holder.reset();
  EXPECT_EQ(probe_lock_from_child(path), kAcquired);
}

TEST(ExclusiveLock, MoveAssignmentReleasesThePreviouslyHeldLock) {
  TempDir tmp;
  const fs::path first_path = tmp / "first.lock";
  const fs::path second_path = tmp / "second.lock";
  auto first = files::ExclusiveLock::acquire(first_path);
  ASSERT_TRUE(first.ok()) << first.error().message;
  auto second = files::ExclusiveLock::acquire(second_path);
  ASSERT_TRUE(second.ok()) << second.error().message;

  *first = std::move(second).value();  // drops the lock on first.lock, takes over second.lock
  EXPECT_EQ(probe_lock_from_child(first_path), kAcquired);
  EXPECT_EQ(probe_lock_from_child(second_path), kWouldBlock);
}

TEST(ExclusiveLock, FailsInMissingDirectory) {
  TempDir tmp;
  auto lock = files::ExclusiveLock::acquire(tmp / "missing" / ".lock");
  ASSERT_FALSE(lock.ok());
  EXPECT_EQ(lock.error().code, Errc::not_found);
  EXPECT_NE(lock.error().message.find("lock"), std::string::npos);
}

}  // namespace
}  // namespace kelvin
