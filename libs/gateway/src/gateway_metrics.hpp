#pragma once
// The gateway's metrics (docs/metrics.md) as Prometheus text, from a snapshot of its counters: the
// same facts gateway-stats.json gives, named and typed by Prometheus's conventions.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "certificate_health.hpp"
#include "kelvin/gateway/alert_engine.hpp"
#include "kelvin/gateway/influx_exporter.hpp"
#include "kelvin/gateway/ingest.hpp"
#include "kelvin/gateway/live_feed.hpp"
#include "kelvin/gateway/rollout_engine.hpp"
#include "kelvin/gateway/webhook_sender.hpp"
#include "kelvin/http/router.hpp"
#include "kelvin/http/server.hpp"

namespace kelvin::gateway {

// The devices the store knows, by their last status.
struct DeviceStateCounts {
  std::uint64_t online = 0;
  std::uint64_t offline = 0;     // their last status was the last will, or "offline"
  std::uint64_t unreported = 0;  // no status yet (registered, or seen only through readings)
};

struct GatewayMetricsSnapshot {
  std::int64_t started_ms = 0;
  bool broker_connected = false;
  std::uint64_t broker_restarts = 0;
  std::uint64_t broker_exits = 0;         // of the managed broker, unasked
  std::uint64_t broker_tls_refusals = 0;  // handshakes the managed broker refused
  std::uint64_t broker_acl_denials = 0;   // publishes and deliveries its ACL refused (its kelvin plugin)
  IngestCounters ingest{};
  IngestHistograms ingest_histograms{};
  std::optional<ExporterStats> export_stats{};      // with [export.influxdb]
  std::optional<RolloutEngineCounters> rollouts{};  // with the HTTPS server
  std::optional<AlertEngineCounters> alerts{};
  std::optional<WebhookCounters> webhooks{};  // with [[alerts.webhook]]
  std::optional<http::ServerCounters> http{};
  std::optional<LiveFeedCounters> live{};
  std::uint64_t metrics_auth_failures = 0;
  std::optional<DeviceStateCounts> devices{};       // nullopt when the store could not be read
  std::uint64_t store_bytes = 0;                    // the store's database file and its write-ahead log
  std::optional<std::uint64_t> state_free_bytes{};  // free to the gateway on the state dir's filesystem
  CertificateHealth certificates{};
  std::uint64_t sign_ins_ok = 0;                    // people signed in
  std::array<std::uint64_t, 4> sign_ins_refused{};  // by accounts::SignInRefusal
  std::vector<http::Router::RouteUse> routes{};     // the HTTPS routes' answers
  std::uint64_t unrouted = 0;                       // requests no route took
};

std::string format_gateway_metrics(const GatewayMetricsSnapshot& snapshot);

}  // namespace kelvin::gateway
