#pragma once
// A Mosquitto that takes the installation's certificates (CN as user name) but whose
// dynamic-security plugin, from Debian's mosquitto package, denies every subscription: how a
// broker refuses one in its SUBACK. Mosquitto 2.0's acl_file never does (it only filters what it
// delivers). Listens on an ephemeral loopback port; stopped when the object goes away.

#include <memory>

#include "installation.hpp"

namespace kelvin::testing {

class LockedDownBroker {
 public:
  explicit LockedDownBroker(const Installation& install);
  int port() const { return port_; }

 private:
  int port_;
  std::unique_ptr<BackgroundProcess> broker_;
};

}  // namespace kelvin::testing
