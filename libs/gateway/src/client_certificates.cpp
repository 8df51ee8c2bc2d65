#include "kelvin/gateway/client_certificates.hpp"

namespace kelvin::gateway {

void ClientCertificates::record(std::string_view client_id, std::string_view serial) {
  std::lock_guard lock(mutex_);
  auto found = latest_.find(client_id);
  if (found != latest_.end()) {
    found->second = std::string(serial);
  } else if (latest_.size() < kMaxClients) {
    latest_.emplace(std::string(client_id), std::string(serial));
  } else {
    ++not_kept_;
  }
}

std::map<std::string, std::string, std::less<>> ClientCertificates::latest() const {
  std::lock_guard lock(mutex_);
  return latest_;
}

std::uint64_t ClientCertificates::not_kept() const {
  std::lock_guard lock(mutex_);
  return not_kept_;
}

}  // namespace kelvin::gateway
