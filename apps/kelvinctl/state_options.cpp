#include "state_options.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <system_error>
#include <utility>

#include "ca_access.hpp"
#include "kelvin/core/files.hpp"
#include "kelvin/gateway/state_layout.hpp"

namespace kelvin::ctl {
std::filesystem::path StateOptions::pki() const {
  if (!pki_dir.empty()) return pki_dir;
  if (auto from_env = pki_dir_from_environment()) return *from_env;
  return std::filesystem::path(state_dir) / "pki";
}

std::filesystem::path StateOptions::store_file() const {
  return gateway::store_path(state_dir);
}

std::filesystem::path StateOptions::stats_file() const {
  return gateway::stats_path(state_dir);
}

std::filesystem::path StateOptions::accounts_file() const {
  return gateway::accounts_path(state_dir);
}

std::string state_dir_from_environment() {
  if (const char* dir = std::getenv(kStateDirEnv); dir != nullptr && *dir != '\0') return dir;
  return kDefaultStateDir;
}

void add_state_options(CLI::App* command, StateOptions& options, bool with_pki) {
  options.state_dir = state_dir_from_environment();
  command->add_option(
      "--state-dir", options.state_dir,
      "kelvin-gateway's state directory (default: $" + std::string(kStateDirEnv) + " or " + kDefaultStateDir + ")");
  if (!with_pki) return;
  command->add_option("--pki-dir", options.pki_dir,
                      "PKI directory (default: $" + std::string(kPkiDirEnv) + " or <state dir>/pki)");
  add_passphrase_option(command, options.passphrase_file);
}

Result<bool> file_exists(const std::filesystem::path& file) {
  std::error_code error;
  if (std::filesystem::exists(file, error)) return true;
  if (error && error != std::errc::no_such_file_or_directory) {
    return make_error(error == std::errc::permission_denied ? Errc::permission_denied : Errc::io,
                      "cannot inspect " + file.string() + ": " + error.message());
  }
  return false;
}

Result<void> require_state_dir(const StateOptions& options) {
  std::error_code error;
  if (!std::filesystem::is_directory(options.state_dir, error)) {
    return make_error(Errc::not_found, "state directory " + options.state_dir +
                                           " does not exist; give kelvin-gateway's with --state-dir or " +
                                           kStateDirEnv);
  }
  return {};
}

Result<void> hand_to_state_dir_owner(const StateOptions& options, const std::filesystem::path& file) {
  if (::geteuid() != 0) return {};
  const std::filesystem::path dir = options.state_dir;
  struct stat dir_status {};
  if (::stat(dir.c_str(), &dir_status) != 0) return files::error_from_errno("cannot inspect", dir);
  if (dir_status.st_uid == 0) return {};
  if (::chown(file.c_str(), dir_status.st_uid, dir_status.st_gid) != 0) {
    return files::error_from_errno("cannot hand over to the owner of the state dir", file);
  }
  return {};
}

Result<std::optional<store::Store>> open_existing_store(const StateOptions& options) {
  const auto file = options.store_file();
  auto exists = file_exists(file);
  if (!exists) return std::move(exists).error();
  if (!*exists) return std::optional<store::Store>();
  auto opened = store::Store::open(file);
  if (!opened) return std::move(opened).error();
  return std::optional<store::Store>(std::move(*opened));
}

Result<store::Store> open_or_create_store(const StateOptions& options) {
  if (auto dir = require_state_dir(options); !dir) return std::move(dir).error();
  const auto file = options.store_file();
  std::error_code error;
  const bool existed = std::filesystem::exists(file, error);
  auto opened = store::Store::open(file);
  if (!opened) return std::move(opened).error();
  if (!existed) {
    if (auto handed = hand_to_state_dir_owner(options, file); !handed) return std::move(handed).error();
  }
  return std::move(*opened);
}

}  // namespace kelvin::ctl
