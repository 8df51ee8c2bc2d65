#include "kelvin/linux_port/iio_source.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fake_sysfs.hpp"

namespace kelvin::linux_port {
namespace {

using proto::Quantity;
using testing::FakeSysfs;
using ::testing::HasSubstr;

constexpr auto kTemperature = static_cast<std::size_t>(Quantity::temperature);
constexpr auto kHumidity = static_cast<std::size_t>(Quantity::humidity);

void add_dht11(const FakeSysfs& sys, const std::string& device, const std::string& temp, const std::string& humidity) {
  const std::string dir = "/sys/bus/iio/devices/" + device;
  sys.write(dir + "/name", "dht11\n");
  sys.write(dir + "/in_temp_input", temp);
  sys.write(dir + "/in_humidityrelative_input", humidity);
}

TEST(IioDhtSource, ReadsTemperatureAndHumidity) {
  FakeSysfs sys;
  add_dht11(sys, "iio:device0", "21500\n", "40200\n");
  IioDhtSource source("iio:device0", sys.root());
  EXPECT_EQ(source.name(), "iio:device0");
  auto values = source.read(0);
  ASSERT_TRUE(values.ok()) << values.error().message;
  EXPECT_DOUBLE_EQ((*values)[kTemperature].value(), 21.5);
  EXPECT_DOUBLE_EQ((*values)[kHumidity].value(), 40.2);
}

TEST(IioDhtSource, AFailingChannelFailsTheWholeRead) {
  FakeSysfs sys;
  add_dht11(sys, "iio:device0", "21500\n", "40200\n");
  std::filesystem::remove(sys.root() / "sys/bus/iio/devices/iio:device0/in_humidityrelative_input");
  // The driver's EIO/ETIMEDOUT on a missed edge is a failed read() just like this one.
  std::filesystem::create_directory(sys.root() / "sys/bus/iio/devices/iio:device0/in_humidityrelative_input");
  IioDhtSource source("iio:device0", sys.root());
  auto values = source.read(0);
  ASSERT_FALSE(values.ok());
  EXPECT_EQ(values.error().code, Errc::io);
  EXPECT_THAT(values.error().message, ::testing::StartsWith("iio:device0: "));
  EXPECT_THAT(values.error().message, HasSubstr("in_humidityrelative_input"));
}

TEST(IioDhtSource, ImplausibleHumidityIsAnError) {
  FakeSysfs sys;
  add_dht11(sys, "iio:device0", "21500\n", "120000\n");
  IioDhtSource source("iio:device0", sys.root());
  auto values = source.read(0);
  ASSERT_FALSE(values.ok());
  EXPECT_THAT(values.error().message, HasSubstr("implausible humidity"));
}

TEST(IioDhtSource, DiscoverFindsTheDeviceNamedDht11) {
  FakeSysfs sys;
  sys.write("/sys/bus/iio/devices/iio:device0/name", "ads1015\n");
  sys.write("/sys/bus/iio/devices/iio:device0/in_temp_input", "1000\n");
  sys.write("/sys/bus/iio/devices/trigger0/name", "dht11\n");  // not an iio:device
  add_dht11(sys, "iio:device1", "19000\n", "55000\n");
  auto source = IioDhtSource::discover(sys.root());
  ASSERT_TRUE(source.ok()) << source.error().message;
  EXPECT_EQ(source->name(), "iio:device1");
  EXPECT_DOUBLE_EQ((*source->read(0))[kHumidity].value(), 55.0);
}

TEST(IioDhtSource, DiscoverWithoutADht11IsNotFound) {
  FakeSysfs sys;
  sys.write("/sys/bus/iio/devices/iio:device0/name", "ads1015\n");
  auto source = IioDhtSource::discover(sys.root());
  ASSERT_FALSE(source.ok());
  EXPECT_EQ(source.error().code, Errc::not_found);
  EXPECT_THAT(source.error().message, HasSubstr("dtoverlay=dht11"));
}

TEST(IioDhtSource, DeviceNames) {
  EXPECT_TRUE(IioDhtSource::is_device_name("iio:device0"));
  EXPECT_TRUE(IioDhtSource::is_device_name("iio:device12"));
  EXPECT_FALSE(IioDhtSource::is_device_name("iio:device"));
  EXPECT_FALSE(IioDhtSource::is_device_name("iio:device0/../x"));
  EXPECT_FALSE(IioDhtSource::is_device_name("device0"));
  EXPECT_FALSE(IioDhtSource::is_device_name("auto"));
}

}  // namespace
}  // namespace kelvin::linux_port
