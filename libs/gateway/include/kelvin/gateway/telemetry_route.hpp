#pragma once
// A device's HTTPS routes, for devices that cannot speak MQTT (kelvin-agent's transport = "https"):
//   POST /api/v1/devices/{id}/telemetry   the wire protocol's telemetry (docs/protocol.md)
//   PUT  /api/v1/devices/{id}/status      the device's status, as on devices/{id}/status
// with the same guarantee as over MQTT: the answer is sent only after the commit, and it carries
// the device's ack. The status route is how such a device reports oldest_seq, so that the ack
// moves past readings its outbox dropped (without it the ack would stall at the gap for good).
//
// Who may use them: a connection with a verified client certificate (the server checks it against
// the installation's CA and CRL during the handshake) whose CN is a device id equal to {id}. A
// browser session, a service identity or another device gets 401/403 and nothing is taken. The
// serial of the certificate a device posts with is recorded in ClientRecords, as the broker
// reports it for MQTT connections (the superseded_certificate alert rule).
//
// Answers (JSON; docs/protocol.md, "Telemetry over HTTPS"):
//   200 {"seq":N,"accepted":A,"rejected":[{"seq":S,"reason":"out_of_range"},…]}
//       committed: N is the ack (every seq up to N is consumed), A the readings that passed
//       validation (new or resent), rejected the readings refused one by one (reading-level
//       reasons; those without a valid seq carry no "seq").
//   400 / 413 {"error":{"code":"<reason>","message":…},"seq":N}   the payload refused as a whole
//       (413 for payload_too_large), nothing taken; N is the device's ack as it stands.
//   401 client_certificate_required, 403 not_a_device / device_mismatch,
//   415 unsupported_media_type (not application/json), 503 unavailable (stopping, or the store is
//   behind: retry later; Retry-After says when).
//
// Status answers (docs/protocol.md, "Status over HTTPS"):
//   200 {"seq":N}   recorded, and committed with its oldest_seq; N is the device's ack after it.
//   400 {"error":{"code":"invalid_status","message":…},"seq":N}   not a valid status, nothing
//       recorded (413 payload_too_large beyond proto::kMaxStatusBytes); N is the ack as it stands.
//   401, 403, 415 as for telemetry; 503 unavailable (stopping, store behind, or the status could
//   not be recorded: send it again; Retry-After says when).

#include <optional>

#include "kelvin/gateway/client_records.hpp"
#include "kelvin/gateway/ingest.hpp"
#include "kelvin/http/router.hpp"

namespace kelvin::gateway {

// Adds both device routes, telemetry and status. `ingest` and `certificates` must outlive the
// router's use (the gateway stops the HTTPS server before the ingest).
void add_telemetry_route(http::Router& router, Ingest& ingest, ClientRecords& certificates);

// The parts of the routes, for tests without a socket.
// The answer that refuses `request` before anything is decoded, or nullopt when it may post.
std::optional<http::Response> refuse_telemetry_poster(const http::Request& request);
http::Response telemetry_response(const TelemetryOutcome& outcome);
// The same for PUT status.
std::optional<http::Response> refuse_status_writer(const http::Request& request);
http::Response status_response(const StatusOutcome& outcome);

}  // namespace kelvin::gateway
