// Alerts on the real gateway (docs/alerts.md): readings published with mosquitto_pub drive a
// threshold rule to fire once and resolve past its clear level; a device killed with its last will
// pending (mosquitto_sub with --will-*, SIGKILLed) and a device gone silent raise offline alerts;
// readings a device reports its outbox dropped and the managed broker SIGKILLed raise theirs; a
// firing alert survives a gateway restart without firing twice, resolves when its rule is removed,
// and operators acknowledge it once over HTTPS (curl), as the audit log shows; a real HTTPS webhook
// receiver (Node's https) gets each transition signed (checked with openssl dgst), retried after a
// refusal, and queued across a gateway restart while it was away; a silence holds the webhook's
// notifications of its rule and subject back until it is lifted; curl and mosquitto_pub offering a
// certificate from a foreign CA are refused until it counts as probing; a device certificate issued for a day is
// expiring until reissued; a device publishing to another's topic and one listening to another's
// acks are refused by the broker's ACL, counted, and raise the default rule acl_denials and a
// device_acl_denials rule for the device that publishes; a device
// still connecting with its certificate after a renewal raises superseded_certificate, which holds
// after it posts over HTTPS with the new one and resolves when the old one is revoked; the state
// directory on a small tmpfs raises disk_space as it fills, and
// a reading published while it is full is stored once there is room; rules operators add, change
// and remove over HTTPS take effect at once and outlive a restart.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "https_client.hpp"
#include "installation.hpp"
#include "kelvin/store/alert_db.hpp"
#include "kelvin/testing/background_process.hpp"
#include "kelvin/testing/process.hpp"
#include "kelvin/testing/temp_dir.hpp"
#include "log_records.hpp"
#include "webhook_receiver.hpp"

namespace {

namespace fs = std::filesystem;
using kelvin::testing::Browser;
using kelvin::testing::DeviceFiles;
using kelvin::testing::HttpsAnswer;
using kelvin::testing::Installation;
using kelvin::testing::wait_until;
using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

// Evaluated every second; the threshold watches sensor-01 only; a device is offline after 10 s of
// silence (replacing the default rule of the same name); more than 3 failed sign-ins, or 3 HTTPS
// or MQTT handshakes refused, a minute are an attack. svc-homeassistant may read the alerts' retained messages.
constexpr const char* kAlertRules = R"(
[alerts]
interval_s = 1
mqtt_readers = ["svc-homeassistant"]

[[alerts.rule]]
name = "freezer_warm"
kind = "threshold"
quantity = "temperature"
above = -15.0
clear = -17.0
devices = ["sensor-01"]

[[alerts.rule]]
name = "device_offline"
kind = "device_offline"
silent_for_s = 10

[[alerts.rule]]
name = "guessing"
kind = "event_rate"
event = "failed_sign_ins"
above_per_minute = 3

[[alerts.rule]]
name = "tls_probing"
kind = "event_rate"
event = "https_handshake_failures"
above_per_minute = 3

[[alerts.rule]]
name = "mqtt_probing"
kind = "event_rate"
event = "mqtt_handshake_failures"
above_per_minute = 3

)";

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class Alerts : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* id : {"sensor-01", "sensor-02"}) devices_[id] = install_.issue_device(id);
    install_.kelvinctl({"pki", "--dir", install_.pki_dir().string(), "issue", "service", "svc-homeassistant"});
    const fs::path service = install_.pki_dir() / "services" / "svc-homeassistant";
    reader_ = {install_.pki_dir() / "ca.crt", service / "svc-homeassistant.crt", service / "svc-homeassistant.key"};
    std::ofstream(install_.config_file(), std::ios::app) << kAlertRules;
    start();
    admin_password_ = kelvin::testing::first_admin_password(install_.gateway_log());
    sign_in_admin("admin.jar");
  }

  // A new browser for the admin (the gateway's sessions end with it).
  void sign_in_admin(const std::string& jar) {
    admin_ = std::make_unique<Browser>(install_, *port_, install_.root() / jar);
    ASSERT_EQ(admin_->sign_in("admin", admin_password_).status, 200);
  }

  void TearDown() override {
    if (HasFailure()) std::cerr << "---- gateway log ----\n" << install_.gateway_log();
  }

  void start() {
    install_.start_gateway();
    port_ = install_.await_http_port();
    ASSERT_TRUE(port_.has_value());
  }

  void publish_temperature(const std::string& device, double temperature) {
    const std::string payload = R"({"seq":)" + std::to_string(++seqs_[device]) + R"(,"ts":)" +
                                std::to_string(now_ms()) + R"(,"values":{"temperature":)" +
                                std::to_string(temperature) + "}}";
    ASSERT_EQ(install_.publish(devices_.at(device), "devices/" + device + "/telemetry", payload).exit_code, 0);
  }

  json alerts(const std::string& query = "") {
    auto answer = admin_->request("GET", "/api/v1/alerts" + query);
    EXPECT_EQ(answer.status, 200) << answer.raw;
    return answer.body["alerts"];
  }

  // The alerts of `rule` on `subject`, newest first.
  json alerts_of(const std::string& rule, const std::string& subject) {
    json out = json::array();
    for (const auto& alert : alerts("?subject=" + subject)) {
      if (alert["rule"] == rule) out.push_back(alert);
    }
    return out;
  }

  // Waits up to `timeout` until the newest alert of (rule, subject) is in `state`; returns it.
  json await_alert(const std::string& rule, const std::string& subject, const std::string& state,
                   std::chrono::milliseconds timeout = 15s) {
    json newest;
    wait_until(
        [&] {
          const json found = alerts_of(rule, subject);
          newest = found.empty() ? json() : found[0];
          return !found.empty() && found[0]["state"] == state;
        },
        timeout);
    return newest;
  }

  // Waits for `count` more evaluations of the alert rules.
  void await_evaluations(int count) {
    const auto evaluations = [&] { return install_.stats()["alerts"].value("evaluations", 0); };
    const int from = evaluations();
    ASSERT_TRUE(wait_until([&] { return evaluations() >= from + count; }, 15s)) << install_.stats().dump();
  }

  // The retained message on `topic` as `who` reads it with mosquitto_sub (a new subscription gets it
  // at once); "" when none arrives within 2 s.
  std::string retained(const DeviceFiles& who, const std::string& topic) {
    const fs::path out = install_.root() / ("retained-" + std::to_string(++reads_));
    auto sub = install_.subscribe(who, topic, out, {"--retained-only", "-C", "1", "-W", "2"});
    sub->wait(10s);
    const std::string text = kelvin::testing::read_text(out);
    return text.rfind(topic + " ", 0) == 0 ? text.substr(topic.size() + 1) : "";
  }

  // Points the webhook "ops" at `receiver` (gateway.toml's last lines).
  void configure_webhook(const kelvin::testing::WebhookReceiver& receiver) {
    std::string config = kelvin::testing::read_text(install_.config_file());
    config = config.substr(0, config.find("\n[[alerts.webhook]]"));
    std::ofstream(install_.config_file(), std::ios::trunc)
        << config << "\n[[alerts.webhook]]\nname = \"ops\"\nurl = \"" << receiver.url("/hook") << "\"\nsecret_file = \""
        << secret_file().string() << "\"\nca_file = \"" << (install_.pki_dir() / "ca.crt").string() << "\"\n";
  }

  fs::path secret_file() const { return install_.root() / "webhook.secret"; }

  // The newest 100 audit entries, newest first.
  json newest_audit_entries() {
    auto audit = admin_->request("GET", "/api/v1/audit?before=end&limit=100");
    EXPECT_EQ(audit.status, 200) << audit.raw;
    return audit.body["entries"];
  }

  // "<action> <result>" of the newest 100 audit entries whose action starts with `prefix`.
  std::vector<std::string> audited_actions(const std::string& prefix) {
    std::vector<std::string> actions;
    for (const auto& entry : newest_audit_entries()) {
      const std::string action = entry["action"];
      if (action.rfind(prefix, 0) == 0) actions.push_back(action + " " + entry["result"].get<std::string>());
    }
    return actions;
  }

  Installation install_;
  DeviceFiles reader_;
  int reads_ = 0;
  std::map<std::string, DeviceFiles> devices_;
  std::map<std::string, int> seqs_;
  std::optional<int> port_;
  std::unique_ptr<Browser> admin_;
  std::string admin_password_;
};

TEST_F(Alerts, AThresholdFiresOnceHoldsBetweenItsLevelsAndResolvesPastTheClearLevel) {
  publish_temperature("sensor-01", -20);
  publish_temperature("sensor-02", 30);  // not watched by the rule
  publish_temperature("sensor-01", -10.5);
  const json fired = await_alert("freezer_warm", "sensor-01", "firing");
  ASSERT_EQ(fired["state"], "firing") << alerts().dump(2);
  EXPECT_EQ(fired["kind"], "threshold");
  EXPECT_DOUBLE_EQ(fired["value"].get<double>(), -10.5);
  EXPECT_EQ(fired["summary"], "temperature -10.5 °C (fires above -15 °C)");
  EXPECT_TRUE(fired["ended"].is_null());
  EXPECT_TRUE(fired["acknowledged_by"].is_null());
  EXPECT_TRUE(alerts_of("freezer_warm", "sensor-02").empty()) << "sensor-02 is not in the rule's devices";
  // Integrations read it retained over MQTT, if the ACL lets them: a device may not.
  const json retained_firing = json::parse(retained(reader_, "alerts/freezer_warm/sensor-01"), nullptr, false);
  EXPECT_EQ(retained_firing["state"], "firing") << retained_firing;
  EXPECT_EQ(retained_firing["id"], fired["id"]);
  EXPECT_EQ(retained(devices_.at("sensor-02"), "alerts/freezer_warm/sensor-01"), "");
  // Nor may a device write one: a forged retained state never replaces the gateway's.
  ASSERT_EQ(
      install_.publish(devices_.at("sensor-01"), "alerts/freezer_warm/sensor-01", R"({"state":"resolved"})", {"-r"})
          .exit_code,
      0);
  EXPECT_EQ(json::parse(retained(reader_, "alerts/freezer_warm/sensor-01"), nullptr, false)["id"], fired["id"]);

  // Between the levels, and above again: the same alert goes on, no second one.
  publish_temperature("sensor-01", -16);
  publish_temperature("sensor-01", -12);
  std::this_thread::sleep_for(2500ms);  // more than two evaluations
  json episodes = alerts_of("freezer_warm", "sensor-01");
  ASSERT_EQ(episodes.size(), 1u) << episodes.dump(2);
  EXPECT_EQ(episodes[0]["state"], "firing");

  publish_temperature("sensor-01", -18);
  const json resolved = await_alert("freezer_warm", "sensor-01", "resolved");
  ASSERT_EQ(resolved["state"], "resolved") << alerts().dump(2);
  EXPECT_EQ(resolved["id"], fired["id"]);
  EXPECT_THAT(resolved["resolution"].get<std::string>(), HasSubstr("condition cleared"));
  EXPECT_GE(resolved["ended_ms"].get<std::int64_t>(), resolved["started_ms"].get<std::int64_t>());
  EXPECT_EQ(alerts("?state=firing&subject=sensor-01").size(), 0u);
  json retained_resolved;
  wait_until(
      [&] {
        retained_resolved = json::parse(retained(reader_, "alerts/freezer_warm/sensor-01"), nullptr, false);
        return retained_resolved.is_object() && retained_resolved["state"] == "resolved";
      },
      10s);
  EXPECT_EQ(retained_resolved["state"], "resolved") << retained_resolved;
  // The log names the rule and the subject in keys of their own.
  EXPECT_TRUE(kelvin::testing::has_log_record_about(install_.gateway_log(), "warn", "alerts",
                                                    {{"rule", "freezer_warm"}, {"subject", "sensor-01"}},
                                                    "alert freezer_warm firing for sensor-01"))
      << install_.gateway_log();
  EXPECT_TRUE(kelvin::testing::has_log_record_about(install_.gateway_log(), "info", "alerts",
                                                    {{"rule", "freezer_warm"}, {"subject", "sensor-01"}},
                                                    "alert freezer_warm resolved for sensor-01"))
      << install_.gateway_log();
}

TEST_F(Alerts, ABurstOfFailedSignInsIsAnAttackOnTheGateway) {
  EXPECT_TRUE(alerts_of("guessing", "gateway").empty());
  for (int attempt = 0; attempt < 4; ++attempt) {
    Browser guesser(install_, *port_, install_.root() / "guesser.jar");
    EXPECT_EQ(guesser.sign_in("admin", "guess-" + std::to_string(attempt)).status, 401);
  }
  const json attack = await_alert("guessing", "gateway", "firing");
  ASSERT_EQ(attack["state"], "firing") << alerts().dump(2);
  EXPECT_EQ(attack["kind"], "event_rate");
  EXPECT_EQ(attack["summary"], "failed sign-ins 4 per minute (fires above 3 per minute)");
}

TEST_F(Alerts, HandshakesWithAForeignCertificateAreProbingAndAShortLivedCertificateIsExpiring) {
  // A client certificate from a CA of its own, made with openssl, offered by curl: every
  // handshake is refused.
  const fs::path key = install_.root() / "foreign.key";
  const fs::path certificate = install_.root() / "foreign.crt";
  const auto made = kelvin::testing::run_command({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                                                  "ec_paramgen_curve:P-256", "-nodes", "-keyout", key.string(), "-out",
                                                  certificate.string(), "-days", "2", "-subj", "/CN=sensor-01"});
  ASSERT_EQ(made.exit_code, 0) << kelvin::testing::describe(made);
  for (int attempt = 0; attempt < 5; ++attempt) {
    const auto refused = kelvin::testing::run_command(
        {"curl", "-sS", "--max-time", "10", "--cacert", (install_.pki_dir() / "ca.crt").string(), "--cert",
         certificate.string(), "--key", key.string(),
         "https://localhost:" + std::to_string(*port_) + "/api/v1/devices/sensor-01/telemetry", "-d", "{}"});
    EXPECT_NE(refused.exit_code, 0) << kelvin::testing::describe(refused);
  }
  const json probing = await_alert("tls_probing", "gateway", "firing");
  ASSERT_EQ(probing["state"], "firing") << alerts().dump(2);
  EXPECT_THAT(probing["summary"].get<std::string>(), HasSubstr("refused HTTPS handshakes"));
  EXPECT_GE(probing["value"].get<double>(), 5.0);

  // The same certificate at the broker, with mosquitto_pub: the broker refuses each handshake, and
  // the gateway counts what the broker logged.
  for (int attempt = 0; attempt < 5; ++attempt) {
    const auto refused =
        install_.publish({install_.pki_dir() / "ca.crt", certificate, key}, "devices/sensor-01/telemetry", "{}");
    EXPECT_NE(refused.exit_code, 0) << kelvin::testing::describe(refused);
  }
  const json mqtt_probing = await_alert("mqtt_probing", "gateway", "firing");
  ASSERT_EQ(mqtt_probing["state"], "firing") << alerts().dump(2) << install_.gateway_log();
  EXPECT_EQ(mqtt_probing["summary"], "refused MQTT handshakes 5 per minute (fires above 3 per minute)");
  EXPECT_TRUE(kelvin::testing::has_log_record(install_.gateway_log(), "warn", "mosquitto", "OpenSSL Error[0]"))
      << install_.gateway_log();

  // A device certificate issued for a day: the default rule (30 days) raises it; reissued for a
  // year, it resolves.
  install_.kelvinctl({"pki", "--dir", install_.pki_dir().string(), "issue", "device", "sensor-03", "--days", "1"});
  const json expiring = await_alert("certificate_expiry", "sensor-03", "firing");
  ASSERT_EQ(expiring["state"], "firing") << alerts().dump(2);
  EXPECT_THAT(expiring["summary"].get<std::string>(), HasSubstr("device certificate expires in 1 day ("));
  install_.kelvinctl(
      {"pki", "--dir", install_.pki_dir().string(), "issue", "device", "sensor-03", "--days", "365", "--renew"});
  const json renewed = await_alert("certificate_expiry", "sensor-03", "resolved");
  ASSERT_EQ(renewed["state"], "resolved") << alerts().dump(2);
  EXPECT_THAT(renewed["resolution"].get<std::string>(), HasSubstr("condition cleared"));
}

TEST_F(Alerts, ADevicePublishingOrListeningOutsideItsOwnTopicsIsRefusedCountedAndRaisesTheDefaultRule) {
  // An operator adds a rule per device (not a default rule) over HTTPS.
  const auto added = admin_->request("POST", "/api/v1/alert-rules",
                                     json::parse(R"({"name":"device_acl","kind":"device_acl_denials"})"));
  ASSERT_EQ(added.status, 201) << added.raw;
  const auto logged = [&](const std::string& text) {
    return wait_until(
        [&] { return kelvin::testing::has_log_record(install_.gateway_log(), "warn", "mosquitto", text); }, 10s);
  };
  // sensor-02 listens, with mosquitto_sub, to sensor-01's status (retained) and acks: Mosquitto
  // grants the subscriptions and refuses each delivery on them, the retained status at once (the
  // refusal, reported by the broker's plugin, shows that the subscriptions are in place).
  ASSERT_EQ(
      install_.publish(devices_.at("sensor-01"), "devices/sensor-01/status", R"({"state":"online"})", {"-r"}).exit_code,
      0);
  const fs::path eavesdropped = install_.root() / "eavesdropped.out";
  auto eavesdropper = install_.subscribe(devices_.at("sensor-02"), "devices/sensor-01/ack", eavesdropped,
                                         {"-t", "devices/sensor-01/status"});
  ASSERT_TRUE(logged("ACL denials: 1 (client 'sensor-02' may not receive from 'devices/sensor-01/status')"))
      << install_.gateway_log();

  // sensor-01 publishes a reading as sensor-02 (refused), and one of its own (stored and acked:
  // the ack's delivery to the eavesdropper is refused).
  const std::string forged = R"({"seq":1,"ts":)" + std::to_string(now_ms()) + R"(,"values":{"temperature":99.0}})";
  ASSERT_EQ(install_.publish(devices_.at("sensor-01"), "devices/sensor-02/telemetry", forged).exit_code, 0);
  publish_temperature("sensor-01", 4.0);
  EXPECT_TRUE(logged("ACL denials: 1 (client 'sensor-01' may not publish to 'devices/sensor-02/telemetry')"))
      << install_.gateway_log();
  EXPECT_TRUE(logged("ACL denials: 1 (client 'sensor-02' may not receive from 'devices/sensor-01/ack')"))
      << install_.gateway_log();

  // Three denials within the minute; an evaluation may come between the broker's reports.
  const json refused = await_alert("acl_denials", "gateway", "firing");
  ASSERT_EQ(refused["state"], "firing") << alerts().dump(2) << install_.gateway_log();
  EXPECT_THAT(refused["summary"].get<std::string>(), ::testing::MatchesRegex("ACL denials [123] per minute.*"));
  // The device rule names the device: sensor-01, whose reading made it known to the gateway, for its
  // forged publish.
  const json device_refused = await_alert("device_acl", "sensor-01", "firing");
  ASSERT_EQ(device_refused["state"], "firing") << alerts().dump(2) << install_.gateway_log();
  EXPECT_THAT(
      device_refused["summary"].get<std::string>(),
      ::testing::MatchesRegex("the broker's ACL refused 1 of its publishes or deliveries .* s ago \\(1 in all\\)"));

  // Nothing refused arrived (mosquitto_sub writes its file when it exits), nothing forged is stored.
  ASSERT_EQ(eavesdropper->stop(SIGINT), 0);
  EXPECT_EQ(kelvin::testing::read_text(eavesdropped), "");
  auto store = install_.open_store();
  auto forged_device = store.device("sensor-02");
  ASSERT_TRUE(forged_device.ok());
  EXPECT_TRUE(!*forged_device || !(*forged_device)->last_reading) << "the forged reading is not stored";
  auto own = store.device("sensor-01");
  ASSERT_TRUE(own.ok() && *own);
  EXPECT_EQ((*own)->readings_stored, 1u) << "the device's own reading is stored";
}

// The serial `openssl x509 -serial` prints for `certificate` (the PKI index's form).
std::string serial_of(const fs::path& certificate) {
  const auto printed =
      kelvin::testing::run_command({"openssl", "x509", "-noout", "-serial", "-in", certificate.string()});
  EXPECT_EQ(printed.exit_code, 0) << kelvin::testing::describe(printed);
  std::string serial = printed.out.substr(printed.out.find('=') + 1);
  while (!serial.empty() && serial.back() == '\n') serial.pop_back();
  return serial;
}

TEST_F(Alerts, ADeviceStillOnItsRenewedCertificateFiresUntilTheOldOneIsRevoked) {
  // sensor-01's first certificate, kept aside: the renewal writes the new one in its place.
  const DeviceFiles& first = devices_.at("sensor-01");
  const DeviceFiles old{first.ca, install_.root() / "old.crt", install_.root() / "old.key"};
  fs::copy_file(first.cert, old.cert);
  fs::copy_file(first.key, old.key);
  const std::string old_serial = serial_of(old.cert);
  publish_temperature("sensor-01", 4.0);  // with mosquitto_pub: the broker's plugin reports its certificate
  await_evaluations(2);
  EXPECT_TRUE(alerts_of("superseded_certificate", "sensor-01").empty()) << "its newest certificate";

  ASSERT_EQ(install_.kelvinctl({"pki", "--dir", install_.pki_dir().string(), "issue", "device", "sensor-01", "--renew"})
                .exit_code,
            0);
  const std::string new_serial = serial_of(first.cert);
  ASSERT_NE(new_serial, old_serial);
  const json stale = await_alert("superseded_certificate", "sensor-01", "firing");
  ASSERT_EQ(stale["state"], "firing") << alerts().dump(2) << install_.gateway_log();
  EXPECT_THAT(stale["summary"].get<std::string>(),
              ::testing::StartsWith("connected with certificate " + old_serial + ", superseded by " + new_serial));

  // The device switches, posting its status over HTTPS with the new certificate (curl). Its old
  // key connected within the rule's quiet time (10 minutes), so the alert holds: a copy of an old key
  // taking turns with the device is not missed between its connections.
  const auto posted = kelvin::testing::run_command(
      {"curl", "-sS", "--fail", "--max-time", "10", "--cacert", first.ca.string(), "--cert", first.cert.string(),
       "--key", first.key.string(), "-X", "PUT", "-H", "Content-Type: application/json", "-d",
       R"({"state":"online","fw":"1.0"})",
       "https://localhost:" + std::to_string(*port_) + "/api/v1/devices/sensor-01/status"});
  ASSERT_EQ(posted.exit_code, 0) << kelvin::testing::describe(posted);
  await_evaluations(2);
  const json holding = alerts_of("superseded_certificate", "sensor-01");
  ASSERT_EQ(holding.size(), 1u) << holding.dump(2);
  EXPECT_EQ(holding[0]["state"], "firing");

  // Revoking the old certificate ends it: the device's latest connection (the HTTPS post) used its
  // newest, and the broker refuses the old one from then on.
  ASSERT_EQ(install_.kelvinctl({"pki", "--dir", install_.pki_dir().string(), "revoke", old_serial}).exit_code, 0);
  const json revoked = await_alert("superseded_certificate", "sensor-01", "resolved");
  ASSERT_EQ(revoked["state"], "resolved") << alerts().dump(2);
  EXPECT_EQ(revoked["resolution"], "condition cleared: connected with its newest certificate " + new_serial);
  ASSERT_TRUE(wait_until(
      [&] { return install_.publish(old, "devices/sensor-01/status", R"({"state":"online"})").exit_code != 0; }, 15s))
      << "the broker refuses the revoked certificate once it has the new CRL";
}

TEST_F(Alerts, ADeviceKilledWithItsLastWillAndADeviceGoneSilentAreOffline) {
  // sensor-02 connects as a device does, with its last will, and is killed without a DISCONNECT.
  auto connected =
      install_.subscribe(devices_.at("sensor-02"), "devices/sensor-02/ack", install_.root() / "sensor-02.out",
                         {"--will-topic", "devices/sensor-02/status", "--will-payload", R"({"state":"offline"})",
                          "--will-retain", "--will-qos", "1"});
  ASSERT_EQ(install_.publish(devices_.at("sensor-01"), "devices/sensor-01/status", R"({"state":"online","fw":"1.0.0"})")
                .exit_code,
            0);
  publish_temperature("sensor-01", -20);
  std::this_thread::sleep_for(1s);  // the subscription is up before the kill
  connected->stop(SIGKILL);
  const json will = await_alert("device_offline", "sensor-02", "firing");
  ASSERT_EQ(will["state"], "firing") << alerts().dump(2);
  EXPECT_THAT(will["summary"].get<std::string>(), HasSubstr("last will"));

  // sensor-01 sent a status and a reading, then nothing: offline after 10 s of silence.
  const json silent = await_alert("device_offline", "sensor-01", "firing", 20s);
  ASSERT_EQ(silent["state"], "firing") << alerts().dump(2);
  EXPECT_THAT(silent["summary"].get<std::string>(), HasSubstr("nothing received for"));
  EXPECT_GE(silent["value"].get<double>(), 10.0);

  // Both come back: their alerts resolve.
  ASSERT_EQ(
      install_
          .publish(devices_.at("sensor-02"), "devices/sensor-02/status", R"({"state":"online","fw":"1.0.0"})", {"-r"})
          .exit_code,
      0);
  publish_temperature("sensor-01", -20);
  EXPECT_EQ(await_alert("device_offline", "sensor-02", "resolved")["state"], "resolved");
  EXPECT_EQ(await_alert("device_offline", "sensor-01", "resolved")["state"], "resolved");
}

TEST_F(Alerts, ReadingsADeviceReportsDroppedAndAKilledBrokerRaiseTheDefaultRules) {
  // Dropped before the gateway looked: not news.
  const auto report_dropped = [&](int dropped) {
    ASSERT_EQ(install_
                  .publish(devices_.at("sensor-02"), "devices/sensor-02/status",
                           R"({"state":"online","fw":"1.0.0","dropped":)" + std::to_string(dropped) + "}")
                  .exit_code,
              0);
  };
  report_dropped(3);
  ASSERT_TRUE(wait_until([&] { return install_.stats().value("status_updates", 0) >= 1; }, 10s));
  await_evaluations(2);
  EXPECT_TRUE(alerts_of("outbox_drops", "sensor-02").empty()) << alerts().dump(2);
  report_dropped(10);
  const json drops = await_alert("outbox_drops", "sensor-02", "firing");
  ASSERT_EQ(drops["state"], "firing") << alerts().dump(2);
  EXPECT_EQ(drops["summary"], "its outbox dropped 7 readings 0 s ago (10 in all)");

  // The managed broker killed: the gateway restarts it, and says so.
  const auto pid = install_.broker_pid();
  ASSERT_TRUE(pid.has_value()) << install_.stats().dump();
  ASSERT_EQ(::kill(*pid, SIGKILL), 0);
  const json exits = await_alert("broker_exits", "gateway", "firing");
  ASSERT_EQ(exits["state"], "firing") << alerts().dump(2);
  EXPECT_EQ(exits["summary"], "broker exits 1 per minute (fires above 0 per minute)");
}

TEST_F(Alerts, AFiringAlertOutlivesARestartResolvesWhenItsRuleGoesAndIsAcknowledgedOnce) {
  publish_temperature("sensor-01", -5);
  const json fired = await_alert("freezer_warm", "sensor-01", "firing");
  ASSERT_EQ(fired["state"], "firing") << alerts().dump(2);
  const std::string id = std::to_string(fired["id"].get<std::int64_t>());

  // Operators acknowledge; viewers may only look.
  auto added = admin_->request("POST", "/api/v1/users", json{{"name", "vera"}, {"role", "viewer"}});
  ASSERT_EQ(added.status, 201) << added.raw;
  Browser vera(install_, *port_, install_.root() / "vera.jar");
  ASSERT_EQ(vera.sign_in("vera", added.body["password"]).status, 200);
  EXPECT_EQ(vera.request("GET", "/api/v1/alerts").status, 200);
  EXPECT_EQ(vera.request("POST", "/api/v1/alerts/" + id + "/acknowledge").status, 403);
  auto acknowledged = admin_->request("POST", "/api/v1/alerts/" + id + "/acknowledge");
  ASSERT_EQ(acknowledged.status, 200) << acknowledged.raw;
  EXPECT_EQ(acknowledged.body["acknowledged_by"], "admin");
  auto again = admin_->request("POST", "/api/v1/alerts/" + id + "/acknowledge");
  EXPECT_EQ(again.status, 409) << again.raw;
  EXPECT_EQ(again.body["error"]["code"], "alert_acknowledged") << again.raw;
  EXPECT_EQ(admin_->request("POST", "/api/v1/alerts/999999/acknowledge").status, 404);
  EXPECT_EQ(admin_->request("POST", "/api/v1/alerts/x1/acknowledge").status, 400);
  EXPECT_EQ(admin_->request("GET", "/api/v1/alerts?state=burning").status, 400);
  EXPECT_EQ(admin_->request("GET", "/api/v1/alerts?limit=0").status, 400);
  EXPECT_EQ(admin_->request("GET", "/api/v1/alerts?colour=red").status, 400);
  EXPECT_EQ(admin_->request("GET", "/api/v1/alerts?limit=99999999999999999999999").status, 400);
  EXPECT_EQ(admin_->request("GET", "/api/v1/alerts?before=-5").status, 400);
  EXPECT_EQ(admin_->request("GET", "/api/v1/alerts?state=firing&state=resolved").status, 400);
  EXPECT_EQ(admin_->request("GET", "/api/v1/alerts?subject=a%00b").status, 400) << "no NUL in a parameter";
  auto odd_subject = admin_->request("GET", "/api/v1/alerts?subject=%27%3B--");
  EXPECT_EQ(odd_subject.status, 200) << odd_subject.raw;
  EXPECT_TRUE(odd_subject.body["alerts"].empty());

  // A restart: the alert is read back, still fires, and is not raised again.
  install_.stop_gateway(SIGTERM);
  start();
  sign_in_admin("admin2.jar");
  publish_temperature("sensor-01", -4);
  std::this_thread::sleep_for(2500ms);
  json episodes = alerts_of("freezer_warm", "sensor-01");
  ASSERT_EQ(episodes.size(), 1u) << episodes.dump(2);
  EXPECT_EQ(episodes[0]["state"], "firing");
  EXPECT_EQ(episodes[0]["acknowledged_by"], "admin");

  // The rule is taken out of the configuration: its alert resolves at the next start.
  install_.stop_gateway(SIGTERM);
  std::string config = kelvin::testing::read_text(install_.config_file());
  config = config.substr(0, config.find("[[alerts.rule]]\nname = \"freezer_warm\""));
  std::ofstream(install_.config_file(), std::ios::trunc) << config;
  start();
  sign_in_admin("admin3.jar");
  const json removed = await_alert("freezer_warm", "sensor-01", "resolved");
  ASSERT_EQ(removed["state"], "resolved") << alerts().dump(2);
  EXPECT_EQ(removed["resolution"], "rule removed");

  // The acknowledgements, done and refused, are in the audit log.
  auto audit = admin_->request("GET", "/api/v1/audit?before=end&limit=100");
  ASSERT_EQ(audit.status, 200) << audit.raw;
  std::vector<std::string> actions;
  for (const auto& entry : audit.body["entries"]) {
    if (entry["action"] == "alert_acknowledge" || entry["action"] == "permission_denied") {
      actions.push_back(entry["actor"].get<std::string>() + " " + entry["action"].get<std::string>() + " " +
                        entry["result"].get<std::string>());
    }
  }
  EXPECT_THAT(actions, ::testing::IsSupersetOf({"vera permission_denied denied", "admin alert_acknowledge ok",
                                                "admin alert_acknowledge denied"}));
}

TEST_F(Alerts, EveryTransitionReachesARealWebhookSignedOnceAcrossRefusalsAndARestart) {
  const std::string secret = "5f4dcc3b5aa765d61d8327deb882cf995f4dcc3b5aa765d61d8327deb882cf99";
  std::ofstream(secret_file()) << secret << "\n";
  fs::permissions(secret_file(), fs::perms::owner_read | fs::perms::owner_write);
  // The receiver refuses the first request: the notification is sent again.
  auto receiver = std::make_unique<kelvin::testing::WebhookReceiver>(install_, "receiver-1", 1);
  configure_webhook(*receiver);
  install_.stop_gateway(SIGTERM);
  start();
  sign_in_admin("admin-webhook.jar");  // the HTTPS port is a new one
  publish_temperature("sensor-01", -5);
  ASSERT_TRUE(wait_until([&] { return receiver->requests().size() >= 2; }, 20s));
  std::this_thread::sleep_for(2s);  // nothing more comes
  auto requests = receiver->requests();
  ASSERT_EQ(requests.size(), 2u) << "one refused, one taken";
  EXPECT_TRUE(kelvin::testing::has_log_record_about(
      install_.gateway_log(), "warn", "webhooks",
      {{"webhook", "ops"}, {"rule", "freezer_warm"}, {"subject", "sensor-01"}}, "failed, attempt 1: answered"))
      << install_.gateway_log();
  const json first = requests[0];
  const json second = requests[1];
  EXPECT_EQ(first["body"], second["body"]) << "the same notification";
  EXPECT_EQ(first["headers"]["x-kelvin-delivery"], second["headers"]["x-kelvin-delivery"]);
  const json body = json::parse(second["body"].get<std::string>());
  EXPECT_EQ(body["event"], "fired");
  EXPECT_EQ(body["alert"]["rule"], "freezer_warm");
  EXPECT_EQ(body["alert"]["subject"], "sensor-01");
  EXPECT_EQ(second["method"], "POST");
  EXPECT_EQ(second["path"], "/hook");
  // The signature as a receiver checks it, with openssl.
  const std::string timestamp = second["headers"]["x-kelvin-timestamp"];
  std::ofstream(install_.root() / "signed.txt", std::ios::binary)
      << timestamp << "." << second["body"].get<std::string>();
  auto digest = kelvin::testing::run_command(
      {"sh", "-c", "openssl dgst -sha256 -hmac " + secret + " < " + (install_.root() / "signed.txt").string()});
  ASSERT_EQ(digest.exit_code, 0) << kelvin::testing::describe(digest);
  const std::string hex = digest.out.substr(digest.out.rfind(' ') + 1, 64);
  EXPECT_EQ(second["headers"]["x-kelvin-signature"], "sha256=" + hex);

  // The receiver goes away; the alert resolves; the gateway restarts; a receiver comes back
  // elsewhere: the queued notification arrives, once, and the firing is not sent again.
  receiver->process().stop(SIGTERM);
  publish_temperature("sensor-01", -20);
  ASSERT_EQ(await_alert("freezer_warm", "sensor-01", "resolved")["state"], "resolved");
  std::this_thread::sleep_for(1500ms);  // an attempt or two fail meanwhile
  install_.stop_gateway(SIGTERM);
  auto back = std::make_unique<kelvin::testing::WebhookReceiver>(install_, "receiver-2");
  configure_webhook(*back);
  start();
  ASSERT_TRUE(wait_until([&] { return !back->requests().empty(); }, 20s));
  std::this_thread::sleep_for(2s);
  requests = back->requests();
  ASSERT_EQ(requests.size(), 1u) << "the resolution once";
  const json resolved = json::parse(requests[0]["body"].get<std::string>());
  EXPECT_EQ(resolved["event"], "resolved");
  EXPECT_EQ(resolved["alert"]["state"], "resolved");
  EXPECT_NE(requests[0]["headers"]["x-kelvin-delivery"], first["headers"]["x-kelvin-delivery"]);
  EXPECT_THAT(install_.gateway_log(), ::testing::Not(HasSubstr(secret))) << "the signing secret is logged";
}

// The gateway SIGKILLed while a notification is on its way (the receiver has it and has not
// answered): after the restart it is sent again, with the same delivery id, so the receiver can
// tell the repeat; nothing else is sent.
TEST_F(Alerts, AGatewayKilledMidDeliverySendsTheSameDeliveryAgainAfterItsRestart) {
  std::ofstream(secret_file()) << "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0\n";
  fs::permissions(secret_file(), fs::perms::owner_read | fs::perms::owner_write);
  auto receiver = std::make_unique<kelvin::testing::WebhookReceiver>(install_, "receiver", 0, /*hold_first=*/1);
  configure_webhook(*receiver);
  install_.stop_gateway(SIGTERM);
  start();
  sign_in_admin("admin-killed.jar");
  publish_temperature("sensor-01", -5);
  ASSERT_TRUE(wait_until([&] { return receiver->requests().size() == 1; }, 20s));
  install_.stop_gateway(SIGKILL);
  start();
  ASSERT_TRUE(wait_until([&] { return receiver->requests().size() >= 2; }, 20s)) << install_.gateway_log();
  sign_in_admin("admin-killed-2.jar");
  // A barrier: the next transition's notification comes after any repeat of the first.
  publish_temperature("sensor-01", -20);
  ASSERT_TRUE(wait_until([&] { return receiver->requests().size() >= 3; }, 20s));
  const auto requests = receiver->requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0]["headers"]["x-kelvin-delivery"], requests[1]["headers"]["x-kelvin-delivery"]);
  EXPECT_EQ(requests[0]["body"], requests[1]["body"]);
  EXPECT_EQ(json::parse(requests[2]["body"].get<std::string>())["event"], "resolved");
}

TEST_F(Alerts, ASilenceHoldsBackTheWebhooksOfItsRuleAndSubjectUntilItIsLifted) {
  std::ofstream(secret_file()) << "c2a9f1e07b3d4c5e8f60718293a4b5c6d7e8f90123456789abcdef0123456789\n";
  fs::permissions(secret_file(), fs::perms::owner_read | fs::perms::owner_write);
  auto receiver = std::make_unique<kelvin::testing::WebhookReceiver>(install_, "receiver");
  configure_webhook(*receiver);
  install_.stop_gateway(SIGTERM);
  start();
  sign_in_admin("admin-silence.jar");
  publish_temperature("sensor-01", -5);
  ASSERT_TRUE(wait_until([&] { return receiver->requests().size() == 1; }, 20s)) << "the firing, not silenced";
  const json fired = await_alert("freezer_warm", "sensor-01", "firing");
  const std::string path = "/api/v1/alerts/" + std::to_string(fired["id"].get<std::int64_t>()) + "/silence";

  // Refused: an end in the past or too far ahead, a key it does not know, an alert that is not there.
  EXPECT_EQ(admin_->request("POST", path, json{{"until_ms", now_ms() - 1000}}).body["error"]["code"],
            "invalid_silence");
  EXPECT_EQ(admin_->request("POST", path, json{{"until_ms", now_ms() + 91LL * 86'400'000}}).status, 400);
  EXPECT_EQ(admin_->request("POST", path, json{{"until", "tomorrow"}}).body["error"]["code"], "invalid_request");
  std::string long_comment;
  for (int i = 0; i < 201; ++i) long_comment += "é";
  EXPECT_EQ(admin_->request("POST", path, json{{"until_ms", now_ms() + 60'000}, {"comment", long_comment}}).status,
            400);
  EXPECT_EQ(admin_->request("POST", path, json{{"until_ms", now_ms() + 60'000}, {"comment", std::string("a\0b", 3)}})
                .body["error"]["code"],
            "invalid_silence");
  EXPECT_EQ(admin_->request("POST", "/api/v1/alerts/99999/silence", json{{"until_ms", now_ms() + 60'000}}).status, 404);

  const std::int64_t until = now_ms() + 3'600'000;
  // 200 characters of two bytes each are within the limit; they are replaced by the next silence.
  ASSERT_EQ(admin_->request("POST", path, json{{"until_ms", until}, {"comment", long_comment.substr(2)}}).status, 200);
  auto silenced = admin_->request("POST", path, json{{"until_ms", until}, {"comment", "defrosting"}});
  ASSERT_EQ(silenced.status, 200) << silenced.raw;
  EXPECT_EQ(silenced.body["rule"], "freezer_warm");
  EXPECT_EQ(silenced.body["subject"], "sensor-01");
  EXPECT_EQ(silenced.body["until_ms"], until);
  EXPECT_EQ(silenced.body["created_by"], "admin");
  EXPECT_EQ(silenced.body["comment"], "defrosting");
  const std::string silence_id = std::to_string(silenced.body["id"].get<std::int64_t>());
  auto listed = admin_->request("GET", "/api/v1/silences");
  ASSERT_EQ(listed.status, 200) << listed.raw;
  ASSERT_EQ(listed.body["silences"].size(), 1u) << "the second silence replaced the first";
  EXPECT_EQ(alerts_of("freezer_warm", "sensor-01")[0]["silence"]["id"], silenced.body["id"]);

  // Silenced: the alert resolves and fires again, as the API shows, and the webhook hears nothing.
  publish_temperature("sensor-01", -20);
  ASSERT_EQ(await_alert("freezer_warm", "sensor-01", "resolved")["state"], "resolved");
  publish_temperature("sensor-01", -4);
  const json again = await_alert("freezer_warm", "sensor-01", "firing");
  ASSERT_NE(again["id"], fired["id"]);
  EXPECT_EQ(again["silence"]["comment"], "defrosting") << "the silence covers the rule and subject";

  // Lifted: the next transition is notified, and it is the only one after the first (the queue
  // is sent in order, so the silenced ones were never in it).
  EXPECT_EQ(admin_->request("DELETE", "/api/v1/silences/" + silence_id).status, 204);
  EXPECT_EQ(admin_->request("DELETE", "/api/v1/silences/" + silence_id).body["error"]["code"], "silence_not_found");
  EXPECT_TRUE(admin_->request("GET", "/api/v1/silences").body["silences"].empty());
  publish_temperature("sensor-01", -20);
  ASSERT_TRUE(wait_until([&] { return receiver->requests().size() >= 2; }, 20s));
  const auto requests = receiver->requests();
  ASSERT_EQ(requests.size(), 2u);
  const json notified = json::parse(requests[1]["body"].get<std::string>());
  EXPECT_EQ(notified["event"], "resolved");
  EXPECT_EQ(notified["alert"]["id"], again["id"]);

  // The rules in effect, as their tables in the config say them: a silence set ahead names one.
  const auto rules = admin_->request("GET", "/api/v1/alert-rules");
  ASSERT_EQ(rules.status, 200) << rules.raw;
  EXPECT_THAT(rules.body["rules"], ::testing::Contains(json::parse(
                                       R"({"name":"freezer_warm","kind":"threshold","quantity":"temperature",
                                           "above":-15.0,"clear":-17.0,"devices":["sensor-01"]})")))
      << rules.raw;
  EXPECT_EQ(admin_->request("GET", "/api/v1/alert-rules?all=1").status, 400);

  // A silence set ahead, by rule and subject, holds back the next episode from its start.
  auto ahead = [&](const json& body) { return admin_->request("POST", "/api/v1/silences", body); };
  const std::int64_t end = now_ms() + 600'000;
  EXPECT_EQ(ahead(json{{"rule", "no_such_rule"}, {"subject", "sensor-01"}, {"until_ms", end}}).body["error"]["code"],
            "rule_not_found");
  EXPECT_EQ(ahead(json{{"rule", "freezer_warm"}, {"subject", "sensor 01"}, {"until_ms", end}}).body["error"]["code"],
            "invalid_silence");
  EXPECT_EQ(ahead(json{{"rule", "freezer_warm"}, {"until_ms", end}}).body["error"]["code"], "invalid_silence");
  EXPECT_EQ(ahead(json{{"rule", std::string(100, 'x')}, {"subject", "sensor-01"}, {"until_ms", end}}).status, 400);
  EXPECT_EQ(ahead(json{{"rule", "freezer_warm"}, {"subject", "sensor-01"}, {"until_ms", now_ms() - 1}}).status, 400);
  const auto set_ahead =
      ahead(json{{"rule", "freezer_warm"}, {"subject", "sensor-01"}, {"until_ms", end}, {"comment", "moving it"}});
  ASSERT_EQ(set_ahead.status, 200) << set_ahead.raw;
  EXPECT_EQ(set_ahead.body["comment"], "moving it");
  publish_temperature("sensor-01", -3);
  const json third = await_alert("freezer_warm", "sensor-01", "firing");
  ASSERT_NE(third["id"], again["id"]);
  EXPECT_EQ(third["silence"]["id"], set_ahead.body["id"]);
  // Lifted, the episode's end is the next notification: its start was never queued.
  EXPECT_EQ(
      admin_->request("DELETE", "/api/v1/silences/" + std::to_string(set_ahead.body["id"].get<std::int64_t>())).status,
      204);
  publish_temperature("sensor-01", -20);
  ASSERT_TRUE(wait_until([&] { return receiver->requests().size() >= 3; }, 20s));
  const auto after_ahead = receiver->requests();
  ASSERT_EQ(after_ahead.size(), 3u);
  const json third_notified = json::parse(after_ahead[2]["body"].get<std::string>());
  EXPECT_EQ(third_notified["event"], "resolved");
  EXPECT_EQ(third_notified["alert"]["id"], third["id"]);

  // Each step in the audit log.
  EXPECT_THAT(audited_actions("alert_silence"),
              ::testing::IsSupersetOf(
                  {"alert_silence ok", "alert_silence denied", "alert_silence_lift ok", "alert_silence_lift denied"}));
}

// Operators add, change and remove rules over HTTPS (curl) while the gateway runs: an added
// threshold fires at the next reading, the next reading is judged by the changed level, removal
// resolves the alert at once; an added rule outlives a restart; each refusal is clear and audited.
TEST_F(Alerts, RulesOperatorsAddChangeAndRemoveTakeEffectAtOnceAndOutliveARestart) {
  const json hot =
      json::parse(R"({"name":"hot","kind":"threshold","quantity":"temperature","above":20,"devices":["sensor-02"]})");
  auto added = admin_->request("POST", "/api/v1/alert-rules", hot);
  ASSERT_EQ(added.status, 201) << added.raw;
  EXPECT_EQ(added.body, json::parse(R"({"name":"hot","kind":"threshold","quantity":"temperature","above":20.0,
                                        "devices":["sensor-02"]})"));
  publish_temperature("sensor-02", 25);
  const json fired = await_alert("hot", "sensor-02", "firing");
  ASSERT_EQ(fired["state"], "firing") << fired.dump();

  // Listed after the configured rules, with who added it; configured rules are not "added".
  auto listed = admin_->request("GET", "/api/v1/alert-rules");
  ASSERT_EQ(listed.status, 200) << listed.raw;
  EXPECT_EQ(listed.body["rules"].back()["name"], "hot");
  EXPECT_EQ(listed.body["added"]["hot"]["created_by"], "admin");
  EXPECT_EQ(listed.body["added"].size(), 1u) << listed.raw;
  EXPECT_EQ(listed.body["max_added"], 100);

  // Changed (the name from the path): 26 is below the new level, and resolves the alert.
  json higher = hot;
  higher.erase("name");
  higher["above"] = 30;
  auto changed = admin_->request("PUT", "/api/v1/alert-rules/hot", higher);
  ASSERT_EQ(changed.status, 200) << changed.raw;
  EXPECT_EQ(changed.body["above"], 30.0);
  publish_temperature("sensor-02", 26);
  const json cleared = await_alert("hot", "sensor-02", "resolved");
  ASSERT_EQ(cleared["id"], fired["id"]) << cleared.dump();
  EXPECT_THAT(cleared["resolution"].get<std::string>(), HasSubstr("condition cleared"));
  publish_temperature("sensor-02", 35);
  const json again = await_alert("hot", "sensor-02", "firing");
  ASSERT_NE(again["id"], fired["id"]) << again.dump();

  // Removed: its alert resolves at once, without another reading.
  EXPECT_EQ(admin_->request("DELETE", "/api/v1/alert-rules/hot").status, 204);
  const json removed = await_alert("hot", "sensor-02", "resolved");
  EXPECT_EQ(removed["id"], again["id"]);
  EXPECT_EQ(removed["resolution"], "rule removed");
  EXPECT_FALSE(admin_->request("GET", "/api/v1/alert-rules").body["added"].contains("hot"));

  // Refused, each with its reason.
  const auto code_of = [&](const std::string& method, const std::string& path,
                           const std::optional<json>& body = std::nullopt) {
    return admin_->request(method, path, body).body["error"]["code"];
  };
  json taken = hot;
  taken["name"] = "freezer_warm";
  EXPECT_EQ(code_of("POST", "/api/v1/alert-rules", taken), "rule_exists");
  const auto invalid = admin_->request(
      "POST", "/api/v1/alert-rules",
      json::parse(R"({"name":"bad","kind":"threshold","quantity":"pressure","above":"hot","for_s":-1,"colour":1})"));
  ASSERT_EQ(invalid.status, 400) << invalid.raw;
  EXPECT_EQ(invalid.body["error"]["code"], "invalid_rule");
  for (const char* problem : {"quantity", "above", "for_s", "colour: unknown key"}) {
    EXPECT_THAT(invalid.body["error"]["message"].get<std::string>(), HasSubstr(problem)) << invalid.raw;
  }
  EXPECT_EQ(code_of("POST", "/api/v1/alert-rules", json::array({hot})), "malformed_json");
  EXPECT_EQ(code_of("PUT", "/api/v1/alert-rules/freezer_warm", taken), "rule_configured");
  EXPECT_EQ(code_of("PUT", "/api/v1/alert-rules/hot", higher), "rule_not_found");
  EXPECT_EQ(code_of("DELETE", "/api/v1/alert-rules/freezer_warm"), "rule_configured");
  EXPECT_EQ(code_of("DELETE", "/api/v1/alert-rules/hot"), "rule_not_found");
  EXPECT_EQ(code_of("DELETE", "/api/v1/alert-rules/Hot%21"), "invalid_rule_name");

  // An added rule outlives a restart; a rule keeps its kind and its name.
  json cold = json::parse(R"({"name":"cold","kind":"device_offline","silent_for_s":3600,"label":"freezer"})");
  ASSERT_EQ(admin_->request("POST", "/api/v1/alert-rules", cold).status, 201);
  install_.stop_gateway(SIGTERM);
  start();
  sign_in_admin("admin-rules.jar");
  listed = admin_->request("GET", "/api/v1/alert-rules");
  ASSERT_EQ(listed.status, 200) << listed.raw;
  EXPECT_EQ(listed.body["rules"].back(), cold);
  EXPECT_TRUE(listed.body["added"].contains("cold"));
  EXPECT_EQ(code_of("PUT", "/api/v1/alert-rules/cold", hot), "invalid_rule") << "another name in the body";
  json other_kind = hot;
  other_kind["name"] = "cold";
  EXPECT_EQ(code_of("PUT", "/api/v1/alert-rules/cold", other_kind), "invalid_rule") << "another kind";
  EXPECT_EQ(admin_->request("DELETE", "/api/v1/alert-rules/cold").status, 204);
  EXPECT_TRUE(kelvin::testing::has_log_record_about(install_.gateway_log(), "info", "https",
                                                    {{"rule", "cold"}, {"user", "admin"}},
                                                    "admin removed the alert rule cold"))
      << install_.gateway_log();

  // Each step in the audit log, refused bodies too.
  EXPECT_THAT(
      audited_actions("alert_rule"),
      ::testing::IsSupersetOf({"alert_rule_add ok", "alert_rule_add denied", "alert_rule_change ok",
                               "alert_rule_change denied", "alert_rule_remove ok", "alert_rule_remove denied"}));
  std::vector<std::string> refused_bodies;
  for (const auto& entry : newest_audit_entries()) {
    if (entry["result"] != "denied" || entry["action"].get<std::string>().rfind("alert_rule_", 0) != 0) continue;
    const std::string detail = entry["detail"];
    if (detail.find("colour: unknown key") != std::string::npos ||
        detail.find("one JSON object") != std::string::npos ||
        detail.find("the path names the rule") != std::string::npos) {
      refused_bodies.push_back(entry["action"].get<std::string>() + " " + entry["target"].get<std::string>());
    }
  }
  EXPECT_THAT(refused_bodies, ::testing::UnorderedElementsAre("alert_rule_add rule", "alert_rule_add rule",
                                                              "alert_rule_change rule cold"));
}

// A tmpfs mounted over a directory for one test, its files copied in first; unmounted (lazily, so
// a process still holding files there does not stop it) when the test ends. nullopt from mount()
// when this machine does not let the test mount (not root, or a container without the right).
class SmallFileSystem {
 public:
  static std::unique_ptr<SmallFileSystem> mount(const fs::path& directory, const std::string& size) {
    const fs::path aside = directory.string() + ".before-mount";
    fs::rename(directory, aside);
    fs::create_directories(directory);
    fs::permissions(directory, fs::perms::owner_all);
    const auto mounted = kelvin::testing::run_command(
        {"mount", "-t", "tmpfs", "-o", "size=" + size + ",mode=0700", "tmpfs", directory.string()});
    if (mounted.exit_code != 0) {
      fs::remove(directory);
      fs::rename(aside, directory);
      return nullptr;
    }
    auto copied = kelvin::testing::run_command({"cp", "-a", aside.string() + "/.", directory.string()});
    if (copied.exit_code != 0) throw std::runtime_error("copying into the tmpfs: " + copied.err);
    return std::unique_ptr<SmallFileSystem>(new SmallFileSystem(directory));
  }
  ~SmallFileSystem() { kelvin::testing::run_command({"umount", "-l", directory_.string()}); }
  SmallFileSystem(const SmallFileSystem&) = delete;
  SmallFileSystem& operator=(const SmallFileSystem&) = delete;

 private:
  explicit SmallFileSystem(fs::path directory) : directory_(std::move(directory)) {}
  fs::path directory_;
};

// Fills the file system of `file`'s directory with `file` until `leave` bytes are free (or as
// close as the file system's blocks allow).
// Appends to `file` until its file system has at most `leave` bytes free, to the last block: what
// is left over must not depend on how much the gateway's own files happen to take.
void fill_until_free(const fs::path& file, std::uintmax_t leave) {
  std::ofstream out(file, std::ios::binary | std::ios::app);
  const std::string block(64 * 1024, 'x');
  for (;;) {
    const std::uintmax_t available = fs::space(file.parent_path()).available;
    if (available <= leave) return;
    const std::uintmax_t chunk = std::min<std::uintmax_t>(block.size(), available - leave);
    out.write(block.data(), static_cast<std::streamsize>(chunk));
    out.flush();
    if (!out) return;  // full
  }
}

// The gateway's state directory on a 64 MiB tmpfs, its log at warn: filling it raises disk_space (replaced: below
// 24 MiB, clearing at 32 MiB) while the gateway goes on storing readings; filled to the last byte,
// the commit of a reading published meanwhile fails and is retried until space is freed, and then
// stored; freed, the alert resolves.
TEST(AlertsOnASmallDisk, AFillingDiskFiresAndNothingPublishedMeanwhileIsLost) {
  Installation install;
  const DeviceFiles sensor = install.issue_device("sensor-01");
  const auto disk = SmallFileSystem::mount(install.state_dir(), "64m");
  if (!disk) GTEST_SKIP() << "this machine does not let the test mount a tmpfs";
  std::ofstream(install.config_file(), std::ios::app) << R"(
[log]
level = "warn"

[alerts]
interval_s = 1

[[alerts.rule]]
name = "disk_space"
kind = "disk_space"
below_bytes = 25165824
clear_bytes = 33554432
)";
  install.start_gateway();
  const auto stored = [&] { return install.stats().value("readings_stored", 0); };
  const auto publish = [&](int seq) {
    const std::string payload = R"({"seq":)" + std::to_string(seq) + R"(,"ts":)" + std::to_string(now_ms()) +
                                R"(,"values":{"temperature":20.5}})";
    ASSERT_EQ(install.publish(sensor, "devices/sensor-01/telemetry", payload).exit_code, 0);
  };
  publish(1);
  ASSERT_TRUE(wait_until([&] { return stored() == 1; }, 15s)) << install.stats().dump();
  EXPECT_EQ(install.alert_state("disk_space"), "none");

  const fs::path filler = install.state_dir() / "filler";
  fill_until_free(filler, 16 * 1024 * 1024);
  ASSERT_TRUE(wait_until([&] { return install.alert_state("disk_space") == "firing"; }, 15s)) << install.gateway_log();
  publish(2);
  ASSERT_TRUE(wait_until([&] { return stored() == 2; }, 15s)) << "low, not full: the gateway stores on";

  // Full: the commit fails and is retried (statistics cannot be written either: the log says it).
  fill_until_free(filler, 0);
  publish(3);
  ASSERT_TRUE(
      wait_until([&] { return install.gateway_log().find("commit failed, retrying") != std::string::npos; }, 15s))
      << install.gateway_log();
  EXPECT_TRUE(install.gateway().running()) << install.gateway_log();
  fs::remove(filler);
  ASSERT_TRUE(wait_until([&] { return stored() == 3; }, 30s))
      << "stored once there is room: " << install.stats().dump();
  ASSERT_TRUE(wait_until([&] { return install.alert_state("disk_space") == "resolved"; }, 15s))
      << install.gateway_log();
  EXPECT_EQ((*install.open_store().device("sensor-01"))->readings_stored, 3u);
  install.stop_gateway(SIGTERM);
  // [log] level = "warn": the warnings and errors above, none of the information.
  const std::string log = install.gateway_log();
  EXPECT_THAT(log, HasSubstr("alert disk_space firing for gateway"));
  EXPECT_THAT(log, ::testing::Not(HasSubstr("kelvin-gateway running"))) << log;
}

}  // namespace
