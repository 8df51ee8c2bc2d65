#pragma once
// What the gateway learned of each client's connections since it started: the certificate of its
// latest connection, by serial, and the publishes and deliveries the broker's ACL refused it. The
// managed broker's plugin reports both for MQTT connections (broker_log.hpp); the HTTPS server
// notes the certificate of devices posting telemetry (telemetry_route.hpp). The alert rules
// superseded_certificate and device_acl_denials judge devices by them (docs/alerts.md).
//
// Thread-safe. Kept in memory only: after a restart of the gateway (and so of its managed broker)
// every device is seen again when it reconnects, and its denials count from 0.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace kelvin::gateway {

struct ClientRecord {
  // The serial of the certificate of its latest connection (uppercase hex, as the PKI index writes
  // it), and every certificate it connected with, by serial, with when it last did (the gateway's
  // clock, ms): the newest kMaxCertificatesPerClient. The latest is kept apart: the lines of one
  // report arrive within the same millisecond, so the times alone cannot tell it.
  std::optional<std::string> certificate_serial{};
  std::map<std::string, std::int64_t, std::less<>> certificates_seen_ms{};
  std::uint64_t acl_denials = 0;  // since the gateway started
};

class ClientRecords {
 public:
  // Clients kept; what comes of further ones is counted, not kept, so clients with made-up ids
  // cannot grow the gateway's memory. (A client reaches the broker only with a certificate of the
  // installation's CA, so the clients are the installation's own.)
  static constexpr std::size_t kMaxClients = 200'000;
  // Certificates kept per client: the ones it connected with last.
  static constexpr std::size_t kMaxCertificatesPerClient = 8;

  // `client_id` connected with the certificate of serial `serial` at `at_ms`: its latest.
  void record_certificate(std::string_view client_id, std::string_view serial, std::int64_t at_ms);
  // The broker's ACL refused `count` more publishes or deliveries of `client_id`.
  void add_acl_denials(std::string_view client_id, std::uint64_t count);

  // Every client kept, by id.
  std::map<std::string, ClientRecord, std::less<>> snapshot() const;

  // Reports of clients beyond kMaxClients, not kept.
  std::uint64_t not_kept() const;

 private:
  // The record of `client_id`, added if there is room; nullptr (and counted) when there is none.
  ClientRecord* find_or_add(std::string_view client_id);

  mutable std::mutex mutex_;  // a leaf
  std::map<std::string, ClientRecord, std::less<>> records_;
  std::uint64_t not_kept_ = 0;
};

}  // namespace kelvin::gateway
