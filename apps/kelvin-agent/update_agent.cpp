#include "update_agent.hpp"

#include <chrono>
#include <utility>

#include "kelvin/core/thread_name.hpp"
#include "kelvin/device/update_client.hpp"
#include "kelvin/linux_port/slot_files.hpp"
#include "kelvin/linux_port/update_gateway.hpp"
#include "kelvin/log/log.hpp"
#include "kelvin/release/release_keys.hpp"

namespace kelvin::agent {
namespace {

std::int64_t monotonic_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// MQTT statuses: handed to the runner's queue while it is connected (it publishes them at its next
// turn), kept by the machine otherwise.
class MqttStatusHandover final : public device::UpdateStatusSink {
 public:
  MqttStatusHandover(std::mutex& mutex, std::deque<std::string>& queue, const bool& connected)
      : mutex_(mutex), queue_(queue), connected_(connected) {}
  device::StatusDeliveryAnswer deliver(std::string_view status) override {
    std::lock_guard lock(mutex_);
    if (!connected_) return {device::StatusDelivery::later, {}};
    queue_.emplace_back(status);
    return {device::StatusDelivery::delivered, {}};
  }

 private:
  std::mutex& mutex_;
  std::deque<std::string>& queue_;
  const bool& connected_;
};

class AgentUpdateLog final : public device::UpdateLog {
 public:
  AgentUpdateLog(const std::string& device_id, const std::atomic<bool>& stopping)
      : log_(log::component("agent", device_id)), stopping_(stopping) {}
  void write(device::UpdateLogLevel level, std::string_view line) override {
    switch (level) {
      case device::UpdateLogLevel::info:
        return log_.info("{}", line);
      case device::UpdateLogLevel::warn:
        // An exchange cut off by the agent's own stop is no news.
        if (!stopping_.load()) log_.warn("{}", line);
        return;
      case device::UpdateLogLevel::error:
        return log_.error("{}", line);
    }
  }

 private:
  spdlog::logger& log_;
  const std::atomic<bool>& stopping_;
};

device::UpdateClientConfig machine_config(const UpdateAgentOptions& options) {
  device::UpdateClientConfig config;
  config.product = options.settings.product;
  config.running_version = options.running_version;
  config.running_slot = options.running_slot;
  config.trial = options.trial;
  config.acked_seq_at_start = options.acked_seq_at_start;
  config.trial_attempts = options.settings.trial_attempts;
  config.check_interval_ms = static_cast<std::int64_t>(options.settings.check_interval_s) * 1000;
  return config;
}

}  // namespace

struct UpdateAgent::Machine {
  Machine(UpdateAgent& agent, std::unique_ptr<proto::ReleaseKey> key,
          std::unique_ptr<linux_port::HttpsClient> https_client)
      : pinned(std::move(key)),
        https(std::move(https_client)),
        gateway(agent.options_.device_id, *https, &agent.stopping_),
        slots(agent.options_.settings.dir),
        hasher(linux_port::make_sha256_image_hasher()),
        mqtt_statuses(agent.mutex_, agent.mqtt_statuses_, agent.connected_),
        log(agent.options_.device_id, agent.stopping_),
        update(machine_config(agent.options_), *pinned,
               {gateway, slots,
                agent.options_.statuses_over_https ? static_cast<device::UpdateStatusSink&>(gateway) : mqtt_statuses,
                *hasher, log, clock}) {}

  std::unique_ptr<proto::ReleaseKey> pinned;
  std::unique_ptr<linux_port::HttpsClient> https;
  linux_port::HttpsUpdateGateway gateway;
  linux_port::FileSlotStorage slots;
  std::unique_ptr<device::ImageHasher> hasher;
  MqttStatusHandover mqtt_statuses;
  AgentUpdateLog log;
  linux_port::SystemWallClock clock;
  device::UpdateClient update;
};

Result<std::unique_ptr<UpdateAgent>> UpdateAgent::start(UpdateAgentOptions options) {
  auto key = release::load_release_public_key(options.settings.release_key);
  if (!key) return std::move(key).error();
  auto client = linux_port::HttpsClient::create(options.https);
  if (!client) return std::move(client).error();
  std::unique_ptr<UpdateAgent> agent(new UpdateAgent(std::move(options)));
  agent->machine_ = std::make_unique<Machine>(*agent, std::make_unique<release::PinnedReleaseKey>(std::move(*key)),
                                              std::move(*client));
  agent->worker_ = core::named_thread("update-worker", [raw = agent.get()] { raw->run_worker(); });
  return agent;
}

UpdateAgent::UpdateAgent(UpdateAgentOptions options) : options_(std::move(options)) {}

UpdateAgent::~UpdateAgent() {
  {
    std::lock_guard lock(mutex_);
    stopping_.store(true);
  }
  wake_.notify_all();
  if (worker_.joinable()) worker_.join();
}

void UpdateAgent::notice_received(std::string_view payload) {
  {
    std::lock_guard lock(mutex_);
    notices_.emplace_back(payload);
  }
  wake_.notify_all();
}

void UpdateAgent::observe(bool connected, std::uint64_t acked_seq) {
  {
    std::lock_guard lock(mutex_);
    if (connected == connected_ && acked_seq == acked_seq_) return;
    connected_ = connected;
    acked_seq_ = acked_seq;
    link_changed_ = true;
  }
  wake_.notify_all();
}

std::string UpdateAgent::release_check() {
  std::lock_guard lock(mutex_);
  return release_check_;
}

std::vector<std::string> UpdateAgent::statuses_to_publish() {
  std::lock_guard lock(mutex_);
  std::vector<std::string> out(std::make_move_iterator(mqtt_statuses_.begin()),
                               std::make_move_iterator(mqtt_statuses_.end()));
  mqtt_statuses_.clear();
  return out;
}

// One step of the machine per turn; between steps the worker sleeps until the machine's next step
// is due or the runner brings news (a notice, a change of the connection or the ack).
void UpdateAgent::run_worker() {
  device::UpdateClient& machine = machine_->update;
  std::int64_t due = monotonic_ms();
  while (!stopping_.load()) {
    std::vector<std::string> notices;
    bool link_changed = false, connected = false;
    std::uint64_t acked_seq = 0;
    {
      std::unique_lock lock(mutex_);
      const auto wait = std::chrono::milliseconds(std::max<std::int64_t>(due - monotonic_ms(), 0));
      wake_.wait_for(lock, wait, [&] { return stopping_.load() || !notices_.empty() || link_changed_; });
      if (stopping_.load()) break;
      notices.swap(notices_);
      link_changed = std::exchange(link_changed_, false);
      connected = connected_;
      acked_seq = acked_seq_;
    }
    for (const std::string& notice : notices) machine.notice_received(notice);
    if (link_changed) machine.link_observed(connected, acked_seq);
    due = machine.step(monotonic_ms());
    if (machine.restart_wanted()) restart_wanted_.store(true);
    std::lock_guard lock(mutex_);
    release_check_ = machine.release_check();
  }
}

}  // namespace kelvin::agent
