#include "kelvin/crypto/keys.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include <string>
#include <vector>

#include "crypto_test_support.hpp"

namespace kelvin::crypto {
namespace {

using test_support::fresh_key;

std::string pem_of(EVP_PKEY* key, const std::optional<std::string>& passphrase) {
  auto pem = private_key_to_pem(key, passphrase);
  if (!pem.ok()) {
    ADD_FAILURE() << pem.error().message;
    return {};
  }
  return *pem;
}

TEST(GenerateP256Key, IsAnEcKeyOnPrime256v1) {
  PKey key = fresh_key();
  ASSERT_TRUE(key != nullptr);
  EXPECT_EQ(EVP_PKEY_get_base_id(key.get()), EVP_PKEY_EC);
  EXPECT_EQ(EVP_PKEY_get_bits(key.get()), 256);
  char group[64] = {};
  std::size_t length = 0;
  ASSERT_EQ(EVP_PKEY_get_group_name(key.get(), group, sizeof group, &length), 1);
  EXPECT_STREQ(group, SN_X9_62_prime256v1);
  EXPECT_EQ(OBJ_sn2nid(group), NID_X9_62_prime256v1);
}

TEST(GenerateP256Key, HasAPrivateHalfThatSigns) {
  PKey key = fresh_key();
  ASSERT_TRUE(key != nullptr);
  const unsigned char message[] = "telemetry";
  OpenSslPtr<EVP_MD_CTX, EVP_MD_CTX_free> sign_ctx(EVP_MD_CTX_new());
  ASSERT_EQ(EVP_DigestSignInit(sign_ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()), 1);
  unsigned char signature[128];
  std::size_t signature_length = sizeof signature;
  ASSERT_EQ(EVP_DigestSign(sign_ctx.get(), signature, &signature_length, message, sizeof message), 1);
  OpenSslPtr<EVP_MD_CTX, EVP_MD_CTX_free> verify_ctx(EVP_MD_CTX_new());
  ASSERT_EQ(EVP_DigestVerifyInit(verify_ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()), 1);
  EXPECT_EQ(EVP_DigestVerify(verify_ctx.get(), signature, signature_length, message, sizeof message), 1);
}

TEST(GenerateP256Key, EveryKeyIsFresh) {
  PKey a = fresh_key();
  PKey b = fresh_key();
  ASSERT_TRUE(a != nullptr && b != nullptr);
  EXPECT_NE(EVP_PKEY_eq(a.get(), b.get()), 1);
}

TEST(PrivateKeyPem, UnencryptedRoundTrips) {
  PKey key = fresh_key();
  ASSERT_TRUE(key != nullptr);
  std::string pem = pem_of(key.get(), std::nullopt);
  EXPECT_NE(pem.find("-----BEGIN PRIVATE KEY-----"), std::string::npos) << pem;
  EXPECT_EQ(pem.find("ENCRYPTED"), std::string::npos);
  EXPECT_FALSE(is_encrypted_private_key_pem(pem));

  auto loaded = private_key_from_pem(pem, std::nullopt, "test.key");
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ(EVP_PKEY_eq(key.get(), loaded->get()), 1);
  // The private scalar survived too, not only the public point.
  BIGNUM* original_d = nullptr;
  BIGNUM* loaded_d = nullptr;
  ASSERT_EQ(EVP_PKEY_get_bn_param(key.get(), OSSL_PKEY_PARAM_PRIV_KEY, &original_d), 1);
  ASSERT_EQ(EVP_PKEY_get_bn_param(loaded->get(), OSSL_PKEY_PARAM_PRIV_KEY, &loaded_d), 1);
  BigNum original_owner(original_d);
  BigNum loaded_owner(loaded_d);
  EXPECT_EQ(BN_cmp(original_d, loaded_d), 0);
}

TEST(PrivateKeyPem, UnencryptedKeyIgnoresAGivenPassphrase) {
  PKey key = fresh_key();
  ASSERT_TRUE(key != nullptr);
  auto loaded = private_key_from_pem(pem_of(key.get(), std::nullopt), std::string("unused"), "test.key");
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ(EVP_PKEY_eq(key.get(), loaded->get()), 1);
}

TEST(PrivateKeyPem, PassphraseProducesEncryptedPkcs8ThatRoundTrips) {
  PKey key = fresh_key();
  ASSERT_TRUE(key != nullptr);
  std::string pem = pem_of(key.get(), std::string("correct horse"));
  EXPECT_NE(pem.find("-----BEGIN ENCRYPTED PRIVATE KEY-----"), std::string::npos) << pem;
  EXPECT_TRUE(is_encrypted_private_key_pem(pem));

  auto loaded = private_key_from_pem(pem, std::string("correct horse"), "ca.key");
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ(EVP_PKEY_eq(key.get(), loaded->get()), 1);
}

TEST(PrivateKeyPem, EncryptionIsPbes2WithPbkdf2HmacSha256AndAes256Cbc) {
  PKey key = fresh_key();
  ASSERT_TRUE(key != nullptr);
  std::string pem = pem_of(key.get(), std::string("pass"));
  Bio bio = memory_bio(pem);
  OpenSslPtr<X509_SIG, X509_SIG_free> sig(PEM_read_bio_PKCS8(bio.get(), nullptr, nullptr, nullptr));
  ASSERT_TRUE(sig != nullptr);
  const X509_ALGOR* algorithm = nullptr;
  X509_SIG_get0(sig.get(), &algorithm, nullptr);
  const ASN1_OBJECT* oid = nullptr;
  int parameter_type = 0;
  const void* parameter = nullptr;
  X509_ALGOR_get0(&oid, &parameter_type, &parameter, algorithm);
  ASSERT_EQ(OBJ_obj2nid(oid), NID_pbes2);
  ASSERT_EQ(parameter_type, V_ASN1_SEQUENCE);

  OpenSslPtr<PBE2PARAM, PBE2PARAM_free> pbes2(
      static_cast<PBE2PARAM*>(ASN1_item_unpack(static_cast<const ASN1_STRING*>(parameter), ASN1_ITEM_rptr(PBE2PARAM))));
  ASSERT_TRUE(pbes2 != nullptr);
  X509_ALGOR_get0(&oid, nullptr, nullptr, pbes2->encryption);
  EXPECT_EQ(OBJ_obj2nid(oid), NID_aes_256_cbc);
  X509_ALGOR_get0(&oid, &parameter_type, &parameter, pbes2->keyfunc);
  ASSERT_EQ(OBJ_obj2nid(oid), NID_id_pbkdf2);
  ASSERT_EQ(parameter_type, V_ASN1_SEQUENCE);
  OpenSslPtr<PBKDF2PARAM, PBKDF2PARAM_free> pbkdf2(static_cast<PBKDF2PARAM*>(
      ASN1_item_unpack(static_cast<const ASN1_STRING*>(parameter), ASN1_ITEM_rptr(PBKDF2PARAM))));
  ASSERT_TRUE(pbkdf2 != nullptr);
  ASSERT_TRUE(pbkdf2->prf != nullptr);  // absent would mean the hmacWithSHA1 default
  X509_ALGOR_get0(&oid, nullptr, nullptr, pbkdf2->prf);
  EXPECT_EQ(OBJ_obj2nid(oid), NID_hmacWithSHA256);
}

TEST(PrivateKeyPem, SamePassphraseEncryptsDifferentlyEachTime) {
  PKey key = fresh_key();
  ASSERT_TRUE(key != nullptr);
  EXPECT_NE(pem_of(key.get(), std::string("pass")), pem_of(key.get(), std::string("pass")));  // random salt/IV
}

TEST(PrivateKeyPem, EmptyPassphraseIsRefused) {
  PKey key = fresh_key();
  ASSERT_TRUE(key != nullptr);
  auto pem = private_key_to_pem(key.get(), std::string());
  ASSERT_FALSE(pem.ok());
  EXPECT_EQ(pem.error().code, Errc::bad_credentials);
}

TEST(PrivateKeyPem, PassphraseBeyondOpensslsBufferIsRefusedBothWays) {
  PKey key = fresh_key();
  ASSERT_TRUE(key != nullptr);
  const std::string longest(kMaxPassphraseBytes, 'p');
  auto pem = private_key_to_pem(key.get(), longest);
  ASSERT_TRUE(pem.ok()) << pem.error().message;
  EXPECT_TRUE(private_key_from_pem(*pem, longest, "key").ok());  // the limit itself still round-trips

  auto too_long = private_key_to_pem(key.get(), longest + "p");
  ASSERT_FALSE(too_long.ok());
  EXPECT_EQ(too_long.error().code, Errc::bad_credentials);
  auto read = private_key_from_pem(*pem, longest + "p", "key");
  ASSERT_FALSE(read.ok());
  EXPECT_THAT(read.error().message, ::testing::HasSubstr("longer than 1024"));
}

TEST(PrivateKeyPem, WrongPassphraseIsBadCredentials) {
  PKey key = fresh_key();
  ASSERT_TRUE(key != nullptr);
  std::string pem = pem_of(key.get(), std::string("correct horse"));
  auto loaded = private_key_from_pem(pem, std::string("battery staple"), "/etc/kelvin/ca.key");
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error().code, Errc::bad_credentials);
  EXPECT_NE(loaded.error().message.find("wrong passphrase"), std::string::npos) << loaded.error().message;
  EXPECT_NE(loaded.error().message.find("/etc/kelvin/ca.key"), std::string::npos) << loaded.error().message;
  EXPECT_EQ(ERR_peek_error(), 0u) << "OpenSSL error queue left non-empty";
}

TEST(PrivateKeyPem, MissingPassphraseForEncryptedKeyIsBadCredentials) {
  PKey key = fresh_key();
  ASSERT_TRUE(key != nullptr);
  std::string pem = pem_of(key.get(), std::string("correct horse"));
  auto loaded = private_key_from_pem(pem, std::nullopt, "ca.key");
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error().code, Errc::bad_credentials);
  EXPECT_NE(loaded.error().message.find("ca.key"), std::string::npos) << loaded.error().message;
  // Tells the operator a passphrase is needed, rather than that the (absent) one is wrong.
  EXPECT_NE(loaded.error().message.find("no passphrase"), std::string::npos) << loaded.error().message;
}

TEST(PrivateKeyPem, LegacyEncryptedPemIsRecognisedAndDecrypted) {
  PKey key = fresh_key();
  ASSERT_TRUE(key != nullptr);
  Bio bio(BIO_new(BIO_s_mem()));
  const std::string passphrase = "legacy pass";
  ASSERT_EQ(PEM_write_bio_PrivateKey_traditional(bio.get(), key.get(), EVP_aes_128_cbc(),
                                                 reinterpret_cast<const unsigned char*>(passphrase.data()),
                                                 static_cast<int>(passphrase.size()), nullptr, nullptr),
            1);
  std::string pem = bio_to_string(bio.get());
  ASSERT_NE(pem.find("Proc-Type: 4,ENCRYPTED"), std::string::npos) << pem;
  EXPECT_TRUE(is_encrypted_private_key_pem(pem));

  auto wrong = private_key_from_pem(pem, std::string("nope"), "legacy.key");
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code, Errc::bad_credentials);
  auto missing = private_key_from_pem(pem, std::nullopt, "legacy.key");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, Errc::bad_credentials);
  auto right = private_key_from_pem(pem, passphrase, "legacy.key");
  ASSERT_TRUE(right.ok()) << right.error().message;
  EXPECT_EQ(EVP_PKEY_eq(key.get(), right->get()), 1);
}

TEST(PrivateKeyPem, GarbageIsAnErrorButNotBadCredentials) {
  for (const std::string& garbage :
       std::vector<std::string>{std::string("not a key"), std::string(),
                                std::string("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")}) {
    auto loaded = private_key_from_pem(garbage, std::nullopt, "junk.pem");
    ASSERT_FALSE(loaded.ok()) << garbage;
    EXPECT_NE(loaded.error().code, Errc::bad_credentials) << garbage;
    EXPECT_NE(loaded.error().message.find("junk.pem"), std::string::npos) << loaded.error().message;
    EXPECT_EQ(ERR_peek_error(), 0u) << "OpenSSL error queue left non-empty";
  }
}

TEST(IsEncryptedPrivateKeyPem, DistinguishesMarkers) {
  EXPECT_TRUE(is_encrypted_private_key_pem("-----BEGIN ENCRYPTED PRIVATE KEY-----\n..."));
  EXPECT_TRUE(is_encrypted_private_key_pem("-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n"));
  EXPECT_FALSE(is_encrypted_private_key_pem("-----BEGIN PRIVATE KEY-----\n..."));
  EXPECT_FALSE(is_encrypted_private_key_pem(""));
}

TEST(PublicKeyPem, IsSubjectPublicKeyInfoOfTheSameKey) {
  PKey key = fresh_key();
  ASSERT_TRUE(key != nullptr);
  auto pem = public_key_to_pem(key.get());
  ASSERT_TRUE(pem.ok()) << pem.error().message;
  EXPECT_NE(pem->find("-----BEGIN PUBLIC KEY-----"), std::string::npos);
  EXPECT_EQ(pem->find("PRIVATE"), std::string::npos);
  Bio bio = memory_bio(*pem);
  PKey public_only(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  ASSERT_TRUE(public_only != nullptr);
  EXPECT_EQ(EVP_PKEY_eq(key.get(), public_only.get()), 1);
}

}  // namespace
}  // namespace kelvin::crypto
