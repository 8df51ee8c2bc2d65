// The HTTPS telemetry route's decisions without a socket: who may post, and what each outcome of
// the ingest answers. tests/integration/https_ingest_test.cpp posts with curl through the real
// server and gateway.

#include "kelvin/gateway/telemetry_route.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <nlohmann/json.hpp>

#include "kelvin/testing/temp_dir.hpp"

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

// ---- PUT /api/v1/devices/{id}/status ----------------------------------------------------------

TEST(StatusRoute, OnlyTheDevicesOwnCertificateMayPutItsStatusAsJson) {
  auto put_from = [](std::optional<std::string> common_name, std::string id = "d1") {
    auto request = post_from(std::move(common_name), std::move(id));
    request.method = "PUT";
    return request;
  };
  EXPECT_FALSE(refuse_status_writer(put_from("d1")).has_value());

  auto none = refuse_status_writer(put_from(std::nullopt));
  ASSERT_TRUE(none.has_value());
  EXPECT_EQ(none->status, 401);
  EXPECT_EQ(error_code(*none), "client_certificate_required");

  auto other = refuse_status_writer(put_from("d2"));
  ASSERT_TRUE(other.has_value());
  EXPECT_EQ(other->status, 403);
  EXPECT_EQ(error_code(*other), "device_mismatch");
  EXPECT_NE(other->body.find("status"), std::string::npos) << "the message names the wrong route: " << other->body;

  auto service = refuse_status_writer(put_from("svc-gateway", "svc-gateway"));
  ASSERT_TRUE(service.has_value());
  EXPECT_EQ(service->status, 403);
  EXPECT_EQ(error_code(*service), "not_a_device");

  auto text = put_from("d1");
  text.headers = {{"Content-Type", "text/plain"}};
  auto not_json = refuse_status_writer(text);
  ASSERT_TRUE(not_json.has_value());
  EXPECT_EQ(not_json->status, 415);
  EXPECT_EQ(error_code(*not_json), "unsupported_media_type");
}

TEST(StatusRoute, RecordedAnswersTheAckAlone) {
  StatusOutcome outcome;
  outcome.status = StatusOutcome::Status::recorded;
  outcome.acked_seq = 12;
  const auto response = status_response(outcome);
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(nlohmann::json::parse(response.body), nlohmann::json::parse(R"({"seq":12})"));
}

TEST(StatusRoute, ARefusedStatusAnswersWhyAndTheAckAsItStands) {
  StatusOutcome outcome;
  outcome.status = StatusOutcome::Status::refused;
  outcome.acked_seq = 4;
  outcome.refusal = "status member 'dropped' must be a non-negative integer";
  auto response = status_response(outcome);
  EXPECT_EQ(response.status, 400);
  auto json = nlohmann::json::parse(response.body);
  EXPECT_EQ(json["error"]["code"], "invalid_status");
  EXPECT_EQ(json["error"]["message"], outcome.refusal);
  EXPECT_EQ(json["seq"], 4);

  outcome.too_large = true;
  response = status_response(outcome);
  EXPECT_EQ(response.status, 413);
  EXPECT_EQ(error_code(response), "payload_too_large");
  EXPECT_EQ(nlohmann::json::parse(response.body)["seq"], 4);
}

TEST(StatusRoute, UnavailableAsksForARetry) {
  const auto response = status_response(StatusOutcome{});
  EXPECT_EQ(response.status, 503);
  EXPECT_EQ(error_code(response), "unavailable");
  bool retry_after = false;
  for (const auto& [name, value] : response.headers) retry_after |= name == "Retry-After";
  EXPECT_TRUE(retry_after);
}

// PUT /api/v1/devices/d1/status with `body` through `router`, from a connection with the
// certificate of `poster` (serial 5C0B2C9E); the answer.
http::Response put_status_of_d1(const http::Router& router, std::string body, std::string poster = "d1") {
  http::Request request = post_from(std::move(poster));
  request.client_certificate_serial = "5C0B2C9E";
  request.method = "PUT";
  request.target = request.path = "/api/v1/devices/d1/status";
  request.segments = {"api", "v1", "devices", "d1", "status"};
  request.body = std::move(body);
  std::promise<http::Response> answered;
  router.handle(std::move(request), http::Responder([&](http::Response r) { answered.set_value(std::move(r)); }));
  auto future = answered.get_future();
  EXPECT_EQ(future.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  return future.get();
}

// Both device routes come from the one call the gateway makes.
TEST(StatusRoute, IsRegisteredWithTheTelemetryRoute) {
  kelvin::testing::TempDir dir;
  {
    auto store = store::Store::open(dir / "telemetry.db");
    ASSERT_TRUE(store.ok()) << store.error().message;
    Ingest ingest(*store, [](std::string_view, std::uint64_t) { return true; });
    ingest.start();
    http::Router router;
    ClientRecords certificates;
    add_telemetry_route(router, ingest, certificates);

    // Another device's certificate is refused, and not noted for anyone.
    EXPECT_EQ(put_status_of_d1(router, R"({"state":"online","fw":"1.0"})", "d2").status, 403);
    EXPECT_TRUE(certificates.snapshot().empty());
    const auto response = put_status_of_d1(
        router, R"({"state":"online","fw":"1.0","dropped":0,"oldest_seq":1,"release_check":"timestamp_rolled_back"})");
    EXPECT_EQ(response.status, 200) << response.body;
    // The device's certificate is noted for the superseded_certificate rule.
    const auto noted = certificates.snapshot();
    ASSERT_EQ(noted.size(), 1u);
    EXPECT_EQ(noted.at("d1").certificate_serial, "5C0B2C9E");
    EXPECT_EQ(nlohmann::json::parse(response.body), nlohmann::json::parse(R"({"seq":0})"));
    ingest.stop();
    auto device = store->device("d1");
    ASSERT_TRUE(device.ok() && device->has_value());
    ASSERT_TRUE((*device)->status.has_value());
    EXPECT_EQ((*device)->status->firmware, "1.0");
    EXPECT_EQ((*device)->status->release_check, "timestamp_rolled_back");
  }
}

// The release check is one of the status's members: one that is not a code has the whole status
// refused, like any malformed member, and nothing of it recorded.
TEST(StatusRoute, RefusesAStatusWhoseReleaseCheckIsNotACode) {
  kelvin::testing::TempDir dir;
  auto store = store::Store::open(dir / "telemetry.db");
  ASSERT_TRUE(store.ok()) << store.error().message;
  Ingest ingest(*store, [](std::string_view, std::uint64_t) { return true; });
  ingest.start();
  http::Router router;
  ClientRecords certificates;
  add_telemetry_route(router, ingest, certificates);
  for (const char* check : {R"("Timestamp-Expired")", R"("")", "17"}) {
    const auto response =
        put_status_of_d1(router, std::string(R"({"state":"online","fw":"1.0","release_check":)") + check + "}");
    EXPECT_EQ(response.status, 400) << check << ": " << response.body;
    EXPECT_EQ(nlohmann::json::parse(response.body)["error"]["code"], "invalid_status") << check;
  }
  ingest.stop();
  auto device = store->device("d1");
  ASSERT_TRUE(device.ok());
  EXPECT_TRUE(!device->has_value() || !(*device)->status.has_value()) << "a refused status was recorded";
}

}  // namespace
}  // namespace kelvin::gateway
