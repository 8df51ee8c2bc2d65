#include "device_probe.hpp"

#include <nlohmann/json.hpp>

namespace kelvin::testing {
namespace {

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& line : lines) out += "\n  " + line;
  return out.empty() ? " (nothing)" : out;
}

}  // namespace

DeviceProbe::DeviceProbe(const Installation& install, std::string device_id, std::vector<std::string> filters)
    : install_(install), device_id_(std::move(device_id)), filters_(std::move(filters)) {}

DeviceProbe::~DeviceProbe() {
  if (client_ && connected_ && lost_.empty()) client_->disconnect();
}

::testing::AssertionResult DeviceProbe::start(std::chrono::milliseconds timeout) {
  if (client_) return ::testing::AssertionFailure() << device_id_ << ": start() called twice";
  const DeviceFiles files = install_.device_files(device_id_);
  mqtt::ClientOptions options;
  options.client_id = device_id_;
  options.host = "localhost";
  options.port = install_.port();
  options.clean_session = true;
  options.tls = {files.ca, files.cert, files.key};
  mqtt::Callbacks callbacks;
  callbacks.on_connected = [this] {
    connected_ = true;
    // Its own acks first, then the filters under test; all of them before its first reading.
    subscribed_ = client_->subscribe(ack_topic(), 1).ok();
    for (const auto& filter : filters_) subscribed_ = client_->subscribe(filter, 1).ok() && subscribed_;
  };
  callbacks.on_refused = [this](std::string_view reason) { lost_ = "refused: " + std::string(reason); };
  callbacks.on_disconnected = [this](int rc, std::string_view reason) {
    if (lost_.empty()) lost_ = "disconnected (" + std::to_string(rc) + "): " + std::string(reason);
  };
  callbacks.on_message = [this](const mqtt::Message& message) {
    received_.push_back(std::string(message.topic) + " " + std::string(message.payload));
    if (message.topic != ack_topic()) return;
    auto ack = nlohmann::json::parse(message.payload, nullptr, false);
    if (ack.is_object() && ack.contains("seq") && ack["seq"].is_number_unsigned()) {
      acks_.push_back(ack["seq"].get<std::uint64_t>());
    }
  };
  auto created = mqtt::Client::create(options, std::move(callbacks));
  if (!created) return ::testing::AssertionFailure() << device_id_ << ": " << created.error().message;
  client_ = std::move(*created);
  if (auto connected = client_->connect(); !connected) {
    lost_ = connected.error().message;
    return ::testing::AssertionFailure() << device_id_ << ": " << lost_;
  }
  if (auto up = pump_until([this] { return connected_; }, timeout, "its CONNACK"); !up) return up;
  if (!subscribed_) return ::testing::AssertionFailure() << device_id_ << ": could not send its SUBSCRIBEs";
  return round_trip(timeout);
}

::testing::AssertionResult DeviceProbe::round_trip(std::chrono::milliseconds timeout) {
  if (!client_ || !connected_) return ::testing::AssertionFailure() << device_id_ << ": not started";
  if (!lost_.empty()) return ::testing::AssertionFailure() << device_id_ << " lost its connection: " << lost_;
  const std::uint64_t seq = next_seq_++;
  const std::size_t acks_before = acks_.size();
  const std::string reading = R"({"seq":)" + std::to_string(seq) + R"(,"ts":)" + std::to_string(now_ms()) +
                              R"(,"values":{"temperature":20.5}})";
  if (auto sent = client_->publish("devices/" + device_id_ + "/telemetry", reading, 1, false); !sent) {
    return ::testing::AssertionFailure() << device_id_ << ": cannot publish reading " << seq << ": "
                                         << sent.error().message;
  }
  // An ack of `seq` or more that arrives after the reading was sent acknowledges this reading.
  return pump_until(
      [&] {
        for (std::size_t i = acks_before; i < acks_.size(); ++i) {
          if (acks_[i] >= seq) return true;
        }
        return false;
      },
      timeout, "the ack of its reading " + std::to_string(seq));
}

std::vector<std::string> DeviceProbe::foreign() const {
  std::vector<std::string> out;
  const std::string own = ack_topic() + " ";
  for (const auto& line : received_) {
    if (line.compare(0, own.size(), own) != 0) out.push_back(line);
  }
  return out;
}

::testing::AssertionResult DeviceProbe::pump_until(const std::function<bool()>& done, std::chrono::milliseconds timeout,
                                                   const std::string& waiting_for) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (!lost_.empty()) {
      return ::testing::AssertionFailure() << device_id_ << " lost its connection waiting for " << waiting_for << ": "
                                           << lost_ << "; received:" << joined(received_);
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return ::testing::AssertionFailure() << device_id_ << ": no " << waiting_for << " within " << timeout.count()
                                           << " ms; received:" << joined(received_);
    }
    if (auto looped = client_->loop(50); !looped) {
      if (lost_.empty()) lost_ = looped.error().message;
    }
  }
  return ::testing::AssertionSuccess();
}

}  // namespace kelvin::testing
