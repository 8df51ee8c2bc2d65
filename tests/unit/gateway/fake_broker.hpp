#pragma once
// A broker for the gateway's engines' unit tests (rollouts, alerts): it keeps what a
// RetainedPublisher publishes, as the real broker keeps retained messages, and can refuse
// publications as a disconnected client does.

#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace kelvin::gateway {

// What the fake broker holds: the retained message of each topic, and every publication in order.
class FakeBroker {
 public:
  bool publish(const std::string& topic, const std::string& payload) {
    if (refuse) return false;
    std::lock_guard lock(mutex_);
    log_.push_back(topic + " " + payload);
    if (payload.empty()) {
      retained_.erase(topic);
    } else {
      retained_[topic] = payload;
    }
    return true;
  }
  std::string retained(const std::string& topic) {
    std::lock_guard lock(mutex_);
    auto found = retained_.find(topic);
    return found == retained_.end() ? "" : found->second;
  }
  std::size_t publications() {
    std::lock_guard lock(mutex_);
    return log_.size();
  }
  std::atomic<bool> refuse{false};

 private:
  std::mutex mutex_;
  std::map<std::string, std::string> retained_;
  std::vector<std::string> log_;
};

}  // namespace kelvin::gateway
