#include "kelvin/linux_port/w1_source.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fake_sysfs.hpp"

namespace kelvin::linux_port {
namespace {

using testing::FakeSysfs;
using ::testing::HasSubstr;
using testing::w1_slave_text;

constexpr auto kTemperature = static_cast<std::size_t>(proto::Quantity::temperature);
const std::string kGood = w1_slave_text("72 01 4b 46 7f ff 0e 10 57", "57", true, "23125");

TEST(W1Ds18b20Source, ReadsTheScratchpad) {
  FakeSysfs sys;
  sys.write("/sys/bus/w1/devices/28-00000a1b2c3d/w1_slave", kGood);
  W1Ds18b20Source source("28-00000a1b2c3d", sys.root());
  EXPECT_EQ(source.name(), "w1:28-00000a1b2c3d");
  auto values = source.read(0);
  ASSERT_TRUE(values.ok()) << values.error().message;
  EXPECT_DOUBLE_EQ((*values)[kTemperature].value(), 23.125);
  EXPECT_FALSE((*values)[static_cast<std::size_t>(proto::Quantity::humidity)].has_value());
}

TEST(W1Ds18b20Source, DecodingErrorsNameTheSensor) {
  FakeSysfs sys;
  sys.write("/sys/bus/w1/devices/28-00000a1b2c3d/w1_slave",
            w1_slave_text("50 05 4b 46 7f ff 0c 10 1c", "1c", true, "85000"));
  W1Ds18b20Source source("28-00000a1b2c3d", sys.root());
  auto values = source.read(0);
  ASSERT_FALSE(values.ok());
  EXPECT_THAT(values.error().message, ::testing::StartsWith("w1:28-00000a1b2c3d: "));
}

TEST(W1Ds18b20Source, OutOfRangeIsAnError) {
  FakeSysfs sys;
  // 0x07D1 = 125.0625 °C: a valid scratchpad, but beyond the DS18B20's (and protocol's) range.
  sys.write("/sys/bus/w1/devices/28-00000a1b2c3d/w1_slave",
            w1_slave_text("d1 07 4b 46 7f ff 0f 10 e2", "e2", true, "125062"));
  W1Ds18b20Source source("28-00000a1b2c3d", sys.root());
  auto values = source.read(0);
  ASSERT_FALSE(values.ok());
  EXPECT_THAT(values.error().message, HasSubstr("implausible"));
}

TEST(W1Ds18b20Source, AnUnpluggedSensorIsAnError) {
  FakeSysfs sys;
  W1Ds18b20Source source("28-00000a1b2c3d", sys.root());
  auto values = source.read(0);
  ASSERT_FALSE(values.ok());
  EXPECT_EQ(values.error().code, Errc::not_found);
}

TEST(W1Ds18b20Source, DiscoverTakesTheFirstDs18b20) {
  FakeSysfs sys;
  sys.make_dir("/sys/bus/w1/devices/w1_bus_master1");
  sys.make_dir("/sys/bus/w1/devices/10-000802b4e3a1");  // DS18S20: another family
  sys.write("/sys/bus/w1/devices/28-0000ffff0001/w1_slave", kGood);
  sys.write("/sys/bus/w1/devices/28-00000a1b2c3d/w1_slave", kGood);
  auto source = W1Ds18b20Source::discover(sys.root());
  ASSERT_TRUE(source.ok()) << source.error().message;
  EXPECT_EQ(source->name(), "w1:28-00000a1b2c3d");
  EXPECT_TRUE(source->read(0).ok());
}

TEST(W1Ds18b20Source, DiscoverWithoutASensorIsNotFound) {
  FakeSysfs sys;
  sys.make_dir("/sys/bus/w1/devices/w1_bus_master1");
  auto source = W1Ds18b20Source::discover(sys.root());
  ASSERT_FALSE(source.ok());
  EXPECT_EQ(source.error().code, Errc::not_found);
  EXPECT_THAT(source.error().message, HasSubstr("28-*"));
}

TEST(W1Ds18b20Source, DeviceIds) {
  EXPECT_TRUE(W1Ds18b20Source::is_device_id("28-00000a1b2c3d"));
  EXPECT_FALSE(W1Ds18b20Source::is_device_id("28-00000A1B2C3D"));
  EXPECT_FALSE(W1Ds18b20Source::is_device_id("28-00000a1b2c3"));
  EXPECT_FALSE(W1Ds18b20Source::is_device_id("10-00000a1b2c3d"));
  EXPECT_FALSE(W1Ds18b20Source::is_device_id("28-../../../etc"));
  EXPECT_FALSE(W1Ds18b20Source::is_device_id("auto"));
}

}  // namespace
}  // namespace kelvin::linux_port
