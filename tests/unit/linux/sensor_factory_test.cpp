#include "kelvin/linux_port/sensor_factory.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fake_sysfs.hpp"

namespace kelvin::linux_port {
namespace {

using testing::FakeSysfs;
using ::testing::HasSubstr;

AgentConfig config_with(std::vector<SensorSettings> sensors) {
  AgentConfig config;
  config.source = "/etc/kelvin-agent/agent.toml";
  config.device_id = "sensor-01";
  config.sensors = std::move(sensors);
  return config;
}

class FixedSource final : public device::SensorSource {
 public:
  explicit FixedSource(std::uint64_t seed) : name_("fixed:" + std::to_string(seed)) {}
  std::string_view name() const override { return name_; }
  Result<device::SensorValues> read(std::int64_t) override { return device::SensorValues{}; }

 private:
  std::string name_;
};

TEST(SensorFactory, BuildsEachConfiguredSourceInOrder) {
  FakeSysfs sys;
  sys.write("/sys/class/thermal/thermal_zone0/temp", "45000\n");
  sys.write("/sys/bus/iio/devices/iio:device3/name", "dht11\n");
  sys.write("/sys/bus/w1/devices/28-00000a1b2c3d/w1_slave", "");
  auto config = config_with({
      {SensorType::w1, "auto", 1},
      {SensorType::iio, "auto", 1},
      {SensorType::hwmon, "auto", 1},
      {SensorType::hwmon, "/sys/class/hwmon/hwmon9/temp1_input", 1},
      {SensorType::iio, "iio:device0", 1},
      {SensorType::w1, "28-0000000000aa", 1},
      {SensorType::sim, "auto", 7},
  });
  auto sources = make_sensor_sources(config, sys.root(),
                                     [](const SensorSettings& s) { return std::make_unique<FixedSource>(s.seed); });
  ASSERT_TRUE(sources.ok()) << sources.error().message;
  std::vector<std::string> names;
  for (const auto& source : *sources) names.emplace_back(source->name());
  EXPECT_THAT(names, ::testing::ElementsAre(
                         "w1:28-00000a1b2c3d", "iio:device3", "hwmon:/sys/class/thermal/thermal_zone0/temp",
                         "hwmon:/sys/class/hwmon/hwmon9/temp1_input", "iio:device0", "w1:28-0000000000aa", "fixed:7"));
  // The sources read under the given root.
  auto values = (*sources)[2]->read(0);
  ASSERT_TRUE(values.ok()) << values.error().message;
  EXPECT_DOUBLE_EQ(values->at(0).value(), 45.0);
}

TEST(SensorFactory, ReportsEveryMissingSensorAtOnce) {
  FakeSysfs sys;
  auto config = config_with({
      {SensorType::hwmon, "auto", 1},
      {SensorType::iio, "auto", 1},
      {SensorType::w1, "auto", 1},
  });
  auto sources = make_sensor_sources(config, sys.root());
  ASSERT_FALSE(sources.ok());
  EXPECT_EQ(sources.error().code, Errc::not_found);
  EXPECT_THAT(sources.error().message,
              HasSubstr("/etc/kelvin-agent/agent.toml: sensor[0] (hwmon): no readable temperature"));
  EXPECT_THAT(sources.error().message, HasSubstr("sensor[1] (iio): no IIO device named dht11"));
  EXPECT_THAT(sources.error().message, HasSubstr("sensor[2] (w1): no DS18B20"));
}

TEST(SensorFactory, SimNeedsTheFactoryTheAgentProvides) {
  FakeSysfs sys;
  auto sources = make_sensor_sources(config_with({{SensorType::sim, "auto", 1}}), sys.root());
  ASSERT_FALSE(sources.ok());
  EXPECT_THAT(sources.error().message, HasSubstr("sensor[0] (sim): the simulated sensor is not available"));
}

}  // namespace
}  // namespace kelvin::linux_port
