#include "kelvin/gateway/broker_config.hpp"

#include <gtest/gtest.h>

#include "kelvin/crypto/tls_policy.hpp"

namespace kelvin::gateway {
namespace {

BrokerSettings settings() {
  BrokerSettings s;
  s.bind_address = "127.0.0.1";
  s.port = 18883;
  s.run_as_user = "kelvin";
  s.ca_file = "/pki/ca.crt";
  s.server_cert_file = "/pki/server/server.crt";
  s.server_key_file = "/pki/server/server.key";
  s.crl_file = "/pki/crl.pem";
  s.state_dir = "/state/broker";
  return s;
}

bool has_line(const std::string& text, const std::string& line) {
  return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
}

TEST(BrokerConfig, SecureListenerWithCertificateIdentities) {
  const std::string config = render_broker_config(settings());
  for (const char* line :
       {"allow_anonymous false", "require_certificate true", "use_identity_as_username true",
        "use_username_as_clientid true", "crlfile /pki/crl.pem", "cafile /pki/ca.crt", "keyfile /pki/server/server.key",
        "tls_version tlsv1.2", "user kelvin", "acl_file /state/broker/acl", "persistence_location /state/broker/",
        "max_queued_messages 1000000", "max_packet_size 262144", "max_keepalive 300"}) {
    EXPECT_TRUE(has_line(config, line)) << line << "\n" << config;
  }
  // Listener options only take effect after the listener line (Mosquitto 2.0).
  const auto listener = config.find("\nlistener 18883 127.0.0.1\n");
  ASSERT_NE(listener, std::string::npos);
  for (const char* option : {"require_certificate", "use_identity_as_username", "use_username_as_clientid", "cafile"}) {
    EXPECT_GT(config.find(option), listener) << option;
  }
  EXPECT_EQ(config.find("password"), std::string::npos);
}

TEST(BrokerConfig, TheAclPluginIsLoadedWithTheSameAclFileWhenThereIsOne) {
  BrokerSettings with_plugin = settings();
  with_plugin.acl_plugin = "/usr/lib/kelvin/kelvin-broker-acl.so";
  const std::string config = render_broker_config(with_plugin);
  EXPECT_TRUE(has_line(config, "plugin /usr/lib/kelvin/kelvin-broker-acl.so")) << config;
  EXPECT_TRUE(has_line(config, "plugin_opt_acl_file /state/broker/acl")) << config;
  EXPECT_TRUE(has_line(config, "acl_file /state/broker/acl")) << "the broker's own check still decides";
  EXPECT_LT(config.find("\nplugin "), config.find("\nlistener ")) << "a global option";
  const std::string without = render_broker_config(settings());
  EXPECT_EQ(without.find("plugin"), std::string::npos) << without;
}

TEST(BrokerConfig, ListenerAcceptsTls12OnlyWithEcdheAndAeadSuites) {
  const std::string config = render_broker_config(settings());
  const std::string ciphers = std::string("ciphers ") + crypto::kTls12Ciphers;
  EXPECT_TRUE(has_line(config, ciphers)) << config;
  // A listener option: before the listener line Mosquitto 2.0 would not apply it to the listener.
  EXPECT_GT(config.find("\n" + ciphers + "\n"), config.find("\nlistener ")) << config;
  EXPECT_TRUE(has_line(config, "tls_version tlsv1.2")) << config;  // TLS 1.2 and 1.3, nothing older
  // TLS 1.3 keeps OpenSSL's default suites, all of them AEAD.
  EXPECT_EQ(config.find("ciphers_tls1.3"), std::string::npos) << config;
}

TEST(BrokerConfig, AclConfinesDevicesToTheirOwnTopics) {
  const std::string acl = render_broker_acl(settings());
  for (const char* line : {"pattern write devices/%u/telemetry", "pattern write devices/%u/status",
                           "pattern read devices/%u/ack", "pattern read devices/%u/ota", "user svc-gateway",
                           "topic read devices/+/telemetry", "topic write devices/+/ack"}) {
    EXPECT_TRUE(has_line(acl, line)) << line << "\n" << acl;
  }
  // No rule grants a wildcard over other devices to everyone.
  EXPECT_EQ(acl.find("pattern read devices/+"), std::string::npos);
  EXPECT_EQ(acl.find("pattern read devices/#"), std::string::npos);
  EXPECT_EQ(acl.find("topic readwrite"), std::string::npos);
  EXPECT_EQ(acl.find("read alerts/"), std::string::npos) << "no reader of alerts unless configured";
}

TEST(BrokerConfig, OnlyTheListedServicesReadTheAlertsAndOnlyGatewaysWriteThem) {
  BrokerSettings with_readers = settings();
  with_readers.alert_readers = {"svc-homeassistant"};
  const std::string acl = render_broker_acl(with_readers);
  const auto reader = acl.find("\nuser svc-homeassistant\ntopic read alerts/#\n");
  EXPECT_NE(reader, std::string::npos) << acl;
  const auto gateway = acl.find("\nuser svc-gateway\n");
  ASSERT_NE(gateway, std::string::npos) << acl;
  const auto gateway_write = acl.find("topic write alerts/#", gateway);
  EXPECT_LT(gateway_write, reader) << "the gateway's own section grants the write" << acl;
  EXPECT_EQ(acl.find("pattern read alerts"), std::string::npos) << "devices never read alerts";
}

}  // namespace
}  // namespace kelvin::gateway
