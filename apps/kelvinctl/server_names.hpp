#pragma once
// Whether the gateway's server certificate names a host, so `device add` can warn before a device
// is sent off with a broker host its TLS verification will refuse.

#include <string>
#include <vector>

#include "kelvin/core/result.hpp"
#include "kelvin/pki/certificate_authority.hpp"

namespace kelvin::ctl {

struct ServerNames {
  bool names_host = false;         // the host is a DNS name or IP address of the certificate
  std::vector<std::string> names;  // its subject alternative names, "DNS:..." / "IP:..."
};

// Reads <pki>/server/server.crt and checks `host` against it the way a TLS client does.
Result<ServerNames> check_server_names(const pki::PkiPaths& paths, const std::string& host);

}  // namespace kelvin::ctl
