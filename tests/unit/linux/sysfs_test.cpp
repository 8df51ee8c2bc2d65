#include "kelvin/linux_port/sysfs.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fake_sysfs.hpp"

namespace kelvin::linux_port {
namespace {

namespace fs = std::filesystem;
using testing::FakeSysfs;

TEST(Sysfs, UnderRootJoinsAnAbsoluteTargetPath) {
  EXPECT_EQ(under_root("/tmp/fake", "/sys/class/thermal"), fs::path("/tmp/fake/sys/class/thermal"));
  EXPECT_EQ(under_root("/", "/sys/class/thermal"), fs::path("/sys/class/thermal"));
}

TEST(Sysfs, ReadsMilliValues) {
  FakeSysfs sys;
  sys.write("/sys/a", "23125\n");
  sys.write("/sys/b", "-5500");
  sys.write("/sys/c", "0\n");
  EXPECT_DOUBLE_EQ(*read_milli_attribute(under_root(sys.root(), "/sys/a")), 23.125);
  EXPECT_DOUBLE_EQ(*read_milli_attribute(under_root(sys.root(), "/sys/b")), -5.5);
  EXPECT_DOUBLE_EQ(*read_milli_attribute(under_root(sys.root(), "/sys/c")), 0.0);
}

TEST(Sysfs, RefusesWhatIsNotAnInteger) {
  FakeSysfs sys;
  for (const char* text : {"", "\n", "23.5\n", "abc", "12 34", "0x10"}) {
    sys.write("/sys/x", text);
    auto value = read_milli_attribute(under_root(sys.root(), "/sys/x"));
    ASSERT_FALSE(value.ok()) << "'" << text << "'";
    EXPECT_EQ(value.error().code, Errc::corrupt) << "'" << text << "'";
  }
}

TEST(Sysfs, ReadFailuresAreErrors) {
  FakeSysfs sys;
  auto missing = read_milli_attribute(under_root(sys.root(), "/sys/absent"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, Errc::not_found);
  sys.make_dir("/sys/dir");  // read() on it fails, as a failing driver's read does
  auto not_file = read_milli_attribute(under_root(sys.root(), "/sys/dir"));
  ASSERT_FALSE(not_file.ok());
  EXPECT_EQ(not_file.error().code, Errc::io);
}

TEST(Sysfs, NumberedEntriesAreInNumericOrder) {
  FakeSysfs sys;
  for (const char* name : {"thermal_zone10", "thermal_zone2", "thermal_zone0", "cooling_device0", "thermal_zonex"}) {
    sys.make_dir(fs::path("/sys/class/thermal") / name);
  }
  auto entries = numbered_entries(under_root(sys.root(), "/sys/class/thermal"), "thermal_zone");
  std::vector<std::string> names;
  for (const auto& entry : entries) names.push_back(entry.filename().string());
  EXPECT_THAT(names, ::testing::ElementsAre("thermal_zone0", "thermal_zone2", "thermal_zone10"));
  EXPECT_TRUE(numbered_entries(sys.root() / "absent", "x").empty());
}

TEST(Sysfs, NumberedEntriesWithSuffix) {
  FakeSysfs sys;
  for (const char* name : {"temp10_input", "temp2_input", "temp1_label", "temp1_max", "temp_input"}) {
    sys.write(fs::path("/sys/class/hwmon/hwmon0") / name, "1");
  }
  auto entries = numbered_entries(under_root(sys.root(), "/sys/class/hwmon/hwmon0"), "temp", "_input");
  std::vector<std::string> names;
  for (const auto& entry : entries) names.push_back(entry.filename().string());
  EXPECT_THAT(names, ::testing::ElementsAre("temp2_input", "temp10_input"));
}

}  // namespace
}  // namespace kelvin::linux_port
