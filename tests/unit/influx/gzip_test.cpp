// gzip(): one RFC 1952 member that zlib's own gzip decoder (gunzip.hpp) turns back into exactly
// the input, with the CRC-32 and length trailer InfluxDB's gzip reader checks.

#include "kelvin/influx/gzip.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>

#include "gunzip.hpp"

namespace kelvin::influx {
namespace {

using testing::gunzip;

std::uint32_t little_endian_u32(const std::string& bytes, std::size_t at) {
  std::uint32_t value = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    value |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[at + i])) << (8 * i);
  }
  return value;
}

// Line protocol as the exporter writes it: about 1 MiB, very compressible.
std::string line_protocol_mebibyte() {
  std::string text;
  for (int i = 0; text.size() < (1u << 20); ++i) {
    text += "kelvin_reading,device=sensor-" + std::to_string(i % 50) + " temperature=" + std::to_string(20 + i % 7) +
            ".5,humidity=" + std::to_string(40 + i % 13) + ".25,seq=" + std::to_string(i) + "i " +
            std::to_string(1732200000000 + i) + "\n";
  }
  return text;
}

// Bytes that deflate cannot shrink: the output is larger than the input.
std::string random_bytes(std::size_t size) {
  std::mt19937 engine(12345);
  std::uniform_int_distribution<int> byte(0, 255);
  std::string out(size, '\0');
  for (char& c : out) c = static_cast<char>(byte(engine));
  return out;
}

void expect_round_trip(const std::string& input, int level) {
  auto compressed = gzip(input, level);
  ASSERT_TRUE(compressed) << compressed.error().message;
  ASSERT_GE(compressed->size(), 18u);                             // 10-byte header + 8-byte trailer at least
  EXPECT_EQ(static_cast<unsigned char>((*compressed)[0]), 0x1f);  // gzip magic
  EXPECT_EQ(static_cast<unsigned char>((*compressed)[1]), 0x8b);
  EXPECT_EQ((*compressed)[2], 8);  // deflate
  // The trailer: CRC-32 and length of the uncompressed data (mod 2^32).
  const std::size_t trailer = compressed->size() - 8;
  EXPECT_EQ(little_endian_u32(*compressed, trailer),
            static_cast<std::uint32_t>(
                crc32(0, reinterpret_cast<const Bytef*>(input.data()), static_cast<uInt>(input.size()))));
  EXPECT_EQ(little_endian_u32(*compressed, trailer + 4), static_cast<std::uint32_t>(input.size()));
  auto inflated = gunzip(*compressed);
  ASSERT_TRUE(inflated.has_value()) << "not one valid gzip member";
  EXPECT_TRUE(*inflated == input) << "inflated " << inflated->size() << " bytes, expected " << input.size();
}

TEST(Gzip, RoundTripsAnEmptyInput) {
  expect_round_trip("", 6);
  expect_round_trip("", 0);
  expect_round_trip("", 9);
}

TEST(Gzip, RoundTripsASmallInput) {
  const std::string line = "kelvin_reading,device=sensor-01 temperature=21.5,humidity=40.2,seq=42i 1732200000123\n";
  expect_round_trip(line, 6);
  expect_round_trip(std::string("a\0b\xff", 4), 6);  // any bytes, NUL included
}

TEST(Gzip, RoundTripsAMebibyteAtEveryEndOfTheLevelRange) {
  const std::string text = line_protocol_mebibyte();
  for (int level : {0, 1, 6, 9}) {
    SCOPED_TRACE(level);
    expect_round_trip(text, level);
  }
}

TEST(Gzip, RoundTripsIncompressibleData) {
  const std::string noise = random_bytes(1u << 20);
  expect_round_trip(noise, 0);
  expect_round_trip(noise, 9);
}

TEST(Gzip, LevelZeroStoresAndHigherLevelsCompress) {
  const std::string text = line_protocol_mebibyte();
  auto stored = gzip(text, 0);
  auto default_level = gzip(text);
  auto smallest = gzip(text, 9);
  ASSERT_TRUE(stored && default_level && smallest);
  EXPECT_GT(stored->size(), text.size());  // stored blocks: the input plus framing
  EXPECT_LT(default_level->size(), text.size() / 4);
  EXPECT_LE(smallest->size(), default_level->size());
}

TEST(Gzip, RefusesLevelsOutsideZeroToNine) {
  for (int level : {-1, 10, -100, 100}) {
    SCOPED_TRACE(level);
    auto compressed = gzip("data", level);
    ASSERT_FALSE(compressed);
    EXPECT_EQ(compressed.error().code, Errc::invalid_argument);
    EXPECT_NE(compressed.error().message.find(std::to_string(level)), std::string::npos) << compressed.error().message;
  }
}

}  // namespace
}  // namespace kelvin::influx
