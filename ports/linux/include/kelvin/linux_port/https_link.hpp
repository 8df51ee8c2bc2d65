#pragma once
// The device Session's Transport over the gateway's HTTPS device routes, for an agent with
// transport = "https" (docs/agent.md): the Session and the Outbox, with their resend and ack rules,
// are the ones the MQTT agent runs; only the wire differs.
//
//   publish(telemetry topic)  → POST /api/v1/devices/{id}/telemetry
//   publish(status topic)     → PUT  /api/v1/devices/{id}/status
//
// Each answer goes back into the Session as the MQTT agent's events would (gateway_answer.hpp):
//   an ack (200; 400/413, whose payload was refused whole) → Session::on_message on the ack topic
//       with {"seq":N}, then Session::poll, which sends what is due next
//   503 → the same request again after Retry-After; the session stays connected
//   no answer (refused, TLS failure, timeout) or any other answer → Session::on_disconnected: the
//       session rewinds to its ack and waits out its backoff
//
// "Connected": HTTP has nothing to open first. A connection attempt begins when the session's
// backoff allows one: the link calls Session::on_connected, so the online status (with oldest_seq)
// is the first request, as on MQTT; the attempt has succeeded with the first answer (logged), and
// the connection ends with the first failure.
//
// One request at a time: publish() refuses (returns false, "queue full" in transport.hpp's words)
// while a request waits or runs, and the session publishes again when the answer came. Answers
// therefore come in order, and each ack covers everything sent before it.
//
// Single-threaded: every call, the Session's included, from the thread that drives the link.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "kelvin/device/session.hpp"
#include "kelvin/device/transport.hpp"
#include "kelvin/linux_port/https_client.hpp"

namespace kelvin::linux_port {

enum class LinkLogLevel { info, warn, error };

struct HttpsLinkCounters {
  std::uint64_t requests = 0;          // started, retries included
  std::uint64_t acks = 0;              // answers that carried the device's ack
  std::uint64_t payloads_refused = 0;  // 400/413 answers: a payload the gateway refused whole
  std::uint64_t retries_later = 0;     // 503 answers
  std::uint64_t failures = 0;          // exchanges that ended the connection
};

class HttpsLink final : public device::Transport {
 public:
  using Clock = std::function<std::int64_t()>;  // monotonic milliseconds, as the Session's times
  using Log = std::function<void(LinkLogLevel, std::string_view)>;

  // `channel` must outlive the link. Call attach() before anything else.
  HttpsLink(std::string device_id, HttpsChannel& channel, Clock clock, Log log);

  // The session whose transport this link is (constructed with it).
  void attach(device::Session& session) { session_ = &session; }

  // device::Transport: takes the publish as the next request when none waits or runs. `retain`
  // means nothing here (the gateway keeps a device's latest status anyway).
  bool publish(std::string_view topic, std::string_view payload, bool retain) override;

  // Does what is due at `now`: begins a connection attempt when the session's backoff allows one,
  // and starts the waiting request unless a Retry-After holds it back. Returns the time it has
  // something to do next (a Retry-After or reconnect time), or now + 1000 at the latest.
  std::int64_t step(std::int64_t now);
  // Whether a request is on the wire: then await_answer() rather than sleeping.
  bool exchanging() const { return channel_.busy(); }
  // Waits at most wait_ms for the request on the wire and handles its answer.
  void await_answer(std::int64_t wait_ms);

  // A clean stop: drops whatever waits or runs (the outbox keeps it) and, while connected, tells
  // the gateway the device goes offline ({"state":"offline"}), waiting at most timeout_ms.
  void say_offline(std::int64_t timeout_ms);

  const HttpsLinkCounters& counters() const { return counters_; }

 private:
  void start_waiting(std::int64_t now);
  void handle(Result<HttpsAnswer> answer);
  void disconnect(std::int64_t now, const std::string& why);

  std::string device_id_;
  std::string telemetry_path_;
  std::string status_path_;
  HttpsChannel& channel_;
  Clock clock_;
  Log log_;
  device::Session* session_ = nullptr;
  std::optional<HttpsRequest> waiting_;  // taken by publish(), not started yet
  std::optional<HttpsRequest> running_;  // on the wire: kept for a 503's retry
  std::int64_t hold_until_ms_ = 0;       // a Retry-After: waiting_ starts no earlier
  bool answered_ = false;                // an answer came on this connection
  HttpsLinkCounters counters_;
};

}  // namespace kelvin::linux_port
