#pragma once
// What the gateway's update alerts watch (docs/alerts.md, update_failed and rollout_halted), read
// from rollouts.db: the devices whose newest update failed or rolled back, and the active
// rollouts with their failures.

#include <filesystem>
#include <optional>

#include "kelvin/alerts/alert_conditions.hpp"
#include "kelvin/core/result.hpp"
#include "kelvin/store/rollout_db.hpp"

namespace kelvin::gateway {

// Owns a connection of its own to rollouts.db, opened at the first read: use from one thread (the
// alert engine's).
class UpdateFactsReader {
 public:
  explicit UpdateFactsReader(std::filesystem::path rollouts_db);

  // The facts as rollouts.db has them now; an error when it cannot be opened or read (the
  // connection is opened again at the next read).
  Result<alerts::UpdateFacts> read();

 private:
  // Closes the connection (opened again at the next read) and says what failed.
  Error forget_connection(const Error& error);

  const std::filesystem::path file_;
  std::optional<store::RolloutDb> db_{};
};

}  // namespace kelvin::gateway
