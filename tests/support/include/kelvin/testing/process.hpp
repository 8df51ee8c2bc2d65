#pragma once
// Running programs from tests: the project's own binaries and independent tools (openssl, ...).

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace kelvin::testing {

struct CommandResult {
  int exit_code = -1;  // the exit status, or 128 + signal number when killed by a signal
  std::string out;     // stdout
  std::string err;     // stderr
};

struct CommandOptions {
  // Variables to set (value) or remove (nullopt) on top of the test's own environment.
  std::map<std::string, std::optional<std::string>> env;
  std::string stdin_data;
  std::chrono::milliseconds timeout{60'000};  // the child is killed (SIGKILL) past this
};

// Runs argv[0] (searched in PATH) with the arguments and waits for it.
CommandResult run_command(const std::vector<std::string>& argv, const CommandOptions& options = {});

// The exit code, stdout and stderr of a finished command, for assertion messages.
std::string describe(const CommandResult& result);

// The path of a binary built by this project, from the KELVIN_BIN_DIR compile definition.
std::string project_binary(const std::string& name);

}  // namespace kelvin::testing
