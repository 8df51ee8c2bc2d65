#include "kelvin/gateway/client_records.hpp"

#include <algorithm>

namespace kelvin::gateway {

ClientRecord* ClientRecords::find_or_add(std::string_view client_id) {
  auto found = records_.find(client_id);
  if (found != records_.end()) return &found->second;
  if (records_.size() >= kMaxClients) {
    ++not_kept_;
    return nullptr;
  }
  return &records_.emplace(std::string(client_id), ClientRecord{}).first->second;
}

void ClientRecords::record_certificate(std::string_view client_id, std::string_view serial, std::int64_t at_ms) {
  std::lock_guard lock(mutex_);
  ClientRecord* record = find_or_add(client_id);
  if (!record) return;
  record->certificate_serial = std::string(serial);
  auto& seen = record->certificates_seen_ms;
  seen.insert_or_assign(std::string(serial), at_ms);
  if (seen.size() > kMaxCertificatesPerClient) {
    seen.erase(
        std::min_element(seen.begin(), seen.end(), [](const auto& a, const auto& b) { return a.second < b.second; }));
  }
}

void ClientRecords::add_acl_denials(std::string_view client_id, std::uint64_t count) {
  std::lock_guard lock(mutex_);
  if (ClientRecord* record = find_or_add(client_id)) record->acl_denials += count;
}

std::map<std::string, ClientRecord, std::less<>> ClientRecords::snapshot() const {
  std::lock_guard lock(mutex_);
  return records_;
}

std::uint64_t ClientRecords::not_kept() const {
  std::lock_guard lock(mutex_);
  return not_kept_;
}

}  // namespace kelvin::gateway
