#include "https_device_runner.hpp"

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>

#include "kelvin/log/log.hpp"

namespace kelvin::agent {

HttpsDeviceRunner::HttpsDeviceRunner(HttpsRunnerOptions options, device::Outbox& outbox, ReadSensors read_sensors)
    : options_(std::move(options)),
      outbox_(outbox),
      readings_(options_.session.device_id, options_.readings, outbox_, std::move(read_sensors)) {
  std::uint64_t seed = options_.random_seed;
  if (seed == 0) {
    seed = std::hash<std::string>{}(options_.session.device_id) ^ static_cast<std::uint64_t>(wall_clock_ms());
  }
  random_ = std::make_unique<device::SplitMix64Source>(seed);
}

HttpsDeviceRunner::~HttpsDeviceRunner() = default;

Result<void> HttpsDeviceRunner::prepare() {
  auto client = linux_port::HttpsClient::create(options_.https);
  if (!client) return std::move(client).error();
  client_ = std::move(*client);
  const std::string id = options_.session.device_id;
  const std::string gateway = client_->base_url();
  link_ = std::make_unique<linux_port::HttpsLink>(
      id, *client_, [] { return monotonic_ms(); },
      [&device_log = log::component("agent", id), gateway](linux_port::LinkLogLevel level, std::string_view message) {
        switch (level) {
          case linux_port::LinkLogLevel::info:
            device_log.info("{}: {}", gateway, message);
            break;
          case linux_port::LinkLogLevel::warn:
            device_log.warn("{}: {}", gateway, message);
            break;
          case linux_port::LinkLogLevel::error:
            device_log.error("{}: {}", gateway, message);
            break;
        }
      });
  session_ = std::make_unique<device::Session>(options_.session, outbox_, *link_, *random_);
  link_->attach(*session_);
  return {};
}

std::int64_t HttpsDeviceRunner::tick(std::int64_t now) {
  readings_.run_due(now, *session_);
  if (now >= next_poll_ms_) {
    session_->poll(now);
    next_poll_ms_ = now + options_.poll_interval_ms;
  }
  const std::int64_t link_due = link_->step(now);
  if (options_.updates) {
    options_.updates->observe(session_->connected(), outbox_.acked_seq());
    session_->set_release_check(options_.updates->release_check());
  }
  return std::min({next_poll_ms_, link_due, readings_.next_due_ms()});
}

void HttpsDeviceRunner::wait(std::int64_t now, std::int64_t until) {
  const std::int64_t wait_ms = std::clamp<std::int64_t>(until - now, 0, 100);
  if (link_->exchanging()) {
    link_->await_answer(wait_ms);
  } else if (wait_ms > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(wait_ms));
  }
}

bool HttpsDeviceRunner::flushed() const {
  return !readings_.send_waiting() && (outbox_.pending_count() == 0 || !session_->connected());
}

void HttpsDeviceRunner::run(const std::atomic<bool>& stop) {
  next_poll_ms_ = monotonic_ms();
  log::component("agent", options_.session.device_id).info("sending over HTTPS to {}", client_->base_url());
  while (!stop.load() && !(options_.updates && options_.updates->restart_wanted())) {
    const std::int64_t now = monotonic_ms();
    wait(now, tick(now));
  }
  readings_.stop_taking_readings();
  const std::int64_t deadline = monotonic_ms() + options_.flush_timeout_ms;
  for (;;) {
    const std::int64_t now = monotonic_ms();
    const std::int64_t wake = tick(now);
    if (flushed() || now >= deadline) break;
    wait(now, std::min(wake, now + 50));
  }
  link_->say_offline(options_.offline_timeout_ms);
}

}  // namespace kelvin::agent
