// The TLS policy (kelvin/crypto/tls_policy.hpp, docs/gateway.md) as the other side meets it.
// The managed broker: openssl s_client, a TLS client kelvin did not write, connects with a real
// device certificate to a real kelvin-gateway. TLS 1.2 is accepted only with ECDHE and an AEAD
// cipher (AES-GCM, ChaCha20-Poly1305), TLS 1.3 is accepted, anything older is refused.
// The InfluxDB exporter's HTTPS client: it refuses a server (openssl s_server) offering only CBC
// suites. That it still talks to InfluxDB is shown by influx_writer_test and export_test.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <iostream>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "installation.hpp"
#include "kelvin/influx/writer.hpp"

namespace {

using kelvin::influx::Writer;
using kelvin::influx::WriteResult;
using kelvin::influx::WriterOptions;
using kelvin::influx::WriteStatus;
using kelvin::testing::BackgroundProcess;
using kelvin::testing::CommandResult;
using kelvin::testing::DeviceFiles;
using kelvin::testing::free_tcp_port;
using kelvin::testing::Installation;
using kelvin::testing::run_command;
using kelvin::testing::wait_until;
using ::testing::HasSubstr;

class BrokerTlsPolicy : public ::testing::Test {
 protected:
  void SetUp() override {
    device_ = install_.issue_device("sensor-01");
    install_.start_gateway();
  }

  void TearDown() override {
    if (HasFailure()) std::cerr << "---- gateway log ----\n" << install_.gateway_log();
  }

  CommandResult handshake(const std::vector<std::string>& openssl_args) {
    return install_.tls_handshake(device_, openssl_args);
  }

  // The handshake completed with `cipher` and the client verified the broker. s_client's summary
  // line is "New, <version>, Cipher is <suite>", the version being the oldest the suite exists in:
  // TLSv1.2 for the AEAD suites of TLS 1.2, TLSv1.3 for TLS 1.3's. (Its "SSL-Session" block is not
  // used: with TLS 1.3 it appears only if the session ticket arrived before s_client quit.)
  void expect_accepted(const std::vector<std::string>& openssl_args, const std::string& version,
                       const std::string& cipher) {
    const CommandResult r = handshake(openssl_args);
    EXPECT_EQ(r.exit_code, 0) << describe(r);
    EXPECT_THAT(r.out, HasSubstr("\nNew, " + version + ", Cipher is " + cipher + "\n")) << describe(r);
    EXPECT_THAT(r.out, HasSubstr("Verify return code: 0 (ok)\n")) << describe(r);
  }

  // The broker ended the handshake with `alert` (as OpenSSL names the alert it received), so the
  // refusal is the broker's and not a client that could not offer what it was asked to.
  void expect_refused(const std::vector<std::string>& openssl_args, const std::string& alert) {
    const CommandResult r = handshake(openssl_args);
    EXPECT_NE(r.exit_code, 0) << describe(r);
    EXPECT_THAT(r.out, HasSubstr("Cipher is (NONE)")) << describe(r);
    EXPECT_THAT(r.err, HasSubstr(alert)) << describe(r);
  }

  Installation install_;
  DeviceFiles device_;
};

// What a broker says when the client offers no suite it accepts.
constexpr const char* kNoSharedSuite = "alert handshake failure";

TEST_F(BrokerTlsPolicy, Tls12WithCbcSuitesIsRefused) {
  // SHA-1, SHA-256 and SHA-384 HMAC variants of AES-CBC with ECDHE and the broker's ECDSA key.
  for (const char* cipher : {"ECDHE-ECDSA-AES128-SHA", "ECDHE-ECDSA-AES128-SHA256", "ECDHE-ECDSA-AES256-SHA384"}) {
    SCOPED_TRACE(cipher);
    expect_refused({"-tls1_2", "-cipher", cipher}, kNoSharedSuite);
  }
}

TEST_F(BrokerTlsPolicy, Tls12WithEcdheAndAeadIsAccepted) {
  expect_accepted({"-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256"}, "TLSv1.2", "ECDHE-ECDSA-AES128-GCM-SHA256");
  expect_accepted({"-tls1_2", "-cipher", "ECDHE-ECDSA-CHACHA20-POLY1305"}, "TLSv1.2", "ECDHE-ECDSA-CHACHA20-POLY1305");
}

TEST_F(BrokerTlsPolicy, Tls13IsAccepted) {
  // Each of the suites OpenSSL enables for TLS 1.3 (all AEAD) in turn.
  for (const char* suite : {"TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_GCM_SHA256"}) {
    SCOPED_TRACE(suite);
    expect_accepted({"-tls1_3", "-ciphersuites", suite}, "TLSv1.3", suite);
  }
}

TEST_F(BrokerTlsPolicy, Tls11IsRefused) {
  // Security level 0 lets the client really offer TLS 1.1 (OpenSSL 3 disables it from level 1).
  expect_refused({"-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0"}, "alert protocol version");
}

// Every TLS 1.2 suite this OpenSSL can negotiate against an ECDSA server key or anonymously
// (CBC with each HMAC, Camellia, ARIA-GCM, AES-CCM, NULL encryption, anonymous ECDH), one at a
// time: the broker accepts exactly ECDHE with AES-GCM or ChaCha20-Poly1305.
TEST_F(BrokerTlsPolicy, OnlyEcdheWithAesGcmOrChaCha20IsAcceptedInTls12) {
  const CommandResult listing =
      run_command({"openssl", "ciphers", "-v", "-s", "-tls1_2", "ALL:COMPLEMENTOFALL:@SECLEVEL=0"});
  ASSERT_EQ(listing.exit_code, 0) << describe(listing);
  std::set<std::string> accepted;
  std::istringstream lines(listing.out);
  int tried = 0;
  for (std::string name, version, kx, au, rest; lines >> name >> version >> kx >> au && std::getline(lines, rest);) {
    if (au != "Au=ECDSA" && au != "Au=None") continue;
    ++tried;
    const CommandResult r = handshake({"-tls1_2", "-cipher", name + ":@SECLEVEL=0"});
    if (r.exit_code == 0 && r.out.find(", Cipher is " + name + "\n") != std::string::npos) {
      accepted.insert(name);
    } else {
      EXPECT_THAT(r.err, HasSubstr(kNoSharedSuite)) << name << "\n" << describe(r);
    }
  }
  EXPECT_GE(tried, 10) << listing.out;  // the CBC, CCM, ARIA and Camellia suites at least
  EXPECT_EQ(accepted, (std::set<std::string>{"ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384",
                                             "ECDHE-ECDSA-CHACHA20-POLY1305"}));
}

// The exporter's HTTPS client against openssl s_server with the installation's server certificate,
// offering TLS 1.2 with one CBC suite only (SHA-1, SHA-256 and SHA-384 MAC in turn): the handshake
// fails with the server's "no shared cipher" alert, a tls_failure the exporter retries later.
TEST(ExporterTlsPolicy, AServerOfferingOnlyCbcSuitesIsATlsFailure) {
  Installation install;  // its PKI only
  const auto tls = install.server_tls();
  for (const char* cipher : {"ECDHE-ECDSA-AES128-SHA", "ECDHE-ECDSA-AES128-SHA256", "ECDHE-ECDSA-AES256-SHA384"}) {
    SCOPED_TRACE(cipher);
    const int port = free_tcp_port();
    BackgroundProcess server({"openssl", "s_server", "-brief", "-accept", "127.0.0.1:" + std::to_string(port), "-cert",
                              tls.cert_file.string(), "-key", tls.key_file.string(), "-tls1_2", "-cipher", cipher},
                             install.root() / ("s_server-" + std::string(cipher) + ".log"));
    WriterOptions options;
    options.url = "https://localhost:" + std::to_string(port);
    options.database = "kelvin";
    options.ca_file = tls.ca_file;
    options.timeout = std::chrono::seconds(2);
    auto writer = Writer::create(options);
    ASSERT_TRUE(writer) << writer.error().message;
    // Until s_server listens, the write is `unavailable` (connection refused).
    WriteResult result;
    wait_until(
        [&] {
          result = (*writer)->write("kelvin_reading temperature=21.5 1732200000123");
          return result.status == WriteStatus::tls_failure;
        },
        std::chrono::seconds(10));
    EXPECT_EQ(result.status, WriteStatus::tls_failure) << to_string(result.status) << ": " << result.message;
    EXPECT_THAT(result.message, HasSubstr("alert handshake failure")) << server.log();
  }
}

}  // namespace
