#pragma once
// Where the InfluxDB username and password come from: never the config file itself (which is
// readable, copied into tickets and backups), but a private file or the environment.

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "kelvin/core/result.hpp"

namespace kelvin::influx {

struct Credentials {
  std::string username;
  std::string password;
};

inline constexpr const char* kUsernameEnv = "KELVIN_INFLUX_USERNAME";
inline constexpr const char* kPasswordEnv = "KELVIN_INFLUX_PASSWORD";

// Loads the credentials for HTTP Basic authentication.
//
// - `file` set: it must be a regular file (a symlink is followed; the checks apply to the file
//   actually opened) owned by the current user with no group or other permission bits, else
//   Errc::permission_denied with what to run (e.g. "chmod 600 <path>"); a missing file is
//   Errc::not_found. Its lines are `username=<value>` and `password=<value>`, each exactly once;
//   blank lines and lines whose first non-blank character is '#' are ignored. The value is
//   everything after the first '=' (a trailing '\r' removed), verbatim: spaces are part of it.
//   Anything else is Errc::invalid_argument naming the line number but never echoing the line,
//   which may hold a password. The environment is not consulted.
// - `file` unset: the environment variables KELVIN_INFLUX_USERNAME and KELVIN_INFLUX_PASSWORD,
//   both or neither (an empty variable counts as unset); one alone is Errc::invalid_argument.
// - neither: std::nullopt, meaning no authentication.
// The username and password must be non-empty, and the username must not contain ':' (HTTP
// Basic cannot carry it). No error message ever contains the password.
// `getenv` is injectable for tests.
Result<std::optional<Credentials>> load_credentials(const std::optional<std::filesystem::path>& file,
                                                    const std::function<const char*(const char*)>& getenv = ::getenv);

}  // namespace kelvin::influx
