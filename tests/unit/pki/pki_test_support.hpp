#pragma once
// Shared by the pki unit tests: a fixed clock, init options, and reading what the CA wrote.

#include <gtest/gtest.h>

#include <ctime>
#include <filesystem>
#include <string>

#include "kelvin/core/files.hpp"
#include "kelvin/crypto/x509.hpp"
#include "kelvin/pki/certificate_authority.hpp"

namespace kelvin::pki::test_support {

namespace fs = std::filesystem;

inline constexpr std::time_t kNow = 1'800'000'000;
inline constexpr std::time_t kDay = 86400;

inline InitOptions test_init_options() {
  InitOptions options;
  options.ca_name = "kelvin test CA";
  options.server_name = "gateway.test";
  options.server_alt_names = {"DNS:gateway.test", "IP:10.0.0.2"};
  return options;
}

inline std::string read_text(const fs::path& path) {
  auto content = files::read_file(path);
  if (!content.ok()) {
    ADD_FAILURE() << content.error().message;
    return {};
  }
  return *content;
}

inline crypto::Certificate read_certificate(const fs::path& path) {
  auto cert = crypto::certificate_from_pem(read_text(path), path.string());
  if (!cert.ok()) {
    ADD_FAILURE() << cert.error().message;
    return nullptr;
  }
  return std::move(cert).value();
}

}  // namespace kelvin::pki::test_support
