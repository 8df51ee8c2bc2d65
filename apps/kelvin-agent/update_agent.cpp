#include "update_agent.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <utility>

#include "kelvin/linux_port/boot_record_file.hpp"
#include "kelvin/linux_port/release_installer.hpp"
#include "kelvin/release/release_keys.hpp"

namespace kelvin::agent {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// After an install that could not reach the gateway (or was cut off), the next attempt: it then
// resumes where the download stopped.
constexpr auto kRetryAfterFailure = 30s;
// The first check for an update after a start: soon, but not in the same second as the connection.
constexpr auto kFirstCheck = 5s;

}  // namespace

Result<std::unique_ptr<UpdateAgent>> UpdateAgent::start(UpdateAgentOptions options) {
  auto key = release::load_release_public_key(options.settings.release_key);
  if (!key) return std::move(key).error();
  auto client = linux_port::HttpsClient::create(options.https);
  if (!client) return std::move(client).error();
  std::unique_ptr<UpdateAgent> agent(new UpdateAgent(
      std::move(options), std::make_unique<release::PinnedReleaseKey>(std::move(*key)), std::move(*client)));
  agent->report_last_outcome();
  agent->worker_ = std::thread([raw = agent.get()] { raw->run_worker(); });
  return agent;
}

UpdateAgent::UpdateAgent(UpdateAgentOptions options, std::unique_ptr<proto::ReleaseKey> pinned,
                         std::unique_ptr<linux_port::HttpsClient> client)
    : options_(std::move(options)), pinned_(std::move(pinned)), client_(std::move(client)) {}

UpdateAgent::~UpdateAgent() {
  {
    std::lock_guard lock(mutex_);
    stopping_.store(true);
  }
  wake_.notify_all();
  if (worker_.joinable()) worker_.join();
}

void UpdateAgent::notice_received(std::string_view payload) {
  if (payload.empty()) return;  // the gateway cleared its notice
  auto notice = proto::decode_update_notice(payload);
  if (!notice) {
    spdlog::warn("{}: update notice dropped: {}", options_.device_id, notice.error().message);
    return;
  }
  {
    std::lock_guard lock(mutex_);
    notice_ = std::move(*notice);
  }
  wake_.notify_all();
}

void UpdateAgent::observe(bool connected, std::uint64_t acked_seq) {
  if (!options_.trial || confirmed_ || !connected || acked_seq <= options_.acked_seq_at_start) return;
  const auto record_file = linux_port::boot_record_path(options_.settings.dir);
  auto record = linux_port::load_boot_record(record_file, device::BootRecord{});
  if (!record) {
    spdlog::error("{}: cannot confirm this image: {}", options_.device_id, record.error().message);
    confirmed_ = true;  // nothing to retry: the boot step rolls back when the time is up
    return;
  }
  confirmed_ = true;
  confirmed_flag_.store(true);
  if (record->trial != options_.running_slot) return;  // not on trial any more (rolled back meanwhile)
  if (auto saved = linux_port::save_boot_record(
          record_file, device::outcome_reported(device::confirm_trial(*record, options_.running_slot)));
      !saved) {
    spdlog::error("{}: cannot confirm this image: {}", options_.device_id, saved.error().message);
    return;
  }
  spdlog::info("{}: {} {} confirmed in slot {}: connected, reading acknowledged", options_.device_id,
               options_.settings.product, options_.running_version.to_string(),
               device::to_string(options_.running_slot));
  report({0, options_.settings.product, options_.running_version}, proto::UpdateState::confirmed, 100);
}

std::vector<std::string> UpdateAgent::take_statuses() {
  std::lock_guard lock(mutex_);
  std::vector<std::string> out(std::make_move_iterator(statuses_.begin()), std::make_move_iterator(statuses_.end()));
  statuses_.clear();
  return out;
}

std::vector<std::string> UpdateAgent::statuses_to_publish() {
  std::vector<std::string> out = take_statuses();
  if (!out.empty()) outcome_sent();
  return out;
}

void UpdateAgent::report(const proto::UpdateNotice& release, proto::UpdateState state, int percent, std::string reason,
                         std::string detail) {
  proto::UpdateStatus status;
  status.rollout = release.rollout;
  status.product = release.product;
  status.version = release.version;
  status.state = state;
  status.percent = percent;
  status.reason = std::move(reason);
  status.detail = std::move(detail);
  status.running_version = options_.running_version;
  {
    std::lock_guard lock(mutex_);
    statuses_.push_back(proto::encode_update_status(status));
  }
  wake_.notify_all();
}

// A start after a trial ended says how it ended, once: the boot step rolled back, or (rarely: the
// confirming run died before its report went out) the trial was confirmed.
void UpdateAgent::report_last_outcome() {
  const auto record_file = linux_port::boot_record_path(options_.settings.dir);
  auto record = linux_port::load_boot_record(record_file, device::BootRecord{});
  if (!record || record->last_outcome == device::TrialOutcome::none) return;
  const proto::UpdateNotice release{0, options_.settings.product, record->last_outcome_version};
  if (record->last_outcome == device::TrialOutcome::rolled_back) {
    rolled_back_ = release;
    spdlog::warn("{}: {} did not confirm itself and was rolled back; running {}", options_.device_id,
                 release.version.to_string(), options_.running_version.to_string());
    report(release, proto::UpdateState::rolled_back, 0, "not_confirmed",
           "the new image did not confirm itself (connected, a reading acknowledged) in its attempts; the device "
           "runs " +
               options_.running_version.to_string() + " again");
  } else {
    report(release, proto::UpdateState::confirmed, 100);
  }
  outcome_unsent_.store(true);
}

// Once the outcome's status went out, the boot record stops carrying it (so it is reported once, and
// not lost when the agent stops before it could connect).
void UpdateAgent::outcome_sent() {
  if (!outcome_unsent_.exchange(false)) return;
  const auto record_file = linux_port::boot_record_path(options_.settings.dir);
  auto record = linux_port::load_boot_record(record_file, device::BootRecord{});
  if (!record) return;
  if (auto saved = linux_port::save_boot_record(record_file, device::outcome_reported(*record)); !saved) {
    spdlog::error("{}: {}", options_.device_id, saved.error().message);
  }
}

// Over HTTPS the worker sends the statuses itself; what cannot be sent now waits for the next turn.
void UpdateAgent::post_statuses() {
  const std::string path = "/api/v1/devices/" + options_.device_id + "/ota/status";
  for (std::string& status : take_statuses()) {
    auto answer = linux_port::exchange(*client_, {"POST", path, status}, &stopping_);
    if (answer && answer->status / 100 == 2) continue;
    if (answer && answer->status / 100 == 4 && answer->status != 408 && answer->status != 429) {
      // Refused for what it is: sending it again would only hold up the statuses behind it.
      spdlog::warn("{}: update status refused by the gateway (HTTP {}): {}", options_.device_id, answer->status,
                   answer->body.substr(0, 200));
      continue;
    }
    spdlog::warn("{}: update status not delivered ({}); sent again later", options_.device_id,
                 answer ? "HTTP " + std::to_string(answer->status) : answer.error().message);
    std::lock_guard lock(mutex_);
    statuses_.push_front(std::move(status));
    return;
  }
  outcome_sent();
}

void UpdateAgent::check_gateway() {
  auto answer =
      linux_port::exchange(*client_, {"GET", "/api/v1/devices/" + options_.device_id + "/update", ""}, &stopping_);
  if (!answer) {
    spdlog::warn("{}: update check: {}", options_.device_id, answer.error().message);
    return;
  }
  if (answer->status == 204) return;
  if (answer->status != 200) {
    spdlog::warn("{}: update check: the gateway answered {}", options_.device_id, answer->status);
    return;
  }
  notice_received(answer->body);
}

bool UpdateAgent::install(const proto::UpdateNotice& notice) {
  spdlog::info("{}: installing {} {} (offered by rollout {})", options_.device_id, notice.product,
               notice.version.to_string(), notice.rollout);
  int last_reported = -1;
  auto progress = [&](int percent) {
    if (last_reported >= 0 && percent / 10 == last_reported / 10 && percent != 100) return;
    last_reported = percent;
    report(notice, proto::UpdateState::downloading, percent);
    if (options_.statuses_over_https) post_statuses();  // between two ranges the client is free
  };
  linux_port::ReleaseInstaller installer(*client_, *pinned_, options_.settings.dir, progress);
  installer.stop_when(stopping_);
  linux_port::InstallRequest request;
  request.device_id = options_.device_id;
  request.product = notice.product;
  request.version = notice.version;
  request.running_product = options_.settings.product;
  request.running_version = options_.running_version;
  request.trial_attempts = options_.settings.trial_attempts;
  auto outcome = installer.install(request);
  if (!outcome) {
    if (!stopping_.load()) {
      spdlog::warn("{}: the update to {} stopped: {}; it resumes later", options_.device_id, notice.version.to_string(),
                   outcome.error().message);
    }
    return false;
  }
  if (outcome->staged) {
    spdlog::info("{}: {}{}; restarting into it", options_.device_id, outcome->detail,
                 outcome->resumed_from > 0
                     ? " (download resumed after " + std::to_string(outcome->resumed_from) + " bytes)"
                     : std::string());
    report(notice, proto::UpdateState::installed, 100, {}, outcome->detail);
    if (options_.statuses_over_https) post_statuses();
    restart_wanted_.store(true);
    return true;
  }
  const char* reason = outcome->refused
                           ? device::to_string(*outcome->refused)
                           : device::to_string(outcome->download_refused.value_or(device::DownloadRefusal::incomplete));
  spdlog::warn("{}: update to {} {} refused ({}): {}; {} keeps running", options_.device_id, notice.product,
               notice.version.to_string(), reason, outcome->detail, options_.running_version.to_string());
  report(notice, proto::UpdateState::failed, last_reported < 0 ? 0 : last_reported, reason, outcome->detail);
  return true;
}

void UpdateAgent::run_worker() {
  const bool checks = options_.settings.check_interval_s > 0;
  auto next_check = checks ? Clock::now() + kFirstCheck : Clock::time_point::max();
  auto retry_at = Clock::time_point::max();
  std::optional<proto::UpdateNotice> unfinished;  // an install that stopped early: tried again
  std::optional<proto::UpdateNotice> answered;    // the last notice installed or refused: not again
  while (!stopping_.load()) {
    std::optional<proto::UpdateNotice> notice;
    {
      std::unique_lock lock(mutex_);
      const bool posting = options_.statuses_over_https;
      wake_.wait_until(lock, std::min(next_check, retry_at), [&] {
        return stopping_.load() || notice_ || (posting && !statuses_.empty() && !restart_wanted_.load());
      });
      if (stopping_.load()) break;
      notice = std::exchange(notice_, std::nullopt);
    }
    if (options_.statuses_over_https) post_statuses();
    if (restart_wanted_.load()) continue;  // staged: waiting for the agent to stop
    const auto now = Clock::now();
    if (now >= next_check) {
      next_check = now + std::chrono::seconds(options_.settings.check_interval_s);
      check_gateway();
      std::lock_guard lock(mutex_);
      if (notice_) notice = std::exchange(notice_, std::nullopt);
    }
    if (!notice && unfinished && now >= retry_at) notice = unfinished;
    if (!notice || notice == answered) continue;
    // The gateway's notice may still offer the release this start rolled back from (it clears it
    // once the report arrives): installing it again would only fail again.
    if (rolled_back_ && notice->product == rolled_back_->product && notice->version == rolled_back_->version) continue;
    // A trial image installs nothing before it confirmed itself: a failing trial must roll back to
    // the image that was good, not to a third one.
    if (options_.trial && !confirmed_flag_.load()) continue;
    if (notice->product == options_.settings.product && notice->version == options_.running_version) {
      answered = notice;  // already running it: what the rollout waits for
      report(*notice, proto::UpdateState::confirmed, 100);
      continue;
    }
    if (install(*notice)) {
      answered = notice;
      unfinished.reset();
      retry_at = Clock::time_point::max();
    } else {
      unfinished = notice;
      retry_at = Clock::now() + kRetryAfterFailure;
    }
  }
}

}  // namespace kelvin::agent
