#include "kelvin/gateway/broker_supervisor.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kelvin/core/files.hpp"
#include "kelvin/core/thread_name.hpp"
#include "kelvin/log/log.hpp"

namespace kelvin::gateway {
namespace {

using Clock = std::chrono::steady_clock;

// True once something accepts TCP connections on the broker's port (on loopback when the broker
// binds every interface).
bool listener_accepts(const BrokerSettings& broker) {
  std::string address = broker.bind_address == "0.0.0.0" ? "127.0.0.1" : broker.bind_address;
  bool ipv6 = address.find(':') != std::string::npos;
  int fd = socket(ipv6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  int rc = -1;
  if (ipv6) {
    sockaddr_in6 sa{};
    sa.sin6_family = AF_INET6;
    sa.sin6_port = htons(static_cast<std::uint16_t>(broker.port));
    if (inet_pton(AF_INET6, address.c_str(), &sa.sin6_addr) == 1)
      rc = connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
  } else {
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<std::uint16_t>(broker.port));
    if (inet_pton(AF_INET, address.c_str(), &sa.sin_addr) == 1)
      rc = connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
  }
  close(fd);
  return rc == 0;
}

}  // namespace

BrokerSupervisor::BrokerSupervisor(SupervisorOptions options) : options_(std::move(options)) {}

BrokerSupervisor::~BrokerSupervisor() {
  stop();
}

Result<void> BrokerSupervisor::write_files() const {
  const auto& broker = options_.broker;
  if (auto r = files::ensure_private_dir(broker.state_dir); !r) return r;
  if (auto r = files::write_file_atomic(broker_acl_path(broker), render_broker_acl(broker), 0600); !r) return r;
  return files::write_file_atomic(broker_config_path(broker), render_broker_config(broker), 0600);
}

std::string BrokerSupervisor::crl_fingerprint() const {
  struct stat st {};
  if (::stat(options_.broker.crl_file.c_str(), &st) != 0) return "missing";
  return std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec) + "/" +
         std::to_string(st.st_size) + "/" + std::to_string(st.st_ino);
}

Result<void> BrokerSupervisor::spawn_and_wait_ready() {
  auto child = ChildProcess::spawn({options_.mosquitto_program, "-c", broker_config_path(options_.broker).string()},
                                   spawn_options());
  if (!child) return std::move(child).error();
  auto deadline = Clock::now() + options_.ready_timeout;
  while (!listener_accepts(options_.broker)) {
    if (auto ended = child->poll_exit()) {
      return make_error(Errc::io, "mosquitto " + ended->description + " at start (its messages are above; config: " +
                                      broker_config_path(options_.broker).string() + ")");
    }
    if (Clock::now() > deadline) {
      return make_error(Errc::io, "mosquitto did not accept connections on port " +
                                      std::to_string(options_.broker.port) + " within " +
                                      std::to_string(options_.ready_timeout.count()) + " ms");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::lock_guard lock(mutex_);
  child_ = std::move(*child);
  return {};
}

Result<void> BrokerSupervisor::start() {
  if (auto r = write_files(); !r) return r;
  // Otherwise the readiness check below would take another process's listener for ours.
  if (listener_accepts(options_.broker)) {
    return make_error(Errc::conflict, "port " + std::to_string(options_.broker.port) + " on " +
                                          options_.broker.bind_address +
                                          " is already in use (another broker, or one left by an earlier gateway?)");
  }
  auto log = BrokerLog::open(options_.on_client_line);
  if (!log) return std::move(log).error();
  log_ = std::move(*log);
  if (auto r = spawn_and_wait_ready(); !r) return r;
  log::component("broker").info("mosquitto running (pid {}) on {}:{}", *broker_pid(), options_.broker.bind_address,
                                options_.broker.port);
  watcher_ = core::named_thread("broker-watch", [this] { watch(); });
  return {};
}

void BrokerSupervisor::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (watcher_.joinable()) watcher_.join();
  std::lock_guard lock(mutex_);
  if (child_) child_->stop();
  child_.reset();
}

SpawnOptions BrokerSupervisor::spawn_options() const {
  SpawnOptions options;
  options.output_fd = log_ ? log_->write_fd() : -1;
  return options;
}

std::optional<int> BrokerSupervisor::broker_pid() const {
  std::lock_guard lock(mutex_);
  if (!child_) return std::nullopt;
  return child_->pid();
}

void BrokerSupervisor::watch() {
  auto delay = options_.restart_delay_min;
  auto started_at = Clock::now();
  // A plain flag rather than std::optional: GCC 12 -O2 warns (maybe-uninitialized) on the latter.
  bool restart_pending = false;
  Clock::time_point restart_at{};
  std::string crl = crl_fingerprint();
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    wake_.wait_for(lock, options_.check_interval, [this] { return stopping_; });
    if (stopping_) break;
    auto now = Clock::now();
    if (child_) {
      if (auto ended = child_->poll_exit()) {
        child_.reset();
        exits_.fetch_add(1);
        if (now - started_at >= options_.healthy_after) delay = options_.restart_delay_min;
        restart_pending = true;
        restart_at = now + delay;
        log::component("broker").warn("mosquitto {}; restarting in {} ms", ended->description, delay.count());
        delay = std::min(delay * 2, options_.restart_delay_max);
        continue;
      }
      if (std::string current = crl_fingerprint(); current != crl) {
        crl = current;
        log::component("broker").info("CRL changed; restarting mosquitto so revoked devices are disconnected");
        child_->stop();
        child_.reset();
        restart_pending = true;
        restart_at = now;
      }
    }
    if (!child_ && restart_pending && now >= restart_at) {
      auto child = ChildProcess::spawn({options_.mosquitto_program, "-c", broker_config_path(options_.broker).string()},
                                       spawn_options());
      if (!child) {
        log::component("broker").error("{}", child.error().message);
        restart_at = now + delay;
        continue;
      }
      child_ = std::move(*child);
      restart_pending = false;
      started_at = now;
      crl = crl_fingerprint();
      restarts_.fetch_add(1);
      log::component("broker").info("mosquitto restarted (pid {})", child_->pid());
    }
  }
}

}  // namespace kelvin::gateway
