// kelvin-gateway's config file: the [export.influxdb] section (docs/influxdb.md) — its defaults,
// its bounds, and that credentials are refused in the file itself with a message saying where
// they belong.

#include "kelvin/gateway/gateway_config.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>

#include "alert_json.hpp"
#include "kelvin/gateway/alert_rule_config.hpp"
#include "kelvin/testing/temp_dir.hpp"

namespace kelvin::gateway {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class GatewayConfigTest : public ::testing::Test {
 protected:
  Result<GatewaySettings> load(const std::string& text) {
    const auto file = tmp_ / "gateway.toml";
    std::ofstream(file) << "state_dir = \"" << (tmp_ / "state").string() << "\"\n" << text;
    return load_gateway_config(file);
  }
  kelvin::testing::TempDir tmp_;
};

TEST_F(GatewayConfigTest, NoExportSectionMeansNoExport) {
  auto settings = load("");
  ASSERT_TRUE(settings.ok()) << settings.error().message;
  EXPECT_FALSE(settings->influx.has_value());
}

TEST_F(GatewayConfigTest, ExportSectionWithDefaults) {
  auto settings = load("[export.influxdb]\nurl = \"https://influx.example.net:8086\"\n");
  ASSERT_TRUE(settings.ok()) << settings.error().message;
  ASSERT_TRUE(settings->influx.has_value());
  const auto& influx = *settings->influx;
  EXPECT_EQ(influx.writer.url, "https://influx.example.net:8086");
  EXPECT_EQ(influx.writer.database, "kelvin");
  EXPECT_EQ(influx.writer.retention_policy, "");
  EXPECT_TRUE(influx.writer.ca_file.empty());
  EXPECT_FALSE(influx.credentials_file.has_value());
  EXPECT_TRUE(influx.writer.gzip_body);
  EXPECT_EQ(influx.writer.timeout, std::chrono::seconds(10));
  EXPECT_EQ(influx.exporter.batch_readings, 5000u);
  EXPECT_EQ(influx.exporter.retry_max, std::chrono::seconds(30));
}

TEST_F(GatewayConfigTest, ExportSectionWithEveryKey) {
  auto settings = load(
      "[export.influxdb]\n"
      "url = \"https://influx.example.net:8086/influx\"\n"
      "database = \"site-a\"\n"
      "retention_policy = \"one_year\"\n"
      "ca_file = \"influx-ca.crt\"\n"
      "credentials_file = \"/etc/kelvin/influx.credentials\"\n"
      "batch_readings = 1000\n"
      "timeout_s = 3\n"
      "gzip = false\n"
      "retry_max_s = 5\n");
  ASSERT_TRUE(settings.ok()) << settings.error().message;
  const auto& influx = *settings->influx;
  EXPECT_EQ(influx.writer.database, "site-a");
  EXPECT_EQ(influx.writer.retention_policy, "one_year");
  EXPECT_EQ(influx.writer.ca_file, tmp_ / "influx-ca.crt") << "relative paths resolve against the config file";
  EXPECT_EQ(influx.credentials_file, std::filesystem::path("/etc/kelvin/influx.credentials"));
  EXPECT_EQ(influx.exporter.batch_readings, 1000u);
  EXPECT_EQ(influx.writer.timeout, std::chrono::seconds(3));
  EXPECT_FALSE(influx.writer.gzip_body);
  EXPECT_EQ(influx.exporter.retry_max, std::chrono::seconds(5));
  EXPECT_LE(influx.exporter.retry_min, influx.exporter.retry_max);
}

TEST_F(GatewayConfigTest, CredentialsInTheFileAreRefusedWithoutEchoingThem) {
  auto settings = load(
      "[export.influxdb]\n"
      "url = \"https://influx.example.net:8086\"\n"
      "username = \"writer\"\n"
      "password = \"s3cret-value\"\n");
  ASSERT_FALSE(settings.ok());
  const std::string& message = settings.error().message;
  EXPECT_THAT(message, HasSubstr("password"));
  EXPECT_THAT(message, HasSubstr("credentials_file"));
  EXPECT_THAT(message, HasSubstr("KELVIN_INFLUX_PASSWORD"));
  EXPECT_THAT(message, Not(HasSubstr("s3cret-value")));
  EXPECT_THAT(message, Not(HasSubstr("unknown key")));
}

// [metrics] (docs/metrics.md): off unless a token file is named; the token itself never in the file.
TEST_F(GatewayConfigTest, MetricsNeedATokenFileAndRefuseATokenInTheFile) {
  EXPECT_TRUE(load("")->metrics_token_file.empty());
  auto enabled = load("[metrics]\ntoken_file = \"/etc/kelvin/metrics.token\"\n");
  ASSERT_TRUE(enabled.ok()) << enabled.error().message;
  EXPECT_EQ(enabled->metrics_token_file, "/etc/kelvin/metrics.token");
  auto in_file = load("[metrics]\ntoken = \"0123456789abcdef0123456789abcdef\"\n");
  ASSERT_FALSE(in_file.ok());
  EXPECT_THAT(in_file.error().message, HasSubstr("token_file (mode 0600)"));
  EXPECT_THAT(in_file.error().message, Not(HasSubstr("0123456789abcdef")));
}

// [metrics] clients: services only, so no device's certificate can ever be listed.
TEST_F(GatewayConfigTest, MetricsClientsAreServiceNames) {
  EXPECT_TRUE(load("")->metrics_clients.empty());
  auto listed = load("[metrics]\nclients = [\"svc-prometheus\", \"svc-vmagent\"]\n");
  ASSERT_TRUE(listed.ok()) << listed.error().message;
  EXPECT_EQ(listed->metrics_clients, (std::vector<std::string>{"svc-prometheus", "svc-vmagent"}));
  auto device = load("[metrics]\nclients = [\"sensor-01\"]\n");
  ASSERT_FALSE(device.ok());
  EXPECT_THAT(device.error().message, HasSubstr("clients"));
  EXPECT_THAT(device.error().message, HasSubstr("svc-"));
}

TEST_F(GatewayConfigTest, EveryExportMistakeIsReportedAtOnce) {
  auto settings = load(
      "[export.influxdb]\n"
      "database = \"kelvin\"\n"
      "batch_readings = 0\n"
      "timeout_s = 0\n"
      "retry_max_s = 0\n"
      "compression = \"gzip\"\n");
  ASSERT_FALSE(settings.ok());
  const std::string& message = settings.error().message;
  for (const char* key : {"url", "batch_readings", "timeout_s", "retry_max_s", "compression"}) {
    EXPECT_THAT(message, HasSubstr(key)) << message;
  }
}

TEST_F(GatewayConfigTest, TheAnnotatedExampleLoadsAndShowsTheDefaults) {
  auto settings = load_gateway_config(std::filesystem::path(KELVIN_DEPLOY_DIR) / "gateway" / "gateway.example.toml");
  ASSERT_TRUE(settings.ok()) << settings.error().message;
  const GatewaySettings defaults;
  EXPECT_EQ(settings->state_dir, defaults.state_dir);
  EXPECT_EQ(settings->service_identity, defaults.service_identity);
  EXPECT_EQ(settings->broker_port, defaults.broker_port);
  EXPECT_EQ(settings->share_group, defaults.share_group);
  EXPECT_TRUE(settings->peer_gateways.empty());
  EXPECT_FALSE(settings->influx.has_value()) << "the example's export section is commented out";
  EXPECT_EQ(settings->ingest.batch_max_readings, defaults.ingest.batch_max_readings);
  EXPECT_EQ(settings->http.enabled, defaults.http.enabled);
  EXPECT_EQ(settings->http.server.port, defaults.http.server.port);
  EXPECT_EQ(settings->http.server.max_body_bytes, defaults.http.server.max_body_bytes);
  EXPECT_EQ(settings->http.server.idle_timeout, defaults.http.server.idle_timeout);
}

// [http]: the HTTPS server (docs/gateway.md, "HTTPS server").
TEST_F(GatewayConfigTest, HttpSectionDefaults) {
  auto settings = load("");
  ASSERT_TRUE(settings.ok()) << settings.error().message;
  const auto& http = settings->http;
  EXPECT_TRUE(http.enabled);
  EXPECT_EQ(http.server.bind_address, "0.0.0.0");
  EXPECT_EQ(http.server.port, 8443);
  EXPECT_EQ(http.server.max_header_bytes, 8u * 1024);
  EXPECT_EQ(http.server.max_body_bytes, 1024u * 1024);
  EXPECT_EQ(http.server.handshake_timeout, std::chrono::seconds(10));
  EXPECT_EQ(http.server.request_timeout, std::chrono::seconds(15));
  EXPECT_EQ(http.server.idle_timeout, std::chrono::seconds(60));
  EXPECT_EQ(http.server.max_connections, 1024u);
  EXPECT_EQ(http.server.io_threads, 1);
  EXPECT_EQ(http.accounts.audit_retention_days, 365);
}

TEST_F(GatewayConfigTest, HttpSectionWithEveryKey) {
  auto settings = load(
      "[http]\nenabled = false\nbind = \"127.0.0.1\"\nport = 0\nmax_header_bytes = 4096\n"
      "max_body_bytes = 65536\nhandshake_timeout_ms = 2000\nrequest_timeout_ms = 3000\nidle_timeout_ms = 4000\n"
      "max_connections = 10\nio_threads = 2\naudit_retention_days = 30\n");
  ASSERT_TRUE(settings.ok()) << settings.error().message;
  const auto& http = settings->http;
  EXPECT_FALSE(http.enabled);
  EXPECT_EQ(http.server.bind_address, "127.0.0.1");
  EXPECT_EQ(http.server.port, 0);
  EXPECT_EQ(http.server.max_header_bytes, 4096u);
  EXPECT_EQ(http.server.max_body_bytes, 65536u);
  EXPECT_EQ(http.server.handshake_timeout, std::chrono::seconds(2));
  EXPECT_EQ(http.server.request_timeout, std::chrono::seconds(3));
  EXPECT_EQ(http.server.idle_timeout, std::chrono::seconds(4));
  EXPECT_EQ(http.server.max_connections, 10u);
  EXPECT_EQ(http.server.io_threads, 2);
  EXPECT_EQ(http.accounts.audit_retention_days, 30);
}

// [http] web_root: where the dashboard's files are (docs/dashboard.md).
TEST_F(GatewayConfigTest, HttpWebRootDefaultsToTheInstalledDashboardAndMayBeOffOrRelative) {
  auto defaults = load("");
  ASSERT_TRUE(defaults.ok()) << defaults.error().message;
  EXPECT_EQ(defaults->http.web_root, "/usr/share/kelvin/web");
  auto off = load("[http]\nweb_root = \"\"\n");
  ASSERT_TRUE(off.ok()) << off.error().message;
  EXPECT_TRUE(off->http.web_root.empty());
  auto relative = load("[http]\nweb_root = \"web/dist\"\n");
  ASSERT_TRUE(relative.ok()) << relative.error().message;
  EXPECT_EQ(relative->http.web_root, tmp_ / "web" / "dist") << "relative to the config file";
}

TEST_F(GatewayConfigTest, TheBrokerAclPluginIsFoundBesideTheProgramUnlessAPathOrNoneIsGiven) {
  auto defaults = load("");
  ASSERT_TRUE(defaults.ok()) << defaults.error().message;
  EXPECT_EQ(defaults->acl_plugin, "auto");
  auto off = load("[broker]\nacl_plugin = \"\"\n");
  ASSERT_TRUE(off.ok()) << off.error().message;
  EXPECT_EQ(off->acl_plugin, "");
  auto relative = load("[broker]\nacl_plugin = \"lib/acl.so\"\n");
  ASSERT_TRUE(relative.ok()) << relative.error().message;
  EXPECT_EQ(relative->acl_plugin, (tmp_ / "lib" / "acl.so").string()) << "relative to the config file";
}

TEST_F(GatewayConfigTest, HttpMistakesAreReportedAtOnce) {
  auto bad = load(
      "[http]\nport = 70000\nmax_header_bytes = 0\nrequest_timeout_ms = 0\nmax_connections = 0\n"
      "certificate = \"x\"\naudit_retention_days = 29\n");
  ASSERT_FALSE(bad.ok());
  for (const char* key : {"http.port", "http.max_header_bytes", "http.request_timeout_ms", "http.max_connections",
                          "http.certificate", "http.audit_retention_days"}) {
    EXPECT_THAT(bad.error().message, HasSubstr(key));
  }
}

TEST_F(GatewayConfigTest, TheIngestsBatchBoundsAreReadAndChecked) {
  auto good = load(
      "[ingest]\nbatch_max_delay_ms = 2\nbatch_min_readings = 1\nbatch_quiet_delay_ms = 200\n"
      "batch_dense_delay_ms = 30\n");
  ASSERT_TRUE(good.ok()) << good.error().message;
  EXPECT_EQ(good->ingest.batch_max_delay, std::chrono::milliseconds(2));
  EXPECT_EQ(good->ingest.batch_min_readings, 1u);
  EXPECT_EQ(good->ingest.batch_quiet_delay, std::chrono::milliseconds(200));
  EXPECT_EQ(good->ingest.batch_dense_delay, std::chrono::milliseconds(30));
  auto bad = load("[ingest]\nbatch_min_readings = 0\nbatch_quiet_delay_ms = 0\nbatch_dense_delay_ms = 0\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.error().message, HasSubstr("batch_min_readings"));
  EXPECT_THAT(bad.error().message, HasSubstr("batch_quiet_delay_ms"));
  EXPECT_THAT(bad.error().message, HasSubstr("batch_dense_delay_ms"));
}

TEST_F(GatewayConfigTest, ShareGroupAndPeerGatewaysAreChecked) {
  auto good =
      load("[broker]\npeer_gateways = [\"svc-gateway-b\", \"svc-gateway-c\"]\n[ingest]\nshare_group = \"site-1\"\n");
  ASSERT_TRUE(good.ok()) << good.error().message;
  EXPECT_EQ(good->share_group, "site-1");
  EXPECT_EQ(good->peer_gateways, (std::vector<std::string>{"svc-gateway-b", "svc-gateway-c"}));
  auto bad = load("[broker]\npeer_gateways = [\"svc-gateway\", \"Sensor 1\"]\n[ingest]\nshare_group = \"a/b\"\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.error().message, HasSubstr("'svc-gateway' must be another gateway's service name"));
  EXPECT_THAT(bad.error().message, HasSubstr("'Sensor 1'"));
  EXPECT_THAT(bad.error().message, HasSubstr("share_group"));
}

// [alerts] (docs/alerts.md): the default rules, replaced by name or joined by configured ones.
TEST_F(GatewayConfigTest, AlertsWatchTheDefaultRulesUnlessReplacedByName) {
  auto defaults = load("");
  ASSERT_TRUE(defaults.ok()) << defaults.error().message;
  EXPECT_EQ(defaults->alerts.interval, std::chrono::seconds(10));
  std::vector<std::string> names;
  for (const auto& rule : defaults->alerts.rules) names.push_back(rule.name);
  EXPECT_THAT(
      names, ::testing::ElementsAre("device_offline", "certificate_expiry", "crl_expiry", "disk_space",
                                    "export_backlog", "export_lag", "sign_in_attack", "update_failed", "rollout_halted",
                                    "outbox_drops", "broker_exits", "acl_denials", "superseded_certificate"));

  auto configured = load(
      "[alerts]\ninterval_s = 2\n"
      "[[alerts.rule]]\nname = \"device_offline\"\nkind = \"device_offline\"\nsilent_for_s = 60\nlabel = \"freezer\"\n"
      "[[alerts.rule]]\nname = \"dry\"\nkind = \"threshold\"\nquantity = \"humidity\"\nbelow = 20\nclear = 25\n"
      "for_s = 30\ndevices = [\"sensor-01\"]\n"
      "[[alerts.rule]]\nname = \"probing\"\nkind = \"event_rate\"\nevent = \"https_handshake_failures\"\n"
      "above_per_minute = 100\n"
      "[[alerts.rule]]\nname = \"outbox_drops\"\nkind = \"outbox_drops\"\nquiet_for_s = 600\nlabel = \"shop\"\n"
      "[[alerts.rule]]\nname = \"shop_updates\"\nkind = \"update_failed\"\nlabel = \"shop\"\n");
  ASSERT_TRUE(configured.ok()) << configured.error().message;
  const auto& rules = configured->alerts.rules;
  ASSERT_EQ(rules.size(), 16u);
  EXPECT_EQ(configured->alerts.interval, std::chrono::seconds(2));
  const auto offline =
      std::find_if(rules.begin(), rules.end(), [](const auto& r) { return r.name == "device_offline"; });
  ASSERT_NE(offline, rules.end());
  EXPECT_EQ(offline->silent_ms, 60'000);
  EXPECT_EQ(offline->scope.label, "freezer");
  const auto& shop_updates = rules.back();
  EXPECT_EQ(shop_updates.kind, alerts::RuleKind::update_failed);
  EXPECT_EQ(shop_updates.scope.label, "shop");
  const auto& drops = rules[rules.size() - 2];
  EXPECT_EQ(drops.kind, alerts::RuleKind::outbox_drops);
  EXPECT_EQ(drops.quiet_ms, 600'000);
  EXPECT_EQ(drops.scope.label, "shop");
  const auto& probing = rules[rules.size() - 3];
  EXPECT_EQ(probing.kind, alerts::RuleKind::event_rate);
  EXPECT_EQ(probing.event, alerts::GatewayEvent::https_handshake_failures);
  EXPECT_DOUBLE_EQ(probing.level.fire_at, 100);
  EXPECT_DOUBLE_EQ(probing.level.clear_at, 100);
  const auto& dry = rules[rules.size() - 4];
  EXPECT_EQ(dry.name, "dry");
  EXPECT_EQ(dry.kind, alerts::RuleKind::threshold);
  EXPECT_EQ(dry.quantity, proto::Quantity::humidity);
  EXPECT_FALSE(dry.level.above);
  EXPECT_DOUBLE_EQ(dry.level.fire_at, 20);
  EXPECT_DOUBLE_EQ(dry.level.clear_at, 25);
  EXPECT_EQ(dry.for_ms, 30'000);
  EXPECT_EQ(dry.scope.devices, std::vector<std::string>{"sensor-01"});

  auto only = load("[alerts]\ndefault_rules = false\n[[alerts.rule]]\nname = \"disk\"\nkind = \"disk_space\"\n");
  ASSERT_TRUE(only.ok()) << only.error().message;
  ASSERT_EQ(only->alerts.rules.size(), 1u);
  EXPECT_DOUBLE_EQ(only->alerts.rules[0].level.fire_at, 1024.0 * 1024 * 1024);
}

TEST_F(GatewayConfigTest, TheLogLevelIsOneOfFive) {
  EXPECT_EQ(load("")->log_level, "info");
  EXPECT_EQ(load("[log]\nlevel = \"warn\"\n")->log_level, "warn");
  auto refused = load("[log]\nlevel = \"verbose\"\n");
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.error().message, HasSubstr("level")) << refused.error().message;
}

TEST_F(GatewayConfigTest, EveryMistakeInAnAlertRuleIsReported) {
  auto settings = load(
      "[[alerts.rule]]\nname = \"Warm\"\nkind = \"threshold\"\nquantity = \"temperature\"\nabove = 30\nbelow = 0\n"
      "[[alerts.rule]]\nname = \"cold\"\nkind = \"threshold\"\nquantity = \"pressure\"\nbelow = 0\nclear = -1\n"
      "[[alerts.rule]]\nname = \"cold\"\nkind = \"device_offline\"\nabove = 3\ndevices = [\"bad id\"]\n"
      "[[alerts.rule]]\nname = \"x\"\nkind = \"smoke\"\n"
      "[[alerts.rule]]\nname = \"halted\"\nkind = \"rollout_halted\"\nlabel = \"shop\"\n");
  ASSERT_FALSE(settings.ok());
  const std::string& message = settings.error().message;
  for (const char* expected : {"name: must be 1 to 64 characters", "give exactly one of above and below", "quantity",
                               "clear: must be at or above below", "another rule has this name", "above: unknown key",
                               "devices", "kind", "label: unknown key"}) {
    EXPECT_THAT(message, HasSubstr(expected)) << message;
  }
}

// A rule as GET /api/v1/alert-rules shows it, written back as an [[alerts.rule]] table.
std::string as_rule_table(const nlohmann::json& rule) {
  std::string table = "[[alerts.rule]]\n";
  for (const auto& [key, value] : rule.items()) table += key + " = " + value.dump() + "\n";
  return table;
}

// The API shows each rule with its config table's keys: the defaults and rules of every kind, each
// with the keys it can have, load back from what it shows as the same rules.
TEST_F(GatewayConfigTest, ARuleTheApiShowsLoadsBackFromTheConfigAsTheSameRule) {
  auto configured = load(
      "[[alerts.rule]]\nname = \"dry\"\nkind = \"threshold\"\nquantity = \"humidity\"\nbelow = 20\nclear = 25.5\n"
      "for_s = 30\ndevices = [\"sensor-01\", \"sensor-02\"]\n"
      "[[alerts.rule]]\nname = \"warm\"\nkind = \"threshold\"\nquantity = \"temperature\"\nabove = -15\nlabel = "
      "\"freezer\"\n"
      "[[alerts.rule]]\nname = \"backlog\"\nkind = \"export_backlog\"\nabove_readings = 5000\nclear_readings = 100\n"
      "[[alerts.rule]]\nname = \"lag\"\nkind = \"export_lag\"\nabove_s = 120\nclear_s = 30\nfor_s = 60\n"
      "[[alerts.rule]]\nname = \"probing\"\nkind = \"event_rate\"\nevent = \"mqtt_handshake_failures\"\n"
      "above_per_minute = 3\nclear_per_minute = 1\nfor_s = 60\n"
      "[[alerts.rule]]\nname = \"shop_acl\"\nkind = \"device_acl_denials\"\ndevices = [\"sensor-01\"]\n"
      "quiet_for_s = 120\n"
      "[[alerts.rule]]\nname = \"shop_certificates\"\nkind = \"superseded_certificate\"\nlabel = \"shop\"\n"
      "for_s = 600\n");
  ASSERT_TRUE(configured.ok()) << configured.error().message;
  const auto& rules = configured->alerts.rules;
  ASSERT_EQ(rules.size(), 20u);
  std::string tables = "[alerts]\ndefault_rules = false\n";
  for (const auto& rule : rules) tables += as_rule_table(rule_json(rule));
  auto reloaded = load(tables);
  ASSERT_TRUE(reloaded.ok()) << reloaded.error().message << "\n" << tables;
  ASSERT_EQ(reloaded->alerts.rules.size(), rules.size());
  for (std::size_t i = 0; i < rules.size(); ++i) {
    EXPECT_EQ(rule_json(reloaded->alerts.rules[i]), rule_json(rules[i])) << tables;
  }
  const auto shown = rule_json(rules[rules.size() - 7]);
  EXPECT_EQ(shown,
            nlohmann::json::parse(R"({"name":"dry","kind":"threshold","for_s":30,"devices":["sensor-01","sensor-02"],
                                             "quantity":"humidity","below":20.0,"clear":25.5})"));
  EXPECT_FALSE(rule_json(rules[rules.size() - 6]).contains("clear")) << "no hysteresis: no clear level shown";
  EXPECT_EQ(rule_json(rules[rules.size() - 4]),
            nlohmann::json::parse(R"({"name":"lag","kind":"export_lag","for_s":60,"above_s":120.0,"clear_s":30.0})"));
  EXPECT_EQ(rule_json(rules[rules.size() - 2]),
            nlohmann::json::parse(R"({"name":"shop_acl","kind":"device_acl_denials","devices":["sensor-01"],
                                      "quiet_for_s":120})"));
  EXPECT_EQ(rule_json(rules.back()),
            nlohmann::json::parse(R"({"name":"shop_certificates","kind":"superseded_certificate",
                                                                "for_s":600,"label":"shop","quiet_for_s":600})"));
}

// The HTTPS API takes a rule as JSON with its table's keys, checked by the config file's reader: the
// rules of every kind the API shows read back as the same rules, and a bad one is refused with
// every problem, each naming its key without a file or position.
TEST_F(GatewayConfigTest, ARuleGivenAsJsonIsCheckedAsItsConfigTableIs) {
  auto configured = load(
      "[[alerts.rule]]\nname = \"dry\"\nkind = \"threshold\"\nquantity = \"humidity\"\nbelow = 20\nclear = 25.5\n"
      "for_s = 30\ndevices = [\"sensor-01\"]\n");
  ASSERT_TRUE(configured.ok()) << configured.error().message;
  for (const auto& rule : configured->alerts.rules) {
    auto parsed = parse_alert_rule_json(rule_json(rule).dump());
    ASSERT_TRUE(parsed.ok()) << rule.name << ": " << parsed.error().message;
    EXPECT_EQ(rule_json(*parsed), rule_json(rule));
  }

  auto refused = parse_alert_rule_json(
      R"({"name": "Warm!", "kind": "threshold", "quantity": "pressure", "above": "30", "below": 20,)"
      R"( "for_s": 1.5, "devices": ["../etc"], "colour": "red", "label": null})");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, Errc::invalid_argument);
  const std::string& message = refused.error().message;
  for (const char* expected :
       {"name: must be 1 to 64 characters", "quantity: ", "above: expected a number", "for_s: expected an integer",
        "devices: ", "colour: unknown key", "label: null is no value"}) {
    EXPECT_THAT(message, HasSubstr(expected)) << message;
  }
  EXPECT_TRUE(message.front() != ':' && message.find("\n:") == std::string::npos) << "no file named: " << message;

  // Listed devices are kept sorted and once, whatever order the rule gives them in.
  auto unordered = parse_alert_rule_json(
      R"({"name": "d", "kind": "update_failed", "devices": ["sensor-02", "sensor-01", "sensor-02"]})");
  ASSERT_TRUE(unordered.ok()) << unordered.error().message;
  EXPECT_EQ(unordered->scope.devices, (std::vector<std::string>{"sensor-01", "sensor-02"}));

  nlohmann::json many{{"name", "many"}, {"kind", "update_failed"}, {"devices", nlohmann::json::array()}};
  for (int i = 0; i < 1000; ++i) many["devices"].push_back("sensor-" + std::to_string(i));
  EXPECT_TRUE(parse_alert_rule_json(many.dump()).ok()) << "1,000 devices";
  many["devices"].push_back("sensor-1000");
  auto too_many = parse_alert_rule_json(many.dump());
  ASSERT_FALSE(too_many.ok());
  EXPECT_EQ(too_many.error().message, "devices: at most 1000 devices; give a label for more");

  for (const char* body : {"", "[]", R"({"name": "warm")", "{} {}"}) {
    auto not_an_object = parse_alert_rule_json(body);
    ASSERT_FALSE(not_an_object.ok()) << body;
    EXPECT_EQ(not_an_object.error().message, "the body must be one JSON object");
  }
}

}  // namespace
}  // namespace kelvin::gateway
