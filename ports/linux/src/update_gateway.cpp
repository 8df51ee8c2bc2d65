#include "kelvin/linux_port/update_gateway.hpp"

#include <utility>

namespace kelvin::linux_port {
namespace {

Error gateway_refused(std::string_view what, const HttpsAnswer& answer) {
  return make_error(Errc::io, std::string(what) + ": the gateway answered " + std::to_string(answer.status) + " " +
                                  answer.body.substr(0, 200));
}

}  // namespace

HttpsUpdateGateway::HttpsUpdateGateway(std::string device_id, HttpsChannel& channel, const std::atomic<bool>* stop)
    : device_path_("/api/v1/devices/" + device_id), channel_(channel), stop_(stop) {}

std::string HttpsUpdateGateway::release_path(std::string_view product, const proto::FirmwareVersion& version,
                                             std::string_view what) const {
  return device_path_ + "/releases/" + std::string(product) + "/" + version.to_string() + "/" + std::string(what);
}

Result<std::string> HttpsUpdateGateway::fetch_manifest(std::string_view product,
                                                       const proto::FirmwareVersion& version) {
  auto answer = exchange(channel_, {"GET", release_path(product, version, "manifest"), ""}, stop_);
  if (!answer) return std::move(answer).error();
  if (answer->status != 200) return gateway_refused("fetching the manifest", *answer);
  return std::move(answer->body);
}

Result<std::string> HttpsUpdateGateway::fetch_image_range(std::string_view product,
                                                          const proto::FirmwareVersion& version, std::uint64_t first,
                                                          std::uint64_t last) {
  auto answer = exchange(
      channel_,
      {"GET", release_path(product, version, "image"), "", std::to_string(first) + "-" + std::to_string(last)}, stop_);
  if (!answer) return std::move(answer).error();
  if (answer->status != 206 && !(answer->status == 200 && first == 0)) {
    return gateway_refused("fetching the image", *answer);
  }
  return std::move(answer->body);
}

Result<std::string> HttpsUpdateGateway::fetch_offer() {
  auto answer = exchange(channel_, {"GET", device_path_ + "/update", ""}, stop_);
  if (!answer) return std::move(answer).error();
  if (answer->status == 204) return std::string();
  if (answer->status != 200) return gateway_refused("asking for an update", *answer);
  return std::move(answer->body);
}

Result<std::string> HttpsUpdateGateway::fetch_timestamp(std::string_view product) {
  auto answer =
      exchange(channel_, {"GET", device_path_ + "/releases/" + std::string(product) + "/timestamp", ""}, stop_);
  if (!answer) return std::move(answer).error();
  if (answer->status == 404) return std::string();
  if (answer->status != 200) return gateway_refused("fetching the release timestamp", *answer);
  return std::move(answer->body);
}

device::StatusDeliveryAnswer HttpsUpdateGateway::deliver(std::string_view encoded_status) {
  auto answer = exchange(channel_, {"POST", device_path_ + "/ota/status", std::string(encoded_status)}, stop_);
  if (!answer) return {device::StatusDelivery::later, answer.error().message};
  if (answer->status / 100 == 2) return {device::StatusDelivery::delivered, {}};
  const std::string problem = "HTTP " + std::to_string(answer->status) + " " + answer->body.substr(0, 200);
  if (answer->status / 100 == 4 && answer->status != 408 && answer->status != 429) {
    return {device::StatusDelivery::refused, problem};
  }
  return {device::StatusDelivery::later, problem};
}

}  // namespace kelvin::linux_port
