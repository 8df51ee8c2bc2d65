// What the agent makes of each answer of the gateway's device routes (gateway_answer.hpp): the
// answers are the ones libs/gateway/src/telemetry_route.cpp writes (docs/protocol.md).

#include "kelvin/linux_port/gateway_answer.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace kelvin::linux_port {
namespace {

using ::testing::HasSubstr;
using Kind = GatewayVerdict::Kind;

HttpsAnswer answer(long status, std::string body, std::optional<std::int64_t> retry_after_s = std::nullopt) {
  return HttpsAnswer{status, std::move(body), retry_after_s};
}

TEST(GatewayAnswer, A200CarriesTheAck) {
  auto stored = read_gateway_answer(answer(200, R"({"seq":42,"accepted":2,"rejected":[{"seq":41,"reason":"x"}]})"));
  EXPECT_EQ(stored.kind, Kind::acknowledged);
  EXPECT_EQ(stored.acked_seq, 42u);
  EXPECT_TRUE(stored.problem.empty());

  auto status = read_gateway_answer(answer(200, R"({"seq":0})"));
  EXPECT_EQ(status.kind, Kind::acknowledged);
  EXPECT_EQ(status.acked_seq, 0u);
}

TEST(GatewayAnswer, A200WithoutAUsableAckIsAFailureNotAnAck) {
  for (const char* body :
       {"", "not json", "[]", R"({"accepted":1})", R"({"seq":-1})", R"({"seq":"42"})", R"({"seq":4.5})"}) {
    auto verdict = read_gateway_answer(answer(200, body));
    EXPECT_EQ(verdict.kind, Kind::failed) << body;
    EXPECT_FALSE(verdict.problem.empty()) << body;
  }
}

// A payload refused whole took nothing, but its answer says where the device stands: the readings
// before it are freed, and the answer does not end the connection (no loop of reconnections).
TEST(GatewayAnswer, A400Or413WithTheAckIsAnAckWithTheGatewaysReason) {
  auto malformed =
      read_gateway_answer(answer(400, R"({"error":{"code":"malformed_json","message":"at byte 3"},"seq":40})"));
  EXPECT_EQ(malformed.kind, Kind::acknowledged);
  EXPECT_EQ(malformed.acked_seq, 40u);
  EXPECT_THAT(malformed.problem, HasSubstr("HTTP 400 malformed_json: at byte 3"));

  auto too_large =
      read_gateway_answer(answer(413, R"({"error":{"code":"payload_too_large","message":"17000 bytes"},"seq":7})"));
  EXPECT_EQ(too_large.kind, Kind::acknowledged);
  EXPECT_EQ(too_large.acked_seq, 7u);
  EXPECT_THAT(too_large.problem, HasSubstr("payload_too_large"));
}

TEST(GatewayAnswer, A400Or413WithoutTheAckIsTheServersOwnRefusalAndAFailure) {
  auto body_too_large = read_gateway_answer(answer(413, R"({"error":{"code":"body_too_large","message":"m"}})"));
  EXPECT_EQ(body_too_large.kind, Kind::failed);
  EXPECT_THAT(body_too_large.problem, HasSubstr("HTTP 413 body_too_large"));
  EXPECT_EQ(read_gateway_answer(answer(400, R"({"error":{"code":"bad_request","message":"m"}})")).kind, Kind::failed);
}

TEST(GatewayAnswer, A503IsRetriedAfterItsRetryAfterWithinBounds) {
  auto busy = read_gateway_answer(answer(503, R"({"error":{"code":"unavailable","message":"m"}})", 3));
  EXPECT_EQ(busy.kind, Kind::retry_later);
  EXPECT_EQ(busy.retry_after_ms, 3000);
  EXPECT_THAT(busy.problem, HasSubstr("unavailable"));
  EXPECT_EQ(read_gateway_answer(answer(503, "")).retry_after_ms, kDefaultRetryAfterMs) << "no Retry-After";
  EXPECT_EQ(read_gateway_answer(answer(503, "", 0)).retry_after_ms, kDefaultRetryAfterMs) << "never a busy loop";
  EXPECT_EQ(read_gateway_answer(answer(503, "", 86'400)).retry_after_ms, kMaxRetryAfterMs);
  EXPECT_EQ(read_gateway_answer(answer(503, "", INT64_MAX)).retry_after_ms, kMaxRetryAfterMs);
}

TEST(GatewayAnswer, EverythingElseEndsTheConnectionWithTheGatewaysWords) {
  auto mismatch = read_gateway_answer(
      answer(403, R"({"error":{"code":"device_mismatch","message":"the client certificate is device 'd2's"}})"));
  EXPECT_EQ(mismatch.kind, Kind::failed);
  EXPECT_THAT(mismatch.problem, HasSubstr("HTTP 403 device_mismatch: the client certificate is device 'd2's"));
  for (long status : {301L, 401L, 404L, 405L, 415L, 429L, 500L, 502L}) {
    auto verdict = read_gateway_answer(answer(status, R"({"seq":5})"));
    EXPECT_EQ(verdict.kind, Kind::failed) << status;
    EXPECT_THAT(verdict.problem, HasSubstr("HTTP " + std::to_string(status))) << status;
  }
  auto html = read_gateway_answer(answer(502, "<html>\nBad Gateway\n</html>"));
  EXPECT_THAT(html.problem, HasSubstr("<html> Bad Gateway </html>"));
}

}  // namespace
}  // namespace kelvin::linux_port
