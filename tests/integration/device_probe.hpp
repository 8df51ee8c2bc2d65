#pragma once
// A device's own MQTT connection that watches what the broker lets a device receive, for tests
// that assert that something does NOT reach a device (another device's traffic, the gateways'
// notices) or does NOT throw it off (a client claiming its client id). Such a test brackets the
// forbidden action between two round trips, so "nothing arrived" is checked only once it is proven
// that the subscriptions existed and the path to the device was live the whole time:
//
//   DeviceProbe probe(install, "sensor-03", {"devices/#"});
//   ASSERT_TRUE(probe.start());       // connected, subscribed, first round trip
//   ... the action whose traffic must not reach the device ...
//   ASSERT_TRUE(probe.round_trip());  // still connected; all routed to it before is in received()
//   EXPECT_THAT(probe.foreign(), IsEmpty());
//
// A round trip publishes the device's next reading on this connection and waits for the gateway's
// ack of it. That is a barrier because Mosquitto handles one connection's packets in order (the
// SUBSCRIBEs, sent first, are in place before the reading is routed) and queues messages for a
// connection in the order it accepted them (whatever it accepted before the gateway published the
// ack arrives here before the ack).
//
// Why not mosquitto_sub with marker messages: a device may read only its own ack and ota topics,
// which only gateways write, and a second connection with its certificate replaces the first, so
// nothing else can send it a marker; and mosquitto_sub reconnects silently when it is thrown off,
// losing what was routed meanwhile. This connection both publishes and subscribes (as mosquitto_rr
// does, but stays open), and it is never re-established: once lost, every later round trip fails,
// so a device that was disconnected cannot pass for one that received nothing.
//
// kelvin's MQTT client (the agent's) driven by hand on the test's thread; MQTT 3.1.1, clean
// session, QoS 1. It runs only inside start() and round_trip(): what arrives in between waits in
// the socket, and the broker drops a client silent for 1.5 keepalives (45 s), so the action
// between two round trips must take less than that.

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "installation.hpp"
#include "kelvin/mqtt/client.hpp"

namespace kelvin::testing {

class DeviceProbe {
 public:
  // Uses `device_id`'s certificate from `install`'s PKI (issue it first) and subscribes to its own
  // ack topic and to `filters`. Nothing happens until start().
  DeviceProbe(const Installation& install, std::string device_id, std::vector<std::string> filters);
  ~DeviceProbe();
  DeviceProbe(const DeviceProbe&) = delete;
  DeviceProbe& operator=(const DeviceProbe&) = delete;

  // Connects, subscribes and makes the first round trip.
  ::testing::AssertionResult start(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // Publishes the next reading (seqs 1, 2, ... from start()) and waits for an ack of at least its
  // seq on this same connection. Fails if the connection was ever lost.
  ::testing::AssertionResult round_trip(std::chrono::milliseconds timeout = std::chrono::seconds(20));

  // Everything received so far, as "topic payload", in order of arrival.
  const std::vector<std::string>& received() const { return received_; }
  // What it received other than messages on its own ack topic.
  std::vector<std::string> foreign() const;

 private:
  ::testing::AssertionResult pump_until(const std::function<bool()>& done, std::chrono::milliseconds timeout,
                                        const std::string& waiting_for);
  std::string ack_topic() const { return "devices/" + device_id_ + "/ack"; }

  const Installation& install_;
  std::string device_id_;
  std::vector<std::string> filters_;
  std::unique_ptr<mqtt::Client> client_;
  bool connected_ = false;
  bool subscribed_ = false;
  std::string lost_;  // why the connection ended or was refused; empty while it is fine
  std::uint64_t next_seq_ = 1;
  std::vector<std::uint64_t> acks_;  // the seqs of the acks on its own ack topic, in order
  std::vector<std::string> received_;
};

}  // namespace kelvin::testing
