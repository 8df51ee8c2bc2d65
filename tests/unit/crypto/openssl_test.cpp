#include "kelvin/crypto/openssl.hpp"

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include <string>

namespace kelvin::crypto {
namespace {

// Makes OpenSSL queue a real error: parsing something that is not a certificate.
void provoke_openssl_error() {
  const std::string junk = "-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----\n";
  Bio bio(BIO_new_mem_buf(junk.data(), static_cast<int>(junk.size())));
  Certificate cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  ASSERT_TRUE(cert == nullptr);
  ASSERT_NE(ERR_peek_error(), 0u);
}

TEST(DrainOpensslErrors, EmptyQueueGivesEmptyString) {
  ERR_clear_error();
  EXPECT_EQ(drain_openssl_errors(), "");
}

TEST(DrainOpensslErrors, EmptiesQueueAndDescribesReasons) {
  provoke_openssl_error();
  std::string text = drain_openssl_errors();
  EXPECT_FALSE(text.empty());
  EXPECT_EQ(ERR_peek_error(), 0u);
}

TEST(OpensslError, IsCryptoErrorPrefixedWithContextAndDrainsQueue) {
  provoke_openssl_error();
  Error e = openssl_error("cannot parse thing");
  EXPECT_EQ(e.code, Errc::crypto);
  EXPECT_EQ(e.message.rfind("cannot parse thing: ", 0), 0u) << e.message;
  EXPECT_GT(e.message.size(), std::string("cannot parse thing: ").size());
  EXPECT_EQ(ERR_peek_error(), 0u);
}

TEST(OpensslError, WithoutQueuedErrorsIsJustTheContext) {
  ERR_clear_error();
  Error e = openssl_error("nothing queued");
  EXPECT_EQ(e.code, Errc::crypto);
  EXPECT_EQ(e.message, "nothing queued");
}

TEST(BioToString, CopiesMemoryBioContents) {
  Bio bio(BIO_new(BIO_s_mem()));
  ASSERT_TRUE(bio != nullptr);
  EXPECT_EQ(bio_to_string(bio.get()), "");
  const std::string data("abc\0def", 7);
  ASSERT_EQ(BIO_write(bio.get(), data.data(), static_cast<int>(data.size())), 7);
  EXPECT_EQ(bio_to_string(bio.get()), data);
}

}  // namespace
}  // namespace kelvin::crypto
