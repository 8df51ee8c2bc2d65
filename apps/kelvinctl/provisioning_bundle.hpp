#pragma once
// The provisioning bundle `kelvinctl device add` hands to a device: one directory (0700) with
// everything kelvin-agent needs, named so that the agent's defaults find it:
//
//   agent.toml    agent configuration (deploy/agent/agent.example.toml format)
//   ca.crt        the installation's CA certificate
//   <id>.crt      the device certificate
//   <id>.key      its private key (0600)

#include <filesystem>
#include <string>
#include <vector>

#include "kelvin/core/result.hpp"

namespace kelvin::ctl {

struct BundleContents {
  std::string device_id;
  std::string broker_host;
  int broker_port = 8883;
  // The files to copy, from the PKI.
  std::filesystem::path ca_certificate;
  std::filesystem::path device_certificate;
  std::filesystem::path device_key;
};

struct BundleFile {
  std::string name;         // inside the bundle
  std::string description;  // for the summary kelvinctl prints
};

// Errc::already_exists when `dir` exists and is not an empty directory: a bundle never overwrites
// anything. Checked before a certificate is issued, so a bad --out costs nothing.
Result<void> check_bundle_dir_free(const std::filesystem::path& dir);

// The agent configuration of the bundle.
std::string render_agent_config(const BundleContents& contents);

// Writes the bundle into `dir` as a whole or not at all: the files go into a hidden sibling
// directory that is renamed to `dir` at the end (and removed if anything fails). Returns the
// files written, in a sensible reading order.
Result<std::vector<BundleFile>> write_bundle(const std::filesystem::path& dir, const BundleContents& contents);

}  // namespace kelvin::ctl
