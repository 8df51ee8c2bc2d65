#include "update_facts.hpp"

#include <string>
#include <utility>

namespace kelvin::gateway {
namespace {

std::string release(const std::string& product, const std::string& version) {
  return product + " " + version;
}

bool is_failure(store::DeviceRolloutState state) {
  return state == store::DeviceRolloutState::failed || state == store::DeviceRolloutState::rolled_back;
}

}  // namespace

UpdateFactsReader::UpdateFactsReader(std::filesystem::path rollouts_db) : file_(std::move(rollouts_db)) {}

Error UpdateFactsReader::forget_connection(const Error& error) {
  db_.reset();
  return Error{error.code, "rollouts: " + error.message};
}

Result<alerts::UpdateFacts> UpdateFactsReader::read() {
  if (!db_) {
    auto opened = store::RolloutDb::open(file_);
    if (!opened) return make_error(opened.error().code, "rollouts: " + opened.error().message);
    db_.emplace(std::move(*opened));
  }
  auto failed = db_->failed_updates();
  if (!failed) return forget_connection(failed.error());
  auto rollouts = db_->rollouts(/*unfinished_only=*/true);
  if (!rollouts) return forget_connection(rollouts.error());
  alerts::UpdateFacts facts;
  for (const store::FailedUpdate& update : *failed) {
    facts.failed.push_back({.device = update.device.device,
                            .rollout = update.rollout,
                            .release = release(update.product, update.version),
                            .outcome = std::string(store::to_string(update.device.state)),
                            .reason = update.device.reason});
  }
  for (const store::RolloutSummary& summary : *rollouts) {
    if (!store::is_active(summary.rollout.state)) continue;  // aborted, its notices not cleared yet
    alerts::RolloutFacts& rollout = facts.rollouts.emplace_back(
        alerts::RolloutFacts{.id = summary.rollout.id,
                             .release = release(summary.rollout.product, summary.rollout.version),
                             .halted = summary.rollout.state == store::RolloutState::halted});
    for (std::size_t state = 0; state < store::kDeviceRolloutStateCount; ++state) {
      rollout.devices += summary.counts[state];
      if (is_failure(static_cast<store::DeviceRolloutState>(state))) rollout.failures += summary.counts[state];
    }
  }
  return facts;
}

}  // namespace kelvin::gateway
