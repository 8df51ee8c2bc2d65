#include "kelvin/linux_port/hwmon_source.hpp"

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

TEST(HwmonSource, ReadsMillidegreesFromTheNamedFile) {
  FakeSysfs sys;
  sys.write("/sys/class/hwmon/hwmon2/temp1_input", "23125\n");
  HwmonSource source("/sys/class/hwmon/hwmon2/temp1_input", sys.root());
  EXPECT_EQ(source.name(), "hwmon:/sys/class/hwmon/hwmon2/temp1_input");
  auto values = source.read(0);
  ASSERT_TRUE(values.ok()) << values.error().message;
  EXPECT_DOUBLE_EQ((*values)[kTemperature].value(), 23.125);
  EXPECT_FALSE((*values)[kHumidity].has_value());
}

TEST(HwmonSource, FollowsTheFileBetweenReads) {
  FakeSysfs sys;
  sys.write("/sys/class/thermal/thermal_zone0/temp", "-5500\n");
  HwmonSource source("/sys/class/thermal/thermal_zone0/temp", sys.root());
  EXPECT_DOUBLE_EQ((*source.read(0))[kTemperature].value(), -5.5);
  sys.write("/sys/class/thermal/thermal_zone0/temp", "48312\n");
  EXPECT_DOUBLE_EQ((*source.read(0))[kTemperature].value(), 48.312);
}

TEST(HwmonSource, ImplausibleValuesAreErrorsNotReadings) {
  FakeSysfs sys;
  HwmonSource source("/sys/class/thermal/thermal_zone0/temp", sys.root());
  for (const char* text : {"125001", "-55001", "200000"}) {
    sys.write("/sys/class/thermal/thermal_zone0/temp", text);
    auto values = source.read(0);
    ASSERT_FALSE(values.ok()) << text;
    EXPECT_THAT(values.error().message, HasSubstr("implausible temperature")) << text;
    EXPECT_THAT(values.error().message, HasSubstr("hwmon:/sys/class/thermal/thermal_zone0/temp"));
  }
  for (const char* text : {"125000", "-55000"}) {  // the range's ends are plausible
    sys.write("/sys/class/thermal/thermal_zone0/temp", text);
    EXPECT_TRUE(source.read(0).ok()) << text;
  }
}

TEST(HwmonSource, AMissingOrGarbledFileIsAnErrorNamingTheSource) {
  FakeSysfs sys;
  HwmonSource source("/sys/class/hwmon/hwmon0/temp1_input", sys.root());
  auto missing = source.read(0);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, Errc::not_found);
  EXPECT_THAT(missing.error().message, ::testing::StartsWith("hwmon:/sys/class/hwmon/hwmon0/temp1_input: "));
  sys.write("/sys/class/hwmon/hwmon0/temp1_input", "N/A\n");
  auto garbled = source.read(0);
  ASSERT_FALSE(garbled.ok());
  EXPECT_EQ(garbled.error().code, Errc::corrupt);
}

TEST(HwmonSource, DiscoverTakesTheFirstThermalZoneThatReadsInNumericOrder) {
  FakeSysfs sys;
  sys.write("/sys/class/thermal/thermal_zone2/temp", "garbage\n");
  sys.write("/sys/class/thermal/thermal_zone3/temp", "40000\n");
  sys.write("/sys/class/thermal/thermal_zone10/temp", "41000\n");
  sys.make_dir("/sys/class/thermal/thermal_zone1");                // no temp file
  sys.write("/sys/class/thermal/thermal_zone0/temp", "150000\n");  // implausible
  sys.write("/sys/class/hwmon/hwmon0/temp1_input", "30000\n");
  auto source = HwmonSource::discover(sys.root());
  ASSERT_TRUE(source.ok()) << source.error().message;
  EXPECT_EQ(source->file(), "/sys/class/thermal/thermal_zone3/temp");
  EXPECT_EQ(source->name(), "hwmon:/sys/class/thermal/thermal_zone3/temp");
  EXPECT_DOUBLE_EQ((*source->read(0))[kTemperature].value(), 40.0);
}

TEST(HwmonSource, DiscoverFallsBackToHwmon) {
  FakeSysfs sys;
  sys.make_dir("/sys/class/thermal/cooling_device0");
  sys.write("/sys/class/hwmon/hwmon0/name", "acpi_fan\n");
  sys.write("/sys/class/hwmon/hwmon1/name", "coretemp\n");
  sys.write("/sys/class/hwmon/hwmon1/temp1_label", "Package id 0\n");
  sys.write("/sys/class/hwmon/hwmon1/temp10_input", "52000\n");
  sys.write("/sys/class/hwmon/hwmon1/temp2_input", "51000\n");
  auto source = HwmonSource::discover(sys.root());
  ASSERT_TRUE(source.ok()) << source.error().message;
  EXPECT_EQ(source->file(), "/sys/class/hwmon/hwmon1/temp2_input");
  EXPECT_DOUBLE_EQ((*source->read(0))[kTemperature].value(), 51.0);
}

TEST(HwmonSource, DiscoverWithNothingReadableIsNotFound) {
  FakeSysfs sys;
  sys.write("/sys/class/thermal/thermal_zone0/temp", "garbage");
  auto source = HwmonSource::discover(sys.root());
  ASSERT_FALSE(source.ok());
  EXPECT_EQ(source.error().code, Errc::not_found);
  EXPECT_THAT(source.error().message, HasSubstr("thermal_zone*/temp"));
  EXPECT_THAT(source.error().message, HasSubstr("hwmon*/temp*_input"));
  EXPECT_THAT(source.error().message, HasSubstr("1 tried"));
}

}  // namespace
}  // namespace kelvin::linux_port
