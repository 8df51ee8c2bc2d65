#include "kelvin/device/update_client.hpp"

#include <algorithm>
#include <array>
#include <utility>

namespace kelvin::device {
namespace {

std::string release_name(const proto::UpdateNotice& notice) {
  return notice.product + " " + notice.version.to_string();
}

bool same_release(const proto::UpdateNotice& a, const proto::UpdateNotice& b) {
  return a.product == b.product && a.version == b.version;
}

}  // namespace

const char* to_string(UpdatePhase phase) noexcept {
  switch (phase) {
    case UpdatePhase::idle:
      return "idle";
    case UpdatePhase::fetching_manifest:
      return "fetching_manifest";
    case UpdatePhase::opening_slot:
      return "opening_slot";
    case UpdatePhase::downloading:
      return "downloading";
    case UpdatePhase::checking:
      return "checking";
    case UpdatePhase::staging:
      return "staging";
    case UpdatePhase::restart_wanted:
      return "restart_wanted";
  }
  return "?";
}

UpdateClient::UpdateClient(UpdateClientConfig config, const proto::ReleaseKey& pinned, UpdatePorts ports)
    : config_(std::move(config)), pinned_(pinned), ports_(ports), may_install_(!config_.trial) {}

void UpdateClient::notice_received(std::string_view payload) {
  if (payload.empty()) return;  // the gateway cleared its notice
  auto notice = proto::decode_update_notice(payload);
  if (!notice) {
    ports_.log.write(UpdateLogLevel::warn, "update notice dropped: " + notice.error().message);
    return;
  }
  offer(*notice);
}

void UpdateClient::offer(const proto::UpdateNotice& notice) {
  offered_ = notice;
}

void UpdateClient::link_observed(bool connected, std::uint64_t acked_seq) {
  if (connected && !connected_) status_retry_at_ms_ = 0;  // what waited for the connection goes now
  connected_ = connected;
  acked_seq_ = acked_seq;
}

void UpdateClient::cancel() {
  if (!install_ || phase_ == UpdatePhase::restart_wanted) return;
  ports_.log.write(UpdateLogLevel::info, "the update to " + release_name(install_->notice) +
                                             " was cancelled; what was downloaded stays to be resumed");
  end_install();
}

std::int64_t UpdateClient::step(std::int64_t now_ms) {
  if (!begun_) begin(now_ms);
  confirm_if_healthy();
  deliver_statuses(now_ms);
  if (phase_ == UpdatePhase::idle) {
    if (config_.check_interval_ms > 0 && now_ms >= next_check_ms_) {
      next_check_ms_ = now_ms + config_.check_interval_ms;
      check_gateway();
      timestamp_due_ = config_.check_timestamps;
    } else if (std::exchange(timestamp_due_, false)) {
      check_timestamp();
    }
    std::optional<proto::UpdateNotice> notice = std::exchange(offered_, std::nullopt);
    if (!notice && unfinished_ && now_ms >= retry_at_ms_) notice = unfinished_;
    if (notice) consider(*notice);
  } else if (phase_ != UpdatePhase::restart_wanted) {
    advance_install(now_ms);
  }
  deliver_statuses(now_ms);
  return next_step_at(now_ms);
}

std::int64_t UpdateClient::next_step_at(std::int64_t now_ms) const {
  if (phase_ != UpdatePhase::idle && phase_ != UpdatePhase::restart_wanted) return now_ms;
  std::int64_t at = now_ms + config_.retry_after_failure_ms;
  if (!statuses_.empty()) at = std::min(at, std::max(status_retry_at_ms_, now_ms));
  if (phase_ == UpdatePhase::restart_wanted) return at;
  if (offered_ || timestamp_due_) return now_ms;
  if (config_.check_interval_ms > 0) at = std::min(at, next_check_ms_);
  if (unfinished_) at = std::min(at, retry_at_ms_);
  if (config_.trial && !trial_over_) at = std::min(at, now_ms + 1'000);
  return std::max(at, now_ms);
}

// A start after a trial ended says how it ended, once: the boot step rolled back, or (rarely: the
// confirming run stopped before its report went out) the trial was confirmed.
void UpdateClient::begin(std::int64_t now_ms) {
  begun_ = true;
  next_check_ms_ = now_ms + config_.first_check_after_ms;
  auto record = load_boot_record();
  if (!record || record->last_outcome == TrialOutcome::none) return;
  const proto::UpdateNotice release{0, config_.product, record->last_outcome_version};
  if (record->last_outcome == TrialOutcome::rolled_back) {
    rolled_back_ = release;
    ports_.log.write(UpdateLogLevel::warn, release.version.to_string() +
                                               " did not confirm itself and was rolled back; running " +
                                               config_.running_version.to_string());
    report(release, proto::UpdateState::rolled_back, 0, "not_confirmed",
           "the new image did not confirm itself (connected, a reading acknowledged) in its attempts; the device "
           "runs " +
               config_.running_version.to_string() + " again");
  } else {
    report(release, proto::UpdateState::confirmed, 100);
  }
  outcome_unsent_ = true;
}

void UpdateClient::confirm_if_healthy() {
  if (!config_.trial || trial_over_ || !connected_ || acked_seq_ <= config_.acked_seq_at_start) return;
  trial_over_ = true;  // whatever happens now: nothing to retry, the boot step rolls back when the time is up
  auto record = load_boot_record();
  if (!record) {
    ports_.log.write(UpdateLogLevel::error, "cannot confirm this image: " + record.error().message);
    return;
  }
  may_install_ = true;
  if (record->trial != config_.running_slot) return;  // not on trial any more (rolled back meanwhile)
  if (auto saved = ports_.slots.save_boot_record(outcome_reported(confirm_trial(*record, config_.running_slot)));
      !saved) {
    ports_.log.write(UpdateLogLevel::error, "cannot confirm this image: " + saved.error().message);
    return;
  }
  ports_.log.write(UpdateLogLevel::info, config_.product + " " + config_.running_version.to_string() +
                                             " confirmed in slot " + to_string(config_.running_slot) +
                                             ": connected, reading acknowledged");
  report({0, config_.product, config_.running_version}, proto::UpdateState::confirmed, 100);
}

void UpdateClient::deliver_statuses(std::int64_t now_ms) {
  if (statuses_.empty() || now_ms < status_retry_at_ms_) return;
  while (!statuses_.empty()) {
    StatusDeliveryAnswer answer = ports_.statuses.deliver(statuses_.front());
    if (answer.delivery == StatusDelivery::later) {
      if (!answer.problem.empty()) {
        ports_.log.write(UpdateLogLevel::warn,
                         "update status not delivered (" + answer.problem + "); sent again later");
      }
      status_retry_at_ms_ = now_ms + config_.status_retry_ms;
      return;
    }
    if (answer.delivery == StatusDelivery::refused) {
      ports_.log.write(UpdateLogLevel::warn, "update status refused by the gateway: " + answer.problem);
    }
    statuses_.pop_front();
  }
  // The outcome's status went out: the boot record stops carrying it, so it is reported once, and
  // not lost when the device stops before it could deliver it.
  if (!std::exchange(outcome_unsent_, false)) return;
  auto record = load_boot_record();
  if (!record) return;
  if (auto saved = ports_.slots.save_boot_record(outcome_reported(*record)); !saved) {
    ports_.log.write(UpdateLogLevel::error, saved.error().message);
  }
}

void UpdateClient::check_gateway() {
  auto answer = ports_.server.fetch_offer();
  if (!answer) {
    ports_.log.write(UpdateLogLevel::warn, "update check: " + answer.error().message);
    return;
  }
  notice_received(*answer);
}

std::int64_t UpdateClient::newest_timestamp_seen() {
  if (newest_issued_seen_) return *newest_issued_seen_;
  auto remembered = ports_.slots.load_newest_timestamp();
  if (!remembered) {
    // Not remembered for this judgement; loading is tried again at the next one.
    ports_.log.write(UpdateLogLevel::error,
                     "cannot read the newest release timestamp seen: " + remembered.error().message);
    return 0;
  }
  newest_issued_seen_ = 0;
  if (remembered->empty()) return 0;
  auto opened = proto::open_release_timestamp(*remembered, pinned_);
  if (!opened) {
    ports_.log.write(UpdateLogLevel::error,
                     "the newest release timestamp seen does not open: " + opened.error().message);
    return 0;
  }
  newest_issued_seen_ = opened->issued;
  return opened->issued;
}

// The timestamp's verdict becomes release_check(); a statement newer than any seen is remembered
// first, so a restart does not forget it.
void UpdateClient::check_timestamp() {
  auto served = ports_.server.fetch_timestamp(config_.product);
  if (!served) {
    ports_.log.write(UpdateLogLevel::warn, "release timestamp check: " + served.error().message);
    return;
  }
  const std::int64_t seen = newest_timestamp_seen();
  TimestampCheck check = check_release_timestamp(*served, pinned_, config_.product, ports_.clock.utc_seconds(), seen);
  if (check.timestamp && check.timestamp->issued > seen) {
    if (auto saved = ports_.slots.save_newest_timestamp(*served); saved) {
      newest_issued_seen_ = check.timestamp->issued;
    } else {
      ports_.log.write(UpdateLogLevel::error, "cannot keep the newest release timestamp: " + saved.error().message);
    }
  }
  const std::string code = to_string(check.verdict);
  if (code == release_check_) return;
  release_check_ = code;
  const bool current = check.verdict == TimestampVerdict::current;
  ports_.log.write(current ? UpdateLogLevel::info : UpdateLogLevel::warn,
                   "release timestamp: " + code + ": " + check.detail +
                       (current ? std::string() : "; this device cannot tell whether its gateway withholds releases"));
}

void UpdateClient::consider(const proto::UpdateNotice& notice) {
  if (answered_ && notice == *answered_) return;
  // The gateway's notice may still offer the release this start rolled back from (it clears it
  // once the report arrives): installing it again would only fail again.
  if (rolled_back_ && same_release(notice, *rolled_back_)) return;
  // A trial image installs nothing before it confirmed itself: a failing trial must roll back to
  // the image that was good, not to a third one.
  if (!may_install_) return;
  if (notice.product == config_.product && notice.version == config_.running_version) {
    answered_ = notice;  // already running it: what the rollout waits for
    report(notice, proto::UpdateState::confirmed, 100);
    return;
  }
  ports_.log.write(UpdateLogLevel::info, "installing " + release_name(notice) + " (offered by rollout " +
                                             std::to_string(notice.rollout) + ")");
  install_.emplace();
  install_->notice = notice;
  phase_ = UpdatePhase::fetching_manifest;
}

void UpdateClient::advance_install(std::int64_t now_ms) {
  switch (phase_) {
    case UpdatePhase::fetching_manifest:
      return fetch_and_decide(now_ms);
    case UpdatePhase::opening_slot:
      return open_slot(now_ms);
    case UpdatePhase::downloading:
      return download_range(now_ms);
    case UpdatePhase::checking:
      return check_image();
    case UpdatePhase::staging:
      return stage(now_ms);
    case UpdatePhase::idle:
    case UpdatePhase::restart_wanted:
      return;
  }
}

void UpdateClient::fetch_and_decide(std::int64_t now_ms) {
  const proto::UpdateNotice& notice = install_->notice;
  auto envelope = ports_.server.fetch_manifest(notice.product, notice.version);
  if (!envelope) return interrupted(now_ms, envelope.error().message);
  auto record = load_boot_record();
  if (!record) return interrupted(now_ms, record.error().message);
  const RunningFirmware running{config_.product, config_.running_version, record->highest_security_version,
                                config_.slot_bytes};
  ReleaseDecision decision = check_offered_release(*envelope, pinned_, running);
  if (!decision.accepted) return refused(to_string(decision.refusal), std::move(decision.detail));
  if (decision.accepted->product != notice.product || decision.accepted->version != notice.version) {
    return refused(to_string(ReleaseRefusal::malformed), "the gateway answered the manifest of another release (" +
                                                             decision.accepted->product + " " +
                                                             decision.accepted->version.to_string() + ")");
  }
  install_->envelope = std::move(*envelope);
  install_->manifest = std::move(decision.accepted);
  install_->slot = other_slot(record->confirmed);
  phase_ = UpdatePhase::opening_slot;
}

// Resumes only a download of exactly this envelope; anything else in the slot starts over.
void UpdateClient::open_slot(std::int64_t now_ms) {
  const proto::ReleaseManifest& manifest = *install_->manifest;
  const HeldDownload held = ports_.slots.held_download(install_->slot);
  std::uint64_t keep = held.envelope == install_->envelope ? std::min(held.bytes, manifest.size) : 0;
  ports_.hasher.reset();
  if (auto opened = ports_.slots.open_download(install_->slot, install_->envelope, keep); !opened) {
    return interrupted(now_ms, opened.error().message);
  }
  if (keep > 0 && !hash_held_bytes(keep)) {
    ports_.hasher.reset();
    keep = 0;
    if (auto opened = ports_.slots.open_download(install_->slot, install_->envelope, 0); !opened) {
      return interrupted(now_ms, opened.error().message);
    }
  }
  install_->resumed_from = keep;
  download_.emplace(manifest, ports_.hasher, ports_.slots, keep);
  report_progress();
  phase_ = download_->complete() ? UpdatePhase::checking : UpdatePhase::downloading;
}

bool UpdateClient::hash_held_bytes(std::uint64_t bytes) {
  std::array<char, 16 * 1024> buffer{};
  std::uint64_t done = 0;
  while (done < bytes) {
    const auto wanted = static_cast<std::size_t>(std::min<std::uint64_t>(buffer.size(), bytes - done));
    auto read = ports_.slots.read_download(done, std::span<char>(buffer.data(), wanted));
    if (!read || *read == 0) return false;
    ports_.hasher.update(std::string_view(buffer.data(), *read));
    done += *read;
  }
  return true;
}

void UpdateClient::download_range(std::int64_t now_ms) {
  const proto::UpdateNotice& notice = install_->notice;
  const std::uint64_t first = download_->received();
  const std::uint64_t last = std::min(first + config_.range_bytes, install_->manifest->size) - 1;
  auto piece = ports_.server.fetch_image_range(notice.product, notice.version, first, last);
  if (!piece) return interrupted(now_ms, piece.error().message);
  if (piece->empty()) return interrupted(now_ms, "fetching the image: the gateway sent no bytes");
  const std::uint64_t asked = last - first + 1;
  if (piece->size() > asked) {
    return refused(to_string(DownloadRefusal::too_long),
                   "the gateway sent " + std::to_string(piece->size()) + " bytes where " + std::to_string(asked) +
                       " were asked (bytes " + std::to_string(first) + "-" + std::to_string(last) + " of " +
                       std::to_string(install_->manifest->size) + ")");
  }
  if (auto refusal = download_->accept(first, *piece)) {
    return refused(to_string(*refusal),
                   std::string("the image was refused during the download: ") + to_string(*refusal));
  }
  report_progress();
  if (download_->complete()) phase_ = UpdatePhase::checking;
}

void UpdateClient::check_image() {
  if (auto refusal = download_->finish()) {
    ports_.slots.discard_download(install_->slot);  // a wrong image is not worth resuming
    return refused(to_string(*refusal), std::string("the downloaded image was refused: ") + to_string(*refusal));
  }
  phase_ = UpdatePhase::staging;
}

// The slot's image and manifest durably in place before the boot record names the slot.
void UpdateClient::stage(std::int64_t now_ms) {
  const proto::ReleaseManifest& manifest = *install_->manifest;
  if (auto installed = ports_.slots.install_download(install_->slot); !installed) {
    return interrupted(now_ms, installed.error().message);
  }
  // Read again: delivering a status may have changed the record since the decision.
  auto record = load_boot_record();
  if (!record) return interrupted(now_ms, record.error().message);
  if (other_slot(record->confirmed) != install_->slot) {
    return interrupted(now_ms, "the boot record's confirmed slot changed during the install");
  }
  const BootRecord staged = stage_trial(*record, manifest.version, manifest.security_version, config_.trial_attempts);
  if (auto saved = ports_.slots.save_boot_record(staged); !saved) return interrupted(now_ms, saved.error().message);
  std::string detail =
      manifest.product + " " + manifest.version.to_string() + " staged in slot " + to_string(install_->slot);
  ports_.log.write(
      UpdateLogLevel::info,
      detail +
          (install_->resumed_from > 0 ? " (download resumed after " + std::to_string(install_->resumed_from) + " bytes)"
                                      : std::string()) +
          "; restarting into it");
  report(install_->notice, proto::UpdateState::installed, 100, {}, std::move(detail));
  answered_ = install_->notice;
  unfinished_.reset();
  end_install();
  phase_ = UpdatePhase::restart_wanted;
}

void UpdateClient::report_progress() {
  const int percent = download_->percent();
  int& last = install_->last_reported_percent;
  if (last >= 0 && percent / 10 == last / 10 && percent != 100) return;
  last = percent;
  report(install_->notice, proto::UpdateState::downloading, percent);
}

void UpdateClient::interrupted(std::int64_t now_ms, std::string_view why) {
  ports_.log.write(UpdateLogLevel::warn, "the update to " + install_->notice.version.to_string() +
                                             " stopped: " + std::string(why) + "; it resumes later");
  unfinished_ = install_->notice;
  retry_at_ms_ = now_ms + config_.retry_after_failure_ms;
  end_install();
}

void UpdateClient::refused(std::string_view reason, std::string detail) {
  const proto::UpdateNotice notice = install_->notice;
  ports_.log.write(UpdateLogLevel::warn, "update to " + release_name(notice) + " refused (" + std::string(reason) +
                                             "): " + detail + "; " + config_.running_version.to_string() +
                                             " keeps running");
  report(notice, proto::UpdateState::failed, std::max(install_->last_reported_percent, 0), std::string(reason),
         std::move(detail));
  answered_ = notice;
  unfinished_.reset();
  end_install();
}

void UpdateClient::end_install() {
  download_.reset();
  install_.reset();
  phase_ = UpdatePhase::idle;
}

void UpdateClient::report(const proto::UpdateNotice& release, proto::UpdateState state, int percent, std::string reason,
                          std::string detail) {
  proto::UpdateStatus status;
  status.rollout = release.rollout;
  status.product = release.product;
  status.version = release.version;
  status.state = state;
  status.percent = percent;
  status.reason = std::move(reason);
  status.detail = std::move(detail);
  status.running_version = config_.running_version;
  if (statuses_.size() >= std::max<std::size_t>(config_.max_waiting_statuses, 1)) statuses_.pop_front();
  statuses_.push_back(proto::encode_update_status(status));
}

Result<BootRecord> UpdateClient::load_boot_record() {
  BootRecord fresh;
  fresh.confirmed_version = config_.running_version;
  return ports_.slots.load_boot_record(fresh);
}

}  // namespace kelvin::device
