#include "kelvin/gateway/gateway_config.hpp"

#include <algorithm>
#include <set>

#include "kelvin/config/config_document.hpp"
#include "kelvin/config/log_table.hpp"
#include "kelvin/core/identity.hpp"
#include "kelvin/gateway/alert_rule_config.hpp"
#include "kelvin/store/account_db.hpp"

namespace kelvin::gateway {

namespace {

// Credentials are deliberately not keys here: the config file is often world-readable, checked
// into configuration management, or pasted into bug reports.
InfluxExportSettings read_influx_export(config::TableReader& table) {
  InfluxExportSettings influx;
  influx.writer.url = table.required_string("url");
  influx.writer.database = table.string("database", "kelvin");
  influx.writer.retention_policy = table.string("retention_policy", "");
  if (table.contains("ca_file")) influx.writer.ca_file = table.path("ca_file", {});
  if (table.contains("credentials_file")) influx.credentials_file = table.path("credentials_file", {});
  for (std::string_view secret : {"password", "username", "token"}) {
    if (table.contains(secret)) {
      (void)table.optional_string(secret);  // marks it read: one clear issue instead of "unknown key" as well
      table.add_issue(secret,
                      "credentials do not belong in the config file; use credentials_file (mode 0600) or "
                      "KELVIN_INFLUX_USERNAME / KELVIN_INFLUX_PASSWORD");
    }
  }
  influx.writer.timeout = std::chrono::seconds(table.integer("timeout_s", 10, 1, 300));
  influx.writer.gzip_body = table.boolean("gzip", true);
  influx.exporter.batch_readings = table.integer("batch_readings", influx.exporter.batch_readings, 1, 50'000);
  influx.exporter.retry_max =
      std::chrono::seconds(table.integer("retry_max_s", influx.exporter.retry_max.count() / 1000, 1, 3600));
  influx.exporter.retry_min = std::min(influx.exporter.retry_min, std::chrono::milliseconds(influx.exporter.retry_max));
  return influx;
}

// [http]: bounds keep a typo from disabling a limit (a zero timeout, a gigabyte of header).
HttpSettings read_http(config::TableReader& table) {
  HttpSettings settings;
  http::ServerOptions& server = settings.server;
  settings.enabled = table.boolean("enabled", settings.enabled);
  server.bind_address = table.string("bind", server.bind_address);
  server.port = table.integer("port", server.port, 0, 65535);  // 0: an ephemeral port
  server.max_header_bytes = table.integer("max_header_bytes", server.max_header_bytes, 1024, 65'536);
  server.max_body_bytes = table.integer("max_body_bytes", server.max_body_bytes, 1024, 64 * 1024 * 1024);
  server.handshake_timeout =
      std::chrono::milliseconds(table.integer("handshake_timeout_ms", server.handshake_timeout.count(), 100, 60'000));
  server.request_timeout =
      std::chrono::milliseconds(table.integer("request_timeout_ms", server.request_timeout.count(), 100, 300'000));
  server.idle_timeout =
      std::chrono::milliseconds(table.integer("idle_timeout_ms", server.idle_timeout.count(), 100, 3'600'000));
  server.max_connections = table.integer("max_connections", server.max_connections, 1, 100'000);
  server.max_connections_per_address =
      table.integer("max_connections_per_address", server.max_connections_per_address, 1, 100'000);
  server.io_threads = table.integer("io_threads", server.io_threads, 1, 64);
  settings.live.max_subscribers = table.integer("max_live_streams", settings.live.max_subscribers, 1, 10'000);
  settings.max_release_image_bytes =
      table.integer("max_release_image_bytes", settings.max_release_image_bytes, 1024, std::uint64_t{16} << 30);
  // "" serves no dashboard (the API only); a relative path is relative to the config file.
  const std::string web_root = table.string("web_root", settings.web_root.string());
  settings.web_root = web_root.empty() ? std::filesystem::path() : table.resolve(web_root);
  accounts::AccountsOptions& accounts = settings.accounts;
  accounts.session_idle_ms =
      table.integer("session_idle_minutes", accounts.session_idle_ms / 60'000, 1, 24 * 60) * std::int64_t{60'000};
  accounts.session_absolute_ms =
      table.integer("session_max_hours", accounts.session_absolute_ms / 3'600'000, 1, 30 * 24) *
      std::int64_t{3'600'000};
  accounts.audit_retention_days =
      table.integer("audit_retention_days", accounts.audit_retention_days, store::kMinAuditRetentionDays, 36'500);
  return settings;
}

// One [[alerts.webhook]]: where and how alert notifications are POSTed (docs/alerts.md, "Webhooks").
WebhookSettings read_webhook(config::TableReader& table) {
  WebhookSettings webhook;
  webhook.name = table.required_string("name");
  if (!webhook.name.empty() && !alerts::is_valid_rule_name(webhook.name)) {
    table.add_issue("name", "must be 1 to 64 characters of a-z, 0-9, '_' and '-'");
  }
  webhook.url = table.required_string("url");
  if (!webhook.url.empty() && webhook.url.rfind("https://", 0) != 0) {
    table.add_issue("url", "must be an https:// URL: notifications are never sent in the clear");
  }
  for (std::string_view secret : {"secret", "token"}) {
    if (table.contains(secret)) {
      (void)table.optional_string(secret);
      table.add_issue(secret, "the signing secret does not belong in the config file; use secret_file (mode 0600)");
    }
  }
  webhook.secret_file = table.required_path("secret_file");
  if (table.contains("ca_file")) webhook.ca_file = table.path("ca_file", {});
  webhook.timeout = std::chrono::seconds(table.integer("timeout_s", std::int64_t{10}, 1, 120));
  webhook.max_attempts = table.integer("max_attempts", webhook.max_attempts, 1, 1000);
  return webhook;
}

// [alerts]: the default rules (alerts::default_rules, unless default_rules = false), replaced by
// name or joined by the [[alerts.rule]] tables.
AlertEngineOptions read_alerts(config::TableReader& table) {
  AlertEngineOptions options;
  options.interval = std::chrono::seconds(table.integer("interval_s", std::int64_t{10}, 1, 3600));
  options.history_days = table.integer("history_days", options.history_days, 1, 36'500);
  if (!table.boolean("default_rules", true)) options.rules.clear();
  std::set<std::string, std::less<>> configured;
  for (config::TableReader rule_table : table.tables("rule")) {
    alerts::AlertRule rule = read_alert_rule(rule_table);
    if (!configured.insert(rule.name).second) rule_table.add_issue("name", "another rule has this name");
    std::erase_if(options.rules, [&](const alerts::AlertRule& known) { return known.name == rule.name; });
    options.rules.push_back(std::move(rule));
  }
  return options;
}

}  // namespace

Result<GatewaySettings> load_gateway_config(const std::filesystem::path& path) {
  auto document = config::ConfigDocument::load(path);
  if (!document) return std::move(document).error();
  GatewaySettings s;
  config::TableReader root = document->root();
  s.state_dir = root.path("state_dir", s.state_dir);
  s.pki_dir = root.path("pki_dir", s.state_dir / "pki");
  s.service_identity = root.string("service_identity", s.service_identity);
  s.stats_interval =
      std::chrono::milliseconds(root.integer("stats_interval_ms", s.stats_interval.count(), 100, 60'000));
  if (!validate_service_name(s.service_identity)) {
    root.add_issue("service_identity", "must be a service name such as svc-gateway");
  }

  s.log_level = config::read_log_level(root, s.log_level);

  config::TableReader broker = root.table("broker");
  std::string mode = broker.one_of("mode", "managed", {"managed", "external"});
  s.broker_mode = mode == "external" ? BrokerMode::external : BrokerMode::managed;
  s.broker_host = broker.string("host", s.broker_host);
  s.broker_port = broker.integer("port", s.broker_port, 1, 65535);
  if (s.broker_mode == BrokerMode::managed) {
    s.bind_address = broker.string("bind", s.bind_address);
    s.mosquitto_program = broker.string("mosquitto", s.mosquitto_program);
    s.acl_plugin = broker.string("acl_plugin", s.acl_plugin);
    if (s.acl_plugin != "auto" && !s.acl_plugin.empty()) s.acl_plugin = broker.resolve(s.acl_plugin).string();
    s.peer_gateways = broker.strings("peer_gateways", {});
    for (const auto& peer : s.peer_gateways) {
      if (!validate_service_name(peer) || peer == s.service_identity) {
        broker.add_issue("peer_gateways",
                         "'" + peer + "' must be another gateway's service name, such as svc-gateway-b");
      }
    }
  } else {
    // An external broker is reached with the CA and client identity the user gives.
    s.client_tls = mqtt::TlsFiles{broker.required_path("ca_file"), broker.required_path("cert_file"),
                                  broker.required_path("key_file")};
  }

  config::TableReader ingest = root.table("ingest");
  s.ingest.batch_max_readings = ingest.integer("batch_max_readings", s.ingest.batch_max_readings, 1, 100'000);
  s.ingest.batch_max_delay =
      std::chrono::milliseconds(ingest.integer("batch_max_delay_ms", s.ingest.batch_max_delay.count(), 1, 10'000));
  s.ingest.batch_min_readings =
      ingest.integer("batch_min_readings", s.ingest.batch_min_readings, std::size_t{1}, std::size_t{100'000});
  s.ingest.batch_quiet_delay =
      std::chrono::milliseconds(ingest.integer("batch_quiet_delay_ms", s.ingest.batch_quiet_delay.count(), 1, 10'000));
  s.ingest.batch_dense_delay =
      std::chrono::milliseconds(ingest.integer("batch_dense_delay_ms", s.ingest.batch_dense_delay.count(), 1, 10'000));
  s.ingest.max_waiting_readings =
      ingest.integer("max_waiting_readings", s.ingest.max_waiting_readings, std::size_t{1}, std::size_t{10'000'000});
  s.ingest.latency_window =
      std::chrono::milliseconds(ingest.integer("latency_window_ms", s.ingest.latency_window.count(), 1'000, 3'600'000));
  s.share_group = ingest.string("share_group", "");
  // An MQTT share name is one topic level: no wildcards, no separators.
  if (s.share_group.find_first_of("/+#") != std::string::npos || s.share_group.size() > 64) {
    ingest.add_issue("share_group", "must be a single name of at most 64 characters without '/', '+' or '#'");
  }

  config::TableReader retention = root.table("retention");
  auto& policy = s.store.retention;
  policy.raw_days = retention.integer("raw_days", policy.raw_days, 0, 36'500);
  policy.minute_days = retention.integer("minute_days", policy.minute_days, 0, 36'500);
  policy.hour_days = retention.integer("hour_days", policy.hour_days, 0, 36'500);

  config::TableReader http_table = root.table("http");
  s.http = read_http(http_table);

  // [metrics]: the scrape token is read from its own 0600 file at start, never from this file.
  config::TableReader metrics = root.table("metrics");
  if (metrics.contains("token")) {
    (void)metrics.optional_string("token");
    metrics.add_issue("token", "the scrape token does not belong in the config file; use token_file (mode 0600)");
  }
  if (metrics.contains("token_file")) s.metrics_token_file = metrics.path("token_file", {});
  // A device's certificate can never be one of these: device ids may not start with svc-.
  s.metrics_clients = metrics.strings("clients", {});
  for (const auto& client : s.metrics_clients) {
    if (auto valid = validate_service_name(client); !valid) metrics.add_issue("clients", valid.error().message);
  }

  config::TableReader alerts_table = root.table("alerts");
  s.alerts = read_alerts(alerts_table);
  std::set<std::string, std::less<>> webhook_names;
  for (config::TableReader webhook_table : alerts_table.tables("webhook")) {
    WebhookSettings webhook = read_webhook(webhook_table);
    if (!webhook_names.insert(webhook.name).second) webhook_table.add_issue("name", "another webhook has this name");
    s.alerts.webhooks.push_back(webhook.name);
    s.webhooks.webhooks.push_back(std::move(webhook));
  }
  // A device's certificate can never be one of these: device ids may not start with svc-.
  s.alert_readers = alerts_table.strings("mqtt_readers", {});
  for (const auto& reader : s.alert_readers) {
    if (auto valid = validate_service_name(reader); !valid)
      alerts_table.add_issue("mqtt_readers", valid.error().message);
  }

  config::TableReader exports = root.table("export");
  if (config::TableReader influx = exports.table("influxdb"); influx.present()) s.influx = read_influx_export(influx);

  if (auto done = document->finish(); !done) return std::move(done).error();
  return s;
}

}  // namespace kelvin::gateway
