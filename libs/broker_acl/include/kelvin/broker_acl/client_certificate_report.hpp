#pragma once
// The certificates clients connect with, as the broker plugin reports them to the gateway: once a
// second, a log line per client and certificate that connected, naming the client and the serial of
// the certificate it presented, so the gateway knows which certificates each device uses (the superseded_certificate
// alert rule, docs/alerts.md). The broker itself says nothing about it at any log level.
//
//   Client certificate: 'sensor-01' serial 5C0B2C9E6A7F41D2A8E3F0B1C4D5E6F7
//
// The client id is escaped as the denial lines escape it (escape_for_log, denial_tally.hpp), so a
// client id can neither break a line nor forge one; the serial is uppercase hex without leading
// zeros, as kelvin's PKI index writes it (kelvin/crypto/x509.hpp, serial_to_hex).

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kelvin::broker_acl {

struct ClientCertificate {
  std::string client_id{};  // as escaped in the line
  std::string serial{};
};

// Connections recorded between two reports (a second): each certificate a client connected with,
// once, in the order of its latest connection, so a certificate used only briefly between two
// connections with another is still reported, and the last line of a client names its latest.
class ClientCertificateReport {
 public:
  // Clients and certificates kept in one report; connections beyond are counted in one warning
  // line, so a reconnect storm cannot grow the broker's memory.
  static constexpr std::size_t kMaxLines = 10'000;
  static constexpr std::string_view kLinePrefix = "Client certificate: ";

  // A client without an id or a serial the line cannot carry (is_reportable_serial) is left out.
  void record(std::string_view client_id, std::string_view serial);
  bool empty() const { return connections_.empty() && not_reported_ == 0; }

  // A line per client and certificate recorded since the last report, oldest connection first,
  // then "Warning: ..." with the number of connections left out, if any; and starts over.
  std::vector<std::string> take_report();

 private:
  // (escaped client id, serial) → the order of its latest connection.
  std::map<std::pair<std::string, std::string>, std::uint64_t> connections_;
  std::uint64_t order_ = 0;
  std::uint64_t not_reported_ = 0;
};

// Whether `serial` is what the line may carry: 1 to 40 uppercase hex digits (RFC 5280 allows serials
// of up to 20 octets).
bool is_reportable_serial(std::string_view serial) noexcept;

// The client and serial of a "Client certificate: ..." line (without the broker's time prefix);
// nullopt for any other line, or one that is not exactly of that form.
std::optional<ClientCertificate> read_client_certificate_line(std::string_view line);

}  // namespace kelvin::broker_acl
