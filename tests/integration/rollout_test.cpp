// Firmware rollouts on the real kelvin-gateway (docs/ota.md, "Rollouts"), as operators and devices
// use them from outside: a release published with kelvinctl, a rollout of it to three devices in
// waves started over HTTPS, the retained notice seen by the device with mosquitto_sub and its own
// certificate, statuses over MQTT (mosquitto_pub) and HTTPS (curl), the update check, the waves
// advancing, a failure halting the rollout by itself, kelvinctl resuming it, a device already
// running the version confirmed without a notice, an abort withdrawing a notice, a rollout to the
// devices carrying a label, the audit log,
// the alerts the default rules raise for the failed update and the halted rollout and resolve when
// it resumes and the device is in a newer rollout, a gateway restart the engine goes on from, and the refusals: a
// viewer starting one, a device reporting for another, malformed statuses. One gateway for the whole file (CI's time
// budget): the steps build on each other.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "https_client.hpp"
#include "installation.hpp"

namespace {

namespace fs = std::filesystem;
using kelvin::testing::Browser;
using kelvin::testing::DeviceFiles;
using kelvin::testing::HttpsAnswer;
using kelvin::testing::Installation;
using kelvin::testing::read_text;
using kelvin::testing::wait_until;
using nlohmann::json;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

class Rollout : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* id : {"sensor-01", "sensor-02", "sensor-03"}) devices_[id] = install_.issue_device(id);
    // The default alert rules, evaluated every second: update_failed and rollout_halted are watched.
    std::ofstream(install_.config_file(), std::ios::app) << "\n[alerts]\ninterval_s = 1\n";
    install_.start_gateway();
    ASSERT_TRUE((port_ = install_.await_http_port()).has_value());
    // The gateway's store knows the devices once they reported a status; sensor-03 runs 1.1.0 already.
    for (const auto& [id, files] : devices_) {
      const std::string fw = id == "sensor-03" ? "1.1.0" : "1.0.0";
      auto put = device(id, "PUT", "/status", R"({"state":"online","fw":")" + fw + R"(","dropped":0})");
      ASSERT_EQ(put.status, 200) << put.raw;
    }
    std::ofstream(install_.root() / "thermo.bin", std::ios::binary) << std::string(5000, 'k');
    const std::string keys = (install_.root() / "keys").string();
    install_.kelvinctl({"release", "keygen", "--dir", keys});
    install_.kelvinctl({"release", "sign", (install_.root() / "thermo.bin").string(), "--version", "1.1.0",
                        "--security-version", "1", "--product", "thermo-linux", "--key", keys + "/release.key"});
    install_.kelvinctl({"release", "trust", keys + "/release.pub", "--state-dir", state()});
    install_.kelvinctl({"release", "publish", (install_.root() / "thermo.bin").string(),
                        (install_.root() / "thermo.bin.manifest").string(), "--state-dir", state()});
    admin_ = std::make_unique<Browser>(install_, *port_, install_.root() / "admin.jar");
    admin_password_ = kelvin::testing::first_admin_password(install_.gateway_log());
    ASSERT_EQ(admin_->sign_in("admin", admin_password_).status, 200);
  }

  void TearDown() override {
    if (HasFailure()) std::cerr << "---- gateway log ----\n" << install_.gateway_log();
  }

  std::string state() const { return install_.state_dir().string(); }

  // A request under /api/v1/devices/<as_id> with `id`'s certificate.
  HttpsAnswer device(const std::string& id, const std::string& method, const std::string& path,
                     const std::string& body = "", const std::string& as_id = "") {
    return kelvin::testing::device_request(install_, *port_, devices_.at(id), method,
                                           "/api/v1/devices/" + (as_id.empty() ? id : as_id) + path, body);
  }

  std::string report(std::int64_t rollout, const std::string& state, const std::string& extra = "") {
    return R"({"rollout":)" + std::to_string(rollout) + R"(,"product":"thermo-linux","version":"1.1.0","state":")" +
           state + "\"" + extra + "}";
  }

  // The rollout's detail once `ready(detail)` holds, within 10 s; the last one seen otherwise.
  json await_rollout(std::int64_t id, const std::function<bool(const json&)>& ready) {
    json last;
    wait_until(
        [&] {
          auto answer = admin_->request("GET", "/api/v1/rollouts/" + std::to_string(id));
          last = answer.body;
          return answer.status == 200 && ready(last);
        },
        10s);
    return last;
  }

  // The newest alert of `rule` on `subject` once it is in `state`, within 10 s; the newest one seen
  // (or null) otherwise.
  json await_alert(const std::string& rule, const std::string& subject, const std::string& state) {
    json newest;
    wait_until(
        [&] {
          newest = nullptr;
          const auto answer = admin_->request("GET", "/api/v1/alerts?subject=" + subject);
          for (const auto& alert : answer.body["alerts"]) {
            if (alert["rule"] == rule) {
              newest = alert;
              break;
            }
          }
          return newest.is_object() && newest["state"] == state;
        },
        10s);
    return newest;
  }

  static json device_entry(const json& rollout, const std::string& id) {
    for (const auto& d : rollout["devices"]) {
      if (d["device"] == id) return d;
    }
    return nullptr;
  }

  static std::function<bool(const json&)> device_is(const std::string& id, const std::string& state) {
    return [id, state](const json& r) { return device_entry(r, id)["state"] == state; };
  }

  // The retained message on devices/<id>/ota as the device itself reads it (a new subscription
  // gets it at once); "" when there is none (mosquitto_sub then gives up after a second). One
  // connection at a time per device: the broker lets a device's identity connect only once.
  std::string retained_notice(const std::string& id) {
    const fs::path out = install_.root() / ("retained-" + id + "-" + std::to_string(++reads_));
    const std::string topic = "devices/" + id + "/ota";
    auto sub = install_.subscribe(devices_.at(id), topic, out, {"--retained-only", "-C", "1", "-W", "1"});
    sub->wait(10s);
    const std::string text = read_text(out);
    return text.rfind(topic + " ", 0) == 0 ? text.substr(topic.size() + 1) : "";
  }

  Installation install_;
  std::map<std::string, DeviceFiles> devices_;
  std::optional<int> port_;
  std::unique_ptr<Browser> admin_;
  std::string admin_password_;
  int reads_ = 0;
};

TEST_F(Rollout, WavesAdvanceAFailureHaltsItAndEveryStepIsAuditedAndGuarded) {
  // A viewer reads rollouts but cannot start one.
  auto added = admin_->request("POST", "/api/v1/users", json{{"name", "vera"}, {"role", "viewer"}});
  ASSERT_EQ(added.status, 201) << added.raw;
  Browser vera(install_, *port_, install_.root() / "vera.jar");
  ASSERT_EQ(vera.sign_in("vera", added.body["password"]).status, 200);
  const json start{{"product", "thermo-linux"},
                   {"version", "1.1.0"},
                   {"devices", {"sensor-01", "sensor-02", "sensor-03"}},
                   {"waves", {30, 60, 100}},
                   {"max_failure_percent", 40}};
  auto refused = vera.request("POST", "/api/v1/rollouts", start);
  EXPECT_EQ(refused.status, 403) << refused.raw;
  EXPECT_EQ(vera.request("GET", "/api/v1/rollouts").status, 200);
  auto unknown = admin_->request("POST", "/api/v1/rollouts",
                                 json{{"product", "thermo-linux"}, {"version", "9.9.9"}, {"all", true}});
  EXPECT_EQ(unknown.status, 404) << unknown.raw;
  EXPECT_EQ(unknown.body["error"]["code"], "release_not_found");
  json too_short = start;
  too_short["device_timeout_s"] = 30;
  auto short_refused = admin_->request("POST", "/api/v1/rollouts", too_short);
  EXPECT_EQ(short_refused.status, 400) << short_refused.raw;
  EXPECT_THAT(short_refused.body["error"]["message"].get<std::string>(), HasSubstr("device_timeout_s"));

  // Started: wave 1 (sensor-01) is notified at once, retained, as the device reads it.
  auto started = admin_->request("POST", "/api/v1/rollouts", start);
  ASSERT_EQ(started.status, 201) << started.raw;
  const std::int64_t id = started.body["id"];
  EXPECT_EQ(admin_->request("POST", "/api/v1/rollouts", start).body["error"]["code"], "rollout_active");
  const std::string notice = R"({"rollout":)" + std::to_string(id) + R"(,"product":"thermo-linux","version":"1.1.0"})";
  EXPECT_TRUE(wait_until([&] { return retained_notice("sensor-01").find(notice) == 0; }, 10s))
      << retained_notice("sensor-01");
  json r = await_rollout(id, device_is("sensor-01", "notified"));
  EXPECT_EQ(r["state"], "running");
  EXPECT_EQ(r["device_timeout_s"], 86'400) << "a day unless said";
  EXPECT_EQ(r["current_wave"], 1);
  EXPECT_EQ(device_entry(r, "sensor-02")["state"], "pending");

  // The periodic check: sensor-01 has an update, sensor-02 not yet; nobody asks for another.
  auto update = device("sensor-01", "GET", "/update");
  EXPECT_EQ(update.status, 200) << update.raw;
  EXPECT_EQ(update.body["rollout"], id);
  EXPECT_EQ(update.body["version"], "1.1.0");
  EXPECT_EQ(device("sensor-02", "GET", "/update").status, 204);
  EXPECT_EQ(device("sensor-02", "GET", "/update", "", "sensor-01").status, 403);
  auto forged = device("sensor-02", "POST", "/ota/status", report(id, "confirmed"), "sensor-01");
  EXPECT_EQ(forged.status, 403) << forged.raw;
  EXPECT_EQ(forged.body["error"]["code"], "device_mismatch");

  // Progress over MQTT; refused statuses change nothing and are counted.
  ASSERT_EQ(install_
                .publish(devices_.at("sensor-01"), "devices/sensor-01/ota/status",
                         report(id, "downloading", R"(,"percent":42)"))
                .exit_code,
            0);
  r = await_rollout(id, [](const json& x) { return device_entry(x, "sensor-01")["percent"] == 42; });
  EXPECT_EQ(device_entry(r, "sensor-01")["state"], "downloading");
  ASSERT_EQ(install_.publish(devices_.at("sensor-01"), "devices/sensor-01/ota/status", "{not json").exit_code, 0);
  ASSERT_EQ(install_
                .publish(devices_.at("sensor-01"), "devices/sensor-01/ota/status",
                         report(id, "confirmed", R"(,"percent":"all")"))
                .exit_code,
            0);
  EXPECT_TRUE(wait_until([&] { return install_.stats()["rollouts"]["reports_refused"] == 2; }, 10s))
      << install_.stats().dump();
  auto malformed = device("sensor-01", "POST", "/ota/status", R"({"state":"confirmed","extra":1})");
  EXPECT_EQ(malformed.status, 400) << malformed.raw;
  EXPECT_EQ(malformed.body["error"]["code"], "invalid_status");
  EXPECT_EQ(device_entry(await_rollout(id, device_is("sensor-01", "downloading")), "sensor-01")["percent"], 42);

  // Confirmed over HTTPS, without the rollout id (a restarted device): the notice is withdrawn
  // and wave 2 (sensor-02) starts.
  auto confirmed =
      device("sensor-01", "POST", "/ota/status",
             R"({"product":"thermo-linux","version":"1.1.0","state":"confirmed","running_version":"1.1.0"})");
  EXPECT_EQ(confirmed.status, 204) << confirmed.raw;
  r = await_rollout(id, device_is("sensor-02", "notified"));
  EXPECT_EQ(device_entry(r, "sensor-01")["state"], "confirmed");
  EXPECT_EQ(r["current_wave"], 2);
  EXPECT_EQ(retained_notice("sensor-01"), "");
  EXPECT_EQ(device("sensor-01", "GET", "/update").status, 204);

  // A failure of 1 in 2 started devices is over 40 %: the rollout halts by itself, wave 3 waits.
  ASSERT_EQ(install_
                .publish(devices_.at("sensor-02"), "devices/sensor-02/ota/status",
                         report(id, "failed", R"(,"reason":"hash_mismatch","detail":"sha256 differs")"))
                .exit_code,
            0);
  r = await_rollout(id, [](const json& x) { return x["state"] == "halted"; });
  EXPECT_EQ(r["state"], "halted");
  EXPECT_EQ(device_entry(r, "sensor-02")["reason"], "hash_mismatch");
  EXPECT_EQ(device_entry(r, "sensor-02")["detail"], "sha256 differs");
  EXPECT_EQ(device_entry(r, "sensor-03")["state"], "pending");
  EXPECT_EQ(r["counts"]["failed"], 1);
  EXPECT_EQ(r["counts"]["confirmed"], 1);
  EXPECT_EQ(vera.request("POST", "/api/v1/rollouts/" + std::to_string(id) + "/resume").status, 403);

  // The default rules raise both: the device's failed update and the halted rollout.
  const std::string rollout_subject = "rollout-" + std::to_string(id);
  json alert = await_alert("update_failed", "sensor-02", "firing");
  EXPECT_EQ(alert["state"], "firing") << alert.dump();
  EXPECT_EQ(alert["summary"],
            "update to thermo-linux 1.1.0 in rollout " + std::to_string(id) + " failed (hash_mismatch)");
  alert = await_alert("rollout_halted", rollout_subject, "firing");
  EXPECT_EQ(alert["state"], "firing") << alert.dump();
  EXPECT_EQ(alert["summary"],
            "rollout " + std::to_string(id) + " of thermo-linux 1.1.0 halted: 1 of 3 devices failed or rolled back");

  // kelvinctl resumes it (the failure accepted): wave 3's sensor-03 runs 1.1.0 already, so it is
  // confirmed without a notice and the rollout completes.
  auto status = install_.kelvinctl({"rollout", "status", std::to_string(id), "--state-dir", state()});
  EXPECT_THAT(status.out, HasSubstr("halted"));
  EXPECT_THAT(status.out, HasSubstr("hash_mismatch"));
  install_.kelvinctl({"rollout", "resume", std::to_string(id), "--state-dir", state()});
  r = await_rollout(id, [](const json& x) { return x["state"] == "completed"; });
  EXPECT_EQ(r["state"], "completed");
  EXPECT_EQ(device_entry(r, "sensor-03")["state"], "confirmed");
  EXPECT_EQ(device_entry(r, "sensor-03")["detail"], "already running 1.1.0");
  EXPECT_EQ(retained_notice("sensor-03"), "");
  // Resumed: the rollout's alert resolves; sensor-02's failed update still stands.
  alert = await_alert("rollout_halted", rollout_subject, "resolved");
  EXPECT_EQ(alert["state"], "resolved") << alert.dump();
  EXPECT_EQ(await_alert("update_failed", "sensor-02", "firing")["state"], "firing");

  // A second rollout, started and aborted with kelvinctl: the notice is withdrawn.
  install_.kelvinctl({"rollout", "start", "thermo-linux", "1.1.0", "--devices", "sensor-02", "--waves", "100",
                      "--device-timeout", "90m", "--state-dir", state()});
  auto list = admin_->request("GET", "/api/v1/rollouts");
  ASSERT_EQ(list.status, 200) << list.raw;
  ASSERT_EQ(list.body["rollouts"].size(), 2u);
  const std::int64_t second = list.body["rollouts"][0]["id"];
  EXPECT_EQ(list.body["rollouts"][0]["created_by"], "kelvinctl");
  EXPECT_EQ(list.body["rollouts"][0]["device_timeout_s"], 5400);
  EXPECT_THAT(install_.kelvinctl({"rollout", "status", std::to_string(second), "--state-dir", state()}).out,
              HasSubstr("halts above 20 % failures, a device silent for 90m fails"));
  await_rollout(second, device_is("sensor-02", "notified"));
  EXPECT_THAT(retained_notice("sensor-02"), HasSubstr("\"rollout\":" + std::to_string(second)));
  // sensor-02 is being updated again: its failed update's alert resolves.
  alert = await_alert("update_failed", "sensor-02", "resolved");
  EXPECT_EQ(alert["state"], "resolved") << alert.dump();
  EXPECT_EQ(alert["resolution"], "condition cleared: no failed update");
  EXPECT_EQ(device("sensor-02", "GET", "/update").status, 200);

  // The gateway restarts: its engine goes on from rollouts.db (the abort below is its work).
  install_.stop_gateway(SIGTERM);
  install_.start_gateway();
  ASSERT_TRUE((port_ = install_.await_http_port()).has_value());
  admin_ = std::make_unique<Browser>(install_, *port_, install_.root() / "admin.jar");
  ASSERT_EQ(admin_->sign_in("admin", admin_password_).status, 200);
  EXPECT_EQ(device("sensor-02", "GET", "/update").status, 200);
  EXPECT_THAT(retained_notice("sensor-02"), HasSubstr("\"rollout\":" + std::to_string(second)));
  install_.kelvinctl({"rollout", "abort", std::to_string(second), "--state-dir", state()});
  EXPECT_TRUE(wait_until([&] { return retained_notice("sensor-02").empty(); }, 10s));
  EXPECT_EQ(device("sensor-02", "GET", "/update").status, 204);
  auto again = admin_->request("POST", "/api/v1/rollouts/" + std::to_string(second) + "/abort");
  EXPECT_EQ(again.status, 409) << again.raw;
  EXPECT_EQ(again.body["error"]["code"], "rollout_state");

  // A rollout to a label: exactly the devices carrying it when it starts (labelled over HTTPS and
  // with kelvinctl), its target recorded and shown; labelling another device later adds nothing.
  auto labelled = admin_->request("PUT", "/api/v1/devices/sensor-01/labels", json{{"labels", {"greenhouse"}}});
  ASSERT_EQ(labelled.status, 200) << labelled.raw;
  EXPECT_EQ(install_.kelvinctl({"device", "label", "sensor-03", "--add", "greenhouse,west", "--state-dir", state()})
                .exit_code,
            0);
  auto bad_label = admin_->request("POST", "/api/v1/rollouts",
                                   json{{"product", "thermo-linux"}, {"version", "1.1.0"}, {"label", "Greenhouse"}});
  EXPECT_EQ(bad_label.status, 400) << bad_label.raw;
  EXPECT_EQ(bad_label.body["error"]["code"], "invalid_label");
  auto nobody = admin_->request("POST", "/api/v1/rollouts",
                                json{{"product", "thermo-linux"}, {"version", "1.1.0"}, {"label", "east"}});
  EXPECT_EQ(nobody.status, 404) << nobody.raw;
  EXPECT_EQ(nobody.body["error"]["code"], "label_not_found");
  auto both =
      admin_->request("POST", "/api/v1/rollouts",
                      json{{"product", "thermo-linux"}, {"version", "1.1.0"}, {"label", "west"}, {"all", true}});
  EXPECT_EQ(both.status, 400) << both.raw;
  EXPECT_EQ(both.body["error"]["code"], "invalid_request");
  auto to_label = admin_->request(
      "POST", "/api/v1/rollouts",
      json{{"product", "thermo-linux"}, {"version", "1.1.0"}, {"label", "greenhouse"}, {"waves", {100}}});
  ASSERT_EQ(to_label.status, 201) << to_label.raw;
  const std::int64_t third = to_label.body["id"];
  EXPECT_EQ(to_label.body["target"], (json{{"kind", "label"}, {"label", "greenhouse"}}));
  EXPECT_EQ(to_label.body["device_count"], 2);
  ASSERT_EQ(admin_->request("PUT", "/api/v1/devices/sensor-02/labels", json{{"labels", {"greenhouse"}}}).status, 200);
  r = await_rollout(third, device_is("sensor-01", "notified"));
  std::vector<std::string> in_rollout;
  for (const auto& d : r["devices"]) in_rollout.push_back(d["device"]);
  EXPECT_THAT(in_rollout, ::testing::UnorderedElementsAre("sensor-01", "sensor-03"));
  EXPECT_EQ(r["target"]["label"], "greenhouse");
  auto shown = install_.kelvinctl({"rollout", "status", std::to_string(third), "--state-dir", state()});
  EXPECT_THAT(shown.out, HasSubstr("target label greenhouse"));
  EXPECT_EQ(admin_->request("GET", "/api/v1/rollouts/" + std::to_string(second)).body["target"]["kind"], "devices");
  install_.kelvinctl({"rollout", "abort", std::to_string(third), "--state-dir", state()});

  // Every step in the audit log, with who did it.
  auto audit = admin_->request("GET", "/api/v1/audit?before=end&limit=100");
  ASSERT_EQ(audit.status, 200) << audit.raw;
  std::vector<std::string> actions;
  for (const auto& entry : audit.body["entries"]) {
    const std::string action = entry["action"];
    if (action.rfind("rollout_", 0) == 0 || action == "permission_denied" || action == "device_label") {
      actions.push_back(entry["actor"].get<std::string>() + " " + action + " " + entry["result"].get<std::string>());
    }
  }
  EXPECT_THAT(actions, ::testing::IsSupersetOf({
                           "vera permission_denied denied",
                           "admin rollout_start denied",
                           "admin rollout_start ok",
                           "gateway rollout_halted ok",
                           "kelvinctl rollout_resume ok",
                           "gateway rollout_completed ok",
                           "kelvinctl rollout_start ok",
                           "kelvinctl rollout_abort ok",
                           "admin rollout_abort denied",
                           "admin device_label ok",
                           "kelvinctl device_label ok",
                       }));
}

}  // namespace
