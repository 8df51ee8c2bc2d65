// CertificateAuthority: init/open, the on-disk layout and its permissions, issuing, and the
// passphrase-protected CA key.
#include "kelvin/pki/certificate_authority.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "kelvin/core/files.hpp"
#include "kelvin/core/time_format.hpp"
#include "kelvin/crypto/keys.hpp"
#include "kelvin/crypto/x509.hpp"
#include "kelvin/testing/temp_dir.hpp"
#include "pki_test_support.hpp"

namespace kelvin::pki {
namespace {

namespace fs = std::filesystem;
using kelvin::testing::TempDir;

using namespace test_support;  // NOLINT(google-build-using-namespace): test-only helpers

crypto::PKey read_unencrypted_key(const fs::path& path) {
  auto key = crypto::private_key_from_pem(read_text(path), std::nullopt, path.string());
  if (!key.ok()) {
    ADD_FAILURE() << key.error().message;
    return nullptr;
  }
  return std::move(key).value();
}

mode_t mode_of(const fs::path& path) {
  auto mode = files::permissions_of(path);
  if (!mode.ok()) {
    ADD_FAILURE() << mode.error().message;
    return 0;
  }
  return *mode;
}

std::string serial_of(X509* cert) {
  return crypto::serial_to_hex(X509_get0_serialNumber(cert));
}

// Entries of a CRL; OpenSSL leaves the list NULL (sk_num == -1) when nothing is revoked.
int revoked_entries(X509_CRL* crl) {
  return std::max(0, sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)));
}

std::size_t index_size_on_disk(const fs::path& path) {
  auto index = CertificateIndex::load(path);
  if (!index.ok()) {
    ADD_FAILURE() << index.error().message;
    return 0;
  }
  return index->certificates().size();
}

// ---- init --------------------------------------------------------------------------------------

class InitTest : public ::testing::Test {
 protected:
  TempDir tmp_;
  fs::path dir_ = tmp_ / "pki";
};

TEST_F(InitTest, CreatesTheDocumentedLayout) {
  auto ca = CertificateAuthority::init(dir_, test_init_options(), kNow);
  ASSERT_TRUE(ca.ok()) << ca.error().message;
  for (const char* file : {"ca.crt", "crl.pem", "index.log", "private/ca.key", "server/server.crt", "server/server.key",
                           "services/svc-gateway/svc-gateway.crt", "services/svc-gateway/svc-gateway.key"}) {
    EXPECT_TRUE(fs::is_regular_file(dir_ / file)) << file;
  }
  EXPECT_EQ(ca->paths().root(), dir_);
  EXPECT_EQ(ca->paths().ca_certificate(), dir_ / "ca.crt");
  EXPECT_EQ(ca->paths().ca_key(), dir_ / "private" / "ca.key");
  EXPECT_EQ(ca->paths().identity_certificate(CertificateKind::service, "svc-gateway"),
            dir_ / "services" / "svc-gateway" / "svc-gateway.crt");
  EXPECT_EQ(ca->paths().identity_key(CertificateKind::server, "gateway.test"), dir_ / "server" / "server.key");
  // The CA keeps a copy of everything it issued, named by serial.
  for (const auto& record : ca->index().certificates()) {
    EXPECT_TRUE(fs::is_regular_file(ca->paths().issued_copy(record.serial))) << record.serial;
  }
}

TEST_F(InitTest, KeysAreOwnerOnlyAndCertificatesPublic) {
  auto ca = CertificateAuthority::init(dir_, test_init_options(), kNow);
  ASSERT_TRUE(ca.ok()) << ca.error().message;
  for (const char* dir : {"", "private", "server", "services", "services/svc-gateway", "issued"}) {
    EXPECT_EQ(mode_of(dir_ / dir), 0700u) << "directory '" << dir << "'";
  }
  for (const char* key : {"private/ca.key", "server/server.key", "services/svc-gateway/svc-gateway.key", "index.log"}) {
    EXPECT_EQ(mode_of(dir_ / key), 0600u) << key;
  }
  for (const char* cert : {"ca.crt", "crl.pem", "server/server.crt", "services/svc-gateway/svc-gateway.crt"}) {
    EXPECT_EQ(mode_of(dir_ / cert), 0644u) << cert;
  }
}

TEST_F(InitTest, CaCertificateIsASelfSignedCaWithItsKey) {
  auto ca = CertificateAuthority::init(dir_, test_init_options(), kNow);
  ASSERT_TRUE(ca.ok()) << ca.error().message;
  crypto::Certificate cert = read_certificate(dir_ / "ca.crt");
  ASSERT_TRUE(cert != nullptr);
  EXPECT_EQ(X509_cmp(cert.get(), ca->certificate()), 0);
  EXPECT_EQ(crypto::subject_common_name(cert.get()), "kelvin test CA");
  EXPECT_EQ(X509_verify(cert.get(), X509_get0_pubkey(cert.get())), 1);
  EXPECT_NE(X509_check_ca(cert.get()), 0);
  EXPECT_EQ(crypto::to_unix_seconds(X509_get0_notBefore(cert.get())), kNow - kBackdateSeconds);
  EXPECT_EQ(crypto::to_unix_seconds(X509_get0_notAfter(cert.get())), kNow + kCaValidityDays * kDay);

  const std::string key_pem = read_text(dir_ / "private" / "ca.key");
  EXPECT_FALSE(crypto::is_encrypted_private_key_pem(key_pem));
  crypto::PKey key = read_unencrypted_key(dir_ / "private" / "ca.key");
  ASSERT_TRUE(key != nullptr);
  EXPECT_EQ(X509_check_private_key(cert.get(), key.get()), 1);
}

TEST_F(InitTest, IndexRecordsCaServerAndGatewayAndFirstCrl) {
  auto ca = CertificateAuthority::init(dir_, test_init_options(), kNow);
  ASSERT_TRUE(ca.ok()) << ca.error().message;
  const auto& records = ca->index().certificates();
  ASSERT_EQ(records.size(), 3u);
  crypto::Certificate ca_cert = read_certificate(dir_ / "ca.crt");
  crypto::Certificate server = read_certificate(dir_ / "server" / "server.crt");
  crypto::Certificate gateway = read_certificate(dir_ / "services" / "svc-gateway" / "svc-gateway.crt");
  ASSERT_TRUE(ca_cert && server && gateway);

  struct Expected {
    X509* cert;
    CertificateKind kind;
    const char* common_name;
  };
  for (const Expected& e : {Expected{ca_cert.get(), CertificateKind::ca, "kelvin test CA"},
                            Expected{server.get(), CertificateKind::server, "gateway.test"},
                            Expected{gateway.get(), CertificateKind::service, "svc-gateway"}}) {
    const IssuedCertificate* record = ca->index().find_serial(serial_of(e.cert));
    ASSERT_NE(record, nullptr) << e.common_name;
    EXPECT_EQ(record->kind, e.kind);
    EXPECT_EQ(record->common_name, e.common_name);
    EXPECT_EQ(record->not_before, crypto::to_unix_seconds(X509_get0_notBefore(e.cert)));
    EXPECT_EQ(record->not_after, crypto::to_unix_seconds(X509_get0_notAfter(e.cert)));
    EXPECT_FALSE(record->revoked_at.has_value());
  }
  EXPECT_EQ(ca->index().last_crl_number(), 1u);
  EXPECT_EQ(index_size_on_disk(dir_ / "index.log"), 3u);

  auto crl = crypto::crl_from_pem(read_text(dir_ / "crl.pem"), "crl.pem");
  ASSERT_TRUE(crl.ok()) << crl.error().message;
  EXPECT_EQ(X509_CRL_verify(crl->get(), X509_get0_pubkey(ca_cert.get())), 1);
  EXPECT_EQ(revoked_entries(crl->get()), 0);
}

TEST_F(InitTest, ServerCertificateUsesGivenNameAndAltNames) {
  auto ca = CertificateAuthority::init(dir_, test_init_options(), kNow);
  ASSERT_TRUE(ca.ok()) << ca.error().message;
  crypto::Certificate server = read_certificate(dir_ / "server" / "server.crt");
  ASSERT_TRUE(server != nullptr);
  EXPECT_EQ(crypto::subject_common_name(server.get()), "gateway.test");
  EXPECT_EQ(X509_verify(server.get(), X509_get0_pubkey(ca->certificate())), 1);
  EXPECT_NE(X509_get_extended_key_usage(server.get()) & XKU_SSL_SERVER, 0u);
  EXPECT_EQ(X509_get_extended_key_usage(server.get()) & XKU_SSL_CLIENT, 0u);
  EXPECT_EQ(X509_check_ca(server.get()), 0);
  EXPECT_EQ(X509_check_host(server.get(), "gateway.test", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_ip_asc(server.get(), "10.0.0.2", 0), 1);
  // Explicit alt names replace the defaults.
  EXPECT_NE(X509_check_host(server.get(), "localhost", 0, 0, nullptr), 1);
  EXPECT_NE(X509_check_ip_asc(server.get(), "127.0.0.1", 0), 1);

  crypto::PKey key = read_unencrypted_key(dir_ / "server" / "server.key");
  ASSERT_TRUE(key != nullptr);
  EXPECT_EQ(X509_check_private_key(server.get(), key.get()), 1);
}

TEST_F(InitTest, ServerCertificateDefaultsToLocalhostAltNames) {
  InitOptions options = test_init_options();
  options.server_alt_names.clear();
  auto ca = CertificateAuthority::init(dir_, options, kNow);
  ASSERT_TRUE(ca.ok()) << ca.error().message;
  crypto::Certificate server = read_certificate(dir_ / "server" / "server.crt");
  ASSERT_TRUE(server != nullptr);
  EXPECT_EQ(X509_check_host(server.get(), "localhost", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_ip_asc(server.get(), "127.0.0.1", 0), 1);
}

TEST_F(InitTest, GatewayServiceCertificateIsClientOnly) {
  auto ca = CertificateAuthority::init(dir_, test_init_options(), kNow);
  ASSERT_TRUE(ca.ok()) << ca.error().message;
  crypto::Certificate gateway = read_certificate(dir_ / "services" / "svc-gateway" / "svc-gateway.crt");
  ASSERT_TRUE(gateway != nullptr);
  EXPECT_EQ(crypto::subject_common_name(gateway.get()), "svc-gateway");
  EXPECT_NE(X509_get_extended_key_usage(gateway.get()) & XKU_SSL_CLIENT, 0u);
  EXPECT_EQ(X509_get_extended_key_usage(gateway.get()) & XKU_SSL_SERVER, 0u);
  EXPECT_EQ(X509_verify(gateway.get(), X509_get0_pubkey(ca->certificate())), 1);
}

TEST_F(InitTest, SecondInitIsRefusedAndChangesNothing) {
  ASSERT_TRUE(CertificateAuthority::init(dir_, test_init_options(), kNow).ok());
  const std::string ca_pem = read_text(dir_ / "ca.crt");
  const std::string key_pem = read_text(dir_ / "private" / "ca.key");
  const std::string index = read_text(dir_ / "index.log");
  auto again = CertificateAuthority::init(dir_, test_init_options(), kNow + 10);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, Errc::already_exists);
  EXPECT_NE(again.error().message.find("--force"), std::string::npos) << again.error().message;
  EXPECT_EQ(read_text(dir_ / "ca.crt"), ca_pem);
  EXPECT_EQ(read_text(dir_ / "private" / "ca.key"), key_pem);
  EXPECT_EQ(read_text(dir_ / "index.log"), index);
}

TEST_F(InitTest, ForceReplacesTheCaAndKeepsTheOldOneAside) {
  ASSERT_TRUE(CertificateAuthority::init(dir_, test_init_options(), kNow).ok());
  const std::string old_ca = read_text(dir_ / "ca.crt");
  const std::string old_key = read_text(dir_ / "private" / "ca.key");
  const std::string old_index = read_text(dir_ / "index.log");

  InitOptions options = test_init_options();
  options.force = true;
  const std::time_t later = kNow + 3600;
  auto replaced = CertificateAuthority::init(dir_, options, later);
  ASSERT_TRUE(replaced.ok()) << replaced.error().message;
  EXPECT_NE(read_text(dir_ / "ca.crt"), old_ca);
  EXPECT_NE(read_text(dir_ / "private" / "ca.key"), old_key);

  std::vector<fs::path> backups;
  for (const auto& entry : fs::directory_iterator(dir_)) {
    if (entry.path().filename().string().starts_with("replaced-")) backups.push_back(entry.path());
  }
  ASSERT_EQ(backups.size(), 1u);
  EXPECT_EQ(backups[0].filename().string(), "replaced-" + format_utc_compact(later));
  EXPECT_EQ(read_text(backups[0] / "ca.crt"), old_ca);
  EXPECT_EQ(read_text(backups[0] / "private" / "ca.key"), old_key);
  EXPECT_EQ(read_text(backups[0] / "index.log"), old_index);
  EXPECT_TRUE(fs::is_regular_file(backups[0] / "services" / "svc-gateway" / "svc-gateway.key"));
  EXPECT_EQ(mode_of(backups[0]), 0700u);

  // The new CA starts a fresh index with its own three certificates.
  EXPECT_EQ(replaced->index().certificates().size(), 3u);
  crypto::Certificate new_ca = read_certificate(dir_ / "ca.crt");
  ASSERT_TRUE(new_ca != nullptr);
  EXPECT_NE(replaced->index().find_serial(serial_of(new_ca.get())), nullptr);
  EXPECT_EQ(index_size_on_disk(dir_ / "index.log"), 3u);
}

TEST_F(InitTest, ForceTwiceWithinOneSecondKeepsBothEarlierCas) {
  ASSERT_TRUE(CertificateAuthority::init(dir_, test_init_options(), kNow).ok());
  const std::string first = read_text(dir_ / "ca.crt");
  InitOptions options = test_init_options();
  options.force = true;
  ASSERT_TRUE(CertificateAuthority::init(dir_, options, kNow).ok());
  const std::string second = read_text(dir_ / "ca.crt");
  auto third = CertificateAuthority::init(dir_, options, kNow);
  ASSERT_TRUE(third.ok()) << third.error().message;

  const fs::path backup = dir_ / ("replaced-" + format_utc_compact(kNow));
  EXPECT_EQ(read_text(backup / "ca.crt"), first);
  EXPECT_EQ(read_text(fs::path(backup.string() + "-2") / "ca.crt"), second);
  EXPECT_TRUE(CertificateAuthority::open(dir_).ok());
}

TEST_F(InitTest, InvalidOptionsAreRefusedBeforeTouchingTheDisk) {
  struct Case {
    InitOptions options;
    Errc code;
    const char* why;
  };
  std::vector<Case> cases;
  auto add = [&](const char* why, Errc code, auto mutate) {
    InitOptions options = test_init_options();
    mutate(options);
    cases.push_back({options, code, why});
  };
  add("bad SAN", Errc::invalid_argument, [](InitOptions& o) { o.server_alt_names = {"DNS:a,b"}; });
  add("SAN without type", Errc::invalid_argument, [](InitOptions& o) { o.server_alt_names = {"localhost"}; });
  add("gateway without svc-", Errc::invalid_argument, [](InitOptions& o) { o.gateway_service = "gateway"; });
  add("gateway svc- alone", Errc::invalid_argument, [](InitOptions& o) { o.gateway_service = "svc-"; });
  add("empty CA name", Errc::invalid_argument, [](InitOptions& o) { o.ca_name = ""; });
  add("CA name with newline", Errc::invalid_argument, [](InitOptions& o) { o.ca_name = "evil\nCA"; });
  add("overlong server name", Errc::invalid_argument, [](InitOptions& o) { o.server_name = std::string(65, 'h'); });
  add("empty passphrase", Errc::bad_credentials, [](InitOptions& o) { o.passphrase = std::string(); });
  add("passphrase over 1024 bytes", Errc::bad_credentials,
      [](InitOptions& o) { o.passphrase = std::string(1025, 'p'); });
  add("CA name not UTF-8", Errc::invalid_argument, [](InitOptions& o) { o.ca_name = "caf\xE9 CA"; });
  add("server name not UTF-8", Errc::invalid_argument, [](InitOptions& o) { o.server_name = "gw\xFF"; });
  for (const auto& c : cases) {
    SCOPED_TRACE(c.why);
    auto ca = CertificateAuthority::init(dir_, c.options, kNow);
    ASSERT_FALSE(ca.ok());
    EXPECT_EQ(ca.error().code, c.code) << ca.error().message;
    EXPECT_FALSE(fs::exists(dir_));
  }
}

TEST_F(InitTest, PassphraseEncryptsOnlyTheCaKey) {
  InitOptions options = test_init_options();
  options.passphrase = "correct horse battery staple";
  auto ca = CertificateAuthority::init(dir_, options, kNow);
  ASSERT_TRUE(ca.ok()) << ca.error().message;
  const std::string ca_key = read_text(dir_ / "private" / "ca.key");
  EXPECT_NE(ca_key.find("-----BEGIN ENCRYPTED PRIVATE KEY-----"), std::string::npos);
  auto without = crypto::private_key_from_pem(ca_key, std::nullopt, "ca.key");
  ASSERT_FALSE(without.ok());
  EXPECT_EQ(without.error().code, Errc::bad_credentials);
  auto with = crypto::private_key_from_pem(ca_key, options.passphrase, "ca.key");
  ASSERT_TRUE(with.ok()) << with.error().message;
  EXPECT_EQ(X509_check_private_key(ca->certificate(), with->get()), 1);
  // Services and the server must start unattended: their keys are not encrypted.
  EXPECT_TRUE(read_unencrypted_key(dir_ / "server" / "server.key") != nullptr);
  EXPECT_TRUE(read_unencrypted_key(dir_ / "services" / "svc-gateway" / "svc-gateway.key") != nullptr);
}

// ---- open --------------------------------------------------------------------------------------

TEST_F(InitTest, OpenLoadsAnExistingCa) {
  auto created = CertificateAuthority::init(dir_, test_init_options(), kNow);
  ASSERT_TRUE(created.ok()) << created.error().message;
  auto opened = CertificateAuthority::open(dir_);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  EXPECT_EQ(X509_cmp(opened->certificate(), created->certificate()), 0);
  ASSERT_EQ(opened->index().certificates().size(), created->index().certificates().size());
  EXPECT_EQ(opened->index().last_crl_number(), 1u);
  EXPECT_EQ(opened->paths().root(), dir_);
}

TEST_F(InitTest, OpenOnEmptyOrMissingDirectoryPointsAtInit) {
  ASSERT_TRUE(files::ensure_private_dir(dir_).ok());
  for (const fs::path& dir : {dir_, tmp_ / "does-not-exist"}) {
    auto opened = CertificateAuthority::open(dir);
    ASSERT_FALSE(opened.ok()) << dir;
    EXPECT_EQ(opened.error().code, Errc::not_found) << dir;
    EXPECT_NE(opened.error().message.find("kelvinctl pki init"), std::string::npos) << opened.error().message;
  }
}

TEST_F(InitTest, OpenWithoutCaCertificateIsCorrupt) {
  ASSERT_TRUE(CertificateAuthority::init(dir_, test_init_options(), kNow).ok());
  fs::remove(dir_ / "ca.crt");
  auto opened = CertificateAuthority::open(dir_);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, Errc::corrupt);
  EXPECT_NE(opened.error().message.find("ca.crt"), std::string::npos) << opened.error().message;
}

TEST_F(InitTest, OpenWithDamagedIndexIsCorrupt) {
  ASSERT_TRUE(CertificateAuthority::init(dir_, test_init_options(), kNow).ok());
  std::string index = read_text(dir_ / "index.log");
  auto at = index.find("svc-gateway");
  ASSERT_NE(at, std::string::npos);
  index[at] = 'S';
  ASSERT_TRUE(files::write_file_atomic(dir_ / "index.log", index, 0600).ok());
  auto opened = CertificateAuthority::open(dir_);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, Errc::corrupt);
}

// ---- issuing -----------------------------------------------------------------------------------

class IssueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto ca = CertificateAuthority::init(dir_, test_init_options(), kNow);
    ASSERT_TRUE(ca.ok()) << ca.error().message;
    ca_.emplace(std::move(ca).value());
  }

  TempDir tmp_;
  fs::path dir_ = tmp_ / "pki";
  std::optional<CertificateAuthority> ca_;
};

TEST_F(IssueTest, DeviceCertificateIsWrittenSignedAndIndexed) {
  auto issued = ca_->issue(CertificateKind::device, "sensor-01", {}, kNow);
  ASSERT_TRUE(issued.ok()) << issued.error().message;
  EXPECT_EQ(issued->certificate_path, ca_->paths().identity_certificate(CertificateKind::device, "sensor-01"));
  EXPECT_EQ(issued->key_path, ca_->paths().identity_key(CertificateKind::device, "sensor-01"));
  EXPECT_EQ(issued->certificate_path, dir_ / "devices" / "sensor-01" / "sensor-01.crt");
  EXPECT_EQ(issued->key_path, dir_ / "devices" / "sensor-01" / "sensor-01.key");
  EXPECT_TRUE(issued->still_valid.empty());

  crypto::Certificate cert = read_certificate(issued->certificate_path);
  ASSERT_TRUE(cert != nullptr);
  EXPECT_EQ(crypto::subject_common_name(cert.get()), "sensor-01");
  EXPECT_EQ(X509_NAME_cmp(X509_get_issuer_name(cert.get()), X509_get_subject_name(ca_->certificate())), 0);
  EXPECT_EQ(X509_verify(cert.get(), X509_get0_pubkey(ca_->certificate())), 1);
  crypto::PKey key = read_unencrypted_key(issued->key_path);
  ASSERT_TRUE(key != nullptr);
  EXPECT_EQ(X509_check_private_key(cert.get(), key.get()), 1);

  const std::string serial = serial_of(cert.get());
  EXPECT_EQ(issued->record.serial, serial);
  EXPECT_EQ(issued->record.kind, CertificateKind::device);
  EXPECT_EQ(issued->record.common_name, "sensor-01");
  EXPECT_EQ(issued->record.not_before, kNow - kBackdateSeconds);
  EXPECT_EQ(issued->record.not_after, kNow + kLeafValidityDays * kDay);
  EXPECT_EQ(crypto::to_unix_seconds(X509_get0_notBefore(cert.get())), issued->record.not_before);
  EXPECT_EQ(crypto::to_unix_seconds(X509_get0_notAfter(cert.get())), issued->record.not_after);

  const IssuedCertificate* record = ca_->index().find_serial(serial);
  ASSERT_NE(record, nullptr);
  EXPECT_EQ(record->common_name, "sensor-01");
  auto on_disk = CertificateIndex::load(ca_->paths().index());
  ASSERT_TRUE(on_disk.ok());
  EXPECT_NE(on_disk->find_serial(serial), nullptr);
  EXPECT_EQ(read_text(ca_->paths().issued_copy(serial)), read_text(issued->certificate_path));
}

TEST_F(IssueTest, DeviceFilesHaveStrictPermissions) {
  auto issued = ca_->issue(CertificateKind::device, "sensor-01", {}, kNow);
  ASSERT_TRUE(issued.ok()) << issued.error().message;
  EXPECT_EQ(mode_of(issued->key_path), 0600u);
  EXPECT_EQ(mode_of(issued->key_path.parent_path()), 0700u);
  EXPECT_EQ(mode_of(dir_ / "devices"), 0700u);
  EXPECT_EQ(mode_of(issued->certificate_path), 0644u);
}

TEST_F(IssueTest, DeviceCertificateIsClientAuthOnlyAndNotACa) {
  auto issued = ca_->issue(CertificateKind::device, "sensor-01", {}, kNow);
  ASSERT_TRUE(issued.ok()) << issued.error().message;
  crypto::Certificate cert = read_certificate(issued->certificate_path);
  ASSERT_TRUE(cert != nullptr);
  ASSERT_NE(X509_get_extension_flags(cert.get()) & EXFLAG_XKUSAGE, 0u);
  EXPECT_NE(X509_get_extended_key_usage(cert.get()) & XKU_SSL_CLIENT, 0u);
  EXPECT_EQ(X509_get_extended_key_usage(cert.get()) & XKU_SSL_SERVER, 0u);
  EXPECT_EQ(X509_check_ca(cert.get()), 0);
  ASSERT_NE(X509_get_extension_flags(cert.get()) & EXFLAG_BCONS, 0u);
  EXPECT_EQ(X509_get_extension_flags(cert.get()) & EXFLAG_CA, 0u);  // basicConstraints CA:FALSE
  EXPECT_NE(X509_check_ca(ca_->certificate()), 0);
  EXPECT_EQ(X509_check_purpose(cert.get(), X509_PURPOSE_SSL_CLIENT, 0), 1);
  EXPECT_NE(X509_check_purpose(cert.get(), X509_PURPOSE_SSL_SERVER, 0), 1);
}

TEST_F(IssueTest, EachIssueUsesAFreshKeyAndSerial) {
  auto a = ca_->issue(CertificateKind::device, "sensor-a", {}, kNow);
  auto b = ca_->issue(CertificateKind::device, "sensor-b", {}, kNow);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->record.serial, b->record.serial);
  EXPECT_NE(read_text(a->key_path), read_text(b->key_path));
}

TEST_F(IssueTest, SameIdTwiceIsAConflict) {
  auto first = ca_->issue(CertificateKind::device, "sensor-01", {}, kNow);
  ASSERT_TRUE(first.ok()) << first.error().message;
  const std::string cert_before = read_text(first->certificate_path);
  auto second = ca_->issue(CertificateKind::device, "sensor-01", {}, kNow + 60);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, Errc::conflict);
  EXPECT_NE(second.error().message.find(first->record.serial), std::string::npos) << second.error().message;
  EXPECT_EQ(ca_->index().find_common_name("sensor-01").size(), 1u);
  EXPECT_EQ(read_text(first->certificate_path), cert_before);
}

TEST_F(IssueTest, RenewIssuesAnotherAndReportsTheStillValidOne) {
  auto first = ca_->issue(CertificateKind::device, "sensor-01", {}, kNow);
  ASSERT_TRUE(first.ok()) << first.error().message;
  IssueOptions renew;
  renew.renew = true;
  auto second = ca_->issue(CertificateKind::device, "sensor-01", renew, kNow + 60);
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_NE(second->record.serial, first->record.serial);
  ASSERT_EQ(second->still_valid.size(), 1u);
  EXPECT_EQ(second->still_valid[0].serial, first->record.serial);
  EXPECT_EQ(ca_->index().find_common_name("sensor-01").size(), 2u);
  crypto::Certificate current = read_certificate(second->certificate_path);
  ASSERT_TRUE(current != nullptr);
  EXPECT_EQ(serial_of(current.get()), second->record.serial);
}

TEST_F(IssueTest, ExpiredCertificateDoesNotBlockANewOne) {
  IssueOptions short_lived;
  short_lived.not_before = kNow - 3 * kDay;
  short_lived.validity_days = 1;
  ASSERT_TRUE(ca_->issue(CertificateKind::device, "sensor-01", short_lived, kNow).ok());
  auto fresh = ca_->issue(CertificateKind::device, "sensor-01", {}, kNow);
  ASSERT_TRUE(fresh.ok()) << fresh.error().message;
  EXPECT_TRUE(fresh->still_valid.empty());
}

TEST_F(IssueTest, InvalidDeviceIdsAreRefusedAndNothingIsRecorded) {
  const std::string index_before = read_text(ca_->paths().index());
  for (const std::string& id : std::vector<std::string>{"Sensor-01", "svc-x", "", "-lead", "a/b", "a+b", "a#", "a b",
                                                        "../escape", std::string(64, 'a'), "caf\xc3\xa9"}) {
    auto issued = ca_->issue(CertificateKind::device, id, {}, kNow);
    ASSERT_FALSE(issued.ok()) << id;
    EXPECT_EQ(issued.error().code, Errc::invalid_argument) << id;
  }
  EXPECT_EQ(read_text(ca_->paths().index()), index_before);
  EXPECT_FALSE(fs::exists(dir_ / "devices"));
  EXPECT_FALSE(fs::exists(dir_ / "escape"));
}

TEST_F(IssueTest, ServiceNamesMustBeSvcPrefixed) {
  const std::string index_before = read_text(ca_->paths().index());
  for (const char* name : {"gateway", "svc-", "svc-Bad"}) {
    auto issued = ca_->issue(CertificateKind::service, name, {}, kNow);
    ASSERT_FALSE(issued.ok()) << name;
    EXPECT_EQ(issued.error().code, Errc::invalid_argument) << name;
  }
  EXPECT_EQ(read_text(ca_->paths().index()), index_before);

  auto issued = ca_->issue(CertificateKind::service, "svc-metrics", {}, kNow);
  ASSERT_TRUE(issued.ok()) << issued.error().message;
  EXPECT_EQ(issued->certificate_path, dir_ / "services" / "svc-metrics" / "svc-metrics.crt");
  crypto::Certificate cert = read_certificate(issued->certificate_path);
  ASSERT_TRUE(cert != nullptr);
  EXPECT_EQ(crypto::subject_common_name(cert.get()), "svc-metrics");
  EXPECT_NE(X509_get_extended_key_usage(cert.get()) & XKU_SSL_CLIENT, 0u);
  EXPECT_EQ(X509_get_extended_key_usage(cert.get()) & XKU_SSL_SERVER, 0u);
}

TEST_F(IssueTest, CaKindCannotBeIssued) {
  auto issued = ca_->issue(CertificateKind::ca, "another CA", {}, kNow);
  ASSERT_FALSE(issued.ok());
  EXPECT_EQ(issued.error().code, Errc::invalid_argument);
}

TEST_F(IssueTest, NameHeldByAnotherKindIsAConflictEvenWithRenew) {
  IssueOptions renew;
  renew.renew = true;
  auto issued = ca_->issue(CertificateKind::server, "svc-gateway", renew, kNow);
  ASSERT_FALSE(issued.ok());
  EXPECT_EQ(issued.error().code, Errc::conflict);
}

TEST_F(IssueTest, ServerCertificateGetsRequestedAltNames) {
  IssueOptions options;
  options.server_alt_names = {"DNS:edge.test", "IP:::1"};
  auto issued = ca_->issue(CertificateKind::server, "edge.test", options, kNow);
  ASSERT_TRUE(issued.ok()) << issued.error().message;
  EXPECT_EQ(issued->certificate_path, dir_ / "server" / "server.crt");
  crypto::Certificate cert = read_certificate(issued->certificate_path);
  ASSERT_TRUE(cert != nullptr);
  EXPECT_EQ(crypto::subject_common_name(cert.get()), "edge.test");
  EXPECT_NE(X509_get_extended_key_usage(cert.get()) & XKU_SSL_SERVER, 0u);
  EXPECT_EQ(X509_get_extended_key_usage(cert.get()) & XKU_SSL_CLIENT, 0u);
  EXPECT_EQ(X509_check_host(cert.get(), "edge.test", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_ip_asc(cert.get(), "::1", 0), 1);
  EXPECT_NE(X509_check_host(cert.get(), "gateway.test", 0, 0, nullptr), 1);
}

TEST_F(IssueTest, InvalidServerAltNameRecordsNothing) {
  const std::string index_before = read_text(ca_->paths().index());
  IssueOptions options;
  options.server_alt_names = {"DNS:ok.test", "URI:http://x"};
  auto issued = ca_->issue(CertificateKind::server, "edge.test", options, kNow);
  ASSERT_FALSE(issued.ok());
  EXPECT_EQ(issued.error().code, Errc::invalid_argument);
  EXPECT_EQ(read_text(ca_->paths().index()), index_before);
}

TEST_F(IssueTest, ValidityDaysAreBoundedAndApplied) {
  for (int days : {0, -1, kCaValidityDays + 1}) {
    IssueOptions options;
    options.validity_days = days;
    auto issued = ca_->issue(CertificateKind::device, "sensor-01", options, kNow);
    ASSERT_FALSE(issued.ok()) << days;
    EXPECT_EQ(issued.error().code, Errc::invalid_argument) << days;
  }
  IssueOptions thirty;
  thirty.validity_days = 30;
  auto issued = ca_->issue(CertificateKind::device, "sensor-01", thirty, kNow);
  ASSERT_TRUE(issued.ok()) << issued.error().message;
  EXPECT_EQ(issued->record.not_after, kNow + 30 * kDay);
}

TEST_F(IssueTest, ExplicitNotBeforeIsUsedAsIs) {
  IssueOptions options;
  options.not_before = kNow - 10 * kDay;
  options.validity_days = 20;
  auto issued = ca_->issue(CertificateKind::device, "sensor-01", options, kNow);
  ASSERT_TRUE(issued.ok()) << issued.error().message;
  EXPECT_EQ(issued->record.not_before, kNow - 10 * kDay);
  EXPECT_EQ(issued->record.not_after, kNow + 10 * kDay);
}

TEST_F(IssueTest, LeafNeverOutlivesTheCa) {
  const std::time_t ca_not_after = crypto::to_unix_seconds(X509_get0_notAfter(ca_->certificate()));
  IssueOptions longest;
  longest.validity_days = kCaValidityDays;
  const std::time_t later = kNow + 100 * kDay;  // unclamped, this would end 100 days after the CA
  auto issued = ca_->issue(CertificateKind::device, "sensor-01", longest, later);
  ASSERT_TRUE(issued.ok()) << issued.error().message;
  crypto::Certificate cert = read_certificate(issued->certificate_path);
  ASSERT_TRUE(cert != nullptr);
  const std::time_t leaf_not_after = crypto::to_unix_seconds(X509_get0_notAfter(cert.get()));
  EXPECT_LE(leaf_not_after, ca_not_after);
  EXPECT_EQ(leaf_not_after, ca_not_after);
  EXPECT_EQ(issued->record.not_after, ca_not_after);
}

TEST_F(IssueTest, IssuesMadeThroughAnotherHandleAreSeen) {
  auto other = CertificateAuthority::open(dir_);  // e.g. a second kelvinctl process
  ASSERT_TRUE(other.ok()) << other.error().message;
  auto first = other->issue(CertificateKind::device, "sensor-01", {}, kNow);
  ASSERT_TRUE(first.ok()) << first.error().message;
  // ca_ was loaded before that issue; it must re-read the index under the lock, not trust memory.
  auto second = ca_->issue(CertificateKind::device, "sensor-01", {}, kNow);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, Errc::conflict);
  auto both = ca_->issue(CertificateKind::device, "sensor-02", {}, kNow);
  ASSERT_TRUE(both.ok()) << both.error().message;
  auto on_disk = CertificateIndex::load(ca_->paths().index());
  ASSERT_TRUE(on_disk.ok()) << on_disk.error().message;
  EXPECT_NE(on_disk->find_serial(first->record.serial), nullptr);
  EXPECT_NE(on_disk->find_serial(both->record.serial), nullptr);
  EXPECT_EQ(on_disk->certificates().size(), 5u);
}

TEST_F(IssueTest, CaKeyThatDoesNotMatchTheCertificateIsRefused) {
  TempDir other_tmp;
  ASSERT_TRUE(CertificateAuthority::init(other_tmp / "pki", test_init_options(), kNow).ok());
  ASSERT_TRUE(files::write_file_atomic(ca_->paths().ca_key(), read_text(other_tmp / "pki" / "private" / "ca.key"),
                                       files::kPrivateFileMode)
                  .ok());
  const std::string index_before = read_text(ca_->paths().index());
  auto issued = ca_->issue(CertificateKind::device, "sensor-01", {}, kNow);
  ASSERT_FALSE(issued.ok());
  EXPECT_EQ(issued.error().code, Errc::corrupt);
  EXPECT_NE(issued.error().message.find("does not belong"), std::string::npos) << issued.error().message;
  EXPECT_EQ(read_text(ca_->paths().index()), index_before);
}

// ---- passphrase-protected CA -------------------------------------------------------------------

class EncryptedCaTest : public ::testing::Test {
 protected:
  static constexpr const char* kPassphrase = "correct horse battery staple";

  void SetUp() override {
    InitOptions options = test_init_options();
    options.passphrase = kPassphrase;
    auto ca = CertificateAuthority::init(dir_, options, kNow);
    ASSERT_TRUE(ca.ok()) << ca.error().message;
  }

  TempDir tmp_;
  fs::path dir_ = tmp_ / "pki";
};

TEST_F(EncryptedCaTest, CaKeyIsEncryptedOnDisk) {
  const std::string pem = read_text(dir_ / "private" / "ca.key");
  EXPECT_NE(pem.find("-----BEGIN ENCRYPTED PRIVATE KEY-----"), std::string::npos);
  EXPECT_TRUE(crypto::is_encrypted_private_key_pem(pem));
  EXPECT_EQ(mode_of(dir_ / "private" / "ca.key"), 0600u);
}

TEST_F(EncryptedCaTest, IssueWithoutPassphraseIsBadCredentialsAndRecordsNothing) {
  const std::string index_before = read_text(dir_ / "index.log");
  auto ca = CertificateAuthority::open(dir_);  // opening needs no passphrase
  ASSERT_TRUE(ca.ok()) << ca.error().message;
  auto issued = ca->issue(CertificateKind::device, "sensor-01", {}, kNow);
  ASSERT_FALSE(issued.ok());
  EXPECT_EQ(issued.error().code, Errc::bad_credentials);
  EXPECT_EQ(read_text(dir_ / "index.log"), index_before);
  EXPECT_FALSE(fs::exists(dir_ / "devices" / "sensor-01"));
}

TEST_F(EncryptedCaTest, IssueWithWrongPassphraseIsBadCredentialsAndRecordsNothing) {
  const std::string index_before = read_text(dir_ / "index.log");
  auto ca = CertificateAuthority::open(dir_, std::string("wrong"));
  ASSERT_TRUE(ca.ok()) << ca.error().message;
  const std::size_t count_before = ca->index().certificates().size();
  auto issued = ca->issue(CertificateKind::device, "sensor-01", {}, kNow);
  ASSERT_FALSE(issued.ok());
  EXPECT_EQ(issued.error().code, Errc::bad_credentials);
  EXPECT_NE(issued.error().message.find("wrong passphrase"), std::string::npos) << issued.error().message;
  EXPECT_EQ(ca->index().certificates().size(), count_before);
  EXPECT_EQ(index_size_on_disk(dir_ / "index.log"), count_before);
  EXPECT_EQ(read_text(dir_ / "index.log"), index_before);
  EXPECT_FALSE(fs::exists(dir_ / "devices" / "sensor-01"));
}

TEST_F(EncryptedCaTest, IssueWithRightPassphraseWorks) {
  auto ca = CertificateAuthority::open(dir_, std::string(kPassphrase));
  ASSERT_TRUE(ca.ok()) << ca.error().message;
  auto issued = ca->issue(CertificateKind::device, "sensor-01", {}, kNow);
  ASSERT_TRUE(issued.ok()) << issued.error().message;
  crypto::Certificate cert = read_certificate(issued->certificate_path);
  ASSERT_TRUE(cert != nullptr);
  EXPECT_EQ(X509_verify(cert.get(), X509_get0_pubkey(ca->certificate())), 1);
  EXPECT_FALSE(crypto::is_encrypted_private_key_pem(read_text(issued->key_path)));
}

TEST_F(EncryptedCaTest, RevokeWithWrongPassphraseRecordsNothing) {
  auto right = CertificateAuthority::open(dir_, std::string(kPassphrase));
  ASSERT_TRUE(right.ok()) << right.error().message;
  auto issued = right->issue(CertificateKind::device, "sensor-01", {}, kNow);
  ASSERT_TRUE(issued.ok()) << issued.error().message;

  const std::string index_before = read_text(dir_ / "index.log");
  const std::string crl_before = read_text(dir_ / "crl.pem");
  auto wrong = CertificateAuthority::open(dir_, std::string("wrong"));
  ASSERT_TRUE(wrong.ok()) << wrong.error().message;
  auto revoked = wrong->revoke("sensor-01", kNow);
  ASSERT_FALSE(revoked.ok());
  EXPECT_EQ(revoked.error().code, Errc::bad_credentials);
  EXPECT_EQ(read_text(dir_ / "index.log"), index_before);
  EXPECT_EQ(read_text(dir_ / "crl.pem"), crl_before);
  const IssuedCertificate* record = wrong->index().find_serial(issued->record.serial);
  ASSERT_NE(record, nullptr);
  EXPECT_FALSE(record->revoked_at.has_value());

  auto regenerated = wrong->regenerate_crl(kNow);
  ASSERT_FALSE(regenerated.ok());
  EXPECT_EQ(regenerated.error().code, Errc::bad_credentials);
  EXPECT_EQ(read_text(dir_ / "crl.pem"), crl_before);
}

}  // namespace
}  // namespace kelvin::pki
