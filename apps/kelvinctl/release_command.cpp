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
#include "kelvin/core/utc_time.hpp"
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
// A month: a gateway that withholds releases is noticed by its devices within it, and whoever
// holds the offline key signs a new timestamp once a month (the dashboard warns a week ahead).
constexpr int kDefaultTimestampValidDays = 30;
constexpr int kMaxTimestampValidDays = static_cast<int>(proto::kMaxTimestampValiditySeconds / 86'400);

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
  // timestamp (manifest, key, out, force above), publish-timestamp
  int valid_days = kDefaultTimestampValidDays;
  std::string publish_timestamp;
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

// A signed envelope written to `out` (0644: it is public), atomically; an existing file only with
// `force`.
Result<void> write_signed_file(const std::filesystem::path& out, std::string_view envelope, bool force) {
  std::error_code ignored;
  if (!force && std::filesystem::exists(out, ignored)) {
    return make_error(Errc::already_exists, out.string() + " already exists (--force replaces it)");
  }
  return files::write_file_atomic(out, envelope, files::kPublicFileMode);
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
  if (auto written = write_signed_file(out, *envelope, options.force); !written) {
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

// Signs the statement that the release `options.manifest` signs is its product's newest, valid
// for `options.valid_days`. The manifest must carry this key's signature: a timestamp vouches for
// a release the same key released.
int run_timestamp(const ReleaseOptions& options) {
  if (options.valid_days < 1 || options.valid_days > kMaxTimestampValidDays) {
    return report_usage_error("--valid-days must be from 1 to " + std::to_string(kMaxTimestampValidDays),
                              "release timestamp");
  }
  auto passphrase = read_key_passphrase(options.passphrase_file, kReleasePassphraseEnv);
  if (!passphrase) return report_failure(passphrase.error());
  auto key = release::load_release_signing_key(options.key, *passphrase);
  if (!key) return report_failure(key.error());
  auto text = files::read_file(options.manifest, proto::kMaxEnvelopeBytes);
  if (!text) return report_failure(text.error());
  const release::PinnedReleaseKey own_key(key->public_key());
  auto manifest = proto::open_release_envelope(*text, own_key);
  if (!manifest) return report_failure(manifest.error());

  proto::ReleaseTimestamp stamp;
  stamp.product = manifest->product;
  stamp.version = manifest->version;
  stamp.security_version = manifest->security_version;
  stamp.issued = static_cast<std::int64_t>(std::time(nullptr));
  stamp.expires = stamp.issued + std::int64_t{options.valid_days} * 86'400;
  auto envelope = release::sign_release_timestamp(stamp, *key);
  if (!envelope) return report_failure(envelope.error());

  const std::filesystem::path out = options.out.empty() ? stamp.product + ".timestamp" : options.out;
  if (auto written = write_signed_file(out, *envelope, options.force); !written) {
    return report_failure(written.error());
  }
  std::cout << "Signed the timestamp: " << stamp.product << " " << stamp.version.to_string()
            << " is the newest release (security version " << stamp.security_version << "), valid until "
            << format_utc_seconds(stamp.expires) << ", with release key " << key->public_key().key_id() << "\n"
            << "  timestamp " << out.string() << "\n"
            << "Publish it on the gateway (kelvinctl release publish-timestamp), and sign a new one before it "
               "expires: devices that see only an expired one report it.\n";
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

int run_publish_timestamp(const ReleaseOptions& options) {
  if (auto dir = require_state_dir(options.state); !dir) return report_failure(dir.error());
  auto catalog = open_catalog(options.state);
  if (!catalog) return report_failure(catalog.error());
  auto envelope = files::read_file(options.publish_timestamp, proto::kMaxEnvelopeBytes);
  if (!envelope) return report_failure(envelope.error());
  auto outcome = catalog->publish_timestamp(*envelope, static_cast<std::int64_t>(std::time(nullptr)));
  if (!outcome) return report_failure(outcome.error());
  const auto& stamp = outcome->timestamp.timestamp;
  const std::string name = stamp.product + " " + stamp.version.to_string();
  if (outcome->already_published) {
    std::cout << "This timestamp of " << stamp.product << " is published already; nothing changed.\n";
    return 0;
  }
  const auto releases = gateway::releases_path(options.state.state_dir);
  for (const auto& path : {releases, releases / ".timestamps", releases / ".timestamps" / stamp.product}) {
    if (auto handed = hand_to_state_dir_owner(options.state, path); !handed) return report_failure(handed.error());
  }
  audit_host_action(options.state, "release_timestamp", stamp.product,
                    "names " + name + ", issued " + format_utc_seconds(stamp.issued) + ", expires " +
                        format_utc_seconds(stamp.expires));
  std::cout << "Published the timestamp of " << stamp.product << ": " << name << " is the newest release, until "
            << format_utc_seconds(stamp.expires) << "\n";
  return 0;
}

// "2027-01-04T08:00:00Z (in 29 days)", or "... (EXPIRED)".
std::string expiry_text(std::int64_t expires, std::int64_t now) {
  const std::string at = format_utc_seconds(expires);
  if (expires <= now) return at + " (EXPIRED)";
  return at + " (in " + std::to_string((expires - now) / 86'400) + " days)";
}

// The products' timestamps under the releases table: what each names and until when.
void print_timestamps(const release::ReleaseCatalog& catalog, const std::vector<release::PublishedRelease>& releases) {
  const auto now = static_cast<std::int64_t>(std::time(nullptr));
  std::vector<std::string> products;
  for (const auto& published : releases) {
    if (products.empty() || products.back() != published.manifest.product)
      products.push_back(published.manifest.product);
  }
  std::cout << "\nRelease timestamps (what devices are told is newest):\n";
  for (const auto& product : products) {
    auto stamp = catalog.timestamp(product);
    if (!stamp) {
      std::cout << "  " << product << ": unreadable: " << stamp.error().message << "\n";
    } else if (!*stamp) {
      std::cout << "  " << product << ": none published: its devices report timestamp_missing\n";
    } else {
      const auto& t = (*stamp)->timestamp;
      std::cout << "  " << product << ": names " << t.version.to_string() << ", expires " << expiry_text(t.expires, now)
                << "\n";
    }
  }
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
  print_timestamps(*catalog, *releases);
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

  CLI::App* timestamp = release->add_subcommand(
      "timestamp",
      "Sign the statement that a release is its product's newest, valid for some days (devices notice "
      "a gateway that withholds releases by it)");
  timestamp->add_option("manifest", options->manifest, "The newest release's signed manifest")->required();
  timestamp->add_option("--valid-days", options->valid_days, "Days until it expires (1-366)")->capture_default_str();
  timestamp->add_option("--key", options->key, "The release private key")->capture_default_str();
  timestamp->add_option("--out", options->out, "Timestamp to write (default: PRODUCT.timestamp)");
  timestamp->add_flag("--force", options->force, "Replace an existing file");
  add_passphrase_file_option(timestamp, options->passphrase_file);
  timestamp->callback(run(run_timestamp));

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

  CLI::App* publish_timestamp = release->add_subcommand(
      "publish-timestamp", "Give the gateway a product's new release timestamp, after checking its signature");
  publish_timestamp->add_option("timestamp", options->publish_timestamp, "The signed timestamp")->required();
  add_state_options(publish_timestamp, options->state, /*with_pki=*/false);
  publish_timestamp->callback(run(run_publish_timestamp));

  CLI::App* list = release->add_subcommand("list", "List the releases the gateway holds and their timestamps");
  add_state_options(list, options->state, /*with_pki=*/false);
  trust->callback(run(run_trust));
  publish->callback(run(run_publish));
  list->callback(run(run_list));
}

}  // namespace kelvin::ctl
