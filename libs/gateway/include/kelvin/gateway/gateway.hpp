#pragma once
// kelvin-gateway's services wired together: the managed broker (or an external one), the MQTT
// client of the ingest, the ingest with its store, the InfluxDB exporter, and the statistics file.

#include <atomic>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "kelvin/accounts/accounts.hpp"
#include "kelvin/core/result.hpp"
#include "kelvin/gateway/account_routes.hpp"
#include "kelvin/gateway/alert_engine.hpp"
#include "kelvin/gateway/alert_rule_book.hpp"
#include "kelvin/gateway/alert_sharing.hpp"
#include "kelvin/gateway/blocking_work.hpp"
#include "kelvin/gateway/broker_supervisor.hpp"
#include "kelvin/gateway/client_records.hpp"
#include "kelvin/gateway/crl_renewer.hpp"
#include "kelvin/gateway/influx_exporter.hpp"
#include "kelvin/gateway/ingest.hpp"
#include "kelvin/gateway/live_feed.hpp"
#include "kelvin/gateway/notification_referee.hpp"
#include "kelvin/gateway/peer_sync.hpp"
#include "kelvin/gateway/rollout_engine.hpp"
#include "kelvin/gateway/session_guard.hpp"
#include "kelvin/gateway/shared_store.hpp"
#include "kelvin/gateway/state_layout.hpp"
#include "kelvin/gateway/webhook_sender.hpp"
#include "kelvin/http/router.hpp"
#include "kelvin/http/server.hpp"
#include "kelvin/mqtt/client.hpp"
#include "kelvin/store/store.hpp"

namespace kelvin::gateway {

enum class BrokerMode { managed, external };

// [export.influxdb]: where and how readings are exported (docs/influxdb.md).
struct InfluxExportSettings {
  influx::WriterOptions writer;  // credentials are loaded at start, never from the config file
  // A 0600 file with username=/password= lines; unset: KELVIN_INFLUX_USERNAME/PASSWORD, or none.
  std::optional<std::filesystem::path> credentials_file;
  ExporterOptions exporter;
};

// [http]: the HTTPS server (docs/gateway.md, "HTTPS server"). Its TLS files are the installation's
// server certificate and key, with client certificates checked against the CA and its CRL, all
// from pki_dir; `server`'s file fields are filled in at start.
struct HttpSettings {
  bool enabled = true;
  http::ServerOptions server;                            // bind 0.0.0.0, port 8443, the limits and timeouts
  accounts::AccountsOptions accounts;                    // session timeouts (accounts.db is in the state dir)
  LiveFeedOptions live;                                  // GET /api/v1/events: streams, their bounds
  std::uint64_t max_release_image_bytes = 256ull << 20;  // the largest image operators may upload
  // The web dashboard's files (web/dist), served at "/" (static_files.hpp); empty: none.
  std::filesystem::path web_root = "/usr/share/kelvin/web";
};

// Where "auto" looks for the broker plugin, from the directory of the gateway's program: an
// installation's /usr/bin and /usr/lib/kelvin, a build's bin/ and lib/kelvin.
inline constexpr const char* kDefaultAclPluginPath = "../lib/kelvin/kelvin-broker-acl.so";

struct GatewaySettings {
  std::filesystem::path state_dir = "/var/lib/kelvin";  // store, broker state, statistics
  std::filesystem::path pki_dir;                        // default: <state_dir>/pki
  BrokerMode broker_mode = BrokerMode::managed;
  // managed: where the broker listens; external: where the gateway connects.
  std::string broker_host = "localhost";  // must match the broker certificate (SAN)
  std::string bind_address = "0.0.0.0";
  int broker_port = 8883;
  std::string mosquitto_program = "mosquitto";
  // The broker plugin that counts ACL denials ([broker] acl_plugin): "auto" is
  // kDefaultAclPluginPath beside the gateway's program, and the broker runs without it (warned) when
  // it is not there; a path must exist; "" runs the broker without it.
  std::string acl_plugin = "auto";
  std::string service_identity = "svc-gateway";
  // The gateway's MQTT client identity; default: the service certificate in the PKI dir.
  std::optional<mqtt::TlsFiles> client_tls;
  IngestOptions ingest;
  store::StoreOptions store;
  std::chrono::milliseconds stats_interval{1000};
  // [log] level: the least severe log lines written ("trace", "debug", "info", "warn", "error");
  // kelvin-gateway's main applies it.
  std::string log_level = "info";
  // The CRL is renewed when it has less than two days left (crl_renewer.hpp); this passphrase
  // unlocks an encrypted CA key for that (kelvin-gateway takes it from KELVIN_CA_PASSPHRASE).
  std::optional<std::string> ca_passphrase;
  std::chrono::milliseconds crl_check_interval{3'600'000};
  std::optional<InfluxExportSettings> influx;  // unset: no export
  HttpSettings http;
  // GET /metrics answers a scraper presenting the token this file holds (0600; docs/metrics.md);
  // empty: metrics are not enabled.
  std::filesystem::path metrics_token_file;
  // GET /metrics also answers these services (svc-NAME) presenting their client certificate from
  // the installation's CA; empty: only the token opens it.
  std::vector<std::string> metrics_clients{};
  // Several gateways on one broker (docs/scaling.md). Non-empty: the ingest takes telemetry as a
  // member of the shared subscription $share/<share_group>/devices/+/telemetry (MQTT v5) and
  // synchronises what it consumed with the other members (peer_sync.hpp).
  std::string share_group;
  // managed only: the service identities of the other gateways that connect to this broker.
  std::vector<std::string> peer_gateways;
  AlertEngineOptions alerts{};  // [alerts] (docs/alerts.md): the rules and how often they are evaluated
  // managed only: services that may read the alerts' retained messages on alerts/# (the gateway
  // publishes them in either mode; with an external broker its ACL decides).
  std::vector<std::string> alert_readers{};
  WebhookSenderOptions webhooks{};  // [[alerts.webhook]]: none, no sender
};

class Gateway {
 public:
  explicit Gateway(GatewaySettings settings);
  ~Gateway();
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  // Opens the store, starts the broker (managed mode), the ingest and the MQTT client.
  Result<void> start();
  // Stops taking messages, commits what was received, stops the broker.
  void stop();

  IngestCounters counters() const;
  // The HTTPS server's bound port (with [http] port = 0 an ephemeral one); 0 when it is not running.
  std::uint16_t http_port() const;
  // The password of the "admin" user created at this start because no user existed (only its hash
  // is stored): kelvin-gateway prints it once. nullopt afterwards and when users existed.
  std::optional<std::string> take_first_admin_password();

 private:
  Result<void> start_broker();
  Result<void> start_client();
  Result<void> start_exporter();
  Result<void> start_peer_sync();
  Result<void> start_http();
  // The rollout engine (rollout_engine.hpp), created before the HTTPS routes that hand it devices'
  // reports and started once the MQTT client exists.
  Result<void> create_rollout_engine();
  // The alert engine (alert_engine.hpp), listening to the ingest's commits, and the webhook
  // sender: created before the ingest starts, started last (the engine's facts read the exporter).
  Result<void> create_alert_engine();
  // Free space for the state directory's files (metrics, alerts); nullopt when it cannot be asked.
  std::optional<std::uint64_t> state_free_bytes() const;
  // devices/{id}/ota/status goes to the rollout engine: true when `message` was one.
  bool take_ota_status(const mqtt::Message& message);
  // Housekeeping: a changed CRL or server certificate is loaded for new HTTPS connections (the
  // broker is restarted for it by its supervisor instead).
  void reload_http_tls_if_changed();
  // With a share group, telemetry that arrives while joining is held (up to kMaxHeldBytes of
  // topics and payloads) and handed to the ingest when the peers' state is known: hold_telemetry()
  // says whether it took the message, open_telemetry() releases what it holds, close_telemetry()
  // starts holding again.
  bool hold_telemetry(const mqtt::Message& message);
  void open_telemetry();
  void close_telemetry();
  // Telemetry is never retained (docs/protocol.md): a retained copy is dropped, counted, and
  // cleared from the broker so it cannot come back at the next subscription.
  bool drop_retained_telemetry(const mqtt::Message& message);
  void on_disconnected(int rc, std::string_view reason);
  // Managed broker: called at each connect; reports when the previous connection was closed by a
  // broker that kept running (Mosquitto 2.0 closes a session taken over without saying so).
  void check_previous_disconnect();
  // Every stats_interval: gateway-stats.json; every crl_check_interval: the CRL's expiry; every
  // 10 min: expired sessions; every hour: audit entries past their retention.
  void run_housekeeping();
  void check_crl();
  void apply_audit_retention();
  void write_stats() const;
  // The object of gateway-stats.json, from the services' counters now.
  std::string stats_json() const;
  // GET /metrics's text (gateway_metrics.hpp); `auth_failures` the route's refused scrapes.
  std::string metrics_text(std::uint64_t auth_failures) const;

  GatewaySettings settings_;
  // Before the services that report to it (the broker's log, the telemetry route) and the alert
  // engine that reads it: it outlives them all.
  ClientRecords client_records_;
  std::optional<store::Store> store_;
  std::unique_ptr<BrokerSupervisor> broker_;
  std::unique_ptr<Ingest> ingest_;
  std::unique_ptr<mqtt::Client> client_;
  std::unique_ptr<influx::Writer> influx_writer_;
  std::unique_ptr<InfluxExporter> exporter_;
  std::unique_ptr<PeerSync> peer_sync_;  // with a share_group only
  // Firmware rollouts: the engine, and its own store connection for the firmware devices report
  // (used on the engine's thread only).
  std::optional<store::Store> rollout_store_;
  std::unique_ptr<RolloutEngine> rollouts_;
  // The rules in effect (configured and added): the alert engine judges by them, the rule routes
  // change them. Outlives both.
  std::unique_ptr<AlertRuleBook> alert_rules_;
  SilenceBook silences_;
  std::unique_ptr<AlertSharing> alert_sharing_;  // with a share_group only; both books' shared listener
  // With a share_group only: which gateway notifies each transition; the engine and the webhook
  // sender call it.
  std::unique_ptr<NotificationReferee> notification_referee_;
  std::unique_ptr<AlertEngine> alerts_;
  std::unique_ptr<WebhookSender> webhooks_;       // with [[alerts.webhook]] only
  std::unique_ptr<accounts::Accounts> accounts_;  // with [http] enabled only
  std::unique_ptr<SessionGuard> session_guard_;
  std::unique_ptr<BlockingWork> blocking_work_;  // password checks and other slow route work
  // GET /api/v1/events (with [http] enabled only); destroyed after the ingest, whose listener it is.
  std::unique_ptr<LiveFeed> live_feed_;
  // The fleet's read routes (fleet_routes.hpp): a store connection of their own, and a thread of
  // their own, so a long series query never delays a sign-in, nor a burst of sign-ins the dashboard.
  std::unique_ptr<SharedStore> api_store_;
  std::unique_ptr<BlockingWork> api_reads_;
  std::unique_ptr<BlockingWork> release_reads_;  // devices' release lookups (release_routes.hpp)
  // What write_stats wrote last (housekeeping thread), for GET /api/v1/gateway/status. A leaf.
  SignInCounters sign_ins_;  // the HTTPS sign-ins' outcomes, for the metrics
  mutable std::mutex latest_stats_mutex_;
  mutable std::string latest_stats_;
  std::optional<std::string> first_admin_password_;
  http::Router api_routes_;                  // what the HTTPS server serves (api_routes.hpp)
  std::unique_ptr<http::Server> http_;       // with [http] enabled only
  std::string http_tls_fingerprint_;         // housekeeping thread only: the TLS files loaded
  std::string http_tls_failed_fingerprint_;  // housekeeping thread only: the last that did not load
  struct HeldMessage {
    std::string topic;
    std::string payload;
  };
  // Bounds the memory of a gateway that joins a busy share group (a Raspberry Pi has little).
  static constexpr std::size_t kMaxHeldBytes = 32 * 1024 * 1024;
  std::mutex held_mutex_;
  bool telemetry_open_ = false;
  std::vector<HeldMessage> held_;
  std::size_t held_bytes_ = 0;
  std::uint64_t held_dropped_ = 0;
  std::atomic<std::uint64_t> retained_telemetry_dropped_{0};
  std::atomic<std::uint64_t> subscriptions_refused_{0};
  std::atomic<std::uint64_t> session_takeovers_{0};
  std::atomic<std::uint64_t> closed_by_running_broker_{0};
  // Network thread only: whether the last connection ended unexpectedly, and the broker's restart
  // count when it was opened.
  bool lost_connection_ = false;
  int broker_restarts_at_connect_ = 0;
  RateLimitedLog connection_log_;
  std::atomic<bool> connected_{false};
  std::atomic<bool> stopping_{false};
  std::int64_t started_ms_ = 0;  // when start() began (Unix ms); set before any thread reads it
  std::thread housekeeping_;
};

}  // namespace kelvin::gateway
