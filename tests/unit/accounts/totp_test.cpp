#include "kelvin/accounts/totp.hpp"

#include <gtest/gtest.h>

#include <string>

namespace kelvin::accounts {
namespace {

// RFC 6238 appendix B's SHA-1 secret, "12345678901234567890".
const std::string kRfcSecret = base32_encode(std::vector<std::uint8_t>{
    '1', '2', '3', '4', '5', '6', '7', '8', '9', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '0'});

TEST(Totp, MatchesRfc6238Vectors) {
  const auto secret = *base32_decode(kRfcSecret);
  // The RFC's 8-digit values, of which a 6-digit code is the last six.
  EXPECT_EQ(totp_code(secret, totp_step(59'000)), "287082");
  EXPECT_EQ(totp_code(secret, totp_step(1'111'111'109'000)), "081804");
  EXPECT_EQ(totp_code(secret, totp_step(1'234'567'890'000)), "005924");
  EXPECT_EQ(totp_code(secret, totp_step(2'000'000'000'000)), "279037");
}

TEST(Totp, AcceptsOneStepOfDriftEitherWayAndNothingElse) {
  const auto secret = *base32_decode(kRfcSecret);
  const std::int64_t now = 1'234'567'890'000;
  const std::int64_t step = totp_step(now);
  EXPECT_EQ(match_totp(kRfcSecret, totp_code(secret, step), now), step);
  EXPECT_EQ(match_totp(kRfcSecret, totp_code(secret, step - 1), now), step - 1);
  EXPECT_EQ(match_totp(kRfcSecret, totp_code(secret, step + 1), now), step + 1);
  EXPECT_EQ(match_totp(kRfcSecret, totp_code(secret, step - 2), now), std::nullopt);
  EXPECT_EQ(match_totp(kRfcSecret, totp_code(secret, step + 2), now), std::nullopt);
}

TEST(Totp, RefusesMalformedCodesAndSecrets) {
  const std::int64_t now = 59'000;
  EXPECT_EQ(match_totp(kRfcSecret, "287 082", now), totp_step(now));  // spaces as apps show them
  EXPECT_EQ(match_totp(kRfcSecret, "28708", now), std::nullopt);
  EXPECT_EQ(match_totp(kRfcSecret, "2870822", now), std::nullopt);
  EXPECT_EQ(match_totp(kRfcSecret, "28708a", now), std::nullopt);
  EXPECT_EQ(match_totp(kRfcSecret, "", now), std::nullopt);
  EXPECT_EQ(match_totp("not base32!", "287082", now), std::nullopt);
  EXPECT_EQ(match_totp("", "287082", now), std::nullopt);
}

TEST(Base32, RoundTripsAndReadsWhatPeopleType) {
  const std::vector<std::uint8_t> bytes{0x00, 0xff, 0x10, 0x20, 0x7f, 0x80, 0x01};
  const std::string text = base32_encode(bytes);
  EXPECT_EQ(base32_decode(text), bytes);
  std::string typed;
  for (char c : text) typed += static_cast<char>(std::tolower(c));
  EXPECT_EQ(base32_decode(typed + "=="), bytes);
  EXPECT_EQ(base32_encode(std::vector<std::uint8_t>{'f', 'o', 'o', 'b', 'a', 'r'}), "MZXW6YTBOI");  // RFC 4648
  EXPECT_EQ(base32_decode("MZXW6YTB0I"), std::nullopt);  // '0' is not in the alphabet
}

TEST(Totp, NewSecretsAre160BitsAndFresh) {
  auto first = new_totp_secret();
  auto second = new_totp_secret();
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(base32_decode(*first)->size(), 20u);
  EXPECT_NE(*first, *second);
}

TEST(Totp, UriIsTheKeyUriFormatWithEscapedNames) {
  EXPECT_EQ(totp_uri("kelvin gw", "ann", "ABC"),
            "otpauth://totp/kelvin%20gw:ann?secret=ABC&issuer=kelvin%20gw&algorithm=SHA1&digits=6&period=30");
}

}  // namespace
}  // namespace kelvin::accounts
