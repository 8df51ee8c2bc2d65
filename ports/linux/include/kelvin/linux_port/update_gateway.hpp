#pragma once
// The device update's gateway on Linux (device::UpdateServer and, for an agent with
// transport = "https", device::UpdateStatusSink; update_ports.hpp) over the agent's HTTPS channel
// with the device's certificate, under the device's own id (docs/api.md):
//   GET  /api/v1/devices/{id}/releases/{product}/{version}/manifest   200: the envelope
//   GET  /api/v1/devices/{id}/releases/{product}/{version}/image      Range: bytes=first-last; 206
//   GET  /api/v1/devices/{id}/update                                  200: a notice, 204: none
//   GET  /api/v1/devices/{id}/releases/{product}/timestamp            200: the envelope, 404: none
//   POST /api/v1/devices/{id}/ota/status                              2xx: delivered
// Each call is one exchange to its end (the channel's timeouts bound it), given up within half a
// second of `stop` becoming true.

#include <atomic>
#include <string>

#include "kelvin/device/update_ports.hpp"
#include "kelvin/linux_port/https_client.hpp"

namespace kelvin::linux_port {

class HttpsUpdateGateway final : public device::UpdateServer, public device::UpdateStatusSink {
 public:
  // `channel` (and `stop`, when given) must outlive this.
  HttpsUpdateGateway(std::string device_id, HttpsChannel& channel, const std::atomic<bool>* stop = nullptr);

  Result<std::string> fetch_manifest(std::string_view product, const proto::FirmwareVersion& version) override;
  Result<std::string> fetch_image_range(std::string_view product, const proto::FirmwareVersion& version,
                                        std::uint64_t first, std::uint64_t last) override;
  Result<std::string> fetch_offer() override;
  // 200: the timestamp; 404: "" (none published, or a gateway that has no such route).
  Result<std::string> fetch_timestamp(std::string_view product) override;
  // 2xx delivered; a 4xx other than 408 and 429 refused (the gateway refuses it for what it is);
  // anything else, or no answer, later.
  device::StatusDeliveryAnswer deliver(std::string_view encoded_status) override;

 private:
  std::string release_path(std::string_view product, const proto::FirmwareVersion& version,
                           std::string_view what) const;

  std::string device_path_;  // /api/v1/devices/{id}
  HttpsChannel& channel_;
  const std::atomic<bool>* stop_;
};

}  // namespace kelvin::linux_port
