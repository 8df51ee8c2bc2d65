#include "kelvin/linux_port/boot_record_file.hpp"

#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "kelvin/core/files.hpp"

namespace kelvin::linux_port {
namespace fs = std::filesystem;
namespace {

using nlohmann::json;
constexpr int kFormat = 1;
constexpr std::size_t kMaxRecordBytes = 4096;

std::optional<device::Slot> slot_named(const json& value) {
  if (value == "a") return device::Slot::a;
  if (value == "b") return device::Slot::b;
  return std::nullopt;
}

std::optional<device::TrialOutcome> outcome_named(const json& value) {
  for (auto outcome :
       {device::TrialOutcome::none, device::TrialOutcome::confirmed, device::TrialOutcome::rolled_back}) {
    if (value == device::to_string(outcome)) return outcome;
  }
  return std::nullopt;
}

std::optional<proto::FirmwareVersion> version_of(const json& value) {
  if (!value.is_string()) return std::nullopt;
  auto version = proto::parse_firmware_version(value.get<std::string>());
  if (!version) return std::nullopt;
  return *version;
}

std::optional<std::uint32_t> count_of(const json& value) {
  if (!value.is_number_unsigned() || value.get<std::uint64_t>() > std::numeric_limits<std::uint32_t>::max()) {
    return std::nullopt;
  }
  return static_cast<std::uint32_t>(value.get<std::uint64_t>());
}

// The record from its JSON; nullopt for any member missing, extra or out of its range.
std::optional<device::BootRecord> record_of(const json& doc) {
  static const char* const kMembers[] = {"format",
                                         "confirmed",
                                         "confirmed_version",
                                         "trial",
                                         "trial_version",
                                         "trial_security_version",
                                         "attempts_left",
                                         "highest_security_version",
                                         "last_outcome",
                                         "last_outcome_version"};
  if (!doc.is_object() || doc.size() != std::size(kMembers)) return std::nullopt;
  for (const char* member : kMembers) {
    if (!doc.contains(member)) return std::nullopt;
  }
  if (doc["format"] != kFormat) return std::nullopt;
  device::BootRecord record;
  auto confirmed = slot_named(doc["confirmed"]);
  auto confirmed_version = version_of(doc["confirmed_version"]);
  auto trial_version = version_of(doc["trial_version"]);
  auto trial_security = count_of(doc["trial_security_version"]);
  auto attempts = count_of(doc["attempts_left"]);
  auto highest = count_of(doc["highest_security_version"]);
  auto outcome = outcome_named(doc["last_outcome"]);
  auto outcome_version = version_of(doc["last_outcome_version"]);
  if (!confirmed || !confirmed_version || !trial_version || !trial_security || !attempts || !highest || !outcome ||
      !outcome_version) {
    return std::nullopt;
  }
  if (!doc["trial"].is_null()) {
    auto trial = slot_named(doc["trial"]);
    if (!trial || *trial == *confirmed) return std::nullopt;
    record.trial = trial;
  }
  record.confirmed = *confirmed;
  record.confirmed_version = *confirmed_version;
  record.trial_version = *trial_version;
  record.trial_security_version = *trial_security;
  record.attempts_left = *attempts;
  record.highest_security_version = *highest;
  record.last_outcome = *outcome;
  record.last_outcome_version = *outcome_version;
  return record;
}

}  // namespace

Result<device::BootRecord> load_boot_record(const std::filesystem::path& file, const device::BootRecord& fresh) {
  std::error_code error;
  if (!std::filesystem::exists(file, error)) {
    if (error) return make_error(Errc::io, "cannot inspect " + file.string() + ": " + error.message());
    return fresh;
  }
  auto text = files::read_file(file, kMaxRecordBytes);
  if (!text) return std::move(text).error();
  const json doc = json::parse(*text, nullptr, /*allow_exceptions=*/false);
  auto record = record_of(doc);
  if (!record) {
    return make_error(Errc::corrupt, file.string() + " is not a kelvin boot record (format " + std::to_string(kFormat) +
                                         "); the agent will not guess which image to start");
  }
  return *record;
}

Result<void> save_boot_record(const std::filesystem::path& file, const device::BootRecord& record) {
  const json doc = {
      {"format", kFormat},
      {"confirmed", device::to_string(record.confirmed)},
      {"confirmed_version", record.confirmed_version.to_string()},
      {"trial", record.trial ? json(device::to_string(*record.trial)) : json(nullptr)},
      {"trial_version", record.trial_version.to_string()},
      {"trial_security_version", record.trial_security_version},
      {"attempts_left", record.attempts_left},
      {"highest_security_version", record.highest_security_version},
      {"last_outcome", device::to_string(record.last_outcome)},
      {"last_outcome_version", record.last_outcome_version.to_string()},
  };
  return files::write_file_atomic(file, doc.dump() + "\n", files::kPrivateFileMode);
}

fs::path boot_record_path(const fs::path& update_dir) {
  return update_dir / "boot.json";
}

fs::path slot_path(const fs::path& update_dir, device::Slot slot) {
  return update_dir / "slots" / device::to_string(slot);
}

fs::path slot_image_path(const fs::path& update_dir, device::Slot slot) {
  return slot_path(update_dir, slot) / "image";
}

}  // namespace kelvin::linux_port
