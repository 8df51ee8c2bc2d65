#include "gateway_metrics.hpp"

#include "kelvin/accounts/accounts.hpp"
#include "kelvin/gateway/prometheus_text.hpp"
#include "kelvin/pki/certificate_kind.hpp"
#include "kelvin/proto/telemetry_codec.hpp"

namespace kelvin::gateway {
namespace {

using Type = PrometheusText::Type;

double seconds(std::int64_t ms) {
  return static_cast<double>(ms) / 1000.0;
}

void ingest_metrics(const IngestCounters& c, PrometheusText& out) {
  out.counter("kelvin_mqtt_messages_total", "Telemetry and status messages the gateway took from the broker.",
              c.messages);
  out.counter("kelvin_readings_accepted_total", "Readings that passed validation.", c.readings_accepted);
  out.counter("kelvin_readings_stored_total", "Readings committed to the store as new rows.", c.readings_stored);
  out.counter("kelvin_readings_duplicate_total", "Resent readings that were stored already.", c.duplicates);
  out.counter("kelvin_readings_given_up_total",
              "Readings that never arrived, given up once their device no longer held them.", c.readings_given_up);
  out.family("kelvin_readings_rejected_total", Type::counter, "Readings rejected, by reason.");
  for (std::size_t i = 0; i < c.rejected.size(); ++i) {
    out.sample(c.rejected[i], {{"reason", std::string(proto::to_string(static_cast<proto::RejectReason>(i)))}});
  }
  out.counter("kelvin_store_commits_total", "Ingest batches committed to the store.", c.commits);
  out.counter("kelvin_store_commit_failures_total", "Ingest batches the store failed to commit (retried).",
              c.commit_failures);
  out.counter("kelvin_acks_published_total", "Acknowledgements published to devices.", c.acks_published);
  out.counter("kelvin_ack_failures_total", "Acknowledgements that could not be published.", c.ack_failures);
  out.counter("kelvin_device_statuses_total", "Device status messages recorded.", c.status_updates);
  out.counter("kelvin_device_statuses_rejected_total", "Device status messages rejected as malformed.",
              c.status_rejected);
  out.counter("kelvin_ingest_refused_full_total", "Messages refused because the store was behind.",
              c.refused_while_full);
  // Percentiles the ingest keeps over its recent window (latency_histogram.hpp), as gauges: they
  // are not a Prometheus summary (no sum or count), so no "quantile" label.
  out.gauge("kelvin_reading_commit_latency_p50_seconds",
            "Median time from a reading's timestamp to its commit, over the recent window.", seconds(c.latency_p50_ms));
  out.gauge("kelvin_reading_commit_latency_p99_seconds",
            "99th percentile of the time from a reading's timestamp to its commit, over the recent window.",
            seconds(c.latency_p99_ms));
  out.gauge("kelvin_store_commit_duration_p99_seconds",
            "99th percentile of how long one commit of the store took, over the recent window.",
            seconds(c.commit_duration_p99_ms));
}

void ingest_histograms(const IngestHistograms& h, PrometheusText& out) {
  out.histogram("kelvin_reading_commit_latency_seconds",
                "Time from a reading's timestamp to the commit of its batch, for every reading committed.",
                h.reading_commit_latency_s);
  out.histogram("kelvin_store_commit_duration_seconds", "How long each commit of the store took.", h.commit_duration_s);
  out.histogram("kelvin_ingest_batch_readings", "Readings per committed batch that held readings, duplicates included.",
                h.batch_readings);
}

void export_metrics(const ExporterStats& e, PrometheusText& out) {
  out.counter("kelvin_export_readings_total", "Readings InfluxDB accepted.", e.readings_exported);
  out.counter("kelvin_export_points_rejected_total", "Readings InfluxDB refused as bad data (skipped).",
              e.points_rejected);
  out.counter("kelvin_export_writes_total", "HTTP writes to InfluxDB attempted.", e.writes);
  out.counter("kelvin_export_write_failures_total", "Writes to InfluxDB that failed and are retried.",
              e.write_failures);
  out.gauge("kelvin_export_backlog_readings", "Readings stored but not yet exported.",
            static_cast<double>(e.backlog_readings));
  out.gauge("kelvin_export_lag_seconds", "How long the oldest unexported reading has waited.", e.lag_s);
}

void rollout_metrics(const RolloutEngineCounters& r, PrometheusText& out) {
  out.counter("kelvin_ota_reports_applied_total", "Device update reports applied to rollouts.", r.reports_applied);
  out.family("kelvin_ota_reports_ignored_total", Type::counter, "Device update reports not applied, by why.");
  out.sample(r.reports_refused, {{"why", "malformed"}});
  out.sample(r.reports_unmatched, {{"why", "unmatched"}});
  out.sample(r.reports_dropped, {{"why", "queue_full"}});
  out.counter("kelvin_ota_notices_published_total", "Update notices published to devices.", r.notices_published);
  out.family("kelvin_ota_rollouts", Type::gauge, "Active rollouts, by state.");
  for (store::RolloutState state :
       {store::RolloutState::running, store::RolloutState::paused, store::RolloutState::halted}) {
    out.sample(r.active_rollouts[static_cast<std::size_t>(state)], {{"state", std::string(store::to_string(state))}});
  }
  out.family("kelvin_ota_rollout_devices", Type::gauge, "The devices of active rollouts, by their update state.");
  for (std::size_t i = 0; i < r.active_rollout_devices.size(); ++i) {
    const auto state = static_cast<store::DeviceRolloutState>(i);
    out.sample(r.active_rollout_devices[i], {{"state", std::string(store::to_string(state))}});
  }
}

void alert_metrics(const AlertEngineCounters& a, PrometheusText& out) {
  out.family("kelvin_alerts_firing", Type::gauge, "Alerts firing now, by rule (every rule, 0 when none fires).");
  for (const auto& [rule, firing] : a.firing) out.sample(firing, {{"rule", rule}});
  out.counter("kelvin_alerts_fired_total", "Alerts that started firing.", a.fired);
  out.counter("kelvin_alerts_resolved_total", "Alerts resolved.", a.resolved);
  out.counter("kelvin_alert_database_failures_total",
              "Alert evaluations or transitions that failed on a database (retried at the next evaluation).",
              a.database_failures);
  out.counter("kelvin_alert_publish_failures_total",
              "Retained alert messages that could not be published to the broker (tried again).", a.publish_failures);
}

void certificate_metrics(const CertificateHealth& c, PrometheusText& out) {
  out.family("kelvin_certificate_earliest_expiry_timestamp_seconds", Type::gauge,
             "The earliest expiry among the installation's certificates in use, by kind, in seconds since 1970.");
  for (std::size_t i = 0; i < c.earliest_expiry.size(); ++i) {
    if (!c.earliest_expiry[i]) continue;
    out.sample(static_cast<double>(*c.earliest_expiry[i]),
               {{"kind", std::string(pki::to_string(static_cast<pki::CertificateKind>(i)))}});
  }
  if (c.crl_next_update) {
    out.gauge("kelvin_crl_next_update_timestamp_seconds",
              "When the certificate revocation list expires unless renewed, in seconds since 1970.",
              static_cast<double>(*c.crl_next_update));
  }
}

// Each route's answers by status class; the classes a route never answered are left out.
void route_metrics(const std::vector<http::Router::RouteUse>& routes, std::uint64_t unrouted, PrometheusText& out) {
  static constexpr const char* kClasses[] = {"", "1xx", "2xx", "3xx", "4xx", "5xx"};
  out.family("kelvin_http_requests_total", Type::counter,
             "HTTPS requests answered by a route, by method, route pattern and status class.");
  for (const auto& route : routes) {
    for (std::size_t i = 1; i < route.responses.size(); ++i) {
      if (route.responses[i] == 0) continue;
      out.sample(route.responses[i], {{"method", route.method}, {"route", route.pattern}, {"code", kClasses[i]}});
    }
  }
  out.counter("kelvin_http_requests_unrouted_total", "HTTPS requests no route took (404 or 405).", unrouted);
}

void http_metrics(const http::ServerCounters& h, const std::optional<LiveFeedCounters>& live,
                  std::uint64_t auth_failures, PrometheusText& out) {
  out.counter("kelvin_http_connections_total", "HTTPS connections taken on.", h.connections_accepted);
  out.counter("kelvin_http_connections_refused_total", "HTTPS connections closed at once: too many.",
              h.connections_refused);
  out.gauge("kelvin_http_connections", "HTTPS connections open now.", static_cast<double>(h.connections_active));
  out.counter("kelvin_http_tls_handshake_failures_total",
              "TLS handshakes that failed: no, a revoked or a foreign client certificate, or not TLS.",
              h.handshake_failures);
  out.counter("kelvin_http_timeouts_total", "HTTPS connections closed by a timeout.", h.timeouts);
  out.family("kelvin_http_responses_total", Type::counter, "HTTPS responses, by status class.");
  out.sample(h.responses_2xx, {{"code", "2xx"}});
  out.sample(h.responses_3xx, {{"code", "3xx"}});
  out.sample(h.responses_4xx, {{"code", "4xx"}});
  out.sample(h.responses_5xx, {{"code", "5xx"}});
  if (live) {
    out.gauge("kelvin_live_streams", "Live event streams open now.", static_cast<double>(live->subscribers));
  }
  out.counter("kelvin_metrics_scrapes_refused_total", "Scrapes of /metrics refused for a missing or wrong token.",
              auth_failures);
}

}  // namespace

std::string format_gateway_metrics(const GatewayMetricsSnapshot& s) {
  PrometheusText out;
  out.family("kelvin_build_info", Type::gauge, "The gateway's version, as a label; always 1.");
  out.sample(1.0, {{"version", KELVIN_VERSION}});
  out.gauge("kelvin_start_time_seconds", "When the gateway started, in seconds since 1970.", seconds(s.started_ms));
  out.gauge("kelvin_broker_up", "1 while the gateway is connected to the MQTT broker.", s.broker_connected ? 1 : 0);
  out.counter("kelvin_broker_restarts_total", "Restarts of the managed broker.", s.broker_restarts);
  out.counter("kelvin_broker_exits_total", "Exits of the managed broker nobody asked for (it is restarted).",
              s.broker_exits);
  out.counter("kelvin_broker_tls_refusals_total",
              "TLS handshakes the managed broker refused (no, a revoked or a foreign client certificate).",
              s.broker_tls_refusals);
  out.counter("kelvin_broker_acl_denials_total",
              "Publishes and deliveries the managed broker's ACL refused (a client outside its own topics).",
              s.broker_acl_denials);
  if (s.devices) {
    out.family("kelvin_devices", Type::gauge, "Devices the store knows, by their last status.");
    out.sample(s.devices->online, {{"status", "online"}});
    out.sample(s.devices->offline, {{"status", "offline"}});
    out.sample(s.devices->unreported, {{"status", "unreported"}});
  }
  out.gauge("kelvin_store_size_bytes", "The store's database file and its write-ahead log.",
            static_cast<double>(s.store_bytes));
  if (s.state_free_bytes) {
    out.gauge("kelvin_state_filesystem_free_bytes",
              "Bytes the gateway may still write on the filesystem of its state dir (the store, its databases).",
              static_cast<double>(*s.state_free_bytes));
  }
  certificate_metrics(s.certificates, out);
  ingest_metrics(s.ingest, out);
  ingest_histograms(s.ingest_histograms, out);
  if (s.export_stats) export_metrics(*s.export_stats, out);
  if (s.rollouts) rollout_metrics(*s.rollouts, out);
  if (s.alerts) alert_metrics(*s.alerts, out);
  if (s.webhooks) {
    out.family("kelvin_webhook_deliveries_total", Type::counter,
               "Alert notifications to webhooks: delivered, failed attempts, given up (dead), and left to "
               "another gateway of the share group, which notified the transition.");
    out.sample(s.webhooks->delivered, {{"result", "delivered"}});
    out.sample(s.webhooks->failed_attempts, {{"result", "failed_attempt"}});
    out.sample(s.webhooks->given_up, {{"result", "given_up"}});
    out.sample(s.webhooks->left_to_peer, {{"result", "left_to_peer"}});
    out.family("kelvin_webhook_queue", Type::gauge, "Alert notifications waiting for a webhook, and dead ones kept.");
    out.sample(s.webhooks->pending, {{"state", "pending"}});
    out.sample(s.webhooks->dead, {{"state", "dead"}});
  }
  if (s.http) {
    http_metrics(*s.http, s.live, s.metrics_auth_failures, out);
    out.family("kelvin_signins_total", Type::counter,
               "Sign-ins to the dashboard and API, by result: ok, or why they were refused.");
    out.sample(s.sign_ins_ok, {{"result", "ok"}});
    for (std::size_t i = 0; i < s.sign_ins_refused.size(); ++i) {
      out.sample(s.sign_ins_refused[i],
                 {{"result", std::string(accounts::to_string(static_cast<accounts::SignInRefusal>(i)))}});
    }
    route_metrics(s.routes, s.unrouted, out);
  }
  return out.text();
}

}  // namespace kelvin::gateway
