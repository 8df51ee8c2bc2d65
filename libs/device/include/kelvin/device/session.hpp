#pragma once
// One device's MQTT conversation with the gateway (docs/protocol.md, docs/architecture.md "Delivery
// guarantee"), as a state machine with no clock, thread or socket of its own: the platform port
// owns the MQTT client and calls in with events and the time; the session answers by publishing
// through the Transport and by telling the port when to reconnect.
//
// Behaviour
// - On connect: publishes the online status (retained) first, then every pending reading from
//   acked+1 on, in batches (batch.hpp). Telemetry waits until the status went out.
// - Flow control: at most max_in_flight_readings readings are sent but unacknowledged; acks make
//   room and more is sent at once.
// - Resend: if readings are in flight and acked_seq has not advanced for resend_timeout_ms, the
//   send cursor rewinds to acked_seq and everything unacknowledged goes again (counted in
//   resends). Duplicates are harmless: the gateway stores idempotently.
// - Disconnect: the cursor rewinds to acked_seq, and reconnect_at_ms() = now + a backoff delay.
//   The backoff resets only when the connection had lasted stable_connection_ms.
// - Status: republished when dropped_total changed, at most once per status_min_interval_ms; at
//   once when readings dropped since the last status were never sent (its oldest_seq no longer
//   covers the gap they leave, and the gateway's ack would wait there); and at once when the
//   release check's verdict (set_release_check) differs from the one the last status carried.
// - A publish the transport refuses is retried from poll(); nothing is lost.
//
// Times are milliseconds from a monotonic clock (any epoch): a wall clock that jumps would delay
// or hasten resends. A time going backwards restarts the resend wait instead of firing it.
//
// The platform calls:
//   on_connected/on_disconnected  for connection events (on_disconnected also after a failed
//                                 connection attempt: it schedules the next one)
//   on_message                    for every message received; returns whether it was the ack
//   on_reading_added              after Outbox::add succeeded, to send without waiting for poll
//   poll                          regularly (e.g. every second) for timeouts and retries
// and subscribes to ack_topic() and registers last_will_json() with the broker at connect.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "kelvin/device/backoff.hpp"
#include "kelvin/device/batch.hpp"
#include "kelvin/device/outbox.hpp"
#include "kelvin/device/random.hpp"
#include "kelvin/device/transport.hpp"
#include "kelvin/proto/status.hpp"

namespace kelvin::device {

struct SessionConfig {
  std::string device_id;  // precondition: a valid device id (kelvin/core/identity.hpp)
  std::string fw_version;
  BatchLimits batch{};
  std::size_t max_in_flight_readings = 2000;  // treated as at least 1
  std::int64_t resend_timeout_ms = 30'000;
  std::int64_t status_min_interval_ms = 60'000;
  std::int64_t stable_connection_ms = 30'000;
  BackoffPolicy backoff{};
};

struct SessionCounters {
  std::uint64_t connects = 0;
  std::uint64_t disconnects = 0;  // including failed connection attempts
  std::uint64_t sent_batches = 0;
  std::uint64_t sent_readings = 0;  // resent readings count again
  std::uint64_t resends = 0;        // rewinds after resend_timeout_ms without ack progress
  std::uint64_t publish_refusals = 0;
  std::uint64_t status_published = 0;
  std::uint64_t acks_advanced = 0;
  std::uint64_t acks_duplicate = 0;
  std::uint64_t acks_bogus = 0;
  std::uint64_t acks_malformed = 0;
};

class Session {
 public:
  Session(SessionConfig config, Outbox& outbox, Transport& transport, RandomSource& random);

  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  void on_connected(std::int64_t now_ms);
  void on_disconnected(std::int64_t now_ms);
  bool on_message(std::string_view topic, std::string_view payload, std::int64_t now_ms);
  void on_reading_added(std::int64_t now_ms);
  void poll(std::int64_t now_ms);

  // The verdict of the device's latest check of the gateway's signed release timestamp
  // (docs/protocol.md, "Status": "current", "timestamp_expired", ...), carried by every status
  // from now on. When it differs from what the last published status carried, the status goes
  // again at the next pump (poll, a reading, an ack), without waiting for status_min_interval_ms:
  // a gateway withholding updates should show at once. Nothing is published from here. An empty
  // or invalid code (proto::is_valid_release_check) counts as not reported: the status leaves the
  // member out.
  void set_release_check(std::string_view code);
  const std::string& release_check() const { return release_check_; }

  bool connected() const { return connected_; }
  // When the port should try to connect next (0 before the first attempt: at once).
  std::int64_t reconnect_at_ms() const { return reconnect_at_ms_; }
  bool connect_due(std::int64_t now_ms) const { return !connected_ && now_ms >= reconnect_at_ms_; }

  // Highest seq sent on the current connection (acked_seq after a rewind).
  std::uint64_t sent_up_to() const { return sent_up_to_; }
  // Readings sent on this connection and not yet acknowledged.
  std::size_t in_flight() const;

  const SessionCounters& counters() const { return counters_; }
  const std::string& telemetry_topic() const { return telemetry_topic_; }
  const std::string& ack_topic() const { return ack_topic_; }
  const std::string& status_topic() const { return status_topic_; }
  static constexpr std::string_view last_will_json() { return proto::kOfflineStatusJson; }

 private:
  // Publishes what is due: the status, then telemetry while the window and the transport allow.
  void pump(std::int64_t now_ms);
  // False when the online status of this connection has not gone out yet (telemetry must wait).
  bool publish_status_if_due(std::int64_t now_ms);
  void rewind();

  SessionConfig config_;
  Outbox& outbox_;
  Transport& transport_;
  Backoff backoff_;
  std::string telemetry_topic_;
  std::string ack_topic_;
  std::string status_topic_;

  bool connected_ = false;
  std::int64_t connected_at_ms_ = 0;
  std::int64_t reconnect_at_ms_ = 0;
  std::uint64_t sent_up_to_ = 0;
  std::uint64_t highest_sent_ = 0;   // on any connection; never rewound
  std::int64_t progress_at_ms_ = 0;  // last ack progress, or when the window last became non-empty
  bool status_sent_ = false;         // on this connection
  std::int64_t status_at_ms_ = 0;
  std::uint64_t status_dropped_ = 0;     // dropped_total in the last published status
  std::uint64_t status_oldest_seq_ = 0;  // oldest_seq in the last published status
  std::string release_check_;            // the latest verdict; empty: not reported
  std::string status_release_check_;     // the verdict in the last published status
  SessionCounters counters_;
};

}  // namespace kelvin::device
