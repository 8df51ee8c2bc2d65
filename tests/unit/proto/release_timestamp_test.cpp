#include "kelvin/proto/release_timestamp.hpp"

#include <gtest/gtest.h>

#include <string>

#include "fake_release_key.hpp"
#include "kelvin/core/utc_time.hpp"
#include "kelvin/proto/signed_envelope.hpp"

namespace kelvin::proto {
namespace {

ReleaseTimestamp sample() {
  ReleaseTimestamp timestamp;
  timestamp.product = "thermo-linux";
  timestamp.version = FirmwareVersion{1, 2, 0};
  timestamp.security_version = 3;
  timestamp.issued = *parse_utc_seconds("2026-12-05T08:00:00Z");
  timestamp.expires = *parse_utc_seconds("2027-01-04T08:00:00Z");
  return timestamp;
}

std::string envelope_of(const FakeKey& key, std::string_view type, std::string payload) {
  SignedEnvelope envelope;
  envelope.payload_type = std::string(type);
  envelope.payload = std::move(payload);
  envelope.signatures.push_back(
      {std::string(key.key_id()), key.sign(pre_authentication_encoding(type, envelope.payload))});
  return encode_envelope(envelope);
}

TEST(ReleaseTimestampTest, EncodesTheDocumentedJsonAndReadsItBack) {
  const std::string json = encode_release_timestamp(sample());
  EXPECT_EQ(json, R"({"product":"thermo-linux","version":"1.2.0","security_version":3,)"
                  R"("issued":"2026-12-05T08:00:00Z","expires":"2027-01-04T08:00:00Z"})");
  auto decoded = decode_release_timestamp(json);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(decoded->product, "thermo-linux");
  EXPECT_EQ(decoded->version, (FirmwareVersion{1, 2, 0}));
  EXPECT_EQ(decoded->security_version, 3u);
  EXPECT_EQ(decoded->issued, sample().issued);
  EXPECT_EQ(decoded->expires, sample().expires);
}

TEST(ReleaseTimestampTest, RefusesAnythingElse) {
  const std::string good = encode_release_timestamp(sample());
  auto with = [&](std::string from, std::string to) {
    std::string text = good;
    text.replace(text.find(from), from.size(), to);
    return text;
  };
  for (const std::string& text : {
           std::string("[]"),
           good + " x",
           with(R"("product":"thermo-linux")", R"("product":"Thermo")"),
           with(R"("version":"1.2.0")", R"("version":"1.2")"),
           with(R"("security_version":3)", R"("security_version":-3)"),
           with(R"("security_version":3)", R"("security_version":4294967296)"),
           with(R"("issued":"2026-12-05T08:00:00Z")", R"("issued":"2026-12-05 08:00:00")"),
           with(R"("issued":"2026-12-05T08:00:00Z")", R"("issued":1796457600)"),
           with(R"("expires":"2027-01-04T08:00:00Z")", R"("expires":"2026-12-05T08:00:00Z")"),  // not after issued
           with(R"("expires":"2027-01-04T08:00:00Z")", R"("expires":"2027-12-07T08:00:00Z")"),  // over 366 days
           with(R"("expires":"2027-01-04T08:00:00Z")", R"("expires":"2027-02-30T08:00:00Z")"),
           with(R"(,"expires":"2027-01-04T08:00:00Z")", ""),
           with(R"("product")", R"("product":"x","product")"),
           with(R"("product")", R"("extra":1,"product")"),
           std::string(kMaxTimestampBytes + 1, ' '),
       }) {
    EXPECT_FALSE(decode_release_timestamp(text).ok()) << text;
  }
}

TEST(ReleaseTimestampTest, OpensOnlyWithItsOwnPayloadTypeAndTheKey) {
  FakeKey key("k1");
  const std::string payload = encode_release_timestamp(sample());
  auto opened = open_release_timestamp(envelope_of(key, kReleaseTimestampType, payload), key);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  EXPECT_EQ(opened->version, (FirmwareVersion{1, 2, 0}));

  // A signature the key made over a manifest-typed envelope never passes as a timestamp's.
  auto as_manifest_type = open_release_timestamp(envelope_of(key, kReleaseManifestType, payload), key);
  ASSERT_FALSE(as_manifest_type.ok());
  EXPECT_EQ(as_manifest_type.error().code, Errc::invalid_argument);
  EXPECT_FALSE(open_release_envelope(envelope_of(key, kReleaseTimestampType, payload), key).ok());

  FakeKey other("k2");
  auto by_other = open_release_timestamp(envelope_of(other, kReleaseTimestampType, payload), key);
  ASSERT_FALSE(by_other.ok());
  EXPECT_EQ(by_other.error().code, Errc::bad_credentials);
  EXPECT_NE(by_other.error().message.find("release timestamp is not signed by the release key k1"), std::string::npos)
      << by_other.error().message;
}

}  // namespace
}  // namespace kelvin::proto
