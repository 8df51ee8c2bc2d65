#pragma once
// Access to the installation's CA shared by every kelvinctl command: where the PKI lives by
// default and how the CA key's passphrase is given (docs/pki.md, "The CA key passphrase").

#include <CLI/CLI.hpp>
#include <filesystem>
#include <optional>
#include <string>

#include "kelvin/core/result.hpp"
#include "kelvin/pki/certificate_authority.hpp"

namespace kelvin::ctl {

inline constexpr const char* kPkiDirEnv = "KELVIN_PKI_DIR";
inline constexpr const char* kPassphraseEnv = "KELVIN_CA_PASSPHRASE";

// $KELVIN_PKI_DIR when it is set and not empty.
std::optional<std::string> pki_dir_from_environment();

// Adds --passphrase-file FILE to `command`, stored in `passphrase_file`.
void add_passphrase_option(CLI::App* command, std::string& passphrase_file);

// A key's passphrase comes from a 0600 file (`passphrase_file`, when not empty) or the environment
// variable `environment_variable`, never from the command line (where every user could read it in
// the process list). nullopt when neither is given: the key is then expected to be unencrypted.
Result<std::optional<std::string>> read_key_passphrase(const std::string& passphrase_file,
                                                       const char* environment_variable);

// read_key_passphrase for the CA key ($KELVIN_CA_PASSPHRASE).
Result<std::optional<std::string>> read_ca_passphrase(const std::string& passphrase_file);

// Opens the CA in `dir` with the passphrase from read_ca_passphrase (needed only to sign).
Result<pki::CertificateAuthority> open_ca(const std::filesystem::path& dir, const std::string& passphrase_file);

}  // namespace kelvin::ctl
