#include "device_runner.hpp"

#include <algorithm>
#include <chrono>
#include <thread>

#include "kelvin/log/log.hpp"
#include "kelvin/proto/topics.hpp"

namespace kelvin::agent {

// The session's publishes go straight to libmosquitto's queue (QoS 1).
class DeviceRunner::Transport final : public device::Transport {
 public:
  explicit Transport(DeviceRunner& runner) : runner_(runner) {}
  bool publish(std::string_view topic, std::string_view payload, bool retain) override {
    if (!runner_.socket_open_ || !runner_.client_) return false;
    return runner_.client_->publish(topic, payload, 1, retain).ok();
  }

 private:
  DeviceRunner& runner_;
};

DeviceRunner::DeviceRunner(DeviceRunnerOptions options, device::Outbox& outbox, ReadSensors read_sensors)
    : options_(std::move(options)),
      log_(log::component("agent", options_.session.device_id)),
      outbox_(outbox),
      readings_(options_.session.device_id,
                ReadingScheduleOptions{options_.interval_ms, options_.first_reading_delay_ms,
                                       options_.readings_per_interval, options_.coalesce_ms},
                outbox_, std::move(read_sensors)) {
  std::uint64_t seed = options_.random_seed;
  if (seed == 0) {
    seed = std::hash<std::string>{}(options_.session.device_id) ^ static_cast<std::uint64_t>(wall_clock_ms());
  }
  random_ = std::make_unique<device::SplitMix64Source>(seed);
  transport_ = std::make_unique<Transport>(*this);
  session_ = std::make_unique<device::Session>(options_.session, outbox_, *transport_, *random_);
  ota_topic_ = proto::device_topic(options_.session.device_id, proto::DeviceTopic::ota);
  ota_status_topic_ = proto::device_topic(options_.session.device_id, proto::DeviceTopic::ota_status);
}

DeviceRunner::~DeviceRunner() = default;

Result<void> DeviceRunner::prepare() {
  options_.mqtt.will = mqtt::Will{session_->status_topic(), std::string(device::Session::last_will_json()), true};
  mqtt::Callbacks callbacks;
  callbacks.on_connected = [this] {
    if (auto r = client_->subscribe(session_->ack_topic(), 1); !r) log_.warn("{}", r.error().message);
    if (options_.updates) {
      if (auto r = client_->subscribe(ota_topic_, 1); !r) log_.warn("{}", r.error().message);
    }
    log_.info("connected to {}:{}", options_.mqtt.host, options_.mqtt.port);
    session_->on_connected(monotonic_ms());
  };
  callbacks.on_refused = [this](std::string_view reason) {
    log_.warn("broker refused the connection: {}", reason);
    socket_open_ = false;
    session_->on_disconnected(monotonic_ms());
  };
  callbacks.on_disconnected = [this](int rc, std::string_view reason) {
    unacknowledged_statuses_.clear();  // QoS 1 state of a clean session: sent again by no one
    if (!socket_open_) return;
    socket_open_ = false;
    if (rc != 0) log_.warn("disconnected ({})", reason);
    session_->on_disconnected(monotonic_ms());
  };
  callbacks.on_published = [this](int mid) { unacknowledged_statuses_.erase(mid); };
  callbacks.on_message = [this](const mqtt::Message& message) {
    if (options_.updates && message.topic == ota_topic_) {
      options_.updates->notice_received(message.payload);
      return;
    }
    session_->on_message(message.topic, message.payload, monotonic_ms());
  };
  // libmosquitto reports only errors and warnings here, e.g. why a TLS handshake failed.
  callbacks.on_log = [this](std::string_view line) { log_.warn("mqtt: {}", line); };
  auto client = mqtt::Client::create(options_.mqtt, std::move(callbacks));
  if (!client) return std::move(client).error();
  client_ = std::move(*client);
  return {};
}

void DeviceRunner::connect(std::int64_t now_mono_ms) {
  if (auto r = client_->connect(); !r) {
    log_.warn("{}", r.error().message);
    session_->on_disconnected(now_mono_ms);
    return;
  }
  socket_open_ = true;
}

void DeviceRunner::connection_failed(const Error& error, std::int64_t now_mono_ms) {
  if (!socket_open_) return;
  socket_open_ = false;
  log_.warn("{}", error.message);
  session_->on_disconnected(now_mono_ms);
}

void DeviceRunner::service_connection(std::int64_t now_mono_ms, std::int64_t wait_ms) {
  if (!socket_open_) {
    std::this_thread::sleep_for(std::chrono::milliseconds(std::max<std::int64_t>(wait_ms, 1)));
    return;
  }
  if (auto r = client_->loop(static_cast<int>(std::max<std::int64_t>(wait_ms, 0))); !r) {
    connection_failed(r.error(), now_mono_ms);
  }
}

void DeviceRunner::on_socket_ready(bool readable, bool writable, std::int64_t now_mono_ms) {
  // An event for a descriptor this runner no longer has (closed, its number reused) is stale.
  if (!socket_open_) return;
  if (auto r = client_->process(readable, writable); !r) connection_failed(r.error(), now_mono_ms);
}

std::int64_t DeviceRunner::tick(std::int64_t now) {
  if (!started_) {
    started_ = true;
    next_poll_ms_ = now;
  }
  readings_.run_due(now, *session_);
  if (!socket_open_ && session_->connect_due(now)) connect(now);
  if (now >= next_poll_ms_) {
    session_->poll(now);
    next_poll_ms_ = now + options_.poll_interval_ms;
  }
  if (options_.updates) serve_updates();
  // Keepalive and the connect deadline need the client serviced at least once a second.
  if (socket_open_) {
    if (auto r = client_->process(false, false); !r) connection_failed(r.error(), now);
  }
  std::int64_t wake = std::min({next_poll_ms_, now + 1000, readings_.next_due_ms()});
  if (!socket_open_) wake = std::min(wake, std::max(session_->reconnect_at_ms(), now));
  return wake;
}

void DeviceRunner::serve_updates() {
  options_.updates->observe(session_->connected(), outbox_.acked_seq());
  session_->set_release_check(options_.updates->release_check());
  if (!socket_open_ || !session_->connected()) return;  // the statuses wait for the connection
  for (const std::string& status : options_.updates->statuses_to_publish()) {
    auto published = client_->publish(ota_status_topic_, status, 1, false);
    if (published) {
      unacknowledged_statuses_.insert(*published);
    } else {
      log_.warn("update status not sent: {}", published.error().message);
    }
  }
}

void DeviceRunner::run(const std::atomic<bool>& stop) {
  while (!stop.load() && !(options_.updates && options_.updates->restart_wanted())) {
    const std::int64_t now = monotonic_ms();
    const std::int64_t wake = tick(now);
    service_connection(now, std::min<std::int64_t>(wake - now, 100));
  }
  flush_and_disconnect();
}

void DeviceRunner::stop_taking_readings() {
  readings_.stop_taking_readings();
}

bool DeviceRunner::flushed() const {
  // An update status waits behind the readings in flight (the broker's receive maximum): it is
  // delivered only once acknowledged, and the DISCONNECT would drop it from the queue.
  return !readings_.send_waiting() &&
         ((outbox_.pending_count() == 0 && unacknowledged_statuses_.empty()) || !socket_open_);
}

void DeviceRunner::flush_and_disconnect() {
  stop_taking_readings();
  const std::int64_t deadline = monotonic_ms() + options_.flush_timeout_ms;
  for (;;) {
    const std::int64_t now = monotonic_ms();
    tick(now);
    if (flushed() || now >= deadline) break;
    service_connection(now, 50);
  }
  say_offline_and_disconnect();
}

void DeviceRunner::say_offline_and_disconnect() {
  if (!socket_open_) return;
  // A clean DISCONNECT suppresses the last will, so the device says it is offline itself.
  // It may wait behind readings in flight (the broker's receive maximum): up to a second for its
  // acknowledgement, or the DISCONNECT would drop it from the queue.
  auto offline = client_->publish(session_->status_topic(), device::Session::last_will_json(), 1, true);
  if (offline) unacknowledged_statuses_.insert(*offline);
  for (int i = 0;
       i < 50 && socket_open_ && (client_->wants_write() || (offline && unacknowledged_statuses_.count(*offline)));
       ++i) {
    service_connection(monotonic_ms(), 20);
  }
  client_->disconnect();
  for (int i = 0; i < 5 && socket_open_ && client_->wants_write(); ++i) service_connection(monotonic_ms(), 20);
  socket_open_ = false;
}

}  // namespace kelvin::agent
