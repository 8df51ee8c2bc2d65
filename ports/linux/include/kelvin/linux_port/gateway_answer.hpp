#pragma once
// What an answer of the gateway's device routes (POST telemetry, PUT status; docs/protocol.md,
// "Telemetry over HTTPS" and "Status over HTTPS") means for the agent that sent the request.
//
//   200 {"seq":N,...}         acknowledged: N is the device's ack.
//   400 / 413 {...,"seq":N}   acknowledged too: the gateway refused the payload as a whole and took
//                             nothing, but N is where the device stands, so the readings before it
//                             are freed. The refused readings stay in the outbox and go again with
//                             the session's next resend, as a refused MQTT publish would; `problem`
//                             says what the gateway said, for the log.
//   503                       retry_later: the gateway is busy or stopping and took nothing; the
//                             same request goes again after Retry-After (1..60 s; 1 s without one).
//   anything else             failed: 401/403 (wrong certificate), 404/405 (a gateway without the
//                             route), 415, other 4xx and 5xx, a 400 or 413 without "seq" (the
//                             HTTP server's own refusals), a 200 whose body is not the expected
//                             JSON. The agent treats it as a lost connection: backoff, then resend.

#include <cstdint>
#include <string>

#include "kelvin/linux_port/https_client.hpp"

namespace kelvin::linux_port {

struct GatewayVerdict {
  enum class Kind { acknowledged, retry_later, failed };
  Kind kind = Kind::failed;
  std::uint64_t acked_seq = 0;      // acknowledged
  std::int64_t retry_after_ms = 0;  // retry_later
  // One line for the log: set for failed and retry_later, and for an acknowledged answer that
  // refused the payload (400/413); empty for a plain 200.
  std::string problem;
};

inline constexpr std::int64_t kDefaultRetryAfterMs = 1'000;
inline constexpr std::int64_t kMaxRetryAfterMs = 60'000;

GatewayVerdict read_gateway_answer(const HttpsAnswer& answer);

}  // namespace kelvin::linux_port
