#include "kelvin/proto/signed_envelope.hpp"

#include <gtest/gtest.h>

#include <string>

#include "fake_release_key.hpp"
#include "kelvin/core/base64.hpp"

namespace kelvin::proto {
namespace {

ReleaseManifest sample_manifest() {
  ReleaseManifest manifest;
  manifest.product = "thermo";
  manifest.version = FirmwareVersion{2, 0, 0};
  manifest.security_version = 1;
  manifest.size = 1000;
  manifest.sha256 = std::string(64, 'b');
  manifest.created = "2026-12-04T21:00:00Z";
  return manifest;
}

SignedEnvelope signed_by(const FakeKey& key, std::string payload, std::string_view type = kReleaseManifestType) {
  SignedEnvelope envelope;
  envelope.payload_type = std::string(type);
  envelope.payload = std::move(payload);
  envelope.signatures.push_back(
      {std::string(key.key_id()), key.sign(pre_authentication_encoding(type, envelope.payload))});
  return envelope;
}

// The example of the DSSE specification (protocol.md of secure-systems-lab/dsse).
TEST(SignedEnvelopeTest, PreAuthenticationEncodingIsDsseV1) {
  EXPECT_EQ(pre_authentication_encoding("http://example.com/HelloWorld", "hello world"),
            "DSSEv1 29 http://example.com/HelloWorld 11 hello world");
  EXPECT_EQ(pre_authentication_encoding("", ""), "DSSEv1 0  0 ");
}

TEST(SignedEnvelopeTest, RoundTrips) {
  FakeKey key("0123456789abcdef");
  const SignedEnvelope envelope = signed_by(key, std::string("bytes\0with nul", 14));
  auto decoded = decode_envelope(encode_envelope(envelope));
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(decoded->payload_type, envelope.payload_type);
  EXPECT_EQ(decoded->payload, envelope.payload);
  ASSERT_EQ(decoded->signatures.size(), 1u);
  EXPECT_EQ(decoded->signatures[0].key_id, "0123456789abcdef");
  EXPECT_EQ(decoded->signatures[0].signature, envelope.signatures[0].signature);
}

TEST(SignedEnvelopeTest, OpensAManifestSignedByTheKey) {
  FakeKey key("k1");
  auto manifest =
      open_release_envelope(encode_envelope(signed_by(key, encode_release_manifest(sample_manifest()))), key);
  ASSERT_TRUE(manifest.ok()) << manifest.error().message;
  EXPECT_EQ(manifest->product, "thermo");
  EXPECT_EQ(manifest->version, (FirmwareVersion{2, 0, 0}));
}

TEST(SignedEnvelopeTest, RefusesAnotherKeyAnAlteredPayloadAndAnotherType) {
  FakeKey key("k1");
  FakeKey other("k2");
  const std::string payload = encode_release_manifest(sample_manifest());

  auto by_other = open_release_envelope(encode_envelope(signed_by(other, payload)), key);
  ASSERT_FALSE(by_other.ok());
  EXPECT_EQ(by_other.error().code, Errc::bad_credentials);
  EXPECT_NE(by_other.error().message.find("not signed by the release key k1 (signed by key k2)"), std::string::npos)
      << by_other.error().message;

  // Another key that claims this key's id: the id is a hint, the signature decides.
  SignedEnvelope impostor = signed_by(other, payload);
  impostor.signatures[0].key_id = "k1";
  auto claimed = open_release_envelope(encode_envelope(impostor), key);
  ASSERT_FALSE(claimed.ok());
  EXPECT_EQ(claimed.error().code, Errc::bad_credentials);
  EXPECT_NE(claimed.error().message.find("does not verify"), std::string::npos);

  SignedEnvelope altered = signed_by(key, payload);
  altered.payload.replace(altered.payload.find("\"security_version\":1"), 20, "\"security_version\":0");
  auto tampered = open_release_envelope(encode_envelope(altered), key);
  ASSERT_FALSE(tampered.ok());
  EXPECT_EQ(tampered.error().code, Errc::bad_credentials);

  // A signature the key made over something else (another type) is not a release's signature.
  auto other_type = open_release_envelope(encode_envelope(signed_by(key, payload, "text/plain")), key);
  ASSERT_FALSE(other_type.ok());
  EXPECT_EQ(other_type.error().code, Errc::invalid_argument);
  SignedEnvelope relabelled = signed_by(key, payload, "text/plain");
  relabelled.payload_type = std::string(kReleaseManifestType);
  auto relabel = open_release_envelope(encode_envelope(relabelled), key);
  ASSERT_FALSE(relabel.ok());
  EXPECT_EQ(relabel.error().code, Errc::bad_credentials);
}

TEST(SignedEnvelopeTest, TextFromAHostileEnvelopeIsQuotedWithoutControlCharacters) {
  FakeKey key("k1");
  FakeKey other("k2\n\x1b[31mforged log line");
  auto refused = open_release_envelope(encode_envelope(signed_by(other, "x")), key);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().message.find('\n'), std::string::npos) << refused.error().message;
  EXPECT_EQ(refused.error().message.find('\x1b'), std::string::npos);
  EXPECT_NE(refused.error().message.find("k2??[31mforged"), std::string::npos) << refused.error().message;
}

TEST(SignedEnvelopeTest, AcceptsTheKeysSignatureAmongOthers) {
  FakeKey key("k1");
  FakeKey other("k2");
  SignedEnvelope envelope = signed_by(other, encode_release_manifest(sample_manifest()));
  envelope.signatures.push_back({"k1", key.sign(pre_authentication_encoding(envelope.payload_type, envelope.payload))});
  EXPECT_TRUE(open_release_envelope(encode_envelope(envelope), key).ok());
}

TEST(SignedEnvelopeTest, ASignedButMalformedManifestIsRefused) {
  FakeKey key("k1");
  auto opened = open_release_envelope(encode_envelope(signed_by(key, R"({"product":"thermo"})")), key);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, Errc::invalid_argument);
  EXPECT_NE(opened.error().message.find("release manifest"), std::string::npos);
}

TEST(SignedEnvelopeTest, RefusesMalformedEnvelopes) {
  FakeKey key("k1");
  const std::string good = encode_envelope(signed_by(key, "x"));
  ASSERT_TRUE(decode_envelope(good).ok());
  const std::string sig = base64_encode("s");
  for (const std::string& bad : {
           std::string("{}"),
           std::string(R"({"payloadType":"t","payload":"eA==","signatures":[]})"),
           std::string(R"({"payloadType":"t","payload":"eA","signatures":[{"keyid":"k","sig":"cw=="}]})"),
           std::string(R"({"payloadType":"t","payload":"eA==","signatures":[{"keyid":"k","sig":"c w=="}]})"),
           std::string(R"({"payloadType":"t","payload":"eA==","signatures":[{"keyid":"k"}]})"),
           std::string(R"({"payloadType":"t","payload":"eA==","signatures":[{"keyid":"k","sig":"cw==","x":1}]})"),
           std::string(
               R"({"payloadType":"t","payload":"eA==","payload":"eQ==","signatures":[{"keyid":"k","sig":"cw=="}]})"),
           std::string(R"({"payloadType":"t","payload":"eA==","signatures":{"keyid":"k","sig":"cw=="}})"),
           std::string(R"({"payloadType":"t","payload":"eA==","signatures":[{"keyid":"k","sig":"cw=="}],"extra":0})"),
           std::string(R"({"payloadType":"t","payload":"eA==","signatures":[{"keyid":")") + std::string(65, 'k') +
               R"(","sig":"cw=="}]})",
           good.substr(0, good.size() - 3),
           std::string(kMaxEnvelopeBytes + 1, ' '),
       }) {
    EXPECT_FALSE(decode_envelope(bad).ok()) << bad;
  }
  std::string nine = R"({"payloadType":"t","payload":"eA==","signatures":[)";
  for (int i = 0; i < 9; ++i) nine += std::string(i ? "," : "") + R"({"keyid":"k","sig":"cw=="})";
  nine += "]}";
  EXPECT_FALSE(decode_envelope(nine).ok());
  std::string deep = R"({"payloadType":"t","payload":"eA==","signatures":[)" + std::string(20, '[') + "]}";
  EXPECT_FALSE(decode_envelope(deep).ok());
}

}  // namespace
}  // namespace kelvin::proto
