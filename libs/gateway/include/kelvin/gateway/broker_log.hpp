#pragma once
// The managed broker's own log (docs/gateway.md, "Logs"): Mosquitto writes its lines to a pipe
// (its standard output and error) that the gateway reads on a thread of its own. Each line goes
// into the gateway's log, prefixed "mosquitto:", its warnings and errors as warnings; the TLS
// handshakes the broker refused (no, a foreign, a revoked or an expired client certificate) and the
// publishes and deliveries its ACL refused (reported by the kelvin-broker-acl plugin,
// kelvin/broker_acl/denial_tally.hpp) are counted, for /metrics and the alert rules; the plugin's
// lines about one client (its denials, the certificate it connected with,
// kelvin/broker_acl/client_certificate_report.hpp) are handed on too: the broker has no other way
// of telling.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "kelvin/broker_acl/client_certificate_report.hpp"
#include "kelvin/core/result.hpp"

namespace kelvin::gateway {

// One line as Mosquitto writes it ("1796505080: OpenSSL Error[0]: error:0A000086:...") judged.
struct BrokerLine {
  std::string text{};        // without its Unix-time prefix
  bool warning = false;      // an error or a warning of the broker's
  bool tls_refusal = false;  // the first OpenSSL error of a handshake the broker refused
  // Publishes and deliveries the ACL refused, from the plugin's "ACL denials: N (...)" line (a
  // warning); 0 for any other line.
  std::uint64_t acl_denials = 0;
  // The client those denials are of, as the line names it (escaped); nullopt for "(further
  // clients)" and any other line.
  std::optional<std::string> acl_denials_client{};
  // A connection's certificate, from the plugin's "Client certificate: ..." line.
  std::optional<broker_acl::ClientCertificate> client_certificate{};
};
BrokerLine read_broker_line(std::string_view line);

class BrokerLog {
 public:
  // Called on the reading thread with each line about one client: a client certificate, or the
  // denials of a named client.
  using ClientLineListener = std::function<void(const BrokerLine&)>;

  // Creates the pipe and starts the reading thread; `on_client_line` may be empty.
  static Result<std::unique_ptr<BrokerLog>> open(ClientLineListener on_client_line = {});
  // Stops reading once nothing more is waiting in the pipe; a broker still running then loses its
  // later lines (stop the broker first).
  ~BrokerLog();
  BrokerLog(const BrokerLog&) = delete;
  BrokerLog& operator=(const BrokerLog&) = delete;

  // The pipe's write end, for the broker's standard output and error (SpawnOptions::output_fd).
  int write_fd() const { return write_fd_; }
  std::uint64_t tls_refusals() const { return tls_refusals_.load(); }
  std::uint64_t acl_denials() const { return acl_denials_.load(); }
  std::uint64_t lines() const { return lines_.load(); }

 private:
  BrokerLog(int read_fd, int write_fd, ClientLineListener on_client_line);
  void run();
  void take(std::string_view line);

  const int read_fd_;
  const int write_fd_;
  const ClientLineListener on_client_line_;
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint64_t> tls_refusals_{0};
  std::atomic<std::uint64_t> acl_denials_{0};
  std::atomic<std::uint64_t> lines_{0};
  std::thread reader_;
};

}  // namespace kelvin::gateway
