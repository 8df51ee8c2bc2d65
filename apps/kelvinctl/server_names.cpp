#include "server_names.hpp"

#include "kelvin/core/files.hpp"
#include "kelvin/crypto/pem_inspection.hpp"

namespace kelvin::ctl {

Result<ServerNames> check_server_names(const pki::PkiPaths& paths, const std::string& host) {
  const auto file = paths.identity_certificate(pki::CertificateKind::server, "");
  auto pem = files::read_file(file);
  if (!pem) return std::move(pem).error();
  auto checked = crypto::check_certificate_host(*pem, file.string(), host);
  if (!checked) return std::move(checked).error();
  ServerNames result;
  result.names_host = checked->names_host;
  result.names = std::move(checked->alt_names);
  return result;
}

}  // namespace kelvin::ctl
