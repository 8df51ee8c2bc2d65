#include "kelvin/gateway/crl_renewer.hpp"

#include <gtest/gtest.h>

#include <ctime>

#include "kelvin/core/files.hpp"
#include "kelvin/crypto/pem_inspection.hpp"
#include "kelvin/pki/certificate_authority.hpp"
#include "kelvin/testing/temp_dir.hpp"

namespace kelvin::gateway {
namespace {

constexpr std::time_t kDay = 86400;

std::time_t crl_next_update(const std::filesystem::path& pki_dir) {
  auto pem = files::read_file(pki::PkiPaths(pki_dir).crl());
  EXPECT_TRUE(pem.ok());
  auto next_update = crypto::crl_next_update(*pem, "crl.pem");
  EXPECT_TRUE(next_update.ok());
  return next_update.ok() ? *next_update : -1;
}

// A CA whose CRL was made `age` ago (so it expires 7 days after that).
std::filesystem::path make_ca(const testing::TempDir& dir, std::time_t now, std::time_t age,
                              std::optional<std::string> passphrase = std::nullopt) {
  auto pki_dir = dir / "pki";
  pki::InitOptions options;
  options.passphrase = passphrase;
  auto ca = pki::CertificateAuthority::init(pki_dir, options, now - age);
  EXPECT_TRUE(ca.ok()) << ca.error().message;
  return pki_dir;
}

TEST(CrlRenewer, LeavesAFreshCrlAlone) {
  testing::TempDir dir;
  const std::time_t now = std::time(nullptr);
  auto pki_dir = make_ca(dir, now, 1 * kDay);
  const std::time_t before = crl_next_update(pki_dir);
  auto checked = CrlRenewer(pki_dir, std::nullopt).check(now);
  ASSERT_TRUE(checked.ok()) << checked.error().message;
  EXPECT_EQ(*checked, CrlCheck::fresh);
  EXPECT_EQ(crl_next_update(pki_dir), before);
}

TEST(CrlRenewer, RenewsACrlThatExpiresWithinTwoDays) {
  testing::TempDir dir;
  const std::time_t now = std::time(nullptr);
  auto pki_dir = make_ca(dir, now, 6 * kDay);  // one day left
  auto checked = CrlRenewer(pki_dir, std::nullopt).check(now);
  ASSERT_TRUE(checked.ok()) << checked.error().message;
  EXPECT_EQ(*checked, CrlCheck::renewed);
  EXPECT_NEAR(static_cast<double>(crl_next_update(pki_dir)), static_cast<double>(now + 7 * kDay), 60.0);
}

TEST(CrlRenewer, EncryptedCaKeyNeedsThePassphrase) {
  testing::TempDir dir;
  const std::time_t now = std::time(nullptr);
  auto pki_dir = make_ca(dir, now, 6 * kDay, "correct horse");
  const std::time_t before = crl_next_update(pki_dir);

  auto refused = CrlRenewer(pki_dir, std::nullopt).check(now);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("kelvinctl pki crl"), std::string::npos) << refused.error().message;
  EXPECT_EQ(crl_next_update(pki_dir), before);

  auto renewed = CrlRenewer(pki_dir, "correct horse").check(now);
  ASSERT_TRUE(renewed.ok()) << renewed.error().message;
  EXPECT_EQ(*renewed, CrlCheck::renewed);
}

}  // namespace
}  // namespace kelvin::gateway
