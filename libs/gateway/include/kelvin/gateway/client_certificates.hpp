#pragma once
// The certificate each client last connected with, by serial: reported by the managed broker's
// plugin for MQTT connections (broker_log.hpp) and seen by the HTTPS server for devices posting
// telemetry (telemetry_route.hpp). The superseded_certificate alert rule compares it with the
// certificates the PKI index lists for the device (docs/alerts.md).
//
// Thread-safe. Kept in memory only: after a restart of the gateway (and so of its broker) every
// device is seen again when it reconnects.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

namespace kelvin::gateway {

class ClientCertificates {
 public:
  // Clients kept; connections of further ones are counted, not kept, so clients with made-up ids
  // cannot grow the gateway's memory. (A client reaches the broker only with a certificate of the
  // installation's CA, so the clients are the installation's own.)
  static constexpr std::size_t kMaxClients = 200'000;

  // `client_id` connected with the certificate of serial `serial` (uppercase hex, as the PKI index
  // writes it): it replaces what was kept for the client.
  void record(std::string_view client_id, std::string_view serial);

  // Every client kept → the serial of its latest connection.
  std::map<std::string, std::string, std::less<>> latest() const;

  // Connections not kept: their clients beyond kMaxClients.
  std::uint64_t not_kept() const;

 private:
  mutable std::mutex mutex_;  // a leaf
  std::map<std::string, std::string, std::less<>> latest_;
  std::uint64_t not_kept_ = 0;
};

}  // namespace kelvin::gateway
