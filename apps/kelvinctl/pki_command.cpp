#include "pki_command.hpp"

#include <ctime>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "ca_access.hpp"
#include "failure.hpp"
#include "kelvin/core/files.hpp"
#include "kelvin/core/time_format.hpp"
#include "kelvin/pki/certificate_authority.hpp"
#include "state_options.hpp"

namespace kelvin::ctl {
namespace {

using pki::CertificateAuthority;
using pki::CertificateKind;

struct PkiOptions {
  std::string dir;
  std::string passphrase_file;
  // init
  std::string ca_name = "kelvin CA";
  std::string server_name;
  std::vector<std::string> server_alt_names;
  bool force = false;
  // issue
  std::string kind;
  std::string name;
  int validity_days = pki::kLeafValidityDays;
  bool renew = false;
  // revoke / verify
  std::string target;
  std::string purpose = "auto";
};

int fail(const Error& error, const PkiOptions& options) {
  return report_failure(error, options.dir);
}

Result<CertificateAuthority> open_ca(const PkiOptions& options) {
  return ctl::open_ca(options.dir, options.passphrase_file);
}

int run_init(const PkiOptions& options) {
  auto passphrase = read_ca_passphrase(options.passphrase_file);
  if (!passphrase) return fail(passphrase.error(), options);
  pki::InitOptions init;
  init.ca_name = options.ca_name;
  init.server_name = options.server_name;
  init.server_alt_names = options.server_alt_names;
  init.passphrase = *passphrase;
  init.force = options.force;
  const std::time_t now = std::time(nullptr);
  auto ca = CertificateAuthority::init(options.dir, init, now);
  if (!ca) return fail(ca.error(), options);

  const auto& paths = ca->paths();
  std::cout << "Created CA '" << options.ca_name << "' in " << paths.root().string() << "\n";
  for (const auto& status : ca->list(now)) {
    const auto& record = status.record;
    std::cout << "  " << std::left << std::setw(8) << pki::to_string(record.kind) << std::setw(16) << record.common_name
              << " valid until " << format_utc_date(record.not_after) << "  "
              << paths.identity_certificate(record.kind, record.common_name).string() << "\n";
  }
  std::cout << "  CRL     " << paths.crl().string() << " (next update in " << pki::kCrlValidityDays
            << " days: regenerate it with kelvinctl pki crl)\n"
            << "CA key " << paths.ca_key().string()
            << (init.passphrase ? " is encrypted with your passphrase" : " is not encrypted")
            << "; keep a backup of it offline.\n";
  return 0;
}

int run_issue(const PkiOptions& options) {
  auto kind = pki::parse_certificate_kind(options.kind);
  if (!kind || *kind == CertificateKind::ca) {
    return fail(
        make_error(Errc::invalid_argument, "unknown kind '" + options.kind + "': use device, service or server"),
        options);
  }
  if (*kind != CertificateKind::server && options.name.empty()) {
    return fail(make_error(Errc::invalid_argument,
                           "give the " + options.kind + "'s name: kelvinctl pki issue " + options.kind + " NAME"),
                options);
  }
  auto ca = open_ca(options);
  if (!ca) return fail(ca.error(), options);
  pki::IssueOptions issue;
  issue.validity_days = options.validity_days;
  issue.renew = options.renew;
  issue.server_alt_names = options.server_alt_names;
  auto issued =
      ca->issue(*kind, *kind == CertificateKind::server && options.name.empty() ? options.server_name : options.name,
                issue, std::time(nullptr));
  if (!issued) return fail(issued.error(), options);

  std::cout << "Issued " << options.kind << " certificate for " << issued->record.common_name << "\n"
            << "  serial       " << issued->record.serial << "\n"
            << "  valid until  " << format_utc_date(issued->record.not_after) << "\n"
            << "  certificate  " << issued->certificate_path.string() << "\n"
            << "  key          " << issued->key_path.string() << " (0600)\n"
            << "  CA           " << ca->paths().ca_certificate().string() << "\n";
  for (const auto& earlier : issued->still_valid) {
    std::cout << "Earlier certificate " << earlier.serial << " stays valid until " << format_utc_date(earlier.not_after)
              << "; revoke it with kelvinctl pki revoke " << earlier.serial << " once it is no longer used.\n";
  }
  return 0;
}

int run_revoke(const PkiOptions& options) {
  auto ca = open_ca(options);
  if (!ca) return fail(ca.error(), options);
  auto revoked = ca->revoke(options.target, std::time(nullptr));
  if (!revoked) return fail(revoked.error(), options);
  for (const auto& record : *revoked) {
    std::cout << "Revoked " << pki::to_string(record.kind) << " certificate " << record.common_name << " (serial "
              << record.serial << ")\n";
  }
  std::cout << "CRL updated: " << ca->paths().crl().string() << "\n";
  return 0;
}

int run_crl(const PkiOptions& options) {
  auto ca = open_ca(options);
  if (!ca) return fail(ca.error(), options);
  auto info = ca->regenerate_crl(std::time(nullptr));
  if (!info) return fail(info.error(), options);
  std::cout << "Wrote CRL #" << info->number << " with " << info->revoked_count << " revoked certificate(s) to "
            << ca->paths().crl().string() << "; next update " << format_utc_timestamp(info->next_update) << "\n";
  return 0;
}

int run_list(const PkiOptions& options) {
  auto ca = open_ca(options);
  if (!ca) return fail(ca.error(), options);
  const auto statuses = ca->list(std::time(nullptr));
  std::size_t name_width = 2;
  for (const auto& status : statuses) name_width = std::max(name_width, status.record.common_name.size());
  std::cout << std::left << std::setw(static_cast<int>(name_width) + 2) << "CN" << std::setw(9) << "KIND"
            << std::setw(34) << "SERIAL" << std::setw(12) << "NOT AFTER" << std::setw(15) << "STATUS"
            << "DAYS LEFT\n";
  for (const auto& status : statuses) {
    std::cout << std::left << std::setw(static_cast<int>(name_width) + 2) << status.record.common_name << std::setw(9)
              << pki::to_string(status.record.kind) << std::setw(34) << status.record.serial << std::setw(12)
              << format_utc_date(status.record.not_after) << std::setw(15) << pki::to_string(status.state)
              << status.days_left << "\n";
  }
  return 0;
}

int run_verify(const PkiOptions& options) {
  auto ca = open_ca(options);
  if (!ca) return fail(ca.error(), options);
  auto pem = files::read_file(options.target);
  if (!pem) return fail(pem.error(), options);
  pki::Purpose purpose = options.purpose == "server"   ? pki::Purpose::server
                         : options.purpose == "client" ? pki::Purpose::client
                                                       : pki::Purpose::from_index;
  auto verified = ca->verify_pem(*pem, options.target, purpose, std::time(nullptr));
  if (!verified) return fail(verified.error(), options);
  const pki::VerificationReport& report = *verified;
  std::string kind = report.kind ? std::string(pki::to_string(*report.kind)) : "unknown";
  std::cout << (report.valid() ? "OK" : "INVALID") << ": " << options.target << "\n"
            << "  CN " << report.common_name << ", kind " << kind << ", serial " << report.serial << "\n"
            << "  valid until " << format_utc_timestamp(report.not_after) << ", checked for " << report.purpose
            << " use against " << ca->paths().ca_certificate().string() << " and " << ca->paths().crl().string()
            << "\n";
  for (const auto& problem : report.problems) std::cout << "  problem: " << problem << "\n";
  return report.valid() ? 0 : 1;
}

}  // namespace

void add_pki_command(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<PkiOptions>();
  // Where kelvin-gateway and the other commands look for it (StateOptions::pki).
  options->dir =
      pki_dir_from_environment().value_or((std::filesystem::path(state_dir_from_environment()) / "pki").string());

  CLI::App* pki = app.add_subcommand("pki", "The installation's certificate authority");
  pki->require_subcommand(1);
  pki->fallthrough();  // --dir and --passphrase-file may follow the subcommand
  pki->add_option("--dir", options->dir,
                  "PKI directory (default: $" + std::string(kPkiDirEnv) + ", else <$" + kStateDirEnv + ">/pki, else " +
                      kDefaultStateDir + "/pki)");
  add_passphrase_option(pki, options->passphrase_file);

  auto run = [&exit_code, options](int (*command)(const PkiOptions&)) {
    return [&exit_code, options, command]() { exit_code = command(*options); };
  };
  auto add_server_options = [options](CLI::App* command) {
    command->add_option("--server-name", options->server_name, "CN of the server certificate (default: host name)");
    command
        ->add_option("--server-san", options->server_alt_names,
                     "Server subject alternative names, e.g. DNS:gw.local,IP:192.0.2.7 "
                     "(default: DNS:localhost,IP:127.0.0.1,DNS:<host name>)")
        ->delimiter(',');
  };

  CLI::App* init =
      pki->add_subcommand("init", "Create the CA, the server certificate and the gateway's service certificate");
  init->add_option("--name", options->ca_name, "CA name (CN of the CA certificate)")->capture_default_str();
  add_server_options(init);
  init->add_flag("--force", options->force, "Replace an existing CA (the old one is moved to a replaced-* folder)");
  init->callback(run(run_init));

  CLI::App* issue =
      pki->add_subcommand("issue", "Issue a certificate: issue device ID | issue service svc-NAME | issue server");
  issue->add_option("kind", options->kind, "device, service or server")->required();
  issue->add_option("name", options->name, "Device id or service name (svc-...)");
  issue->add_option("--days", options->validity_days, "Validity in days")->capture_default_str();
  issue->add_flag("--renew", options->renew, "Issue even though the name holds a valid certificate");
  add_server_options(issue);
  issue->callback(run(run_issue));

  CLI::App* revoke = pki->add_subcommand("revoke", "Revoke a certificate by id or serial and update the CRL");
  revoke->add_option("id-or-serial", options->target, "Device id, service name or serial number")->required();
  revoke->callback(run(run_revoke));

  CLI::App* crl = pki->add_subcommand("crl", "Regenerate the CRL (next update in 7 days)");
  crl->callback(run(run_crl));

  CLI::App* list = pki->add_subcommand("list", "List every certificate the CA issued");
  list->callback(run(run_list));

  CLI::App* verify = pki->add_subcommand("verify", "Check a certificate: chain, expiry, revocation, purpose");
  verify->add_option("certificate", options->target, "PEM certificate file")->required();
  verify->add_option("--purpose", options->purpose, "auto (from the index), server or client")
      ->check(CLI::IsMember({"auto", "server", "client"}))
      ->capture_default_str();
  verify->callback(run(run_verify));
}

}  // namespace kelvin::ctl
