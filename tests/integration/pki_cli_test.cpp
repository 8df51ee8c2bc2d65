// `kelvinctl pki` as an administrator uses it. What kelvinctl writes is checked with OpenSSL's
// own command line, a tool kelvin did not write: chain, extensions, key usage, CRL, key encryption.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <random>
#include <regex>
#include <set>
#include <thread>

#include "kelvin/testing/process.hpp"
#include "kelvin/testing/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
using kelvin::testing::CommandOptions;
using kelvin::testing::CommandResult;
using kelvin::testing::project_binary;
using kelvin::testing::run_command;
using kelvin::testing::TempDir;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

mode_t mode_of(const fs::path& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

void write_file(const fs::path& path, const std::string& content, fs::perms perms) {
  std::ofstream(path) << content;
  fs::permissions(path, perms);
}

// Parses OpenSSL's "Nov 29 01:56:06 2026 GMT" date format.
std::time_t parse_openssl_date(const std::string& text) {
  std::tm tm{};
  const char* end = strptime(text.c_str(), "%b %d %H:%M:%S %Y GMT", &tm);
  EXPECT_NE(end, nullptr) << text;
  return timegm(&tm);
}

std::string field_after(const std::string& text, const std::string& prefix) {
  auto at = text.find(prefix);
  if (at == std::string::npos) return {};
  auto end = text.find('\n', at);
  return text.substr(at + prefix.size(), end - at - prefix.size());
}

class PkiCli : public ::testing::Test {
 protected:
  CommandResult ctl(std::vector<std::string> args, const CommandOptions& options = {}) {
    args.insert(args.begin(), {project_binary("kelvinctl"), "pki", "--dir", pki_.string()});
    return run_command(args, with_clean_env(options));
  }
  static CommandOptions with_clean_env(CommandOptions options) {
    options.env.emplace("KELVIN_CA_PASSPHRASE", std::nullopt);  // never inherited from the caller
    return options;
  }
  CommandResult openssl(std::vector<std::string> args) {
    args.insert(args.begin(), "openssl");
    return run_command(args);
  }
  void init(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"init"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = ctl(args);
    ASSERT_EQ(r.exit_code, 0) << describe(r);
  }
  void issue_device(const std::string& id) {
    auto r = ctl({"issue", "device", id});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
  }
  std::string device_cert(const std::string& id) const { return (pki_ / "devices" / id / (id + ".crt")).string(); }
  std::string ca() const { return (pki_ / "ca.crt").string(); }
  std::string crl() const { return (pki_ / "crl.pem").string(); }

  TempDir tmp_;
  fs::path pki_ = tmp_ / "pki";
};

// ---- what init and issue produce, as OpenSSL sees it -------------------------------------------

TEST_F(PkiCli, InitCreatesCaServerAndServiceCertificatesThatOpensslVerifies) {
  init({"--name", "Acme Greenhouse CA", "--server-san", "DNS:gateway.example,IP:192.0.2.7"});

  auto chain = openssl({"verify", "-CAfile", ca(), "-purpose", "sslserver", (pki_ / "server/server.crt").string()});
  EXPECT_EQ(chain.exit_code, 0) << describe(chain);
  auto service = openssl(
      {"verify", "-CAfile", ca(), "-purpose", "sslclient", (pki_ / "services/svc-gateway/svc-gateway.crt").string()});
  EXPECT_EQ(service.exit_code, 0) << describe(service);
  auto with_crl =
      openssl({"verify", "-crl_check", "-CAfile", ca(), "-CRLfile", crl(), (pki_ / "server/server.crt").string()});
  EXPECT_EQ(with_crl.exit_code, 0) << describe(with_crl);

  auto ca_text = openssl({"x509", "-in", ca(), "-noout", "-text"});
  ASSERT_EQ(ca_text.exit_code, 0);
  EXPECT_THAT(ca_text.out, HasSubstr("Subject: CN = Acme Greenhouse CA"));
  EXPECT_THAT(ca_text.out, HasSubstr("CA:TRUE, pathlen:0"));
  EXPECT_THAT(ca_text.out, HasSubstr("Certificate Sign, CRL Sign"));
  EXPECT_THAT(ca_text.out, HasSubstr("ASN1 OID: prime256v1"));
  EXPECT_THAT(ca_text.out, HasSubstr("Signature Algorithm: ecdsa-with-SHA256"));
  // Ten years: still valid in 3,640 days, expired by 3,660.
  EXPECT_EQ(openssl({"x509", "-in", ca(), "-noout", "-checkend", std::to_string(3640 * 86400)}).exit_code, 0);
  EXPECT_EQ(openssl({"x509", "-in", ca(), "-noout", "-checkend", std::to_string(3660 * 86400)}).exit_code, 1);

  auto server_text = openssl({"x509", "-in", (pki_ / "server/server.crt").string(), "-noout", "-text"});
  EXPECT_THAT(server_text.out, HasSubstr("TLS Web Server Authentication"));
  EXPECT_THAT(server_text.out, Not(HasSubstr("TLS Web Client Authentication")));
  EXPECT_THAT(server_text.out, HasSubstr("DNS:gateway.example, IP Address:192.0.2.7"));
  EXPECT_THAT(server_text.out, HasSubstr("CA:FALSE"));
  EXPECT_THAT(server_text.out, HasSubstr("Digital Signature"));
  EXPECT_THAT(server_text.out, HasSubstr("X509v3 Authority Key Identifier"));
  // Two years.
  const std::string server = (pki_ / "server/server.crt").string();
  EXPECT_EQ(openssl({"x509", "-in", server, "-noout", "-checkend", std::to_string(725 * 86400)}).exit_code, 0);
  EXPECT_EQ(openssl({"x509", "-in", server, "-noout", "-checkend", std::to_string(735 * 86400)}).exit_code, 1);
}

TEST_F(PkiCli, DefaultServerNamesAreLocalhostLoopbackAndHostName) {
  init();
  auto text = openssl({"x509", "-in", (pki_ / "server/server.crt").string(), "-noout", "-ext", "subjectAltName"});
  ASSERT_EQ(text.exit_code, 0) << describe(text);
  EXPECT_THAT(text.out, HasSubstr("DNS:localhost"));
  EXPECT_THAT(text.out, HasSubstr("IP Address:127.0.0.1"));
  char host[256] = {};
  ASSERT_EQ(gethostname(host, sizeof host - 1), 0);
  if (std::string(host) != "localhost") {
    EXPECT_THAT(text.out, HasSubstr("DNS:" + std::string(host)));
  }
  // And OpenSSL accepts the certificate for those names.
  const std::vector<std::pair<std::string, std::string>> checks = {{"-verify_hostname", "localhost"},
                                                                   {"-verify_ip", "127.0.0.1"}};
  for (const auto& [check, name] : checks) {
    auto r = openssl({"verify", "-CAfile", ca(), check, name, (pki_ / "server/server.crt").string()});
    EXPECT_EQ(r.exit_code, 0) << check << " " << name << "\n" << describe(r);
  }
  auto wrong =
      openssl({"verify", "-CAfile", ca(), "-verify_hostname", "evil.example", (pki_ / "server/server.crt").string()});
  EXPECT_NE(wrong.exit_code, 0);
}

TEST_F(PkiCli, DeviceCertificateIsForClientsOnlyWithItsIdAsCommonName) {
  init();
  issue_device("sensor-01");
  auto client = openssl({"verify", "-CAfile", ca(), "-purpose", "sslclient", device_cert("sensor-01")});
  EXPECT_EQ(client.exit_code, 0) << describe(client);
  auto as_server = openssl({"verify", "-CAfile", ca(), "-purpose", "sslserver", device_cert("sensor-01")});
  EXPECT_NE(as_server.exit_code, 0) << describe(as_server);

  auto text = openssl({"x509", "-in", device_cert("sensor-01"), "-noout", "-text"});
  EXPECT_THAT(text.out, HasSubstr("Subject: CN = sensor-01"));
  EXPECT_THAT(text.out, HasSubstr("TLS Web Client Authentication"));
  EXPECT_THAT(text.out, HasSubstr("CA:FALSE"));
  EXPECT_THAT(text.out, Not(HasSubstr("Certificate Sign")));

  // The key on disk belongs to the certificate.
  auto cert_key = openssl({"x509", "-in", device_cert("sensor-01"), "-noout", "-pubkey"});
  auto key_pub = openssl({"pkey", "-in", (pki_ / "devices/sensor-01/sensor-01.key").string(), "-pubout"});
  ASSERT_EQ(key_pub.exit_code, 0) << describe(key_pub);
  EXPECT_EQ(cert_key.out, key_pub.out);
}

TEST_F(PkiCli, SerialsAreRandom128BitNumbers) {
  init();
  std::set<std::string> serials;
  for (int i = 0; i < 6; ++i) {
    const std::string id = "dev-" + std::to_string(i);
    issue_device(id);
    auto r = openssl({"x509", "-in", device_cert(id), "-noout", "-serial"});
    std::string serial = field_after(r.out, "serial=");
    ASSERT_TRUE(std::regex_match(serial, std::regex("[0-9A-F]+"))) << serial;
    EXPECT_LE(serial.size(), 32u);  // at most 128 bits
    EXPECT_GE(serial.size(), 24u);  // a 128-bit draw below 2^96 happens with probability 2^-32
    serials.insert(serial);
  }
  EXPECT_EQ(serials.size(), 6u);
}

// ---- permissions -------------------------------------------------------------------------------

TEST_F(PkiCli, EveryKeyIs0600InA0700FolderAfterInitAndIssue) {
  init();
  issue_device("sensor-01");
  ASSERT_EQ(ctl({"issue", "service", "svc-exporter"}).exit_code, 0);

  EXPECT_EQ(mode_of(pki_), 0700u);
  int keys = 0;
  for (const auto& entry : fs::recursive_directory_iterator(pki_)) {
    if (entry.path().extension() != ".key") continue;
    ++keys;
    EXPECT_EQ(mode_of(entry.path()), 0600u) << entry.path();
    for (fs::path dir = entry.path().parent_path(); dir != pki_.parent_path(); dir = dir.parent_path()) {
      EXPECT_EQ(mode_of(dir), 0700u) << dir;
    }
  }
  EXPECT_EQ(keys, 5);  // CA, server, svc-gateway, svc-exporter, sensor-01
}

// ---- revocation --------------------------------------------------------------------------------

TEST_F(PkiCli, RevokedCertificateFailsOpensslCrlCheckWhileOthersPass) {
  init();
  issue_device("sensor-01");
  issue_device("sensor-02");
  auto revoke = ctl({"revoke", "sensor-01"});
  ASSERT_EQ(revoke.exit_code, 0) << describe(revoke);
  EXPECT_THAT(revoke.out, HasSubstr("Revoked device certificate sensor-01"));

  auto revoked = openssl({"verify", "-crl_check", "-CAfile", ca(), "-CRLfile", crl(), device_cert("sensor-01")});
  EXPECT_NE(revoked.exit_code, 0);
  EXPECT_THAT(revoked.out + revoked.err, HasSubstr("certificate revoked"));
  auto other = openssl({"verify", "-crl_check", "-CAfile", ca(), "-CRLfile", crl(), device_cert("sensor-02")});
  EXPECT_EQ(other.exit_code, 0) << describe(other);

  auto serial = field_after(openssl({"x509", "-in", device_cert("sensor-01"), "-noout", "-serial"}).out, "serial=");
  auto crl_text = openssl({"crl", "-in", crl(), "-noout", "-text"});
  ASSERT_EQ(crl_text.exit_code, 0) << describe(crl_text);
  EXPECT_THAT(crl_text.out, HasSubstr("Serial Number: " + serial));
  EXPECT_THAT(crl_text.out, HasSubstr("X509v3 CRL Number"));
  EXPECT_THAT(crl_text.out, HasSubstr("Signature Algorithm: ecdsa-with-SHA256"));
  auto verify_crl = openssl({"crl", "-in", crl(), "-CAfile", ca(), "-noout"});
  EXPECT_EQ(verify_crl.exit_code, 0) << describe(verify_crl);
  EXPECT_THAT(verify_crl.out + verify_crl.err, HasSubstr("verify OK"));
}

TEST_F(PkiCli, CrlCommandRenewsTheCrlForSevenDaysWithAHigherNumber) {
  init();
  auto number_of = [&] {
    auto text = openssl({"crl", "-in", crl(), "-noout", "-crlnumber"}).out;
    return std::stoul(field_after(text, "crlNumber=0x"), nullptr, 16);
  };
  const unsigned long before = number_of();
  auto r = ctl({"crl"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_GT(number_of(), before);

  auto dates = openssl({"crl", "-in", crl(), "-noout", "-lastupdate", "-nextupdate"}).out;
  std::time_t last = parse_openssl_date(field_after(dates, "lastUpdate="));
  std::time_t next = parse_openssl_date(field_after(dates, "nextUpdate="));
  EXPECT_EQ(next - last, 7 * 86400);
  EXPECT_LE(std::abs(std::time(nullptr) - last), 120);
}

TEST_F(PkiCli, RevokeBySerialAndTheListShowsTheRevocation) {
  init();
  issue_device("sensor-01");
  auto serial = field_after(openssl({"x509", "-in", device_cert("sensor-01"), "-noout", "-serial"}).out, "serial=");
  auto r = ctl({"revoke", serial});
  ASSERT_EQ(r.exit_code, 0) << describe(r);

  auto list = ctl({"list"});
  ASSERT_EQ(list.exit_code, 0) << describe(list);
  EXPECT_THAT(list.out, HasSubstr("CN"));
  EXPECT_THAT(list.out, HasSubstr("DAYS LEFT"));
  EXPECT_TRUE(
      std::regex_search(list.out, std::regex("sensor-01 +device +" + serial + " +[0-9-]{10} +revoked +7[23][0-9]")))
      << list.out;
  EXPECT_TRUE(std::regex_search(list.out, std::regex("svc-gateway +service +[0-9A-F]+ +[0-9-]{10} +valid +7[23][0-9]")))
      << list.out;
  EXPECT_TRUE(std::regex_search(list.out, std::regex("kelvin CA +ca +[0-9A-F]+ +[0-9-]{10} +valid +36[45][0-9]")))
      << list.out;
}

TEST_F(PkiCli, VerifyCommandReportsChainRevocationAndForeignCertificates) {
  init();
  issue_device("sensor-01");
  auto ok = ctl({"verify", device_cert("sensor-01")});
  EXPECT_EQ(ok.exit_code, 0) << describe(ok);
  EXPECT_THAT(ok.out, AllOf(HasSubstr("OK"), HasSubstr("kind device"), HasSubstr("client use")));

  auto wrong_purpose = ctl({"verify", device_cert("sensor-01"), "--purpose", "server"});
  EXPECT_EQ(wrong_purpose.exit_code, 1) << describe(wrong_purpose);
  EXPECT_THAT(wrong_purpose.out, HasSubstr("unsuitable certificate purpose"));

  ASSERT_EQ(ctl({"revoke", "sensor-01"}).exit_code, 0);
  auto revoked = ctl({"verify", device_cert("sensor-01")});
  EXPECT_EQ(revoked.exit_code, 1);
  EXPECT_THAT(revoked.out, HasSubstr("problem: certificate revoked"));

  // A certificate made by a CA that is not this installation's.
  const std::string foreign_key = (tmp_ / "foreign.key").string();
  const std::string foreign_cert = (tmp_ / "foreign.crt").string();
  auto made = openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                       foreign_key, "-out", foreign_cert, "-subj", "/CN=sensor-01", "-days", "30"});
  ASSERT_EQ(made.exit_code, 0) << describe(made);
  auto foreign = ctl({"verify", foreign_cert});
  EXPECT_EQ(foreign.exit_code, 1);
  EXPECT_THAT(foreign.out, HasSubstr("not in this CA's index"));
}

// ---- the CA key passphrase ---------------------------------------------------------------------

TEST_F(PkiCli, PassphraseFromFileEncryptsTheCaKeyAndIsNeededToSign) {
  const fs::path secret = tmp_ / "passphrase";
  write_file(secret, "correct horse battery staple\n", fs::perms::owner_read | fs::perms::owner_write);
  init({"--passphrase-file", secret.string()});

  const std::string key = (pki_ / "private/ca.key").string();
  auto text = run_command({"head", "-1", key});
  EXPECT_THAT(text.out, HasSubstr("BEGIN ENCRYPTED PRIVATE KEY"));
  // OpenSSL itself opens it with the passphrase and refuses another one.
  EXPECT_EQ(openssl({"pkey", "-in", key, "-passin", "pass:correct horse battery staple", "-noout"}).exit_code, 0);
  EXPECT_NE(openssl({"pkey", "-in", key, "-passin", "pass:wrong", "-noout"}).exit_code, 0);

  auto without = ctl({"issue", "device", "sensor-01"});
  EXPECT_EQ(without.exit_code, 1);
  EXPECT_THAT(without.err,
              AllOf(HasSubstr("no passphrase"), HasSubstr("--passphrase-file"), HasSubstr("KELVIN_CA_PASSPHRASE")));

  const fs::path wrong = tmp_ / "wrong";
  write_file(wrong, "tr0ub4dor", fs::perms::owner_read | fs::perms::owner_write);
  auto bad = ctl({"issue", "device", "sensor-01", "--passphrase-file", wrong.string()});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_THAT(bad.err, HasSubstr("wrong passphrase"));
  EXPECT_THAT(ctl({"list"}).out, Not(HasSubstr("sensor-01")));

  auto good = ctl({"issue", "device", "sensor-01", "--passphrase-file", secret.string()});
  EXPECT_EQ(good.exit_code, 0) << describe(good);

  CommandOptions env_options;
  env_options.env["KELVIN_CA_PASSPHRASE"] = "correct horse battery staple";
  auto args = std::vector<std::string>{
      project_binary("kelvinctl"), "pki", "--dir", pki_.string(), "issue", "device", "sensor-02"};
  auto from_env = run_command(args, env_options);
  EXPECT_EQ(from_env.exit_code, 0) << describe(from_env);
}

TEST_F(PkiCli, PassphraseFileReadableByOthersIsRefused) {
  const fs::path secret = tmp_ / "passphrase";
  write_file(secret, "s3cret",
             fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read);
  auto r = ctl({"init", "--passphrase-file", secret.string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, AllOf(HasSubstr("0644"), HasSubstr("chmod 600")));
  EXPECT_FALSE(fs::exists(pki_ / "private/ca.key"));
}

// ---- errors: non-zero exit, one line on stderr saying what and what to do -----------------------

struct ErrorCase {
  std::string name;
  std::vector<std::string> args;
  std::string expected;
};

TEST_F(PkiCli, BadInputGivesOneClearLineAndNonZeroExit) {
  // Before init: the CA is missing.
  auto missing = ctl({"list"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.err, HasSubstr("kelvinctl pki init"));

  init();
  issue_device("sensor-01");
  ASSERT_EQ(ctl({"revoke", "sensor-01"}).exit_code, 0);

  const std::vector<ErrorCase> cases = {
      {"id with slash", {"issue", "device", "Bad/ID"}, "invalid device id 'Bad/ID'"},
      {"id with wildcard", {"issue", "device", "a+b"}, "invalid device id"},
      {"id too long", {"issue", "device", std::string(64, 'a')}, "1 to 63 characters"},
      {"reserved prefix", {"issue", "device", "svc-gateway"}, "reserved for services"},
      {"service without prefix", {"issue", "service", "exporter"}, "start with 'svc-'"},
      {"unknown kind", {"issue", "robot", "r2"}, "unknown kind 'robot'"},
      {"duplicate service", {"issue", "service", "svc-gateway"}, "already has a valid certificate"},
      {"unknown id", {"revoke", "nosuchdevice"}, "no certificate with id or serial 'nosuchdevice'"},
      {"revoke twice", {"revoke", "sensor-01"}, "already revoked"},
      {"init twice", {"init"}, "a CA already exists"},
      {"bad SAN", {"issue", "server", "--server-san", "DNS:ok.example,localhost"}, "invalid subject alternative name"},
      {"verify missing file", {"verify", (tmp_ / "nope.crt").string()}, "No such file or directory"},
  };
  for (const auto& c : cases) {
    auto r = ctl(c.args);
    EXPECT_EQ(r.exit_code, 1) << c.name << "\n" << describe(r);
    EXPECT_THAT(r.err, HasSubstr(c.expected)) << c.name;
    EXPECT_THAT(r.err, ::testing::StartsWith("kelvinctl: ")) << c.name;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << c.name << ": " << r.err;
  }

  auto usage = run_command({project_binary("kelvinctl"), "pki"});
  EXPECT_EQ(usage.exit_code, 2) << describe(usage);
  auto unknown_option = ctl({"list", "--frobnicate"});
  EXPECT_EQ(unknown_option.exit_code, 2) << describe(unknown_option);
}

TEST_F(PkiCli, UnreadablePkiDirectoryIsReportedWithWhatToDo) {
  init();
  // Root reads everything, so run the binary as an unprivileged user. Copy it where that user can
  // execute it: the build tree may sit inside a folder only root can enter.
  fs::permissions(tmp_.path(), fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                   fs::perms::others_read | fs::perms::others_exec);
  const fs::path binary = tmp_ / "kelvinctl";
  fs::copy_file(project_binary("kelvinctl"), binary);
  auto r = run_command({"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", binary.string(), "pki", "--dir",
                        pki_.string(), "list"});
  EXPECT_EQ(r.exit_code, 1) << describe(r);
  EXPECT_THAT(r.err, AllOf(HasSubstr("Permission denied"), HasSubstr("run kelvinctl as the user that owns")));
}

// Without --dir, the directory where kelvin-gateway and the other kelvinctl commands look:
// $KELVIN_PKI_DIR, else $KELVIN_STATE_DIR/pki.
TEST_F(PkiCli, WithoutDirTheDirectoryIsThePkiVariableElseTheStateDirectorysPki) {
  const fs::path state = tmp_ / "state";
  fs::create_directory(state);
  CommandOptions state_only;
  state_only.env["KELVIN_STATE_DIR"] = state.string();
  state_only.env["KELVIN_PKI_DIR"] = std::nullopt;
  auto r = run_command({project_binary("kelvinctl"), "pki", "init"}, with_clean_env(state_only));
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_TRUE(fs::exists(state / "pki" / "ca.crt"));
  EXPECT_FALSE(fs::exists(pki_));

  CommandOptions both = state_only;
  both.env["KELVIN_PKI_DIR"] = pki_.string();
  r = run_command({project_binary("kelvinctl"), "pki", "init"}, with_clean_env(both));
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_TRUE(fs::exists(pki_ / "ca.crt"));
}

// ---- crash safety and concurrency --------------------------------------------------------------

std::set<std::string> serials_in_list(const std::string& list_output) {
  std::set<std::string> serials;
  std::regex row(" ([0-9A-F]{16,32}) ");
  for (auto it = std::sregex_iterator(list_output.begin(), list_output.end(), row); it != std::sregex_iterator();
       ++it) {
    serials.insert((*it)[1]);
  }
  return serials;
}

// kelvinctl killed with SIGKILL at random moments of `issue`: every certificate file that exists
// must be known to the index, and the index must stay usable.
TEST_F(PkiCli, KillingIssueAtAnyMomentNeverLeavesACertificateTheIndexDoesNotKnow) {
  init();
  // Calibrate the kill window to how long one issue takes on this machine.
  auto start = std::chrono::steady_clock::now();
  issue_device("calibration");
  auto full = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  std::mt19937 random(20261122);
  std::uniform_int_distribution<long> delay(1, std::max<long>(2, full.count() * 3 / 2));

  int killed = 0;
  for (int i = 0; i < 40; ++i) {
    CommandOptions options;
    options.timeout = std::chrono::milliseconds(delay(random));
    auto r = ctl({"issue", "device", "crash-" + std::to_string(i)}, options);
    if (r.exit_code == 128 + SIGKILL) ++killed;
  }
  EXPECT_GT(killed, 5) << "the kill window missed the command; the test did not exercise crashes";

  auto list = ctl({"list"});
  ASSERT_EQ(list.exit_code, 0) << describe(list);
  const auto known = serials_in_list(list.out);
  int files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(pki_)) {
    if (entry.path().extension() != ".crt" || entry.path().filename().string().find(".tmp.") != std::string::npos)
      continue;
    auto serial = openssl({"x509", "-in", entry.path().string(), "-noout", "-serial"});
    if (serial.exit_code != 0) continue;  // a temp file cut short is not a certificate
    ++files;
    EXPECT_TRUE(known.count(field_after(serial.out, "serial="))) << entry.path() << " is not in the index";
  }
  EXPECT_GT(files, 4);

  // The index is still appendable after whatever torn tail the kills left.
  issue_device("after-crashes");
  EXPECT_THAT(ctl({"list"}).out, HasSubstr("after-crashes"));
}

TEST_F(PkiCli, ConcurrentIssuesAreSerialisedAndAllRecorded) {
  init();
  auto issue_range = [&](int first, int count, int* failures) {
    for (int i = first; i < first + count; ++i) {
      if (ctl({"issue", "device", "par-" + std::to_string(i)}).exit_code != 0) ++*failures;
    }
  };
  int failures_a = 0, failures_b = 0;
  std::thread a(issue_range, 0, 8, &failures_a);
  std::thread b(issue_range, 100, 8, &failures_b);
  a.join();
  b.join();
  EXPECT_EQ(failures_a + failures_b, 0);
  auto list = ctl({"list"});
  ASSERT_EQ(list.exit_code, 0) << describe(list);
  EXPECT_EQ(serials_in_list(list.out).size(), 3u + 16u);
}

}  // namespace
