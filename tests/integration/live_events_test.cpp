// GET /api/v1/events (docs/api.md, "Live events") as a browser's EventSource meets it: Debian's
// curl -N with a signed-in session's cookie jar against the real kelvin-gateway, readings and
// statuses published by devices with Debian's mosquitto_pub. What curl prints is the stream as it
// arrives.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "https_client.hpp"
#include "installation.hpp"
#include "kelvin/testing/background_process.hpp"

namespace {

using kelvin::testing::BackgroundProcess;
using kelvin::testing::Browser;
using kelvin::testing::DeviceFiles;
using kelvin::testing::Installation;
using kelvin::testing::read_text;
using kelvin::testing::wait_until;
using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

std::string reading_json(std::uint64_t seq, double temperature) {
  const auto now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  return "{\"seq\":" + std::to_string(seq) + ",\"ts\":" + std::to_string(now_ms - 1000) +
         ",\"values\":{\"temperature\":" + std::to_string(temperature) + ",\"humidity\":45}}";
}

// The data of every `name` event in a stream's text, parsed.
std::vector<nlohmann::json> events(const std::string& text, const std::string& name) {
  std::vector<nlohmann::json> out;
  const std::string marker = "event: " + name + "\ndata: ";
  for (auto at = text.find(marker); at != std::string::npos; at = text.find(marker, at + 1)) {
    const auto begin = at + marker.size();
    out.push_back(nlohmann::json::parse(text.substr(begin, text.find('\n', begin) - begin), nullptr, false));
  }
  return out;
}

class LiveEvents : public ::testing::Test {
 protected:
  void SetUp() override {
    sensor1_ = install_.issue_device("sensor-01");
    sensor2_ = install_.issue_device("sensor-02");
  }

  void start(const std::vector<std::string>& http_settings = {}) {
    for (const auto& line : http_settings) install_.add_http_setting(line);
    install_.start_gateway();
    ASSERT_TRUE((port_ = install_.await_http_port()).has_value());
    admin_password_ = kelvin::testing::first_admin_password(install_.gateway_log());
    ASSERT_FALSE(admin_password_.empty()) << install_.gateway_log();
  }

  void TearDown() override {
    if (HasFailure()) std::cerr << "---- gateway log ----\n" << install_.gateway_log();
  }

  Browser signed_in_browser(const std::string& name) {
    Browser browser(install_, *port_, install_.root() / (name + ".jar"));
    auto answer = browser.sign_in("admin", admin_password_);
    EXPECT_EQ(answer.status, 200) << answer.raw;
    return browser;
  }

  // curl -N on the events URL with `browser`'s cookies; its output (headers and stream) in a file.
  // `last_event_id`: sent as an EventSource sends it when it reconnects.
  std::unique_ptr<BackgroundProcess> listen(const Browser& browser, const std::string& query,
                                            const std::filesystem::path& output,
                                            const std::optional<std::string>& last_event_id = std::nullopt) {
    std::vector<std::string> argv{"curl",
                                  "-sS",
                                  "-N",
                                  "-D",
                                  "-",
                                  "--cacert",
                                  browser.ca_file().string(),
                                  "-b",
                                  browser.cookie_jar().string(),
                                  browser.url("/api/v1/events" + query)};
    if (last_event_id) argv.insert(argv.end(), {"-H", "Last-Event-ID: " + *last_event_id});
    return std::make_unique<BackgroundProcess>(argv, output);
  }

  bool ready(const std::filesystem::path& output) {
    return wait_until([&] { return read_text(output).find("event: ready\n") != std::string::npos; }, 15s);
  }

  Installation install_;
  DeviceFiles sensor1_, sensor2_;
  std::optional<int> port_;
  std::string admin_password_;
};

TEST_F(LiveEvents, ReadingsAndStatusesPublishedOverMqttArriveOnTheFleetAndTheDevicesStreams) {
  start();
  auto browser = signed_in_browser("admin");
  const auto fleet_out = install_.root() / "fleet.out";
  const auto device_out = install_.root() / "device.out";
  auto fleet = listen(browser, "", fleet_out);
  auto device = listen(browser, "?device=sensor-01", device_out);
  ASSERT_TRUE(ready(fleet_out)) << read_text(fleet_out);
  ASSERT_TRUE(ready(device_out)) << read_text(device_out);
  const std::string head = read_text(fleet_out);
  EXPECT_THAT(head, HasSubstr("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(head, HasSubstr("Content-Type: text/event-stream; charset=utf-8\r\n"));
  EXPECT_THAT(head, HasSubstr("Cache-Control: no-store\r\n"));
  EXPECT_THAT(head, HasSubstr("retry: 3000\n"));

  ASSERT_EQ(install_.publish(sensor1_, "devices/sensor-01/telemetry", reading_json(1, 21.5)).exit_code, 0);
  ASSERT_EQ(install_.publish(sensor2_, "devices/sensor-02/telemetry", reading_json(1, 30.25)).exit_code, 0);
  ASSERT_EQ(install_.publish(sensor1_, "devices/sensor-01/status", R"({"state":"online","fw":"1.4.2"})").exit_code, 0);

  ASSERT_TRUE(wait_until(
      [&] {
        return events(read_text(fleet_out), "reading").size() == 2 &&
               events(read_text(fleet_out), "status").size() == 1;
      },
      15s))
      << read_text(fleet_out);
  for (const auto& reading : events(read_text(fleet_out), "reading")) {
    EXPECT_EQ(reading["seq"], 1);
    EXPECT_EQ(reading["temperature"], reading["device"] == "sensor-01" ? 21.5 : 30.25) << reading;
    EXPECT_EQ(reading["humidity"], 45);
  }
  EXPECT_EQ(events(read_text(fleet_out), "status")[0]["firmware"], "1.4.2");

  ASSERT_TRUE(wait_until(
      [&] {
        return events(read_text(device_out), "reading").size() == 1 &&
               events(read_text(device_out), "status").size() == 1;
      },
      15s))
      << read_text(device_out);
  EXPECT_EQ(events(read_text(device_out), "reading")[0]["device"], "sensor-01");
  EXPECT_THAT(read_text(device_out), Not(HasSubstr("sensor-02")));

  // A resend of a stored reading is acknowledged again, not shown as new.
  ASSERT_EQ(install_.publish(sensor1_, "devices/sensor-01/telemetry", reading_json(1, 21.5)).exit_code, 0);
  ASSERT_EQ(install_.publish(sensor1_, "devices/sensor-01/telemetry", reading_json(2, 22.0)).exit_code, 0);
  ASSERT_TRUE(wait_until([&] { return events(read_text(device_out), "reading").size() == 2; }, 15s));
  std::this_thread::sleep_for(1s);
  const auto readings = events(read_text(device_out), "reading");
  ASSERT_EQ(readings.size(), 2u) << read_text(device_out);
  EXPECT_EQ(readings[1]["seq"], 2);

  const auto stats = install_.stats();
  EXPECT_EQ(stats["http"]["live"]["subscribers"], 2) << stats.dump();
  EXPECT_EQ(stats["http"]["streams_active"], 2) << stats.dump();

  // The gateway's clean stop ends the streams: curl sees the connection close and exits.
  install_.stop_gateway(SIGTERM);
  EXPECT_TRUE(fleet->wait(15s).has_value());
  EXPECT_TRUE(device->wait(15s).has_value());
}

TEST_F(LiveEvents, NoSessionADeviceCertificateAndBadParametersAreRefused) {
  start();
  auto browser = signed_in_browser("admin");
  const auto ca = install_.pki_dir() / "ca.crt";
  auto nobody = kelvin::testing::curl_json(ca, {}, browser.url("/api/v1/events"));
  EXPECT_EQ(nobody.status, 401) << nobody.raw;
  EXPECT_EQ(nobody.body["error"]["code"], "not_signed_in");
  auto device = kelvin::testing::curl_json(ca, {"--cert", sensor1_.cert.string(), "--key", sensor1_.key.string()},
                                           browser.url("/api/v1/events"));
  EXPECT_EQ(device.status, 403) << device.raw;
  EXPECT_EQ(device.body["error"]["code"], "device_not_allowed");
  auto bad_id = browser.request("GET", "/api/v1/events?device=no%20such%20id");
  EXPECT_EQ(bad_id.status, 400) << bad_id.raw;
  EXPECT_EQ(bad_id.body["error"]["code"], "invalid_device_id");
  auto unknown = browser.request("GET", "/api/v1/events?since=10");
  EXPECT_EQ(unknown.status, 400) << unknown.raw;
  EXPECT_EQ(unknown.body["error"]["code"], "unknown_parameter");
  for (const char* id : {"abc", "-1", "12345678901234567890", "1 2"}) {
    auto bad_resume = browser.request("GET", "/api/v1/events", {}, true, {"-H", std::string("Last-Event-ID: ") + id});
    EXPECT_EQ(bad_resume.status, 400) << id << bad_resume.raw;
    EXPECT_EQ(bad_resume.body["error"]["code"], "invalid_last_event_id") << id;
  }
}

// The last `id:` line of a stream's text, as an EventSource keeps it.
std::optional<std::string> last_event_id(const std::string& text) {
  const auto at = text.rfind("\nid: ");
  if (at == std::string::npos) return std::nullopt;
  const auto begin = at + 5;
  return text.substr(begin, text.find('\n', begin) - begin);
}

TEST_F(LiveEvents, AStreamResumedWithItsLastEventIdGetsTheReadingsItMissedAlsoAcrossARestart) {
  start();
  auto browser = signed_in_browser("admin");
  const auto first_out = install_.root() / "first.out";
  auto first = listen(browser, "?device=sensor-01", first_out);
  ASSERT_TRUE(ready(first_out)) << read_text(first_out);
  ASSERT_EQ(install_.publish(sensor1_, "devices/sensor-01/telemetry", reading_json(1, 21.0)).exit_code, 0);
  ASSERT_TRUE(wait_until([&] { return events(read_text(first_out), "reading").size() == 1; }, 15s));
  ASSERT_TRUE(wait_until([&] { return last_event_id(read_text(first_out)).has_value(); }, 15s)) << read_text(first_out);
  const std::string id = *last_event_id(read_text(first_out));
  ASSERT_TRUE(first->stop(SIGTERM).has_value());  // the connection drops

  // Meanwhile: readings of the device and of another, and a gateway restart.
  ASSERT_EQ(install_.publish(sensor1_, "devices/sensor-01/telemetry", reading_json(2, 22.0)).exit_code, 0);
  ASSERT_EQ(install_.publish(sensor2_, "devices/sensor-02/telemetry", reading_json(1, 30.0)).exit_code, 0);
  ASSERT_EQ(install_.publish(sensor1_, "devices/sensor-01/telemetry", reading_json(3, 23.0)).exit_code, 0);
  ASSERT_TRUE(wait_until([&] { return install_.stats().value("readings_stored", 0) == 4; }, 15s));
  install_.stop_gateway(SIGTERM);
  install_.start_gateway();
  ASSERT_TRUE((port_ = install_.await_http_port()).has_value());
  Browser again(install_, *port_, browser.cookie_jar());  // the same session: it is kept on the server

  const auto resumed_out = install_.root() / "resumed.out";
  auto resumed = listen(again, "?device=sensor-01", resumed_out, id);
  ASSERT_TRUE(ready(resumed_out)) << read_text(resumed_out);
  EXPECT_EQ(events(read_text(resumed_out), "ready").at(0)["resumed"], true);
  ASSERT_TRUE(wait_until([&] { return events(read_text(resumed_out), "reading").size() == 2; }, 15s))
      << read_text(resumed_out);
  ASSERT_EQ(install_.publish(sensor1_, "devices/sensor-01/telemetry", reading_json(4, 24.0)).exit_code, 0);
  ASSERT_TRUE(wait_until([&] { return events(read_text(resumed_out), "reading").size() == 3; }, 15s))
      << read_text(resumed_out);
  std::vector<int> seqs;
  for (const auto& reading : events(read_text(resumed_out), "reading")) seqs.push_back(reading["seq"].get<int>());
  EXPECT_EQ(seqs, (std::vector<int>{2, 3, 4}));
  EXPECT_THAT(read_text(resumed_out), Not(HasSubstr("sensor-02")));
  EXPECT_TRUE(events(read_text(resumed_out), "gap").empty());
  EXPECT_EQ(last_event_id(read_text(resumed_out)), "5") << read_text(resumed_out);
  auto live = [&] { return install_.stats()["http"]["live"]; };  // written every second
  EXPECT_TRUE(wait_until([&] { return live().value("streams_resumed", 0) == 1; }, 10s)) << live().dump();
  EXPECT_EQ(live()["readings_replayed"], 2) << live().dump();

  // An id this gateway never sent gets a gap: the client loads again.
  const auto unknown_out = install_.root() / "unknown.out";
  auto unknown = listen(again, "", unknown_out, "999999");
  ASSERT_TRUE(wait_until([&] { return !events(read_text(unknown_out), "gap").empty(); }, 15s))
      << read_text(unknown_out);
  install_.stop_gateway(SIGTERM);
}

TEST_F(LiveEvents, StreamsPastTheLimitAreRefusedBusyAndAFreedPlaceIsTakenAgain) {
  start({"max_live_streams = 1"});
  auto browser = signed_in_browser("admin");
  const auto first_out = install_.root() / "first.out";
  auto first = listen(browser, "", first_out);
  ASSERT_TRUE(ready(first_out)) << read_text(first_out);
  auto second = browser.request("GET", "/api/v1/events");
  EXPECT_EQ(second.status, 503) << second.raw;
  EXPECT_EQ(second.body["error"]["code"], "busy");
  EXPECT_THAT(second.headers, HasSubstr("Retry-After: 10\r\n"));
  // The first listener goes away; its place is free again once the feed notices (next flush).
  auto live_subscribers = [&] { return install_.stats()["http"]["live"].value("subscribers", -1); };
  ASSERT_TRUE(wait_until([&] { return live_subscribers() == 1; }, 10s));  // the statistics are fresh
  ASSERT_TRUE(first->stop(SIGTERM).has_value());
  const auto third_out = install_.root() / "third.out";
  std::unique_ptr<BackgroundProcess> third;
  ASSERT_TRUE(wait_until(
      [&] {
        if (live_subscribers() != 0) return false;
        third = listen(browser, "", third_out);
        return true;
      },
      15s));
  EXPECT_TRUE(ready(third_out)) << read_text(third_out);
}

}  // namespace
