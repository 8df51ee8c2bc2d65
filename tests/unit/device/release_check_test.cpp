#include "kelvin/device/release_check.hpp"

#include <gtest/gtest.h>

#include <string>

#include "kelvin/crypto/ed25519.hpp"
#include "kelvin/release/release_image.hpp"
#include "kelvin/release/release_keys.hpp"

namespace kelvin::device {
namespace {

// Real Ed25519 keys: the pinned one, and another that signs just as well-formed releases.
class ReleaseCheckTest : public ::testing::Test {
 protected:
  ReleaseCheckTest()
      : key_(std::move(crypto::Ed25519PrivateKey::generate()).value()),
        other_(std::move(crypto::Ed25519PrivateKey::generate()).value()),
        pinned_(key_.public_key()) {
    running_.product = "thermo-linux";
    running_.version = proto::FirmwareVersion{1, 4, 0};
    running_.highest_security_version = 3;
    running_.slot_bytes = 4'000'000;
  }

  proto::ReleaseManifest manifest() const {
    proto::ReleaseManifest m;
    m.product = "thermo-linux";
    m.version = proto::FirmwareVersion{1, 5, 0};
    m.security_version = 3;
    m.size = 2'000'000;
    m.sha256 = std::string(64, 'c');
    m.created = "2026-12-04T21:00:00Z";
    return m;
  }

  ReleaseDecision offer(const proto::ReleaseManifest& m, const crypto::Ed25519PrivateKey& signer) const {
    auto envelope = release::sign_release(m, signer);
    EXPECT_TRUE(envelope.ok());
    return check_offered_release(envelope.ok() ? *envelope : std::string(), pinned_, running_);
  }
  ReleaseDecision offer(const proto::ReleaseManifest& m) const { return offer(m, key_); }

  crypto::Ed25519PrivateKey key_;
  crypto::Ed25519PrivateKey other_;
  release::PinnedReleaseKey pinned_;
  RunningFirmware running_;
};

TEST_F(ReleaseCheckTest, AcceptsANewerReleaseOfItsProductSignedByThePinnedKey) {
  auto decision = offer(manifest());
  ASSERT_TRUE(decision.accepted.has_value()) << decision.detail;
  EXPECT_EQ(decision.accepted->version, (proto::FirmwareVersion{1, 5, 0}));
  auto m = manifest();
  m.security_version = 4;  // a higher security version is what a security fix carries
  m.size = running_.slot_bytes;
  EXPECT_TRUE(offer(m).accepted.has_value());
}

TEST_F(ReleaseCheckTest, RefusesEachBadOfferWithItsReason) {
  struct Case {
    const char* what;
    proto::ReleaseManifest manifest;
    ReleaseRefusal expected;
  };
  auto changed = [&](auto change) {
    auto m = manifest();
    change(m);
    return m;
  };
  const Case cases[] = {
      {"another product", changed([](auto& m) { m.product = "thermo-esp32"; }), ReleaseRefusal::other_product},
      {"the same version", changed([](auto& m) {
         m.version = {1, 4, 0};
       }),
       ReleaseRefusal::not_newer},
      {"a downgrade", changed([](auto& m) {
         m.version = {1, 3, 9};
       }),
       ReleaseRefusal::not_newer},
      {"a lower security version", changed([](auto& m) { m.security_version = 2; }),
       ReleaseRefusal::security_version_too_low},
      {"too large for the slot", changed([&](auto& m) { m.size = running_.slot_bytes + 1; }),
       ReleaseRefusal::too_large},
  };
  for (const auto& c : cases) {
    auto decision = offer(c.manifest);
    EXPECT_FALSE(decision.accepted.has_value()) << c.what;
    EXPECT_EQ(decision.refusal, c.expected) << c.what << ": " << decision.detail;
    EXPECT_FALSE(decision.detail.empty()) << c.what;
  }
}

TEST_F(ReleaseCheckTest, RefusesAnotherKeysSignatureAndTampering) {
  auto foreign = offer(manifest(), other_);
  EXPECT_FALSE(foreign.accepted.has_value());
  EXPECT_EQ(foreign.refusal, ReleaseRefusal::bad_signature);
  EXPECT_STREQ(to_string(foreign.refusal), "bad_signature");

  // The signed manifest's bytes changed after signing (security version lowered to pass the check).
  auto envelope = proto::decode_envelope(*release::sign_release(manifest(), key_));
  ASSERT_TRUE(envelope.ok());
  auto& payload = envelope->payload;
  payload.replace(payload.find("\"version\":\"1.5.0\""), 17, "\"version\":\"1.6.0\"");
  auto tampered = check_offered_release(proto::encode_envelope(*envelope), pinned_, running_);
  EXPECT_FALSE(tampered.accepted.has_value());
  EXPECT_EQ(tampered.refusal, ReleaseRefusal::bad_signature);

  auto garbage = check_offered_release("{not json", pinned_, running_);
  EXPECT_EQ(garbage.refusal, ReleaseRefusal::malformed);
  EXPECT_STREQ(to_string(garbage.refusal), "malformed");
}

}  // namespace
}  // namespace kelvin::device
