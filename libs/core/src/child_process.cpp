#include "kelvin/core/child_process.hpp"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

extern char** environ;

namespace kelvin {
namespace {

ChildExit describe_status(int status) {
  if (WIFEXITED(status)) return {"exited with status " + std::to_string(WEXITSTATUS(status)), WEXITSTATUS(status)};
  if (WIFSIGNALED(status)) return {"killed by signal " + std::to_string(WTERMSIG(status)), std::nullopt};
  return {"ended (status " + std::to_string(status) + ")", std::nullopt};
}

// The parent's environment with `additions` (NAME=value) added or replacing the same names.
std::vector<std::string> child_environment(const std::vector<std::string>& additions) {
  std::vector<std::string> out;
  auto name_of = [](const std::string& entry) { return entry.substr(0, entry.find('=')); };
  for (char** entry = environ; entry && *entry; ++entry) {
    std::string text(*entry);
    bool replaced = false;
    for (const auto& addition : additions) replaced = replaced || name_of(addition) == name_of(text);
    if (!replaced) out.push_back(std::move(text));
  }
  out.insert(out.end(), additions.begin(), additions.end());
  return out;
}

}  // namespace

Result<ChildProcess> ChildProcess::spawn(const std::vector<std::string>& argv, const SpawnOptions& options) {
  // Everything the child needs is built before fork: between fork and exec only async-signal-safe
  // calls, since the parent may be multi-threaded.
  std::vector<char*> args;
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  const std::vector<std::string> environment = child_environment(options.environment);
  std::vector<char*> envp;
  for (const auto& entry : environment) envp.push_back(const_cast<char*>(entry.c_str()));
  envp.push_back(nullptr);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) return make_error(Errc::io, std::string("cannot start ") + argv[0] + ": fork: " + std::strerror(errno));
  if (pid == 0) {
    // A parent may block SIGTERM/SIGINT (the gateway takes them with sigwait) and ignore SIGPIPE;
    // exec would pass both on, and a child that cannot receive SIGTERM cannot be stopped gently.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    signal(SIGPIPE, SIG_DFL);
    prctl(PR_SET_PDEATHSIG, options.parent_death_signal);
    if (getppid() != parent) _exit(127);  // the parent died before prctl took effect
    if (options.output_fd >= 0 &&
        (dup2(options.output_fd, STDOUT_FILENO) < 0 || dup2(options.output_fd, STDERR_FILENO) < 0)) {
      _exit(127);
    }
    execvpe(args[0], args.data(), envp.data());
    _exit(127);
  }
  return ChildProcess(pid);
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept : pid_(other.pid_) {
  other.pid_ = -1;
}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this != &other) {
    stop();
    pid_ = other.pid_;
    other.pid_ = -1;
  }
  return *this;
}

ChildProcess::~ChildProcess() {
  stop();
}

std::optional<ChildExit> ChildProcess::poll_exit() {
  if (pid_ < 0) return ChildExit{"not running", std::nullopt};
  int status = 0;
  const pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == 0) return std::nullopt;
  pid_ = -1;
  if (r < 0) return ChildExit{std::string("lost track of it: ") + std::strerror(errno), std::nullopt};
  return describe_status(status);
}

std::optional<ChildExit> ChildProcess::stop(std::chrono::milliseconds grace) {
  if (pid_ < 0) return std::nullopt;
  kill(pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (std::chrono::steady_clock::now() < deadline) {
    if (auto ended = poll_exit()) return ended;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return describe_status(status);
}

}  // namespace kelvin
