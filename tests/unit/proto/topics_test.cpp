#include "kelvin/proto/topics.hpp"

#include <gtest/gtest.h>

namespace kelvin::proto {
namespace {

TEST(Topics, BuildsEveryDeviceTopicOfTheProtocol) {
  EXPECT_EQ(device_topic("sensor-01", DeviceTopic::telemetry), "devices/sensor-01/telemetry");
  EXPECT_EQ(device_topic("sensor-01", DeviceTopic::ack), "devices/sensor-01/ack");
  EXPECT_EQ(device_topic("sensor-01", DeviceTopic::status), "devices/sensor-01/status");
  EXPECT_EQ(device_topic("sensor-01", DeviceTopic::ota), "devices/sensor-01/ota");
  EXPECT_EQ(device_topic("sensor-01", DeviceTopic::ota_status), "devices/sensor-01/ota/status");
}

TEST(Topics, ParsesWhatItBuilds) {
  for (auto kind :
       {DeviceTopic::telemetry, DeviceTopic::ack, DeviceTopic::status, DeviceTopic::ota, DeviceTopic::ota_status}) {
    const std::string topic = device_topic("greenhouse_3", kind);
    auto parsed = parse_device_topic(topic);
    ASSERT_TRUE(parsed) << topic;
    EXPECT_EQ(parsed->device_id, "greenhouse_3");
    EXPECT_EQ(parsed->topic, kind);
  }
}

TEST(Topics, RefusesTopicsOutsideTheProtocol) {
  for (const char* topic :
       {"devices/sensor-01", "devices/sensor-01/", "devices//telemetry", "devices/sensor-01/telemetry/x",
        "devices/Sensor-01/telemetry", "devices/svc-gateway/telemetry", "devices/+/telemetry", "devices/#",
        "other/sensor-01/telemetry", "devices/sensor-01/ota/other", ""}) {
    EXPECT_FALSE(parse_device_topic(topic)) << topic;
  }
}

}  // namespace
}  // namespace kelvin::proto
