#include "kelvin/device/dht11.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <vector>

namespace kelvin::device {
namespace {

using ::testing::HasSubstr;

double temperature(const SensorValues& v) {
  return *v[static_cast<std::size_t>(proto::Quantity::temperature)];
}
double humidity(const SensorValues& v) {
  return *v[static_cast<std::size_t>(proto::Quantity::humidity)];
}

// Recorded-looking frames: high-pulse widths with the jitter of a bit-banged read (0 bits
// 22–31 µs, 1 bits 68–76 µs). Expected values worked out by hand from the bytes in the comments.

// 45 %RH, 23.4 °C: 0x2D=45, 0x00, 0x17=23, 0x04=.4; checksum 45+0+23+4 = 72 = 0x48.
const std::vector<std::uint32_t> kFrame45Rh23C4 = {
    27, 24, 74, 22, 69, 76, 23, 73,  // 0x2D
    31, 22, 30, 25, 22, 23, 28, 28,  // 0x00
    23, 25, 23, 76, 28, 68, 69, 71,  // 0x17
    31, 22, 31, 31, 28, 68, 25, 22,  // 0x04
    30, 70, 26, 28, 70, 30, 23, 31,  // 0x48
};

// 71 %RH, -2.7 °C on a newer DHT11: 0x47=71, 0x00, 0x02=2, 0x87 = sign bit + .7;
// checksum 71+0+2+135 = 208 = 0xD0.
const std::vector<std::uint32_t> kFrame71RhMinus2C7 = {
    26, 76, 24, 23, 31, 71, 73, 69,  // 0x47
    30, 23, 31, 22, 31, 25, 29, 30,  // 0x00
    28, 27, 29, 31, 29, 27, 72, 25,  // 0x02
    70, 25, 23, 31, 26, 76, 75, 73,  // 0x87
    75, 72, 31, 69, 23, 30, 28, 24,  // 0xD0
};

// 37 %RH, 26 °C from an older DHT11 (tenths always 0): 0x25, 0x00, 0x1A, 0x00; checksum 63 = 0x3F.
const std::vector<std::uint32_t> kFrame37Rh26C = {
    27, 24, 75, 28, 22, 69, 30, 73,  // 0x25
    27, 27, 31, 29, 31, 29, 23, 23,  // 0x00
    26, 29, 23, 68, 72, 31, 75, 26,  // 0x1A
    28, 27, 22, 29, 27, 24, 31, 23,  // 0x00
    29, 22, 71, 72, 70, 71, 74, 74,  // 0x3F
};

TEST(Dht11, DecodesRecordedFrames) {
  auto a = decode_dht11_frame(kFrame45Rh23C4);
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_DOUBLE_EQ(humidity(*a), 45.0);
  EXPECT_DOUBLE_EQ(temperature(*a), 23.4);

  auto c = decode_dht11_frame(kFrame37Rh26C);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_DOUBLE_EQ(humidity(*c), 37.0);
  EXPECT_DOUBLE_EQ(temperature(*c), 26.0);
}

TEST(Dht11, DecodesNegativeTemperatureAsSignAndMagnitude) {
  auto b = decode_dht11_frame(kFrame71RhMinus2C7);
  ASSERT_TRUE(b) << b.error().message;
  EXPECT_DOUBLE_EQ(humidity(*b), 71.0);
  EXPECT_DOUBLE_EQ(temperature(*b), -2.7);
}

TEST(Dht11, ExtractsBytesMsbFirst) {
  auto bytes = dht11_bytes_from_widths(kFrame71RhMinus2C7);
  ASSERT_TRUE(bytes);
  EXPECT_EQ(*bytes, (Dht11Bytes{0x47, 0x00, 0x02, 0x87, 0xD0}));
}

TEST(Dht11, RefusesChecksumMismatch) {
  auto frame = kFrame45Rh23C4;
  frame[39] = 70;  // checksum byte 0x48 -> 0x49
  auto r = decode_dht11_frame(frame);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::corrupt);
  EXPECT_THAT(r.error().message, HasSubstr("checksum"));
}

TEST(Dht11, RefusesFrameWithOneDataBitFlipped) {
  auto frame = kFrame45Rh23C4;
  frame[23] = 25;  // temperature integer 0x17 -> 0x16: 22.4 °C, but the checksum still says 72
  auto r = decode_dht11_frame(frame);
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message, HasSubstr("checksum"));
}

TEST(Dht11, RefusesShortAndLongFrames) {
  auto short_frame = kFrame45Rh23C4;
  short_frame.pop_back();  // a missed edge
  auto r = decode_dht11_frame(short_frame);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::corrupt);
  EXPECT_THAT(r.error().message, HasSubstr("framing"));

  auto long_frame = kFrame45Rh23C4;
  long_frame.push_back(27);
  EXPECT_FALSE(decode_dht11_frame(long_frame));
  EXPECT_FALSE(decode_dht11_frame(std::vector<std::uint32_t>{}));
}

TEST(Dht11, RefusesPulsesOutsideThePlausibleWindow) {
  for (std::uint32_t width : {0U, 9U, 101U, 150U}) {
    auto frame = kFrame37Rh26C;
    frame[5] = width;  // was a 1 bit (69 µs)
    auto r = decode_dht11_frame(frame);
    ASSERT_FALSE(r) << width;
    EXPECT_THAT(r.error().message, HasSubstr("framing")) << width;
  }
  for (std::uint32_t width : {10U, 100U}) {  // the window's edges are bits
    auto frame = kFrame37Rh26C;
    frame[0] = width;
    EXPECT_TRUE(dht11_bytes_from_widths(frame)) << width;
  }
}

TEST(Dht11, SplitsBitsAtFiftyMicroseconds) {
  auto frame = kFrame45Rh23C4;
  frame[0] = 50;  // still a 0
  auto zero = dht11_bytes_from_widths(frame);
  ASSERT_TRUE(zero);
  EXPECT_EQ((*zero)[0], 0x2D);
  frame[0] = 51;  // now a 1
  auto one = dht11_bytes_from_widths(frame);
  ASSERT_TRUE(one);
  EXPECT_EQ((*one)[0], 0xAD);
}

TEST(Dht11, RefusesValuesOutsideTheProtocolRangeEvenWithAValidChecksum) {
  // 110 %RH: impossible, but the checksum cannot tell.
  auto high_rh = decode_dht11_bytes({110, 0, 20, 0, dht11_checksum(110, 0, 20, 0)});
  ASSERT_FALSE(high_rh);
  EXPECT_EQ(high_rh.error().code, Errc::corrupt);
  EXPECT_THAT(high_rh.error().message, HasSubstr("implausible"));
  // 200 °C.
  EXPECT_FALSE(decode_dht11_bytes({40, 0, 200, 0, dht11_checksum(40, 0, 200, 0)}));
  // -60 °C.
  EXPECT_FALSE(decode_dht11_bytes({40, 0, 60, 0x80, dht11_checksum(40, 0, 60, 0x80)}));
  // Tenths above 9 are not a DHT11 encoding.
  EXPECT_FALSE(decode_dht11_bytes({40, 10, 20, 0, dht11_checksum(40, 10, 20, 0)}));
  EXPECT_FALSE(decode_dht11_bytes({40, 0, 20, 0x8A, dht11_checksum(40, 0, 20, 0x8A)}));
}

TEST(Dht11, AcceptsReadingsOutsideTheDatasheetAccuracyRange) {
  // 95 %RH at 55 °C is outside the DHT11's specified 20–90 %RH / 0–50 °C but a real reading.
  auto r = decode_dht11_bytes({95, 0, 55, 0, dht11_checksum(95, 0, 55, 0)});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_DOUBLE_EQ(humidity(*r), 95.0);
  EXPECT_DOUBLE_EQ(temperature(*r), 55.0);
}

TEST(Dht11, ChecksumIsTheLowByteOfTheSum) {
  EXPECT_EQ(dht11_checksum(45, 0, 23, 4), 0x48);
  EXPECT_EQ(dht11_checksum(200, 9, 100, 0x89), (200 + 9 + 100 + 0x89) & 0xFF);  // wraps
}

TEST(Dht11, EncoderProducesWidthsTheDecoderReadsBack) {
  const Dht11Bytes bytes{0x47, 0x00, 0x02, 0x87, 0xD0};
  auto widths = dht11_widths_from_bytes(bytes);
  EXPECT_EQ(widths[0], 27U);  // 0x47 starts with a 0 bit
  EXPECT_EQ(widths[1], 70U);
  auto decoded = dht11_bytes_from_widths(widths);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(*decoded, bytes);
}

}  // namespace
}  // namespace kelvin::device
