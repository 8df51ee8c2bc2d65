#include "kelvin/pki/certificate_kind.hpp"

namespace kelvin::pki {

std::string_view to_string(CertificateKind kind) noexcept {
  switch (kind) {
    case CertificateKind::ca:
      return "ca";
    case CertificateKind::server:
      return "server";
    case CertificateKind::service:
      return "service";
    case CertificateKind::device:
      return "device";
  }
  return "unknown";
}

std::optional<CertificateKind> parse_certificate_kind(std::string_view text) noexcept {
  for (auto kind : {CertificateKind::ca, CertificateKind::server, CertificateKind::service, CertificateKind::device}) {
    if (to_string(kind) == text) return kind;
  }
  return std::nullopt;
}

}  // namespace kelvin::pki
