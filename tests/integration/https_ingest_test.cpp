// Telemetry over HTTPS (docs/protocol.md, "Telemetry over HTTPS"), tried as a device without MQTT
// would: Debian's curl with the device's certificate against the real kelvin-gateway. What is
// stored is read back from the store; what a device learns is the answer's ack.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "https_client.hpp"
#include "installation.hpp"
#include "log_records.hpp"

namespace {

using kelvin::testing::DeviceFiles;
using kelvin::testing::HttpsAnswer;
using kelvin::testing::Installation;
using kelvin::testing::wait_until;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string reading_json(std::uint64_t seq, double temperature) {
  return "{\"seq\":" + std::to_string(seq) + ",\"ts\":" + std::to_string(now_ms() - 1000 + static_cast<int>(seq)) +
         ",\"values\":{\"temperature\":" + std::to_string(temperature) + ",\"humidity\":45}}";
}

class HttpsIngest : public ::testing::Test {
 protected:
  void SetUp() override {
    sensor1_ = install_.issue_device("sensor-01");
    sensor2_ = install_.issue_device("sensor-02");
    install_.start_gateway();
    ASSERT_TRUE((port_ = install_.await_http_port()).has_value());
  }

  void TearDown() override {
    if (HasFailure()) std::cerr << "---- gateway log ----\n" << install_.gateway_log();
  }

  // curl POSTs `body` to device `device`'s telemetry URL with `identity` (none: no certificate).
  HttpsAnswer post(const std::optional<DeviceFiles>& identity, const std::string& device, const std::string& body,
                   const std::string& content_type = "application/json") {
    return kelvin::testing::device_request(install_, *port_, identity, "POST",
                                           "/api/v1/devices/" + device + "/telemetry", body, content_type);
  }

  std::uint64_t acked(const std::string& device) {
    auto store = install_.open_store();
    auto seq = store.acked_seq(device);
    return seq ? *seq : 0;
  }

  Installation install_;
  DeviceFiles sensor1_, sensor2_;
  std::optional<int> port_;
};

TEST_F(HttpsIngest, ReadingsPostedWithTheDevicesCertificateAreStoredBeforeTheAnswer) {
  auto one = post(sensor1_, "sensor-01", reading_json(1, 21.5));
  ASSERT_EQ(one.status, 200) << one.raw;
  EXPECT_EQ(one.body, nlohmann::json::parse(R"({"seq":1,"accepted":1,"rejected":[]})"));
  // Stored when the answer came: the store says so from its own connection.
  EXPECT_EQ(acked("sensor-01"), 1u);

  // A batch with a reading out of range: the others are stored, the refused one is named and
  // consumed, and the ack passes it.
  const std::string batch =
      "{\"batch\":[" + reading_json(2, 22) + "," + reading_json(3, 900) + "," + reading_json(4, 23) + "]}";
  auto three = post(sensor1_, "sensor-01", batch);
  ASSERT_EQ(three.status, 200) << three.raw;
  EXPECT_EQ(three.body,
            nlohmann::json::parse(R"({"seq":4,"accepted":2,"rejected":[{"seq":3,"reason":"out_of_range"}]})"));

  // A resend is a duplicate, answered with the same ack.
  auto again = post(sensor1_, "sensor-01", reading_json(2, 22));
  ASSERT_EQ(again.status, 200) << again.raw;
  EXPECT_EQ(again.body["seq"], 4);
  auto store = install_.open_store();
  auto stored = store.read_export_batch(0, 100);
  ASSERT_TRUE(stored) << stored.error().message;
  std::vector<std::uint64_t> seqs;
  for (const auto& item : stored->readings) seqs.push_back(item.reading.seq);
  EXPECT_EQ(seqs, (std::vector<std::uint64_t>{1, 2, 4})) << "each stored once";
  // gateway-stats.json is rewritten every second.
  EXPECT_TRUE(wait_until([&] { return install_.stats().value("duplicates", 0) == 1; }, 10s)) << install_.stats().dump();
}

TEST_F(HttpsIngest, APayloadRefusedWholeIsNamedAndNothingIsTaken) {
  ASSERT_EQ(post(sensor1_, "sensor-01", reading_json(1, 20)).status, 200);
  auto broken = post(sensor1_, "sensor-01", reading_json(2, 20) + " x");
  EXPECT_EQ(broken.status, 400) << broken.raw;
  EXPECT_EQ(broken.body["error"]["code"], "malformed_json");
  EXPECT_EQ(broken.body["seq"], 1) << "the answer tells where the device stands";
  auto huge = post(sensor1_, "sensor-01", "{\"seq\":2,\"pad\":\"" + std::string(20'000, 'x') + "\"}");
  EXPECT_EQ(huge.status, 413) << huge.raw;
  EXPECT_EQ(huge.body["error"]["code"], "payload_too_large");
  EXPECT_EQ(post(sensor1_, "sensor-01", reading_json(2, 20), "text/plain").status, 415);
  EXPECT_EQ(acked("sensor-01"), 1u);
  EXPECT_TRUE(wait_until([&] { return install_.stats()["rejected"].value("malformed_json", 0) == 1; }, 10s))
      << install_.stats().dump();
}

TEST_F(HttpsIngest, OnlyTheDevicesOwnValidCertificateMayPost) {
  auto none = post(std::nullopt, "sensor-01", reading_json(1, 20));
  EXPECT_EQ(none.status, 401) << none.raw;
  EXPECT_EQ(none.body["error"]["code"], "client_certificate_required");

  auto other = post(sensor2_, "sensor-01", reading_json(1, 20));
  EXPECT_EQ(other.status, 403) << other.raw;
  EXPECT_EQ(other.body["error"]["code"], "device_mismatch");

  // The gateway's own service identity is not a device.
  const auto service = install_.pki_dir() / "services" / "svc-gateway";
  auto as_service = post(DeviceFiles{{}, service / "svc-gateway.crt", service / "svc-gateway.key"}, "svc-gateway",
                         reading_json(1, 20));
  EXPECT_EQ(as_service.status, 403) << as_service.raw;
  EXPECT_EQ(as_service.body["error"]["code"], "not_a_device");

  EXPECT_EQ(acked("sensor-01"), 0u) << "a refused poster's reading was stored";

  // Revoked: once the gateway has loaded the new CRL the handshake fails and nothing more is stored.
  ASSERT_EQ(post(sensor2_, "sensor-02", reading_json(1, 20)).status, 200);
  install_.kelvinctl({"pki", "--dir", install_.pki_dir().string(), "revoke", "sensor-02"});
  ASSERT_TRUE(wait_until([&] { return post(sensor2_, "sensor-02", reading_json(2, 20)).exit_code != 0; }, 15s));
  const std::uint64_t acked_when_refused = acked("sensor-02");  // 1, or 2 if a post beat the reload
  auto refused = post(sensor2_, "sensor-02", reading_json(3, 20));
  EXPECT_NE(refused.exit_code, 0) << refused.raw;
  EXPECT_EQ(acked("sensor-02"), acked_when_refused);
  // The one with the right certificate still gets in.
  EXPECT_EQ(post(sensor1_, "sensor-01", reading_json(1, 20)).status, 200);
  // The refusal is in the gateway's log with the address and OpenSSL's reason, once per 10 s
  // however often the device tries.
  const std::string log = install_.gateway_log();
  EXPECT_TRUE(kelvin::testing::has_log_record_about(log, "warn", "https", {{"client", "127.0.0.1"}},
                                                    "TLS handshake from 127.0.0.1 failed: "))
      << log;
  EXPECT_THAT(log, HasSubstr("certificate verify failed: certificate revoked")) << log;
}

}  // namespace
