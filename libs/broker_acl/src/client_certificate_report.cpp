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
  std::string key = escape_for_log(client_id);
  auto found = latest_.find(key);
  if (found == latest_.end()) {
    if (latest_.size() >= kMaxClients) {
      ++not_reported_;
      return;
    }
    found = latest_.emplace(std::move(key), std::string()).first;
  }
  found->second = std::string(serial);
}

std::vector<std::string> ClientCertificateReport::take_report() {
  std::vector<std::string> lines;
  lines.reserve(latest_.size() + 1);
  for (const auto& [client_id, serial] : latest_) {
    lines.push_back(std::string(kLinePrefix) + "'" + client_id + std::string(kSerialWord) + serial);
  }
  if (not_reported_ > 0) {
    lines.push_back("Warning: the certificates of " + std::to_string(not_reported_) +
                    " further connections were not reported (more than " + std::to_string(kMaxClients) +
                    " clients in a second)");
  }
  latest_.clear();
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
