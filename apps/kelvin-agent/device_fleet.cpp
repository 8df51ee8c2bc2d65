#include "device_fleet.hpp"

#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
#include <queue>
#include <thread>
#include <utility>

#include "kelvin/core/thread_name.hpp"
#include "kelvin/log/log.hpp"

namespace kelvin::agent {
namespace {

// One worker thread and the devices it owns.
class FleetWorker {
 public:
  FleetWorker(std::vector<DeviceRunner*> runners, const FleetOptions& options)
      : runners_(std::move(runners)), options_(options), registered_(runners_.size(), Registration{}) {}

  FleetWorker(const FleetWorker&) = delete;
  FleetWorker& operator=(const FleetWorker&) = delete;
  ~FleetWorker() {
    if (epoll_fd_ >= 0) ::close(epoll_fd_);
  }

  void run(const std::atomic<bool>& stop) {
    epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd_ < 0) {
      log::component("simulator").error("epoll_create1: {}", std::strerror(errno));
      return;
    }
    const std::int64_t start = monotonic_ms();
    for (std::size_t i = 0; i < runners_.size(); ++i) timers_.push({start, i});
    while (!stop.load()) turn();
    for (DeviceRunner* runner : runners_) runner->stop_taking_readings();
    const std::int64_t deadline = monotonic_ms() + options_.flush_timeout_ms;
    while (monotonic_ms() < deadline && !all_flushed()) turn();
    for (std::size_t i = 0; i < runners_.size(); ++i) {
      runners_[i]->say_offline_and_disconnect();
      sync_registration(i);
    }
  }

 private:
  struct Registration {
    int fd = -1;
    std::uint32_t events = 0;
  };
  using Timer = std::pair<std::int64_t, std::size_t>;  // (wake time, runner index)

  // One round: runs the devices whose timers are due, then waits for sockets until the next timer.
  void turn() {
    std::int64_t now = monotonic_ms();
    while (!timers_.empty() && timers_.top().first <= now) {
      const std::size_t index = timers_.top().second;
      timers_.pop();
      timers_.push({runners_[index]->tick(now), index});
      sync_registration(index);
    }
    int timeout_ms = 100;
    if (!timers_.empty()) timeout_ms = static_cast<int>(std::clamp<std::int64_t>(timers_.top().first - now, 0, 100));
    if (!buffered_.empty()) timeout_ms = 0;
    epoll_event events[256];
    const int ready = ::epoll_wait(epoll_fd_, events, 256, timeout_ms);
    if (ready < 0 && errno != EINTR) log::component("simulator").error("epoll_wait: {}", std::strerror(errno));
    now = monotonic_ms();
    // Input OpenSSL already read from the socket does not make it readable again.
    std::vector<std::size_t> buffered;
    buffered.swap(buffered_);
    for (std::size_t index : buffered) service(index, true, false, now);
    for (int i = 0; i < ready; ++i) {
      const std::size_t index = events[i].data.u64;
      const std::uint32_t what = events[i].events;
      service(index, (what & (EPOLLIN | EPOLLERR | EPOLLHUP)) != 0, (what & EPOLLOUT) != 0, now);
    }
  }

  void service(std::size_t index, bool readable, bool writable, std::int64_t now) {
    DeviceRunner& runner = *runners_[index];
    runner.on_socket_ready(readable, writable, now);
    if (runner.socket_open() && runner.client().has_buffered_input()) buffered_.push_back(index);
    sync_registration(index);
  }

  // Keeps the epoll set in step with the runner's connection: its descriptor changes with every
  // reconnect, and POLLOUT is wanted only while output waits.
  void sync_registration(std::size_t index) {
    DeviceRunner& runner = *runners_[index];
    Registration& reg = registered_[index];
    const int fd = runner.socket_open() ? runner.client().socket() : -1;
    const std::uint32_t events = fd < 0 ? 0 : EPOLLIN | (runner.client().wants_write() ? EPOLLOUT : 0U);
    if (fd == reg.fd && events == reg.events) return;
    if (reg.fd >= 0 && reg.fd != fd) {
      // A closed descriptor left the epoll set by itself, and its number may already be another
      // device's: only remove it while it is still ours.
      if (owner_of(reg.fd) == index) {
        (void)::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, reg.fd, nullptr);
        owners_[static_cast<std::size_t>(reg.fd)] = kNobody;
      }
      reg = Registration{};
    }
    if (fd < 0) return;
    epoll_event event{};
    event.events = events;
    event.data.u64 = index;
    const bool known = reg.fd == fd;
    if (::epoll_ctl(epoll_fd_, known ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &event) != 0) {
      // The number was recycled from a descriptor closed under us: register it afresh.
      if (errno == EEXIST) {
        (void)::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &event);
      } else if (errno == ENOENT) {
        (void)::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event);
      }
    }
    reg = Registration{fd, events};
    if (owners_.size() <= static_cast<std::size_t>(fd)) owners_.resize(static_cast<std::size_t>(fd) + 1, kNobody);
    owners_[static_cast<std::size_t>(fd)] = index;
  }

  std::size_t owner_of(int fd) const {
    return static_cast<std::size_t>(fd) < owners_.size() ? owners_[static_cast<std::size_t>(fd)] : kNobody;
  }

  bool all_flushed() const {
    return std::all_of(runners_.begin(), runners_.end(), [](const DeviceRunner* r) { return r->flushed(); });
  }

  static constexpr std::size_t kNobody = static_cast<std::size_t>(-1);
  std::vector<DeviceRunner*> runners_;
  FleetOptions options_;
  std::vector<Registration> registered_;
  std::vector<std::size_t> owners_;  // by descriptor number: the runner registered with it
  std::vector<std::size_t> buffered_;
  std::priority_queue<Timer, std::vector<Timer>, std::greater<>> timers_;
  int epoll_fd_ = -1;
};

}  // namespace

void run_fleet(std::vector<DeviceRunner*> runners, const FleetOptions& options, const std::atomic<bool>& stop) {
  const std::size_t threads = std::clamp<std::size_t>(static_cast<std::size_t>(std::max(options.threads, 1)), 1,
                                                      std::max<std::size_t>(runners.size(), 1));
  std::vector<std::vector<DeviceRunner*>> shares(threads);
  for (std::size_t i = 0; i < runners.size(); ++i) shares[i % threads].push_back(runners[i]);
  std::vector<std::unique_ptr<FleetWorker>> workers;
  for (auto& share : shares) workers.push_back(std::make_unique<FleetWorker>(std::move(share), options));
  std::vector<std::thread> running;
  for (auto& worker : workers) {
    running.emplace_back(core::named_thread("fleet-worker", [&worker, &stop] { worker->run(stop); }));
  }
  for (auto& thread : running) thread.join();
}

}  // namespace kelvin::agent
