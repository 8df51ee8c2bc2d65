#include "kelvin/crypto/pem_inspection.hpp"

#include <openssl/x509v3.h>

#include <cstdio>
#include <memory>

#include "kelvin/crypto/x509.hpp"

namespace kelvin::crypto {
namespace {

struct GeneralNamesFree {
  void operator()(GENERAL_NAMES* names) const { GENERAL_NAMES_free(names); }
};

std::string ip_text(const ASN1_OCTET_STRING* ip) {
  const unsigned char* bytes = ASN1_STRING_get0_data(ip);
  const int length = ASN1_STRING_length(ip);
  std::string text;
  if (length == 4) {
    for (int i = 0; i < 4; ++i) text += (i ? "." : "") + std::to_string(bytes[i]);
    return text;
  }
  char group[8];
  for (int i = 0; i + 1 < length; i += 2) {
    std::snprintf(group, sizeof group, "%s%x", i ? ":" : "", static_cast<unsigned>((bytes[i] << 8) | bytes[i + 1]));
    text += group;
  }
  return text;
}

std::vector<std::string> alt_names(X509* certificate) {
  std::vector<std::string> names;
  std::unique_ptr<GENERAL_NAMES, GeneralNamesFree> all(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(certificate, NID_subject_alt_name, nullptr, nullptr)));
  if (!all) return names;
  for (int i = 0; i < sk_GENERAL_NAME_num(all.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(all.get(), i);
    if (name->type == GEN_DNS) {
      const auto* dns = name->d.dNSName;
      names.push_back("DNS:" + std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(dns)),
                                           static_cast<std::size_t>(ASN1_STRING_length(dns))));
    } else if (name->type == GEN_IPADD) {
      names.push_back("IP:" + ip_text(name->d.iPAddress));
    }
  }
  return names;
}

}  // namespace

Result<HostCheck> check_certificate_host(std::string_view pem, std::string_view source, const std::string& host) {
  auto certificate = certificate_from_pem(pem, source);
  if (!certificate) return std::move(certificate).error();
  HostCheck result;
  result.alt_names = alt_names(certificate->get());
  result.names_host = X509_check_ip_asc(certificate->get(), host.c_str(), 0) == 1 ||
                      X509_check_host(certificate->get(), host.c_str(), host.size(), 0, nullptr) == 1;
  return result;
}

Result<std::time_t> crl_next_update(std::string_view pem, std::string_view source) {
  auto crl = crl_from_pem(pem, source);
  if (!crl) return std::move(crl).error();
  return to_unix_seconds(X509_CRL_get0_nextUpdate(crl->get()));
}

}  // namespace kelvin::crypto
