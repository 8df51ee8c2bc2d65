#include "ca_access.hpp"

#include <cstdlib>
#include <utility>

#include "kelvin/core/files.hpp"

namespace kelvin::ctl {

std::optional<std::string> pki_dir_from_environment() {
  if (const char* dir = std::getenv(kPkiDirEnv); dir != nullptr && *dir != '\0') return std::string(dir);
  return std::nullopt;
}

void add_passphrase_option(CLI::App* command, std::string& passphrase_file) {
  command->add_option("--passphrase-file", passphrase_file,
                      "File (mode 0600) holding the CA key passphrase; or set " + std::string(kPassphraseEnv));
}

Result<std::optional<std::string>> read_key_passphrase(const std::string& passphrase_file,
                                                       const char* environment_variable) {
  if (!passphrase_file.empty()) {
    auto secret = files::read_secret_file(passphrase_file);
    if (!secret) return std::move(secret).error();
    if (secret->empty()) return make_error(Errc::bad_credentials, "passphrase file " + passphrase_file + " is empty");
    return std::optional<std::string>(std::move(secret).value());
  }
  if (const char* from_env = std::getenv(environment_variable); from_env != nullptr) {
    if (*from_env == '\0') {
      return make_error(Errc::bad_credentials, std::string(environment_variable) + " is set but empty");
    }
    return std::optional<std::string>(from_env);
  }
  return std::optional<std::string>();
}

Result<std::optional<std::string>> read_ca_passphrase(const std::string& passphrase_file) {
  return read_key_passphrase(passphrase_file, kPassphraseEnv);
}

Result<pki::CertificateAuthority> open_ca(const std::filesystem::path& dir, const std::string& passphrase_file) {
  auto passphrase = read_ca_passphrase(passphrase_file);
  if (!passphrase) return std::move(passphrase).error();
  return pki::CertificateAuthority::open(dir, std::move(passphrase).value());
}

}  // namespace kelvin::ctl
