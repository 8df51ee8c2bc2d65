#pragma once
// Runs the managed Mosquitto as a child of the gateway: writes its config, starts it, restarts it
// with backoff when it dies, and restarts it when the CRL changes. A restart (not SIGHUP) is what
// drops the live session of a revoked device: Mosquitto checks the CRL only during a handshake.
// Devices reconnect with jittered backoff and resend anything unacknowledged, so a restart loses
// nothing (docs/protocol.md, delivery guarantee).

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "kelvin/core/child_process.hpp"
#include "kelvin/core/result.hpp"
#include "kelvin/gateway/broker_config.hpp"
#include "kelvin/gateway/broker_log.hpp"

namespace kelvin::gateway {

struct SupervisorOptions {
  BrokerSettings broker;
  std::string mosquitto_program = "mosquitto";
  std::chrono::milliseconds ready_timeout{10'000};
  std::chrono::milliseconds restart_delay_min{500};
  std::chrono::milliseconds restart_delay_max{30'000};
  // A broker that stayed up this long is healthy again: the next crash restarts it quickly.
  std::chrono::milliseconds healthy_after{60'000};
  std::chrono::milliseconds check_interval{200};
  // The broker's lines about one client (broker_log.hpp); may be empty.
  BrokerLog::ClientLineListener on_client_line{};
};

class BrokerSupervisor {
 public:
  explicit BrokerSupervisor(SupervisorOptions options);
  ~BrokerSupervisor();
  BrokerSupervisor(const BrokerSupervisor&) = delete;
  BrokerSupervisor& operator=(const BrokerSupervisor&) = delete;

  // Writes mosquitto.conf and the ACL, starts the broker and waits until its listener accepts
  // connections; then keeps watching it. Fails with the broker's exit status if it will not start.
  Result<void> start();
  void stop();

  int restarts() const { return restarts_.load(); }  // every restart, also for a changed CRL
  // The times the broker exited without being asked to (crashed, killed): restarted each time.
  std::uint64_t exits() const { return exits_.load(); }
  // TLS handshakes the broker refused (broker_log.hpp), since the gateway started.
  std::uint64_t tls_refusals() const { return log_ ? log_->tls_refusals() : 0; }
  // Publishes and deliveries the ACL refused (broker_log.hpp), since the gateway started; 0 when
  // the broker runs without the kelvin-broker-acl plugin (BrokerSettings::acl_plugin).
  std::uint64_t acl_denials() const { return log_ ? log_->acl_denials() : 0; }
  std::optional<int> broker_pid() const;

 private:
  Result<void> write_files() const;
  Result<void> spawn_and_wait_ready();
  void watch();
  std::string crl_fingerprint() const;

  SpawnOptions spawn_options() const;

  SupervisorOptions options_;
  // Set by start() before any other thread reads it; kept until destruction, after every broker
  // it reads has stopped.
  std::unique_ptr<BrokerLog> log_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::optional<ChildProcess> child_;
  std::thread watcher_;
  bool stopping_ = false;
  std::atomic<int> restarts_{0};
  std::atomic<std::uint64_t> exits_{0};
};

}  // namespace kelvin::gateway
