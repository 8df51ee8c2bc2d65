#include "kelvin/gateway/silence_book.hpp"

#include <utility>

namespace kelvin::gateway {

void SilenceBook::on_shared_change(SharedListener listener) {
  std::lock_guard lock(change_mutex_);
  shared_listener_ = std::move(listener);
}

Result<store::SilenceRecord> SilenceBook::set(store::AlertDb& db, const store::SilenceRecord& silence,
                                              std::int64_t now_ms) {
  std::lock_guard lock(change_mutex_);
  auto stored = db.silence(silence, now_ms);
  if (stored) tell_shared(*stored);
  return stored;
}

Result<std::optional<store::SilenceRecord>> SilenceBook::lift(store::AlertDb& db, std::int64_t id,
                                                              std::string_view user, std::int64_t now_ms) {
  std::lock_guard lock(change_mutex_);
  auto lifted = db.lift_silence(id, user, now_ms);
  if (lifted && *lifted) tell_shared(**lifted);
  return lifted;
}

Result<bool> SilenceBook::merge(store::AlertDb& db, const store::SilenceRecord& version) {
  std::lock_guard lock(change_mutex_);
  auto taken = db.take_silence(version);
  if (taken && *taken) tell_shared(version);
  return taken;
}

void SilenceBook::tell_shared(const store::SilenceRecord& version) const {
  if (shared_listener_) shared_listener_(version);
}

}  // namespace kelvin::gateway
