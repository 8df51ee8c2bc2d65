#pragma once
// What kelvin reads from PEM certificates and CRLs outside libs/crypto and libs/pki. Code there may
// not include OpenSSL headers (docs/architecture.md, "Dependency rules"): it hands over the PEM
// text and gets plain values back. Free of OpenSSL includes.

#include <ctime>
#include <string>
#include <string_view>
#include <vector>

#include "kelvin/core/result.hpp"

namespace kelvin::crypto {

struct HostCheck {
  bool names_host = false;             // a TLS client verifying this certificate accepts `host`
  std::vector<std::string> alt_names;  // subject alternative names "DNS:..." / "IP:...", in certificate order
};

// Checks `host` (a DNS name, or an IPv4 or IPv6 address in text form) against the certificate the
// way a TLS client verifying its peer does (OpenSSL's X509_check_ip_asc and X509_check_host with
// default flags: wildcards in the leftmost label; the subject CN only when there is no DNS name).
// IPv6 addresses are listed as eight uncompressed hex groups. `source` names the PEM in errors.
// Errors: Errc::corrupt when `pem` holds no certificate.
Result<HostCheck> check_certificate_host(std::string_view pem, std::string_view source, const std::string& host);

// The CRL's nextUpdate as Unix seconds; -1 when it has none or it cannot be converted (so a caller
// comparing it with the clock treats such a CRL as expired). `source` names the PEM in errors.
// Errors: Errc::corrupt when `pem` holds no CRL.
Result<std::time_t> crl_next_update(std::string_view pem, std::string_view source);

}  // namespace kelvin::crypto
