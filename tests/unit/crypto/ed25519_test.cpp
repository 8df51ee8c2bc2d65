#include "kelvin/crypto/ed25519.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <fstream>
#include <string>

#include "kelvin/crypto/keys.hpp"
#include "kelvin/crypto/openssl.hpp"
#include "kelvin/testing/process.hpp"
#include "kelvin/testing/temp_dir.hpp"

namespace kelvin::crypto {
namespace {

std::string from_hex(std::string_view hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
  }
  return out;
}

// RFC 8032 §7.1, TEST 2 (one-byte message 0x72).
constexpr std::string_view kRfcSecret = "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb";
constexpr std::string_view kRfcPublic = "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c";
constexpr std::string_view kRfcSignature =
    "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
    "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00";

std::string rfc_private_key_pem() {
  const std::string secret = from_hex(kRfcSecret);
  PKey key(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr,
                                        reinterpret_cast<const unsigned char*>(secret.data()), secret.size()));
  EXPECT_TRUE(key != nullptr);
  auto pem = private_key_to_pem(key.get(), std::nullopt);
  EXPECT_TRUE(pem.ok());
  return pem.ok() ? *pem : std::string();
}

TEST(Ed25519Test, SignsTheRfc8032VectorAndVerifiesIt) {
  auto key = Ed25519PrivateKey::from_pem(rfc_private_key_pem(), std::nullopt, "rfc key");
  ASSERT_TRUE(key.ok()) << key.error().message;
  EXPECT_EQ(key->public_key().raw(), from_hex(kRfcPublic));
  auto signature = key->sign(from_hex("72"));
  ASSERT_TRUE(signature.ok()) << signature.error().message;
  EXPECT_EQ(*signature, from_hex(kRfcSignature));
  EXPECT_TRUE(key->public_key().verify(from_hex("72"), *signature));
}

TEST(Ed25519Test, RefusesAlteredMessagesSignaturesAndOtherKeys) {
  auto key = Ed25519PrivateKey::generate();
  auto other = Ed25519PrivateKey::generate();
  ASSERT_TRUE(key.ok() && other.ok());
  const std::string message = "DSSEv1 4 type 7 payload";
  auto signature = key->sign(message);
  ASSERT_TRUE(signature.ok());
  EXPECT_TRUE(key->public_key().verify(message, *signature));
  EXPECT_FALSE(key->public_key().verify("DSSEv1 4 type 7 paylaod", *signature));
  std::string flipped = *signature;
  flipped[10] ^= 0x01;
  EXPECT_FALSE(key->public_key().verify(message, flipped));
  EXPECT_FALSE(key->public_key().verify(message, signature->substr(0, 63)));
  EXPECT_FALSE(key->public_key().verify(message, ""));
  EXPECT_FALSE(other->public_key().verify(message, *signature));
  EXPECT_NE(key->public_key().key_id(), other->public_key().key_id());
  EXPECT_EQ(key->public_key().key_id().size(), 16u);
}

TEST(Ed25519Test, PemRoundTripsWithAndWithoutPassphrase) {
  auto key = Ed25519PrivateKey::generate();
  ASSERT_TRUE(key.ok());
  for (const auto& passphrase : {std::optional<std::string>(), std::optional<std::string>("correct horse")}) {
    auto pem = key->to_pem(passphrase);
    ASSERT_TRUE(pem.ok());
    EXPECT_EQ(is_encrypted_private_key_pem(*pem), passphrase.has_value());
    auto back = Ed25519PrivateKey::from_pem(*pem, passphrase, "key.pem");
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(back->public_key().raw(), key->public_key().raw());
  }
  auto encrypted = key->to_pem(std::string("correct horse"));
  ASSERT_TRUE(encrypted.ok());
  auto wrong = Ed25519PrivateKey::from_pem(*encrypted, std::string("wrong"), "key.pem");
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code, Errc::bad_credentials);

  auto public_pem = key->public_key().to_pem();
  ASSERT_TRUE(public_pem.ok());
  auto public_back = Ed25519PublicKey::from_pem(*public_pem, "key.pub");
  ASSERT_TRUE(public_back.ok()) << public_back.error().message;
  EXPECT_EQ(public_back->raw(), key->public_key().raw());
}

TEST(Ed25519Test, RefusesKeysOfAnotherType) {
  PKey p256(EVP_EC_gen("P-256"));
  auto private_pem = private_key_to_pem(p256.get(), std::nullopt);
  auto public_pem = public_key_to_pem(p256.get());
  ASSERT_TRUE(private_pem.ok() && public_pem.ok());
  auto as_private = Ed25519PrivateKey::from_pem(*private_pem, std::nullopt, "ca.key");
  ASSERT_FALSE(as_private.ok());
  EXPECT_EQ(as_private.error().code, Errc::invalid_argument);
  EXPECT_NE(as_private.error().message.find("not an Ed25519"), std::string::npos) << as_private.error().message;
  auto as_public = Ed25519PublicKey::from_pem(*public_pem, "ca.pub");
  ASSERT_FALSE(as_public.ok());
  EXPECT_NE(as_public.error().message.find("not an Ed25519"), std::string::npos);
  EXPECT_FALSE(Ed25519PublicKey::from_pem("not a key", "x").ok());
  EXPECT_FALSE(Ed25519PublicKey::from_raw(std::string(31, 'a')).ok());
}

void write(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

// The files are the standard forms: the openssl command line verifies kelvin's signatures, and
// kelvin verifies its.
TEST(Ed25519Test, InteroperatesWithTheOpensslCommandLine) {
  testing::TempDir dir;
  auto key = Ed25519PrivateKey::generate();
  ASSERT_TRUE(key.ok());
  write(dir / "release.pub", *key->public_key().to_pem());
  write(dir / "release.key", *key->to_pem(std::nullopt));
  write(dir / "message", "DSSEv1 3 abc 5 hello");
  write(dir / "kelvin.sig", *key->sign("DSSEv1 3 abc 5 hello"));

  auto verified =
      testing::run_command({"openssl", "pkeyutl", "-verify", "-pubin", "-inkey", (dir / "release.pub").string(),
                            "-rawin", "-in", (dir / "message").string(), "-sigfile", (dir / "kelvin.sig").string()});
  EXPECT_EQ(verified.exit_code, 0) << testing::describe(verified);

  auto signed_by_openssl =
      testing::run_command({"openssl", "pkeyutl", "-sign", "-inkey", (dir / "release.key").string(), "-rawin", "-in",
                            (dir / "message").string(), "-out", (dir / "openssl.sig").string()});
  ASSERT_EQ(signed_by_openssl.exit_code, 0) << testing::describe(signed_by_openssl);
  const std::string openssl_signature = testing::read_text(dir / "openssl.sig");
  EXPECT_TRUE(key->public_key().verify("DSSEv1 3 abc 5 hello", openssl_signature));
  EXPECT_FALSE(key->public_key().verify("DSSEv1 3 abc 5 hellO", openssl_signature));
}

}  // namespace
}  // namespace kelvin::crypto
