#include "kelvin/rollout/rollout_actions.hpp"

#include <algorithm>
#include <set>

namespace kelvin::rollout {

Result<std::vector<std::string>> known_devices(store::Store& store) {
  auto devices = store.list_devices();
  if (!devices) return std::move(devices).error();
  std::vector<std::string> ids;
  ids.reserve(devices->size());
  for (const auto& device : *devices) ids.push_back(device.device_id);
  std::sort(ids.begin(), ids.end());
  return ids;
}

namespace {

Result<store::RolloutRecord> create_rollout(store::RolloutDb& db, const std::optional<release::ReleaseCatalog>& catalog,
                                            const std::vector<std::string>& known, const StartRequest& request,
                                            std::int64_t now_ms, StartRefusal& refusal) {
  refusal = StartRefusal::invalid_request;
  if (auto waves = check_waves(request.waves); !waves) return std::move(waves).error();
  if (request.max_failure_percent < 0 || request.max_failure_percent > 100) {
    return make_error(Errc::invalid_argument, "the failure threshold is a percentage from 0 to 100");
  }
  if (request.all == !request.devices.empty()) {
    return make_error(Errc::invalid_argument, "name the devices, or all of them, not both and not neither");
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
  refusal = StartRefusal::invalid_request;
  std::vector<std::string> targets = request.all ? known : request.devices;
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
                                           const std::vector<std::string>& known, const StartRequest& request,
                                           std::int64_t now_ms, StartRefusal* refusal) {
  StartRefusal kind = StartRefusal::failed;
  auto started = create_rollout(db, catalog, known, request, now_ms, kind);
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
  return rollout.product + " " + rollout.version + " to " + std::to_string(devices) +
         (devices == 1 ? " device" : " devices") + " in waves " + waves + ", halting above " +
         std::to_string(rollout.max_failure_percent) + " % failures";
}

}  // namespace kelvin::rollout
