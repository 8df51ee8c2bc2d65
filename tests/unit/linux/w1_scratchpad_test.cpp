#include "kelvin/linux_port/w1_scratchpad.hpp"

#include "kelvin/device/ds18b20.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <vector>

#include "fake_sysfs.hpp"

namespace kelvin::linux_port {
namespace {

using testing::w1_slave_text;

Result<double> decode_text(const std::string& text) {
  auto bytes = parse_w1_slave(text);
  if (!bytes) return std::move(bytes).error();
  return device::decode_ds18b20_scratchpad(*bytes);
}

TEST(W1Scratchpad, ParsesAndDecodesTheKernelsOutput) {
  const std::string text = w1_slave_text("72 01 4b 46 7f ff 0e 10 57", "57", true, "23125");
  auto bytes = parse_w1_slave(text);
  ASSERT_TRUE(bytes.ok()) << bytes.error().message;
  EXPECT_EQ((*bytes)[0], 0x72);
  EXPECT_EQ((*bytes)[8], 0x57);
  auto celsius = device::decode_ds18b20_scratchpad(*bytes);
  ASSERT_TRUE(celsius.ok()) << celsius.error().message;
  EXPECT_DOUBLE_EQ(*celsius, 23.125);
}

TEST(W1Scratchpad, NegativeTemperatures) {
  // Datasheet table 1: FF5Eh is -10.125 °C.
  auto celsius = decode_text(w1_slave_text("5e ff 4b 46 7f ff 02 10 b6", "b6", true, "-10125"));
  ASSERT_TRUE(celsius.ok()) << celsius.error().message;
  EXPECT_DOUBLE_EQ(*celsius, -10.125);
}

TEST(W1Scratchpad, UndefinedBitsAtLowerResolutionAreMasked) {
  // Configuration 0x1F selects 9 bits: bits 2..0 of 0x0191 are undefined, leaving 0x0190 = 25.0.
  auto celsius = decode_text(w1_slave_text("91 01 4b 46 1f ff 0f 10 b5", "b5", true, "25062"));
  ASSERT_TRUE(celsius.ok()) << celsius.error().message;
  EXPECT_DOUBLE_EQ(*celsius, 25.0);
}

TEST(W1Scratchpad, DriverSaidNo) {
  auto celsius = decode_text(w1_slave_text("72 01 4b 46 7f ff 0e 10 58", "57", false, "23125"));
  ASSERT_FALSE(celsius.ok());
  EXPECT_EQ(celsius.error().code, Errc::corrupt);
  EXPECT_THAT(celsius.error().message, ::testing::HasSubstr("NO"));
}

TEST(W1Scratchpad, OwnCrcCheckCatchesWhatTheDriverCalledGood) {
  // The driver's line says YES, but the bytes do not match their CRC.
  auto celsius = decode_text(w1_slave_text("73 01 4b 46 7f ff 0e 10 57", "57", true, "23187"));
  ASSERT_FALSE(celsius.ok());
  EXPECT_EQ(celsius.error().code, Errc::corrupt);
  EXPECT_THAT(celsius.error().message, ::testing::HasSubstr("CRC mismatch"));
}

TEST(W1Scratchpad, PowerOnValueIsAnError) {
  auto celsius = decode_text(w1_slave_text("50 05 4b 46 7f ff 0c 10 1c", "1c", true, "85000"));
  ASSERT_FALSE(celsius.ok());
  EXPECT_EQ(celsius.error().code, Errc::conflict);
  EXPECT_THAT(celsius.error().message, ::testing::HasSubstr("85"));
}

TEST(W1Scratchpad, AllOnesAndAllZerosAreErrors) {
  auto ones = decode_text(w1_slave_text("ff ff ff ff ff ff ff ff ff", "c9", false, "-62"));
  ASSERT_FALSE(ones.ok());
  W1Scratchpad all_ones;
  all_ones.fill(0xFF);
  auto ones_decoded = device::decode_ds18b20_scratchpad(all_ones);
  ASSERT_FALSE(ones_decoded.ok());
  EXPECT_EQ(ones_decoded.error().code, Errc::not_found);
  // Zeros have a zero CRC, so the driver says YES: only the explicit check catches it.
  auto zeros = decode_text(w1_slave_text("00 00 00 00 00 00 00 00 00", "00", true, "0"));
  ASSERT_FALSE(zeros.ok());
  EXPECT_EQ(zeros.error().code, Errc::corrupt);
}

TEST(W1Scratchpad, MalformedTextIsRefused) {
  for (const std::string& text : {
           std::string(""),
           std::string("72 01 4b 46 7f ff 0e 10 57 : crc=57 YES"),             // no second line
           std::string("72 01 4b 46 7f ff 0e 10 57 : crc=57 YES\n72 01"),      // torn second line
           std::string("72 01 4b 46 7f ff 0e 10 : crc=57 YES\n72 t=1\n"),      // 8 bytes
           std::string("72 01 4b 46 7f ff 0e 10 zz : crc=57 YES\nx t=1\n"),    // not hex
           std::string("72 01 4b 46 7f ff 0e 10 57 crc=57 YES\nx t=1\n"),      // no colon
           std::string("72 01 4b 46 7f ff 0e 10 57 : crc=57 MAYBE\nx t=1\n"),  // verdict
       }) {
    auto bytes = parse_w1_slave(text);
    ASSERT_FALSE(bytes.ok()) << text;
    EXPECT_EQ(bytes.error().code, Errc::corrupt) << text;
  }
}

}  // namespace
}  // namespace kelvin::linux_port
