#include "kelvin/gateway/gateway_config.hpp"

#include "kelvin/config/config_document.hpp"
#include "kelvin/core/identity.hpp"

namespace kelvin::gateway {

Result<GatewaySettings> load_gateway_config(const std::filesystem::path& path) {
  auto document = config::ConfigDocument::load(path);
  if (!document) return std::move(document).error();
  GatewaySettings s;
  config::TableReader root = document->root();
  s.state_dir = root.path("state_dir", s.state_dir);
  s.pki_dir = root.path("pki_dir", s.state_dir / "pki");
  s.service_identity = root.string("service_identity", s.service_identity);
  if (!validate_service_name(s.service_identity)) {
    root.add_issue("service_identity", "must be a service name such as svc-gateway");
  }

  config::TableReader broker = root.table("broker");
  std::string mode = broker.one_of("mode", "managed", {"managed", "external"});
  s.broker_mode = mode == "external" ? BrokerMode::external : BrokerMode::managed;
  s.broker_host = broker.string("host", s.broker_host);
  s.broker_port = broker.integer("port", s.broker_port, 1, 65535);
  if (s.broker_mode == BrokerMode::managed) {
    s.bind_address = broker.string("bind", s.bind_address);
    s.mosquitto_program = broker.string("mosquitto", s.mosquitto_program);
  } else {
    // An external broker is reached with the CA and client identity the user gives.
    s.client_tls = mqtt::TlsFiles{broker.required_path("ca_file"), broker.required_path("cert_file"),
                                  broker.required_path("key_file")};
  }

  config::TableReader ingest = root.table("ingest");
  s.ingest.batch_max_readings = ingest.integer("batch_max_readings", s.ingest.batch_max_readings, 1, 100'000);
  s.ingest.batch_max_delay = std::chrono::milliseconds(
      ingest.integer("batch_max_delay_ms", s.ingest.batch_max_delay.count(), 1, 10'000));

  config::TableReader retention = root.table("retention");
  auto& policy = s.store.retention;
  policy.raw_days = retention.integer("raw_days", policy.raw_days, 0, 36'500);
  policy.minute_days = retention.integer("minute_days", policy.minute_days, 0, 36'500);
  policy.hour_days = retention.integer("hour_days", policy.hour_days, 0, 36'500);

  if (auto done = document->finish(); !done) return std::move(done).error();
  return s;
}

}  // namespace kelvin::gateway
