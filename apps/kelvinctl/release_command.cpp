#include "release_command.hpp"

#include <ctime>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include "ca_access.hpp"
#include "failure.hpp"
#include "kelvin/core/files.hpp"
#include "kelvin/core/time_format.hpp"
#include "kelvin/proto/signed_envelope.hpp"
#include "kelvin/release/release_image.hpp"
#include "kelvin/release/release_keys.hpp"

namespace kelvin::ctl {
namespace {

constexpr const char* kReleasePassphraseEnv = "KELVIN_RELEASE_PASSPHRASE";

struct ReleaseOptions {
  std::string passphrase_file;
  // keygen
  std::string dir = ".";
  // sign
  std::string image;
  std::string version;
  std::uint32_t security_version = 0;
  std::string product;
  std::string notes;
  std::string key = release::kPrivateKeyFile;
  std::string out;  // default: IMAGE.manifest
  bool force = false;
  // verify
  std::string manifest;
  std::string public_key = release::kPublicKeyFile;
  std::string verify_image;
};

int run_keygen(const ReleaseOptions& options) {
  auto passphrase = read_key_passphrase(options.passphrase_file, kReleasePassphraseEnv);
  if (!passphrase) return report_failure(passphrase.error());
  auto files = release::create_release_key_pair(options.dir, *passphrase);
  if (!files) return report_failure(files.error(), options.dir);
  std::cout << "Created release key " << files->key_id << "\n"
            << "  private " << files->private_key.string()
            << (*passphrase ? " (encrypted with your passphrase)" : " (not encrypted)") << "\n"
            << "  public  " << files->public_key.string() << "\n"
            << "Keep the private key offline, with a backup: whoever holds it can sign firmware that every device "
               "accepts. Give the gateway and the devices the public key.\n";
  return 0;
}

int run_sign(const ReleaseOptions& options) {
  auto version = proto::parse_firmware_version(options.version);
  if (!version) return report_usage_error(version.error().message, "release sign");
  auto passphrase = read_key_passphrase(options.passphrase_file, kReleasePassphraseEnv);
  if (!passphrase) return report_failure(passphrase.error());
  auto key = release::load_release_signing_key(options.key, *passphrase);
  if (!key) return report_failure(key.error());
  auto facts = release::measure_image(options.image);
  if (!facts) return report_failure(facts.error());

  proto::ReleaseManifest manifest;
  manifest.product = options.product;
  manifest.version = *version;
  manifest.security_version = options.security_version;
  manifest.size = facts->size;
  manifest.sha256 = facts->sha256;
  manifest.created = format_utc_timestamp(std::time(nullptr));
  manifest.notes = options.notes;
  auto envelope = release::sign_release(manifest, *key);
  if (!envelope) return report_failure(envelope.error());

  const std::filesystem::path out = options.out.empty() ? options.image + ".manifest" : options.out;
  std::error_code ignored;
  if (!options.force && std::filesystem::exists(out, ignored)) {
    return report_failure(make_error(Errc::already_exists, out.string() + " already exists (--force replaces it)"));
  }
  if (auto written = files::write_file_atomic(out, *envelope, files::kPublicFileMode); !written) {
    return report_failure(written.error());
  }
  std::cout << "Signed " << manifest.product << " " << manifest.version.to_string() << " (security version "
            << manifest.security_version << ", " << manifest.size << " bytes, sha256 " << manifest.sha256
            << ") with release key " << key->public_key().key_id() << "\n"
            << "  manifest " << out.string() << "\n";
  return 0;
}

int run_verify(const ReleaseOptions& options) {
  auto pinned = release::load_release_public_key(options.public_key);
  if (!pinned) return report_failure(pinned.error());
  auto text = files::read_file(options.manifest, proto::kMaxEnvelopeBytes);
  if (!text) return report_failure(text.error());
  auto manifest = proto::open_release_envelope(*text, *pinned);
  if (!manifest) return report_failure(manifest.error());
  std::cout << "product           " << manifest->product << "\n"
            << "version           " << manifest->version.to_string() << "\n"
            << "security version  " << manifest->security_version << "\n"
            << "size              " << manifest->size << " bytes\n"
            << "sha256            " << manifest->sha256 << "\n"
            << "created           " << manifest->created << "\n"
            << "notes             " << manifest->notes << "\n"
            << "signature         valid, release key " << pinned->key_id() << "\n";
  if (!options.verify_image.empty()) {
    if (auto matches = release::check_image(options.verify_image, *manifest); !matches) {
      return report_failure(matches.error());
    }
    std::cout << "image             " << options.verify_image << " matches\n";
  }
  return 0;
}

void add_passphrase_file_option(CLI::App* command, std::string& passphrase_file) {
  command->add_option("--passphrase-file", passphrase_file,
                      "File (mode 0600) holding the release key's passphrase; or set " +
                          std::string(kReleasePassphraseEnv));
}

}  // namespace

void add_release_command(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<ReleaseOptions>();
  CLI::App* release = app.add_subcommand("release", "Firmware releases: the release key, signing and checking");
  release->require_subcommand(1);
  auto run = [&exit_code, options](int (*command)(const ReleaseOptions&)) {
    return [&exit_code, options, command]() { exit_code = command(*options); };
  };

  CLI::App* keygen = release->add_subcommand(
      "keygen", "Create the installation's Ed25519 release key pair (release.key, release.pub); never overwrites");
  keygen->add_option("--dir", options->dir, "Directory for the two files (created 0700)")->capture_default_str();
  add_passphrase_file_option(keygen, options->passphrase_file);
  keygen->callback(run(run_keygen));

  CLI::App* sign = release->add_subcommand("sign", "Write the signed manifest of a firmware image");
  sign->add_option("image", options->image, "The firmware image")->required()->check(CLI::ExistingFile);
  sign->add_option("--version", options->version, "Its version, MAJOR.MINOR.PATCH")->required();
  sign->add_option("--security-version", options->security_version,
                   "Its security version: devices never install a release below the highest they accepted")
      ->required();
  sign->add_option("--product", options->product, "The product it is for (devices refuse other products)")
      ->required();
  sign->add_option("--notes", options->notes, "Release notes shown to operators");
  sign->add_option("--key", options->key, "The release private key")->capture_default_str();
  sign->add_option("--out", options->out, "Manifest to write (default: IMAGE.manifest)");
  sign->add_flag("--force", options->force, "Replace an existing manifest");
  add_passphrase_file_option(sign, options->passphrase_file);
  sign->callback(run(run_sign));

  CLI::App* verify = release->add_subcommand(
      "verify", "Check a manifest's signature against the release public key, and optionally an image against it");
  verify->add_option("manifest", options->manifest, "The signed manifest")->required();
  verify->add_option("--public-key", options->public_key, "The release public key")->capture_default_str();
  verify->add_option("--image", options->verify_image, "The image the manifest should describe");
  verify->callback(run(run_verify));
}

}  // namespace kelvin::ctl
