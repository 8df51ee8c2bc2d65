#include "failure.hpp"

#include <iostream>
#include <string>

#include "ca_access.hpp"

namespace kelvin::ctl {

int report_failure(const Error& error, const std::filesystem::path& owned_dir) {
  std::string hint;
  if (error.code == Errc::permission_denied && error.message.find("chmod") == std::string::npos && !owned_dir.empty()) {
    hint = " (run kelvinctl as the user that owns " + owned_dir.string() + ")";
  } else if (error.code == Errc::bad_credentials && error.message.find("no passphrase") != std::string::npos) {
    hint = "; give it with --passphrase-file FILE or the environment variable " + std::string(kPassphraseEnv);
  }
  std::cerr << "kelvinctl: " << error.message << hint << "\n";
  return kExitFailure;
}

int report_usage_error(std::string_view message, std::string_view command) {
  std::cerr << "kelvinctl: " << message << " (see kelvinctl " << command << " --help)\n";
  return kExitUsage;
}

}  // namespace kelvin::ctl
