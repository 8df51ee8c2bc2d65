#include "kelvin/gateway/broker_config.hpp"

#include "kelvin/crypto/tls_policy.hpp"

namespace kelvin::gateway {

std::filesystem::path broker_config_path(const BrokerSettings& settings) {
  return settings.state_dir / "mosquitto.conf";
}

std::filesystem::path broker_acl_path(const BrokerSettings& settings) {
  return settings.state_dir / "acl";
}

std::string render_broker_config(const BrokerSettings& s) {
  std::string persistence = s.state_dir.string();
  if (!persistence.ends_with('/')) persistence += '/';  // Mosquitto concatenates the file name
  std::string out;
  auto line = [&out](std::string_view key, std::string_view value) {
    out.append(key).append(" ").append(value).append("\n");
  };
  out += "# Written by kelvin-gateway at every broker start: edits here are overwritten.\n";
  out += "# Settings come from the gateway's config ([broker]) and PKI; see docs/gateway.md.\n";
  line("per_listener_settings", "false");
  line("user", s.run_as_user);
  line("allow_anonymous", "false");
  line("acl_file", broker_acl_path(s).string());
  if (!s.acl_plugin.empty()) {
    line("plugin", s.acl_plugin.string());
    line("plugin_opt_acl_file", broker_acl_path(s).string());
  }
  line("persistence", "true");
  line("persistence_location", persistence);
  line("autosave_interval", "60");
  line("max_queued_messages", std::to_string(s.max_queued_messages));
  line("max_queued_bytes", "0");
  line("max_inflight_messages", "1000");
  line("max_packet_size", std::to_string(s.max_packet_bytes));
  line("max_keepalive", std::to_string(s.max_keepalive_s));
  line("set_tcp_nodelay", "true");
  line("log_dest", "stderr");
  for (const char* type : {"error", "warning", "notice"}) line("log_type", type);
  line("connection_messages", "true");
  line("listener", std::to_string(s.port) + " " + s.bind_address);
  line("cafile", s.ca_file.string());
  line("certfile", s.server_cert_file.string());
  line("keyfile", s.server_key_file.string());
  line("crlfile", s.crl_file.string());
  // TLS 1.2 and 1.3 (Mosquitto 2.0.11 reads "tlsv1.2" as that minimum). `ciphers` governs TLS 1.2
  // only: ECDHE with AEAD, no CBC. TLS 1.3 keeps OpenSSL's default suites (`ciphers_tls1.3` unset),
  // all of them AEAD with ephemeral key exchange.
  line("tls_version", "tlsv1.2");
  line("ciphers", crypto::kTls12Ciphers);
  line("require_certificate", "true");
  // Listener options in Mosquitto 2.0: placed before `listener` they are silently ignored and
  // every client is refused as "not authorised".
  line("use_identity_as_username", "true");
  line("use_username_as_clientid", "true");
  return out;
}

std::string render_broker_acl(const BrokerSettings& s) {
  std::string out;
  out += "# Written by kelvin-gateway at every broker start: edits here are overwritten.\n";
  out += "# %u is the client certificate's CN (use_identity_as_username).\n";
  out += "pattern write devices/%u/telemetry\n";
  out += "pattern write devices/%u/status\n";
  out += "pattern write devices/%u/ota/status\n";
  out += "pattern read devices/%u/ack\n";
  out += "pattern read devices/%u/ota\n";
  std::vector<std::string> gateways{s.gateway_identity};
  gateways.insert(gateways.end(), s.peer_gateway_identities.begin(), s.peer_gateway_identities.end());
  for (const auto& gateway : gateways) {
    out += "\nuser " + gateway + "\n";
    out += "topic read devices/+/telemetry\n";
    // Only to delete a retained telemetry message (an empty retained publish): telemetry is never
    // retained, and a retained copy would come back at every subscription.
    out += "topic write devices/+/telemetry\n";
    out += "topic read devices/+/status\n";
    out += "topic read devices/+/ota/status\n";
    out += "topic write devices/+/ack\n";
    out += "topic write devices/+/ota\n";
    out += "topic write kelvin/gateways/" + gateway + "/#\n";
    out += "topic read kelvin/gateways/+/#\n";
    out += "topic write alerts/#\n";
  }
  for (const auto& reader : s.alert_readers) {
    out += "\nuser " + reader + "\n";
    out += "topic read alerts/#\n";
  }
  return out;
}

}  // namespace kelvin::gateway
