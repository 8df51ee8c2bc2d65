#pragma once
// Where the commands that work on a gateway's data (device, query, status, user) find it: the
// gateway's state directory (store, accounts, statistics) and the PKI, with the same defaults as
// kelvin-gateway.

#include <CLI/CLI.hpp>
#include <filesystem>
#include <optional>
#include <string>

#include "kelvin/core/result.hpp"
#include "kelvin/store/store.hpp"

namespace kelvin::ctl {

inline constexpr const char* kDefaultStateDir = "/var/lib/kelvin";
inline constexpr const char* kStateDirEnv = "KELVIN_STATE_DIR";

struct StateOptions {
  std::string state_dir;        // --state-dir, else $KELVIN_STATE_DIR, else /var/lib/kelvin
  std::string pki_dir;          // --pki-dir; empty: $KELVIN_PKI_DIR, else <state_dir>/pki
  std::string passphrase_file;  // --passphrase-file (commands that sign)

  std::filesystem::path pki() const;
  std::filesystem::path store_file() const;     // as kelvin-gateway: <state_dir>/telemetry.db
  std::filesystem::path stats_file() const;     // as kelvin-gateway: <state_dir>/gateway-stats.json
  std::filesystem::path accounts_file() const;  // as kelvin-gateway: <state_dir>/accounts.db
};

// $KELVIN_STATE_DIR when it is set and not empty, else /var/lib/kelvin.
std::string state_dir_from_environment();

// Initialises `options.state_dir` from the environment and adds --state-dir (and, with
// `with_pki`, --pki-dir and --passphrase-file) to `command`. Call fallthrough() on `command` so
// the options may also follow its subcommands.
void add_state_options(CLI::App* command, StateOptions& options, bool with_pki);

// Whether `file` exists. An error only when that cannot be told (e.g. a directory on the way that
// we may not search), so a permission problem is not mistaken for "never created".
Result<bool> file_exists(const std::filesystem::path& file);

// Errc::not_found, saying how to name the right one, when the state directory does not exist:
// commands that create files in it never create the directory itself (that is kelvin-gateway's).
Result<void> require_state_dir(const StateOptions& options);

// Gives `file`, just created in the state dir, to the owner of the state dir when we are root and
// the owner is another account (the gateway's service account), so the gateway can open it.
Result<void> hand_to_state_dir_owner(const StateOptions& options, const std::filesystem::path& file);

// A database file of the state dir (accounts.db, rollouts.db) opened with `open(file)`, which
// creates it when missing; a file created here is handed to the state dir's owner. Errc::not_found
// when the state dir does not exist (require_state_dir).
template <class Open>
auto open_or_create_owned(const StateOptions& options, const std::filesystem::path& file, Open open)
    -> decltype(open(file)) {
  if (auto dir = require_state_dir(options); !dir) return std::move(dir).error();
  auto existed = file_exists(file);
  if (!existed) return std::move(existed).error();
  auto opened = open(file);
  if (!opened) return opened;
  if (!*existed) {
    if (auto handed = hand_to_state_dir_owner(options, file); !handed) return std::move(handed).error();
  }
  return opened;
}

// The gateway's store, if it exists: nullopt when <state_dir>/telemetry.db does not (the gateway
// never ran with this state dir). Never creates it, so reading commands leave no traces.
Result<std::optional<store::Store>> open_existing_store(const StateOptions& options);

// The gateway's store, created if missing. A store created by root in a state dir owned by another
// account (the gateway's service account) is handed to that account, so the gateway can open it.
Result<store::Store> open_or_create_store(const StateOptions& options);

}  // namespace kelvin::ctl
