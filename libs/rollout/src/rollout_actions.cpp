#include "kelvin/rollout/rollout_actions.hpp"

#include <algorithm>
#include <set>

#include "kelvin/core/identity.hpp"
#include "kelvin/core/time_arguments.hpp"

namespace kelvin::rollout {

Result<Candidates> candidates_for(store::Store& store, const StartRequest& request) {
  auto devices = store.list_devices();
  if (!devices) return std::move(devices).error();
  Candidates candidates;
  candidates.known.reserve(devices->size());
  for (const auto& device : *devices) {
    candidates.known.push_back(device.device_id);
    if (std::binary_search(device.labels.begin(), device.labels.end(), request.label)) {
      candidates.labelled.push_back(device.device_id);
    }
  }
  std::sort(candidates.known.begin(), candidates.known.end());
  std::sort(candidates.labelled.begin(), candidates.labelled.end());
  return candidates;
}

namespace {

Result<store::RolloutRecord> create_rollout(store::RolloutDb& db, const std::optional<release::ReleaseCatalog>& catalog,
                                            const Candidates& candidates, const StartRequest& request,
                                            std::int64_t now_ms, StartRefusal& refusal) {
  refusal = StartRefusal::invalid_request;
  if (auto waves = check_waves(request.waves); !waves) return std::move(waves).error();
  if (request.max_failure_percent < 0 || request.max_failure_percent > 100) {
    return make_error(Errc::invalid_argument, "the failure threshold is a percentage from 0 to 100");
  }
  if (request.device_timeout_ms != 0 &&
      (request.device_timeout_ms < kMinDeviceTimeoutMs || request.device_timeout_ms > kMaxDeviceTimeoutMs)) {
    return make_error(Errc::invalid_argument,
                      "a device's time limit is from a minute to 30 days (or none: devices may stay silent)");
  }
  const bool by_label = !request.label.empty();
  if (int(request.all) + int(!request.devices.empty()) + int(by_label) != 1) {
    return make_error(Errc::invalid_argument, "choose the devices one way: all of them, a list, or a label");
  }
  if (by_label) {
    refusal = StartRefusal::invalid_label;
    if (auto valid = validate_label(request.label); !valid) return std::move(valid).error();
    refusal = StartRefusal::invalid_request;
  }
  auto version = proto::parse_firmware_version(request.version);
  if (!proto::is_valid_product_name(request.product) || !version) {
    return make_error(Errc::invalid_argument, "a release is named by its product and a MAJOR.MINOR.PATCH version");
  }
  refusal = StartRefusal::release_key_missing;
  if (!catalog) {
    return make_error(Errc::not_found, "the gateway trusts no release key yet (kelvinctl release trust)");
  }
  refusal = StartRefusal::failed;
  auto found = catalog->find(request.product, *version);
  if (!found) return std::move(found).error();
  refusal = StartRefusal::release_not_found;
  if (!*found) {
    return make_error(Errc::not_found, "the gateway holds no release " + request.product + " " + request.version +
                                           " (kelvinctl release publish)");
  }
  if (by_label && candidates.labelled.empty()) {
    refusal = StartRefusal::label_not_found;
    return make_error(Errc::not_found, "no device carries the label '" + request.label +
                                           "' (kelvinctl device label ID --add " + request.label + ")");
  }
  refusal = StartRefusal::invalid_request;
  const std::vector<std::string>& known = candidates.known;
  std::vector<std::string> targets = request.all ? known : by_label ? candidates.labelled : request.devices;
  if (targets.empty()) return make_error(Errc::invalid_argument, "the gateway knows no devices to update");
  std::set<std::string> seen;
  for (const auto& device : targets) {
    if (!seen.insert(device).second)
      return make_error(Errc::invalid_argument, "device '" + device + "' is named twice");
    if (!std::binary_search(known.begin(), known.end(), device)) {
      refusal = StartRefusal::device_not_found;
      return make_error(Errc::not_found, "device '" + device + "' is not known to this gateway");
    }
  }
  store::RolloutRecord rollout{
      .product = request.product,
      .version = version->to_string(),
      .state = RolloutState::running,
      .waves = request.waves,
      .max_failure_percent = request.max_failure_percent,
      .created_by = request.created_by,
      .created_ms = now_ms,
      .updated_ms = now_ms,
      .target = request.all ? store::RolloutTarget::all
                : by_label  ? store::RolloutTarget::label
                            : store::RolloutTarget::devices,
      .target_label = request.label,
      .device_timeout_ms = request.device_timeout_ms,
  };
  const std::vector<int> waves = assign_waves(targets.size(), request.waves);
  std::vector<RolloutDeviceRecord> devices;
  devices.reserve(targets.size());
  for (std::size_t i = 0; i < targets.size(); ++i) {
    devices.push_back(RolloutDeviceRecord{.device = targets[i], .wave = waves[i], .updated_ms = now_ms});
  }
  auto id = db.create(rollout, devices);
  if (!id) {
    refusal = id.error().code == Errc::conflict ? StartRefusal::rollout_active : StartRefusal::failed;
    return std::move(id).error();
  }
  rollout.id = *id;
  return rollout;
}

}  // namespace

Result<store::RolloutRecord> start_rollout(store::RolloutDb& db, const std::optional<release::ReleaseCatalog>& catalog,
                                           const Candidates& candidates, const StartRequest& request,
                                           std::int64_t now_ms, StartRefusal* refusal) {
  StartRefusal kind = StartRefusal::failed;
  auto started = create_rollout(db, catalog, candidates, request, now_ms, kind);
  if (!started && refusal) *refusal = kind;
  return started;
}

Result<store::RolloutRecord> command_rollout(store::RolloutDb& db, std::int64_t id, RolloutCommand command,
                                             std::int64_t now_ms) {
  auto current = db.rollout(id);
  if (!current) return std::move(current).error();
  if (!*current) return make_error(Errc::not_found, "no rollout " + std::to_string(id));
  auto devices = db.devices(id);
  if (!devices) return std::move(devices).error();
  auto next = apply_command(**current, *devices, command, now_ms);
  if (!next) return std::move(next).error();
  auto saved = db.save(*next, (*current)->state);
  if (!saved) return std::move(saved).error();
  if (!*saved) {
    return make_error(Errc::conflict, "rollout " + std::to_string(id) + " changed at the same moment; look again");
  }
  return std::move(*next);
}

std::string describe_start(const store::RolloutRecord& rollout, std::size_t devices) {
  std::string waves;
  for (int wave : rollout.waves) waves += (waves.empty() ? "" : ",") + std::to_string(wave);
  const std::string labelled =
      rollout.target == store::RolloutTarget::label ? " labelled " + rollout.target_label : std::string();
  return rollout.product + " " + rollout.version + " to " + std::to_string(devices) +
         (devices == 1 ? " device" : " devices") + labelled + " in waves " + waves + ", halting above " +
         std::to_string(rollout.max_failure_percent) + " % failures" + device_timeout_text(rollout);
}

std::string device_timeout_text(const store::RolloutRecord& rollout) {
  if (rollout.device_timeout_ms <= 0) return ", devices may stay silent";
  return ", a device silent for " + format_step(rollout.device_timeout_ms) + " fails";
}

std::string describe_target(const store::RolloutRecord& rollout) {
  switch (rollout.target) {
    case store::RolloutTarget::all:
      return "all devices";
    case store::RolloutTarget::devices:
      return "listed devices";
    case store::RolloutTarget::label:
      return "label " + rollout.target_label;
    case store::RolloutTarget::unrecorded:
      break;
  }
  return "not recorded";
}

}  // namespace kelvin::rollout
