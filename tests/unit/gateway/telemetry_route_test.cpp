// The HTTPS telemetry route's decisions without a socket: who may post, and what each outcome of
// the ingest answers. tests/integration/https_ingest_test.cpp posts with curl through the real
// server and gateway.

#include "kelvin/gateway/telemetry_route.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace kelvin::gateway {
namespace {

http::Request post_from(std::optional<std::string> common_name, std::string id = "d1") {
  http::Request request;
  request.method = "POST";
  request.client_common_name = std::move(common_name);
  request.path_params["id"] = std::move(id);
  request.headers.emplace_back("content-type", "application/json; charset=utf-8");
  return request;
}

std::string error_code(const http::Response& response) {
  return nlohmann::json::parse(response.body)["error"]["code"].get<std::string>();
}

TEST(TelemetryRoute, OnlyTheDevicesOwnCertificateMayPost) {
  EXPECT_FALSE(refuse_telemetry_poster(post_from("d1")).has_value());

  auto none = refuse_telemetry_poster(post_from(std::nullopt));
  ASSERT_TRUE(none.has_value());
  EXPECT_EQ(none->status, 401);
  EXPECT_EQ(error_code(*none), "client_certificate_required");

  auto other = refuse_telemetry_poster(post_from("d2"));
  ASSERT_TRUE(other.has_value());
  EXPECT_EQ(other->status, 403);
  EXPECT_EQ(error_code(*other), "device_mismatch");

  // A service's certificate (the gateway's own, say) is not a device's, whatever the URL says.
  auto service = refuse_telemetry_poster(post_from("svc-gateway", "svc-gateway"));
  ASSERT_TRUE(service.has_value());
  EXPECT_EQ(service->status, 403);
  EXPECT_EQ(error_code(*service), "not_a_device");
}

TEST(TelemetryRoute, TelemetryIsJson) {
  auto request = post_from("d1");
  request.headers = {{"Content-Type", "text/plain"}};
  auto refused = refuse_telemetry_poster(request);
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->status, 415);
  request.headers.clear();
  EXPECT_TRUE(refuse_telemetry_poster(request).has_value()) << "no Content-Type at all";
  request.headers = {{"CONTENT-TYPE", "Application/JSON"}};
  EXPECT_FALSE(refuse_telemetry_poster(request).has_value());
}

TEST(TelemetryRoute, StoredAnswersTheAckAndEachRefusedReading) {
  TelemetryOutcome outcome;
  outcome.status = TelemetryOutcome::Status::stored;
  outcome.acked_seq = 7;
  outcome.accepted = 2;
  outcome.rejected.push_back({proto::RejectReason::out_of_range, 6, "temperature 900 above 125"});
  outcome.rejected.push_back({proto::RejectReason::invalid_seq, std::nullopt, "seq 0"});
  const auto response = telemetry_response(outcome);
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(nlohmann::json::parse(response.body),
            nlohmann::json::parse(R"({"seq":7,"accepted":2,"rejected":[{"seq":6,"reason":"out_of_range"},)"
                                  R"({"reason":"invalid_seq"}]})"));
}

TEST(TelemetryRoute, APayloadRefusedWholeAnswersItsReasonAndTheAckAsItStands) {
  TelemetryOutcome outcome;
  outcome.status = TelemetryOutcome::Status::refused;
  outcome.acked_seq = 4;
  outcome.payload_rejection = proto::Rejection{proto::RejectReason::malformed_json, std::nullopt, "at byte 3"};
  auto response = telemetry_response(outcome);
  EXPECT_EQ(response.status, 400);
  auto json = nlohmann::json::parse(response.body);
  EXPECT_EQ(json["error"]["code"], "malformed_json");
  EXPECT_EQ(json["seq"], 4);

  outcome.payload_rejection->reason = proto::RejectReason::payload_too_large;
  EXPECT_EQ(telemetry_response(outcome).status, 413);
}

TEST(TelemetryRoute, UnavailableAsksForARetry) {
  const auto response = telemetry_response(TelemetryOutcome{});
  EXPECT_EQ(response.status, 503);
  EXPECT_EQ(error_code(response), "unavailable");
  bool retry_after = false;
  for (const auto& [name, value] : response.headers) retry_after |= name == "Retry-After";
  EXPECT_TRUE(retry_after);
}

}  // namespace
}  // namespace kelvin::gateway
