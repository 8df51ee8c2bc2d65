#include "release_command.hpp"

#include <ctime>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "ca_access.hpp"
#include "failure.hpp"
#include "kelvin/core/files.hpp"
#include "kelvin/core/time_format.hpp"
#include "kelvin/gateway/state_layout.hpp"
#include "kelvin/proto/signed_envelope.hpp"
#include "kelvin/release/release_catalog.hpp"
#include "kelvin/release/release_image.hpp"
#include "kelvin/release/release_keys.hpp"
#include "progress_bar.hpp"
#include "state_options.hpp"
#include "text_table.hpp"
#include "user_accounts.hpp"

namespace kelvin::ctl {
namespace {

constexpr const char* kReleasePassphraseEnv = "KELVIN_RELEASE_PASSPHRASE";

struct ReleaseOptions {
  StateOptions state;  // trust, publish, list: the gateway's state dir
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
  // trust
  std::string trusted_key;
  bool replace = false;
  // publish
  std::string publish_image;
  std::string publish_manifest;
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

// The gateway's catalog with its trusted key, with a hint when no key was given yet.
Result<release::ReleaseCatalog> open_catalog(const StateOptions& state) {
  auto catalog = release::ReleaseCatalog::open(gateway::releases_path(state.state_dir),
                                               gateway::release_public_key_path(state.state_dir));
  if (!catalog) return std::move(catalog).error();
  if (!*catalog) {
    return make_error(Errc::not_found, "no release key is trusted in " + state.state_dir +
                                           " yet: give the gateway the public key with kelvinctl release trust "
                                           "release.pub");
  }
  return std::move(**catalog);
}

int run_trust(const ReleaseOptions& options) {
  if (auto dir = require_state_dir(options.state); !dir) return report_failure(dir.error());
  auto key = release::load_release_public_key(options.trusted_key);
  if (!key) return report_failure(key.error());
  const auto file = gateway::release_public_key_path(options.state.state_dir);
  auto exists = file_exists(file);
  if (!exists) return report_failure(exists.error());
  if (*exists) {
    auto current = release::load_release_public_key(file);
    if (current && current->public_key().raw() == key->public_key().raw()) {
      std::cout << "Release key " << key->key_id() << " is trusted already.\n";
      return 0;
    }
    if (!options.replace) {
      return report_failure(make_error(
          Errc::already_exists,
          file.string() + " holds another release key" + (current ? " (" + std::string(current->key_id()) + ")" : "") +
              ": the gateway would refuse every release signed by it, and devices keep the key they pinned "
              "(--replace if you mean it)"));
    }
  }
  auto pem = key->public_key().to_pem();
  if (!pem) return report_failure(pem.error());
  if (auto written = files::write_file_atomic(file, *pem, files::kPublicFileMode); !written) {
    return report_failure(written.error());
  }
  if (auto handed = hand_to_state_dir_owner(options.state, file); !handed) return report_failure(handed.error());
  audit_host_action(options.state, "release_key_trust", key->key_id(), *exists ? "replaced" : "");
  std::cout << "The gateway in " << options.state.state_dir << " now accepts releases signed by release key "
            << key->key_id() << ".\n";
  return 0;
}

// Gives what a publish created to the state dir's owner (the gateway's account), when run as root.
Result<void> hand_release_to_state_dir_owner(const StateOptions& state, const release::PublishedRelease& release) {
  const auto releases = gateway::releases_path(state.state_dir);
  for (const auto& path :
       {releases, release.directory.parent_path(), release.directory, release.image(), release.manifest_file()}) {
    if (auto handed = hand_to_state_dir_owner(state, path); !handed) return handed;
  }
  return {};
}

int run_publish(const ReleaseOptions& options) {
  if (auto dir = require_state_dir(options.state); !dir) return report_failure(dir.error());
  auto catalog = open_catalog(options.state);
  if (!catalog) return report_failure(catalog.error());
  auto envelope = files::read_file(options.publish_manifest, proto::kMaxEnvelopeBytes);
  if (!envelope) return report_failure(envelope.error());
  std::optional<ProgressBar> bar;
  auto outcome = catalog->publish(options.publish_image, *envelope, [&](std::uint64_t done, std::uint64_t total) {
    if (!bar) bar.emplace("publishing " + std::filesystem::path(options.publish_image).filename().string());
    bar->update(done, total);
  });
  bar.reset();  // ends its line before the result
  if (!outcome) return report_failure(outcome.error());
  const auto& manifest = outcome->release.manifest;
  const std::string name = manifest.product + " " + manifest.version.to_string();
  if (outcome->already_published) {
    std::cout << name << " is published already (the same image); nothing changed.\n";
    return 0;
  }
  if (auto handed = hand_release_to_state_dir_owner(options.state, outcome->release); !handed) {
    return report_failure(handed.error());
  }
  audit_host_action(options.state, "release_publish", name,
                    "sha256 " + manifest.sha256 + ", security version " + std::to_string(manifest.security_version));
  std::cout << "Published " << name << " (security version " << manifest.security_version << ", " << manifest.size
            << " bytes) in " << outcome->release.directory.string() << "\n";
  return 0;
}

int run_list(const ReleaseOptions& options) {
  auto catalog = open_catalog(options.state);
  if (!catalog) return report_failure(catalog.error());
  std::vector<std::string> problems;
  auto releases = catalog->list(&problems);
  if (!releases) return report_failure(releases.error());
  for (const auto& problem : problems) std::cerr << "kelvinctl: warning: skipped " << problem << "\n";
  if (releases->empty()) {
    std::cout << "No releases published.\n";
    return 0;
  }
  TextTable table(
      {{"PRODUCT"}, {"VERSION"}, {"SECURITY", Align::right}, {"BYTES", Align::right}, {"CREATED"}, {"SHA256"}});
  for (const auto& published : *releases) {
    const auto& m = published.manifest;
    table.add_row({m.product, m.version.to_string(), std::to_string(m.security_version), std::to_string(m.size),
                   m.created, m.sha256.substr(0, 16)});
  }
  table.print(std::cout);
  return 0;
}

void add_passphrase_file_option(CLI::App* command, std::string& passphrase_file) {
  command->add_option(
      "--passphrase-file", passphrase_file,
      "File (mode 0600) holding the release key's passphrase; or set " + std::string(kReleasePassphraseEnv));
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
  sign->add_option("--product", options->product, "The product it is for (devices refuse other products)")->required();
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

  // The gateway's side: these work on its state dir.
  CLI::App* trust = release->add_subcommand(
      "trust", "Make the gateway accept releases signed by this release public key (<state dir>/release.pub)");
  trust->add_option("public_key", options->trusted_key, "The release public key (release.pub)")->required();
  trust->add_flag("--replace", options->replace, "Replace another trusted key (releases signed by it are refused)");
  add_state_options(trust, options->state, /*with_pki=*/false);

  CLI::App* publish = release->add_subcommand(
      "publish", "Add a signed release to the gateway, after checking the signature and the image");
  publish->add_option("image", options->publish_image, "The firmware image")->required()->check(CLI::ExistingFile);
  publish->add_option("manifest", options->publish_manifest, "Its signed manifest (from kelvinctl release sign)")
      ->required();
  add_state_options(publish, options->state, /*with_pki=*/false);

  CLI::App* list = release->add_subcommand("list", "List the releases the gateway holds");
  add_state_options(list, options->state, /*with_pki=*/false);
  trust->callback(run(run_trust));
  publish->callback(run(run_publish));
  list->callback(run(run_list));
}

}  // namespace kelvin::ctl
