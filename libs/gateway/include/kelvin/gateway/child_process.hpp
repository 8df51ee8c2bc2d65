#pragma once
// A child process the gateway owns (the managed broker). Linux only.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "kelvin/core/result.hpp"

namespace kelvin::gateway {

class ChildProcess {
 public:
  // Starts argv[0] (looked up in PATH) with the gateway's stdout/stderr. The child gets SIGTERM
  // if the gateway dies, even by SIGKILL (PR_SET_PDEATHSIG), so a crashed gateway never leaves an
  // orphaned broker holding the port.
  static Result<ChildProcess> spawn(const std::vector<std::string>& argv);

  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();  // stop()s a running child

  int pid() const { return pid_; }
  // Non-blocking: the exit description ("exited with status 1", "killed by signal 9") once the
  // child has ended, nullopt while it runs.
  std::optional<std::string> poll_exit();
  // SIGTERM, then SIGKILL after `grace`; reaps the child.
  void stop(std::chrono::milliseconds grace = std::chrono::seconds(5));

 private:
  explicit ChildProcess(int pid) : pid_(pid) {}
  int pid_ = -1;  // -1: no child (moved from, or reaped)
};

}  // namespace kelvin::gateway
