#include "kelvin/device/ds18b20.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string_view>

namespace kelvin::device {
namespace {

using ::testing::HasSubstr;
using Scratchpad = std::array<std::uint8_t, kDs18b20ScratchpadSize>;

Result<double> decode(const Scratchpad& s) {
  return decode_ds18b20_scratchpad(s);
}

TEST(DallasCrc8, MatchesTheStandardCheckValue) {
  // CRC-8/MAXIM-DOW of "123456789" is 0xA1 (the catalogue check value).
  constexpr std::string_view text = "123456789";
  std::array<std::uint8_t, 9> bytes{};
  for (std::size_t i = 0; i < text.size(); ++i) bytes[i] = static_cast<std::uint8_t>(text[i]);
  EXPECT_EQ(dallas_crc8(bytes), 0xA1);
}

TEST(DallasCrc8, MatchesMaximsRomCodeExample) {
  // Maxim application note 27: ROM code 02 1C B8 01 00 00 00 (family code first) has CRC A2.
  const std::array<std::uint8_t, 7> rom{0x02, 0x1C, 0xB8, 0x01, 0x00, 0x00, 0x00};
  EXPECT_EQ(dallas_crc8(rom), 0xA2);
  const std::array<std::uint8_t, 8> with_crc{0x02, 0x1C, 0xB8, 0x01, 0x00, 0x00, 0x00, 0xA2};
  EXPECT_EQ(dallas_crc8(with_crc), 0x00);  // data followed by its CRC checks to zero
  EXPECT_EQ(dallas_crc8(std::span<const std::uint8_t>{}), 0x00);
}

TEST(Ds18b20, DecodesARealW1SlaveReading) {
  // From a Raspberry Pi's w1_slave: "72 01 4b 46 7f ff 0e 10 57 : crc=57 YES ... t=23125".
  auto r = decode({0x72, 0x01, 0x4B, 0x46, 0x7F, 0xFF, 0x0E, 0x10, 0x57});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_DOUBLE_EQ(*r, 23.125);
}

TEST(Ds18b20, DecodesTheDatasheetTemperatureTable) {
  // Datasheet table "Temperature/Data Relationship" at 12 bits; CRCs computed independently.
  struct Case {
    Scratchpad scratchpad;
    double celsius;
  };
  const Case cases[] = {
      {{0xD0, 0x07, 0x4B, 0x46, 0x7F, 0xFF, 0x0C, 0x10, 0xF4}, 125.0},     // 0x07D0
      {{0x91, 0x01, 0x4B, 0x46, 0x7F, 0xFF, 0x0C, 0x10, 0x70}, 25.0625},   // 0x0191
      {{0xA2, 0x00, 0x4B, 0x46, 0x7F, 0xFF, 0x0C, 0x10, 0x74}, 10.125},    // 0x00A2
      {{0x08, 0x00, 0x4B, 0x46, 0x7F, 0xFF, 0x0C, 0x10, 0xE2}, 0.5},       // 0x0008
      {{0xF8, 0xFF, 0x4B, 0x46, 0x7F, 0xFF, 0x0C, 0x10, 0xC3}, -0.5},      // 0xFFF8
      {{0x5E, 0xFF, 0x4B, 0x46, 0x7F, 0xFF, 0x0C, 0x10, 0x6A}, -10.125},   // 0xFF5E
      {{0x6F, 0xFE, 0x4B, 0x46, 0x7F, 0xFF, 0x0C, 0x10, 0xE8}, -25.0625},  // 0xFE6F
      {{0x90, 0xFC, 0x4B, 0x46, 0x7F, 0xFF, 0x0C, 0x10, 0x4F}, -55.0},     // 0xFC90
  };
  for (const auto& c : cases) {
    auto r = decode(c.scratchpad);
    ASSERT_TRUE(r) << c.celsius << ": " << r.error().message;
    EXPECT_DOUBLE_EQ(*r, c.celsius);
  }
}

TEST(Ds18b20, MasksTheBitsUndefinedAtLowerResolutions) {
  // Register 0x0197 (25.4375 °C at 12 bits) with configuration 0x1F/0x3F/0x5F/0x7F.
  EXPECT_EQ(ds18b20_resolution_bits(0x1F), 9);
  EXPECT_EQ(ds18b20_resolution_bits(0x7F), 12);
  auto r9 = decode({0x97, 0x01, 0x4B, 0x46, 0x1F, 0xFF, 0x0C, 0x10, 0x73});
  auto r10 = decode({0x97, 0x01, 0x4B, 0x46, 0x3F, 0xFF, 0x0C, 0x10, 0x03});
  auto r11 = decode({0x97, 0x01, 0x4B, 0x46, 0x5F, 0xFF, 0x0C, 0x10, 0x93});
  auto r12 = decode({0x97, 0x01, 0x4B, 0x46, 0x7F, 0xFF, 0x0C, 0x10, 0xE3});
  ASSERT_TRUE(r9 && r10 && r11 && r12);
  EXPECT_DOUBLE_EQ(*r9, 25.0);
  EXPECT_DOUBLE_EQ(*r10, 25.25);
  EXPECT_DOUBLE_EQ(*r11, 25.375);
  EXPECT_DOUBLE_EQ(*r12, 25.4375);
  // Negative numbers round down: 0xFE6F at 9 bits is 0xFE68 = -25.5 °C.
  auto negative = decode({0x6F, 0xFE, 0x4B, 0x46, 0x1F, 0xFF, 0x0C, 0x10, 0x78});
  ASSERT_TRUE(negative);
  EXPECT_DOUBLE_EQ(*negative, -25.5);
}

TEST(Ds18b20, RefusesCrcMismatch) {
  auto r = decode({0x72, 0x01, 0x4B, 0x46, 0x7F, 0xFF, 0x0E, 0x10, 0x58});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::corrupt);
  EXPECT_THAT(r.error().message, HasSubstr("CRC"));
  // One flipped temperature bit (23.125 -> 23.0625) is caught by the CRC.
  EXPECT_FALSE(decode({0x71, 0x01, 0x4B, 0x46, 0x7F, 0xFF, 0x0E, 0x10, 0x57}));
}

TEST(Ds18b20, RefusesAnEmptyOrShortedBus) {
  Scratchpad ones{};
  ones.fill(0xFF);
  auto none = decode(ones);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, Errc::not_found);

  // All zeros passes the CRC (CRC of zeros is zero) and would read as 0 °C.
  auto low = decode(Scratchpad{});
  ASSERT_FALSE(low);
  EXPECT_EQ(low.error().code, Errc::corrupt);
  EXPECT_THAT(low.error().message, HasSubstr("held low"));
}

TEST(Ds18b20, RefusesThePowerOnValue) {
  // The scratchpad every freshly powered DS18B20 returns: "50 05 4b 46 7f ff 0c 10 1c".
  auto r = decode({0x50, 0x05, 0x4B, 0x46, 0x7F, 0xFF, 0x0C, 0x10, 0x1C});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::conflict);
  EXPECT_THAT(r.error().message, HasSubstr("conversion not done"));
}

TEST(Ds18b20, RefusesTemperaturesOutsideTheSensorsRange) {
  auto r = decode({0xE0, 0x07, 0x4B, 0x46, 0x7F, 0xFF, 0x0C, 0x10, 0x08});  // 0x07E0 = 126 °C
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::corrupt);
  EXPECT_THAT(r.error().message, HasSubstr("implausible"));
}

}  // namespace
}  // namespace kelvin::device
