#pragma once

#include <optional>
#include <string_view>

namespace kelvin::pki {

// What a certificate is for; decides its extensions (see certificate_profiles.hpp).
enum class CertificateKind {
  ca,       // the installation's root: signs everything else and the CRL
  server,   // the gateway's TLS server (MQTT broker and HTTPS): serverAuth
  service,  // one of the platform's own MQTT clients (e.g. svc-gateway): clientAuth
  device,   // a sensor device: clientAuth, CN = device id
};

std::string_view to_string(CertificateKind kind) noexcept;
std::optional<CertificateKind> parse_certificate_kind(std::string_view text) noexcept;

}  // namespace kelvin::pki
