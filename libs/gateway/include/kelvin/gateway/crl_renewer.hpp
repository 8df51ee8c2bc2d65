#pragma once
// Keeps the installation's CRL from expiring. A CRL is valid for 7 days (kCrlValidityDays); once
// past its nextUpdate, OpenSSL, and so the broker, refuses every client. The gateway therefore
// re-signs it when less than `renew_before` remains. That needs the CA key: an unencrypted key,
// or the passphrase from KELVIN_CA_PASSPHRASE. Without it the renewer reports, every check, how
// long the CRL has left and what to run, and changes nothing.

#include <chrono>
#include <ctime>
#include <filesystem>
#include <optional>
#include <string>

#include "kelvin/core/result.hpp"

namespace kelvin::gateway {

enum class CrlCheck { fresh, renewed };

class CrlRenewer {
 public:
  CrlRenewer(std::filesystem::path pki_dir, std::optional<std::string> passphrase,
             std::chrono::seconds renew_before = std::chrono::hours(48));

  // Renews the CRL if it expires within renew_before of `now`. Errors: the CRL cannot be read,
  // or it needs renewing and the CA cannot sign (message says when it expires and what to do).
  Result<CrlCheck> check(std::time_t now);

 private:
  std::filesystem::path pki_dir_;
  std::optional<std::string> passphrase_;
  std::chrono::seconds renew_before_;
};

}  // namespace kelvin::gateway
