#include "kelvin/linux_port/boot_record_file.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "kelvin/testing/temp_dir.hpp"

namespace kelvin::linux_port {
namespace {

device::BootRecord staged_record() {
  device::BootRecord record;
  record.confirmed = device::Slot::a;
  record.confirmed_version = {1, 0, 0};
  record.highest_security_version = 2;
  return device::choose_boot_slot(device::stage_trial(record, {1, 1, 0}, 3, 3)).record;
}

TEST(BootRecordFileTest, ARecordReadsBackAsSavedAndAMissingFileIsTheFreshRecord) {
  testing::TempDir dir;
  device::BootRecord fresh;
  fresh.confirmed_version = {0, 9, 0};
  auto missing = load_boot_record(dir / "boot.json", fresh);
  ASSERT_TRUE(missing.ok()) << missing.error().message;
  EXPECT_EQ(*missing, fresh);

  const device::BootRecord record = staged_record();
  ASSERT_TRUE(save_boot_record(dir / "boot.json", record).ok());
  struct stat info {};
  ASSERT_EQ(::stat((dir / "boot.json").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  auto loaded = load_boot_record(dir / "boot.json", fresh);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ(*loaded, record);
  EXPECT_EQ(loaded->trial, device::Slot::b);
  EXPECT_EQ(loaded->attempts_left, 2u);

  const device::BootRecord rolled_back = device::choose_boot_slot(device::BootRecord{*loaded}).record;
  ASSERT_TRUE(save_boot_record(dir / "boot.json", rolled_back).ok());
  EXPECT_EQ(*load_boot_record(dir / "boot.json", fresh), rolled_back);
}

TEST(BootRecordFileTest, AnythingButARecordIsCorruptNotAGuess) {
  testing::TempDir dir;
  ASSERT_TRUE(save_boot_record(dir / "boot.json", staged_record()).ok());
  const std::string good = testing::read_text(dir / "boot.json");
  auto replaced = [&](const std::string& from, const std::string& to) {
    std::string text = good;
    text.replace(text.find(from), from.size(), to);
    return text;
  };
  for (const std::string& bad :
       {std::string(""), std::string("{}"), good.substr(0, good.size() / 2),
        replaced("\"trial\":\"b\"", "\"trial\":\"a\""),  // the confirmed slot on trial
        replaced("\"trial\":\"b\"", "\"trial\":\"c\""), replaced("\"attempts_left\":2", "\"attempts_left\":-1"),
        replaced("\"confirmed_version\":\"1.0.0\"", "\"confirmed_version\":\"1.0\""),
        replaced("\"format\":1", "\"format\":2"), replaced("{", "{\"extra\":0,")}) {
    std::ofstream(dir / "boot.json", std::ios::trunc) << bad;
    auto loaded = load_boot_record(dir / "boot.json", device::BootRecord{});
    ASSERT_FALSE(loaded.ok()) << bad;
    EXPECT_EQ(loaded.error().code, Errc::corrupt) << bad;
  }
}

}  // namespace
}  // namespace kelvin::linux_port
