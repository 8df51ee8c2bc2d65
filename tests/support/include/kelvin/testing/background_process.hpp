#pragma once
// A long-running program under test (the gateway, an agent, a broker): started in the background,
// its stdout and stderr captured to a log file the test prints on failure, stopped or killed on
// demand, and always reaped (SIGKILL) when the object goes away.

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace kelvin::testing {

class BackgroundProcess {
 public:
  // Starts argv[0] (searched in PATH); output goes to `log_file` (appended).
  BackgroundProcess(std::vector<std::string> argv, std::filesystem::path log_file);
  ~BackgroundProcess();
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;

  int pid() const { return pid_; }
  bool running();
  // Sends `signal` and waits up to `timeout` for the exit; returns the exit code (128 + signal
  // when killed), nullopt if it is still running.
  std::optional<int> stop(int signal, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Waits for the process to end by itself.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  std::string log() const;

 private:
  std::vector<std::string> argv_;
  std::filesystem::path log_file_;
  int pid_ = -1;
  std::optional<int> exit_code_;
};

// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0 by the kernel, then closed).
int free_tcp_port();

// Polls `condition` every 20 ms until it holds or `timeout` passes; returns the last result.
bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout);

}  // namespace kelvin::testing
