// Password hashes, digests and random tokens (password_hash.hpp, digest.hpp, random.hpp).

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "kelvin/crypto/digest.hpp"
#include "kelvin/crypto/password_hash.hpp"
#include "kelvin/crypto/random.hpp"

namespace kelvin::crypto {
namespace {

TEST(PasswordHash, VerifiesTheRightPasswordOnlyAndIsArgon2id) {
  auto hash = hash_password("correct horse battery staple");
  ASSERT_TRUE(hash.ok()) << hash.error().message;
  EXPECT_EQ(hash->rfind("$argon2id$", 0), 0u) << *hash;
  EXPECT_NE(hash->find("m=65536,t=2"), std::string::npos) << *hash;  // 64 MiB, two passes
  EXPECT_TRUE(verify_password(*hash, "correct horse battery staple"));
  EXPECT_FALSE(verify_password(*hash, "correct horse battery stapl"));
  EXPECT_FALSE(verify_password(*hash, ""));
  EXPECT_FALSE(verify_password("not a hash", "correct horse battery staple"));
  EXPECT_FALSE(verify_password("", ""));
}

TEST(PasswordHash, SaltsEveryHash) {
  auto first = hash_password("same password twice");
  auto second = hash_password("same password twice");
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_NE(*first, *second);
}

TEST(PasswordHash, RefusesEmptyAndOverlongPasswords) {
  EXPECT_EQ(hash_password("").error().code, Errc::invalid_argument);
  EXPECT_EQ(hash_password(std::string(kMaxPasswordBytes + 1, 'x')).error().code, Errc::invalid_argument);
  auto longest = hash_password(std::string(kMaxPasswordBytes, 'x'));
  ASSERT_TRUE(longest.ok());
  EXPECT_TRUE(verify_password(*longest, std::string(kMaxPasswordBytes, 'x')));
  EXPECT_FALSE(verify_password(*longest, std::string(kMaxPasswordBytes + 1, 'x')));
}

TEST(Digest, Sha256MatchesTheStandardVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Digest, Sha256InPiecesEqualsTheWholeAndStartsOverAfterFinishing) {
  // FIPS 180-2's two-block vector, given in pieces of every size from 1 to its length.
  const std::string message = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  const std::string expected = "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";
  for (std::size_t piece = 1; piece <= message.size(); ++piece) {
    Sha256 digest;
    for (std::size_t at = 0; at < message.size(); at += piece) digest.update(std::string_view(message).substr(at, piece));
    EXPECT_EQ(digest.finish_hex(), expected) << piece;
  }
  Sha256 reused;
  reused.update("junk");
  (void)reused.finish_hex();
  reused.update("abc");
  EXPECT_EQ(reused.finish_hex(), sha256_hex("abc"));
}

TEST(Digest, HmacSha1MatchesRfc2202) {
  // RFC 2202 test case 2: key "Jefe", data "what do ya want for nothing?".
  const std::string key = "Jefe", data = "what do ya want for nothing?";
  const auto mac = hmac_sha1({reinterpret_cast<const std::uint8_t*>(key.data()), key.size()},
                             {reinterpret_cast<const std::uint8_t*>(data.data()), data.size()});
  std::string hex;
  for (auto byte : mac) {
    static constexpr char kDigits[] = "0123456789abcdef";
    hex += kDigits[byte >> 4];
    hex += kDigits[byte & 0x0f];
  }
  EXPECT_EQ(hex, "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
}

TEST(Digest, HmacSha256MatchesRfc4231) {
  // Test case 1: a 20-byte key of 0x0b.
  EXPECT_EQ(hmac_sha256_hex(std::string(20, '\x0b'), "Hi There"),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  // Test case 2: a key shorter than the output.
  EXPECT_EQ(hmac_sha256_hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // Test case 6: a 131-byte key of 0xaa, longer than SHA-256's 64-byte block, so hashed first.
  const std::string long_key(131, '\xaa');
  EXPECT_EQ(hmac_sha256_hex(long_key, "Test Using Larger Than Block-Size Key - Hash Key First"),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  // Test case 7: the same key with data longer than a block.
  EXPECT_EQ(hmac_sha256_hex(long_key,
                            "This is a test using a larger than block-size key and a larger than block-size data. "
                            "The key needs to be hashed before being used by the HMAC algorithm."),
            "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}

TEST(Digest, HmacSha256MatchesOpensslDgst) {
  // printf '%s' BODY | openssl dgst -sha256 -hmac 'kelvin-webhook-secret' (OpenSSL 3.0.19).
  EXPECT_EQ(
      hmac_sha256_hex("kelvin-webhook-secret", R"({"alert":"cpu_temperature","device":"sensor-01","value":81.5})"),
      "62b52c69600d4dcdc2c5d87f017daa0633d7eaa82f11f2b32ce6c8f103f25c7f");
  // printf '' | openssl dgst -sha256 -hmac '': an empty key and message are valid, also as spans
  // without data pointers (OpenSSL's HMAC() refuses a null key).
  const std::string empty_mac = "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad";
  EXPECT_EQ(hmac_sha256_hex("", ""), empty_mac);
  const auto mac = hmac_sha256({}, {});
  std::string hex;
  for (auto byte : mac) {
    static constexpr char kDigits[] = "0123456789abcdef";
    hex += kDigits[byte >> 4];
    hex += kDigits[byte & 0x0f];
  }
  EXPECT_EQ(hex, empty_mac);
}

TEST(Digest, ConstantTimeEqualComparesContentAndLength) {
  EXPECT_TRUE(constant_time_equal("abc", "abc"));
  EXPECT_TRUE(constant_time_equal("", ""));
  EXPECT_FALSE(constant_time_equal("abc", "abd"));
  EXPECT_FALSE(constant_time_equal("abc", "abcd"));
}

TEST(RandomToken, IsUnpaddedBase64UrlOfTheRightLengthAndFresh) {
  std::set<std::string> seen;
  for (int i = 0; i < 50; ++i) {
    auto token = random_token(32);
    ASSERT_TRUE(token.ok());
    EXPECT_EQ(token->size(), 43u);  // ceil(32 * 8 / 6)
    EXPECT_EQ(token->find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
              std::string::npos)
        << *token;
    seen.insert(*token);
  }
  EXPECT_EQ(seen.size(), 50u);
  EXPECT_EQ(random_token(1)->size(), 2u);
  EXPECT_EQ(random_token(0)->size(), 0u);
}

}  // namespace
}  // namespace kelvin::crypto
