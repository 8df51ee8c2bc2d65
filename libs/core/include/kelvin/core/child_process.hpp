#pragma once
// A child process its parent owns: the gateway's managed broker, the agent's boot step running a
// firmware slot's program. Linux only.

#include <chrono>
#include <csignal>
#include <optional>
#include <string>
#include <vector>

#include "kelvin/core/result.hpp"

namespace kelvin {

struct SpawnOptions {
  // "NAME=value" entries added to (or replacing in) the parent's environment for the child.
  std::vector<std::string> environment;
  // What the child gets when the parent dies, even by SIGKILL (PR_SET_PDEATHSIG), so a crashed
  // parent never leaves an orphan behind: SIGTERM lets it stop gently; SIGKILL when a successor
  // must be able to take its place at once.
  int parent_death_signal = SIGTERM;
  // When not -1: the child's standard output and error (the write end of a pipe its parent reads);
  // otherwise the parent's.
  int output_fd = -1;
};

// How a child ended.
struct ChildExit {
  std::string description;    // "exited with status 1", "killed by signal 9"
  std::optional<int> status;  // the exit status when it exited (not killed)
};

class ChildProcess {
 public:
  // Starts argv[0] (looked up in PATH when it has no '/') with the parent's stdout/stderr, or
  // options.output_fd.
  static Result<ChildProcess> spawn(const std::vector<std::string>& argv, const SpawnOptions& options = {});

  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();  // stop()s a running child

  int pid() const { return pid_; }
  // Non-blocking: how the child ended once it has, nullopt while it runs.
  std::optional<ChildExit> poll_exit();
  // SIGTERM, then SIGKILL after `grace`; reaps the child. How it ended (nullopt if it was reaped
  // already).
  std::optional<ChildExit> stop(std::chrono::milliseconds grace = std::chrono::seconds(5));

 private:
  explicit ChildProcess(int pid) : pid_(pid) {}
  int pid_ = -1;  // -1: no child (moved from, or reaped)
};

}  // namespace kelvin
