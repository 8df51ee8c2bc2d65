#pragma once
// The session's view of an MQTT connection. A platform port implements it over its client
// (ports/linux: libmosquitto through libs/mqtt; ESP-IDF: esp-mqtt) and feeds the connection's
// events back into the Session (on_connected, on_disconnected, on_message).

#include <string_view>

namespace kelvin::device {

class Transport {
 public:
  virtual ~Transport() = default;
  // Queues a QoS 1 publish of `payload` on `topic`. Returns false when it was not queued (not
  // connected, or the client's outgoing queue is full); the session keeps the data and tries
  // again on a later poll. True means the client took it; delivery is confirmed end to end by
  // the gateway's ack, never by this call.
  virtual bool publish(std::string_view topic, std::string_view payload, bool retain) = 0;
};

}  // namespace kelvin::device
