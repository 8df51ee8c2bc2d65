#include "kelvin/linux_port/gateway_answer.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>

namespace kelvin::linux_port {
namespace {

// The body's "seq", when it is a JSON object with a non-negative integer there.
std::optional<std::uint64_t> seq_of(const nlohmann::json& body) {
  if (!body.is_object()) return std::nullopt;
  auto seq = body.find("seq");
  if (seq == body.end() || !seq->is_number_unsigned()) return std::nullopt;
  return seq->get<std::uint64_t>();
}

// "403 device_mismatch: the client certificate is ..." from kelvin's error shape, else the status
// and the start of the body.
std::string describe(const HttpsAnswer& answer, const nlohmann::json& body) {
  std::string text = "HTTP " + std::to_string(answer.status);
  if (body.is_object() && body.contains("error") && body["error"].is_object()) {
    const auto& error = body["error"];
    if (error.contains("code") && error["code"].is_string()) text += " " + error["code"].get<std::string>();
    if (error.contains("message") && error["message"].is_string()) {
      text += ": " + error["message"].get<std::string>();
    }
    return text;
  }
  if (!answer.body.empty()) {
    std::string start = answer.body.substr(0, 200);
    std::replace_if(
        start.begin(), start.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
    text += ": " + start;
  }
  return text;
}

}  // namespace

GatewayVerdict read_gateway_answer(const HttpsAnswer& answer) {
  const nlohmann::json body = nlohmann::json::parse(answer.body, nullptr, false);
  GatewayVerdict verdict;
  const auto seq = seq_of(body);
  switch (answer.status) {
    case 200:
      if (seq) {
        verdict.kind = GatewayVerdict::Kind::acknowledged;
        verdict.acked_seq = *seq;
        return verdict;
      }
      verdict.problem = "the gateway's answer carries no ack: " + describe(answer, body);
      return verdict;
    case 400:
    case 413:
      if (seq) {
        verdict.kind = GatewayVerdict::Kind::acknowledged;
        verdict.acked_seq = *seq;
        verdict.problem = "the gateway refused a payload: " + describe(answer, body);
        return verdict;
      }
      break;
    case 503: {
      verdict.kind = GatewayVerdict::Kind::retry_later;
      std::int64_t delay_ms = kDefaultRetryAfterMs;
      if (answer.retry_after_s) {
        delay_ms = *answer.retry_after_s > kMaxRetryAfterMs / 1000 ? kMaxRetryAfterMs : *answer.retry_after_s * 1000;
      }
      verdict.retry_after_ms = std::clamp(delay_ms, kDefaultRetryAfterMs, kMaxRetryAfterMs);
      verdict.problem = describe(answer, body);
      return verdict;
    }
    default:
      break;
  }
  verdict.problem = describe(answer, body);
  return verdict;
}

}  // namespace kelvin::linux_port
