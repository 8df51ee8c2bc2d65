#pragma once
// How the gateway's engines (rollouts, alerts) publish their state for devices and integrations.

#include <functional>
#include <string>

namespace kelvin::gateway {

// Publishes `payload` retained with QoS 1 on `topic` ("" clears it); false when it could not be
// queued (not connected).
using RetainedPublisher = std::function<bool(const std::string& topic, const std::string& payload)>;

}  // namespace kelvin::gateway
