#include "kelvin/testing/unprivileged.hpp"

#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <string_view>
#include <system_error>

namespace kelvin::testing {
namespace {

namespace fs = std::filesystem;

// The child's report starts with one of these, so a check that returns "" is not mistaken for a
// child that died before it could say anything.
constexpr char kResult = 'R';
constexpr char kFailure = 'F';

void write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

std::string errno_text(const char* what) {
  return std::string(what) + ": " + std::strerror(errno);
}

// In the child: become `account` for good. Empty on success, else what failed.
std::string drop_privileges(const Account& account) {
  if (::geteuid() != 0) return "";
  // Supplementary groups first (root's would otherwise stay), then the group, then the user:
  // after setuid the process may no longer change its groups.
  if (::setgroups(0, nullptr) != 0) return errno_text("setgroups");
  if (::setgid(account.gid) != 0) return errno_text("setgid");
  if (::setuid(account.uid) != 0) return errno_text("setuid");
  if (::setuid(0) == 0 || ::geteuid() == 0 || ::getuid() == 0) return "the child could get root back";
  return "";
}

}  // namespace

Account unprivileged_account() {
  if (::geteuid() != 0) return {::geteuid(), ::getegid()};
  // 65534 is nobody/nogroup on Debian; the names are looked up in case a system differs.
  Account account{65534, 65534};
  if (const passwd* user = ::getpwnam("nobody")) account = {user->pw_uid, user->pw_gid};
  if (const group* group = ::getgrnam("nogroup")) account.gid = group->gr_gid;
  return account;
}

bool give_to_unprivileged(const fs::path& path) {
  if (::geteuid() == 0) {
    const Account account = unprivileged_account();
    auto give = [&](const fs::path& item) {
      if (::lchown(item.c_str(), account.uid, account.gid) == 0) return true;
      ADD_FAILURE() << "cannot give " << item << " to uid " << account.uid << ": " << std::strerror(errno);
      return false;
    };
    if (!give(path)) return false;
    std::error_code ec;
    if (fs::is_directory(fs::symlink_status(path, ec))) {
      for (auto it = fs::recursive_directory_iterator(path, ec); !ec && it != fs::recursive_directory_iterator();
           it.increment(ec)) {
        if (!give(it->path())) return false;
      }
    }
    if (ec) {
      ADD_FAILURE() << "cannot walk " << path << ": " << ec.message();
      return false;
    }
  }
  // access() checks the real ids, which the child has dropped too: this is exactly its view.
  auto reachable =
      run_unprivileged([&]() -> std::string { return ::access(path.c_str(), F_OK) == 0 ? "" : std::strerror(errno); });
  if (!reachable) return false;
  if (!reachable->empty()) {
    ADD_FAILURE() << path << " is out of the unprivileged account's reach (" << *reachable
                  << "); run the tests with TMPDIR set to a directory others may enter, such as /tmp";
    return false;
  }
  return true;
}

std::optional<std::string> run_unprivileged(const std::function<std::string()>& check) {
  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0) {
    ADD_FAILURE() << errno_text("pipe2");
    return std::nullopt;
  }
  const Account account = unprivileged_account();
  const pid_t pid = ::fork();
  if (pid < 0) {
    ADD_FAILURE() << errno_text("fork");
    ::close(report[0]);
    ::close(report[1]);
    return std::nullopt;
  }
  if (pid == 0) {
    ::close(report[0]);
    std::string message;
    char kind = kFailure;
    if (std::string dropped = drop_privileges(account); !dropped.empty()) {
      message = "cannot drop privileges: " + dropped;
    } else {
      try {
        message = check();
        kind = kResult;
      } catch (const std::exception& e) {
        message = std::string("the check threw: ") + e.what();
      } catch (...) {
        message = "the check threw";
      }
    }
    write_all(report[1], std::string(1, kind) + message);
    // _exit: no atexit handlers, no flushing of stdio buffers copied from the parent.
    ::_exit(0);
  }
  ::close(report[1]);
  std::string received;
  char buffer[4096];
  for (;;) {
    ssize_t n = ::read(report[0], buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    received.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(report[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || received.empty()) {
    ADD_FAILURE() << "the unprivileged child died (status " << status << ") after reporting '" << received << "'";
    return std::nullopt;
  }
  if (received.front() != kResult) {
    ADD_FAILURE() << "unprivileged child (uid " << account.uid << "): " << received.substr(1);
    return std::nullopt;
  }
  return received.substr(1);
}

}  // namespace kelvin::testing
