#pragma once
// The managed Mosquitto's configuration and ACL, rendered from the gateway's settings and PKI.
// Pure functions: the supervisor writes their output to the state dir at every broker start.

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

namespace kelvin::gateway {

struct BrokerSettings {
  std::string bind_address = "0.0.0.0";  // devices connect from the network; tests use 127.0.0.1
  int port = 8883;
  // The account Mosquitto runs as: it must be able to read the server key in the PKI dir, so it is
  // the owner of the gateway's state dir (root in tests, the service account in production).
  std::string run_as_user;
  std::filesystem::path ca_file, server_cert_file, server_key_file, crl_file;
  std::filesystem::path state_dir;  // persistence, config and ACL live here
  std::string gateway_identity = "svc-gateway";
  // Further gateways sharing this broker (docs/scaling.md): the same rights as gateway_identity.
  std::vector<std::string> peer_gateway_identities;
  // Services that may read the alerts' retained messages (alerts/#; docs/alerts.md, "MQTT").
  std::vector<std::string> alert_readers;
  // Larger than the protocol's 16 KiB so that an oversized telemetry payload reaches the gateway
  // and is rejected there with a counted reason, instead of vanishing inside the broker.
  std::size_t max_packet_bytes = 256 * 1024;
  // Messages queued for an offline or slow client (the ingest, a device's acks). Mosquitto 2.0.11
  // drops the overflow silently and treats 0 as "use the default 1000", so it is set explicitly.
  std::size_t max_queued_messages = 1'000'000;
  int max_keepalive_s = 300;
  // kelvin-broker-acl.so, loaded into the broker to count what its ACL refuses
  // (kelvin/broker_acl/acl_file.hpp); empty: none, and ACL denials are not counted.
  std::filesystem::path acl_plugin;
};

std::filesystem::path broker_config_path(const BrokerSettings& settings);
std::filesystem::path broker_acl_path(const BrokerSettings& settings);

// mosquitto.conf: one TLS listener (TLS 1.3, or TLS 1.2 with the ECDHE + AEAD suites of
// crypto::kTls12Ciphers), client certificates required and their CN used as user name and client
// id, CRL enforced, anonymous access off, the ACL below, and the plugin that counts its refusals
// (given the same ACL file) when BrokerSettings::acl_plugin is set.
std::string render_broker_config(const BrokerSettings& settings);

// The ACL: a device writes only devices/<own id>/{telemetry,status,ota/status} and reads only its
// own ack and ota topics; each gateway identity reads every device's telemetry and status, writes
// acks and OTA notices, writes its own kelvin/gateways/<identity>/... topics and reads the other
// gateways' (peer_sync.hpp). No pattern covers kelvin/: devices can neither read nor forge them.
std::string render_broker_acl(const BrokerSettings& settings);

}  // namespace kelvin::gateway
