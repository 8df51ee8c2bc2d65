#include "kelvin/broker_acl/client_certificate_report.hpp"

#include <algorithm>

#include "kelvin/broker_acl/denial_tally.hpp"

namespace kelvin::broker_acl {
namespace {

constexpr std::string_view kSerialWord = "' serial ";
constexpr std::size_t kMaxSerialDigits = 40;

}  // namespace

bool is_reportable_serial(std::string_view serial) noexcept {
  return !serial.empty() && serial.size() <= kMaxSerialDigits && std::all_of(serial.begin(), serial.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
  });
}

void ClientCertificateReport::record(std::string_view client_id, std::string_view serial) {
  if (client_id.empty() || !is_reportable_serial(serial)) return;  // not a line the gateway could read
  std::pair<std::string, std::string> key{escape_for_log(client_id), std::string(serial)};
  auto found = connections_.find(key);
  if (found == connections_.end()) {
    if (connections_.size() >= kMaxLines) {
      ++not_reported_;
      return;
    }
    found = connections_.emplace(std::move(key), 0).first;
  }
  found->second = ++order_;
}

std::vector<std::string> ClientCertificateReport::take_report() {
  std::vector<std::pair<std::uint64_t, const std::pair<std::string, std::string>*>> in_order;
  in_order.reserve(connections_.size());
  for (const auto& [connection, order] : connections_) in_order.emplace_back(order, &connection);
  std::sort(in_order.begin(), in_order.end());
  std::vector<std::string> lines;
  lines.reserve(in_order.size() + 1);
  for (const auto& [order, connection] : in_order) {
    lines.push_back(std::string(kLinePrefix) + "'" + connection->first + std::string(kSerialWord) + connection->second);
  }
  if (not_reported_ > 0) {
    lines.push_back("Warning: the certificates of " + std::to_string(not_reported_) +
                    " further connections were not reported (more than " + std::to_string(kMaxLines) +
                    " clients and certificates in a second)");
  }
  connections_.clear();
  not_reported_ = 0;
  return lines;
}

std::optional<ClientCertificate> read_client_certificate_line(std::string_view line) {
  constexpr std::string_view prefix = ClientCertificateReport::kLinePrefix;
  if (!line.starts_with(prefix)) return std::nullopt;
  line.remove_prefix(prefix.size());
  if (!line.starts_with('\'')) return std::nullopt;
  line.remove_prefix(1);
  // An escaped client id holds no quote: the first one ends it.
  const std::size_t end = line.find('\'');
  if (end == 0 || end == std::string_view::npos) return std::nullopt;
  ClientCertificate out{.client_id = std::string(line.substr(0, end))};
  line.remove_prefix(end);
  if (!line.starts_with(kSerialWord)) return std::nullopt;
  line.remove_prefix(kSerialWord.size());
  if (!is_reportable_serial(line)) return std::nullopt;
  out.serial = std::string(line);
  return out;
}

}  // namespace kelvin::broker_acl
