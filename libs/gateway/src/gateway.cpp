#include "kelvin/gateway/gateway.hpp"

#include <pwd.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "certificate_health.hpp"
#include "gateway_metrics.hpp"
#include "kelvin/core/files.hpp"
#include "kelvin/core/thread_name.hpp"
#include "kelvin/gateway/gateway_routes.hpp"
#include "kelvin/log/log.hpp"
#include "kelvin/log/subject.hpp"
#include "kelvin/pki/certificate_authority.hpp"
#include "kelvin/pki/device_certificates.hpp"
#include "kelvin/proto/ack.hpp"
#include "kelvin/proto/gateway_messages.hpp"
#include "kelvin/proto/topics.hpp"
#include "update_facts.hpp"

namespace kelvin::gateway {
namespace {

// The broker must run as the account that owns the state dir, or it cannot read the server key.
Result<std::string> owner_name(const std::filesystem::path& dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return files::error_from_errno("cannot inspect", dir);
  if (passwd* pw = getpwuid(st.st_uid)) return std::string(pw->pw_name);
  return make_error(Errc::not_found, "the owner (uid " + std::to_string(st.st_uid) + ") of " + dir.string() +
                                         " has no account name; Mosquitto needs one to run as");
}

// The broker plugin to load ([broker] acl_plugin, GatewaySettings): "auto" finds it beside the
// gateway's program or warns and does without (ACL denials are then not counted); a configured
// path that is not a file is an error; "" is none.
Result<std::filesystem::path> acl_plugin_path(const std::string& setting) {
  if (setting.empty()) {
    log::component("broker").info("no broker ACL plugin ([broker] acl_plugin = \"\"): ACL denials are not counted");
    return std::filesystem::path();
  }
  std::error_code ec;
  if (setting != "auto") {
    if (std::filesystem::is_regular_file(setting, ec)) return std::filesystem::path(setting);
    return make_error(Errc::not_found, "[broker] acl_plugin " + setting + " is not a file");
  }
  const auto program = std::filesystem::read_symlink("/proc/self/exe", ec);
  const auto beside = (program.parent_path() / kDefaultAclPluginPath).lexically_normal();
  if (!ec && std::filesystem::is_regular_file(beside, ec)) return beside;
  log::component("broker").warn(
      "the broker ACL plugin is not at {}: ACL denials are not counted (set [broker] acl_plugin)", beside.string());
  return std::filesystem::path();
}

// Whether the CA in `pki_dir` holds a certificate `device_id` may connect with now. A CA that
// cannot be read answers no (and says why): the caller then errs on the side of a removed device.
bool device_may_connect(const std::filesystem::path& pki_dir, std::string_view device_id) {
  auto ca = pki::CertificateAuthority::open(pki_dir);
  if (!ca) {
    log::component("pki").warn("cannot read the certificate authority: {}", ca.error().message);
    return false;
  }
  auto current = pki::current_certificate(pki::device_certificates(ca->list(std::time(nullptr)), device_id));
  return current && pki::is_usable(*current);
}

// The "export" object of gateway-stats.json.
std::string export_stats_json(const ExporterStats& stats) {
  nlohmann::json json = {
      {"readings_exported", stats.readings_exported},
      {"points_rejected", stats.points_rejected},
      {"readings_expired", stats.readings_expired},
      {"statuses_exported", stats.statuses_exported},
      {"writes", stats.writes},
      {"write_failures", stats.write_failures},
      {"cursor", stats.cursor},
      {"backlog_readings", stats.backlog_readings},
      {"lag_s", stats.lag_s},
      {"retrying", stats.retrying},
      {"last_error", stats.last_error},
  };
  // A server's error text may hold anything; replacing bad UTF-8 keeps the file valid JSON.
  return json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// The "rollouts" object of gateway-stats.json.
std::string rollout_stats_json(const RolloutEngineCounters& c) {
  return nlohmann::json{{"reports_applied", c.reports_applied},     {"reports_refused", c.reports_refused},
                        {"reports_unmatched", c.reports_unmatched}, {"reports_dropped", c.reports_dropped},
                        {"notices_published", c.notices_published}, {"notices_cleared", c.notices_cleared},
                        {"publish_failures", c.publish_failures},   {"database_failures", c.database_failures}}
      .dump();
}

// The "http" object of gateway-stats.json.
std::string http_stats_json(std::uint16_t port, const http::ServerCounters& c, const LiveFeedCounters& live) {
  nlohmann::json json = {
      {"port", port},
      {"connections_accepted", c.connections_accepted},
      {"connections_refused", c.connections_refused},
      {"connections_refused_per_address", c.connections_refused_per_address},
      {"connections_active", c.connections_active},
      {"handshake_failures", c.handshake_failures},
      {"timeouts", c.timeouts},
      {"requests", c.requests},
      {"responses_2xx", c.responses_2xx},
      {"responses_3xx", c.responses_3xx},
      {"responses_4xx", c.responses_4xx},
      {"responses_5xx", c.responses_5xx},
      {"handler_exceptions", c.handler_exceptions},
      {"streams_opened", c.streams_opened},
      {"streams_active", c.streams_active},
      {"streams_overflowed", c.streams_overflowed},
      {"live",
       {{"subscribers", live.subscribers},
        {"subscriptions", live.subscriptions},
        {"subscriptions_refused", live.subscriptions_refused},
        {"events_sent", live.events_sent},
        {"readings_skipped", live.readings_skipped},
        {"streams_closed_signed_out", live.streams_closed_signed_out},
        {"streams_resumed", live.streams_resumed},
        {"readings_replayed", live.readings_replayed},
        {"replays_refused", live.replays_refused}}},
  };
  return json.dump();
}

// Changes when a file is replaced or rewritten (kelvinctl writes atomically: a new inode).
std::string file_fingerprint(const std::filesystem::path& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) return "missing";
  return std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec) + "/" +
         std::to_string(st.st_size) + "/" + std::to_string(st.st_ino);
}

std::string http_tls_fingerprint(const pki::PkiPaths& pki) {
  return file_fingerprint(pki.crl()) + "|" +
         file_fingerprint(pki.identity_certificate(pki::CertificateKind::server, "server")) + "|" +
         file_fingerprint(pki.identity_key(pki::CertificateKind::server, "server"));
}

}  // namespace

Gateway::Gateway(GatewaySettings settings) : settings_(std::move(settings)) {
  if (settings_.pki_dir.empty()) settings_.pki_dir = settings_.state_dir / "pki";
}

Gateway::~Gateway() {
  stop();
}

Result<void> Gateway::start() {
  started_ms_ = system_now_ms();
  if (auto r = files::ensure_private_dir(settings_.state_dir); !r) return r;
  auto store = store::Store::open(store_path(settings_.state_dir), settings_.store);
  if (!store) return std::move(store).error();
  store_.emplace(std::move(*store));
  if (settings_.broker_mode == BrokerMode::managed) {
    if (auto r = start_broker(); !r) return r;
  }
  ingest_ = std::make_unique<Ingest>(
      *store_,
      [this](std::string_view device_id, std::uint64_t seq) {
        if (!connected_.load()) return false;
        // QoS 0: an ack is cumulative and a lost one is repaired by the device's resend
        // (docs/protocol.md); QoS 1 would cost the broker two more packets per ack.
        return client_
            ->publish(proto::device_topic(device_id, proto::DeviceTopic::ack), proto::encode_ack(seq), 0, false)
            .ok();
      },
      settings_.ingest);
  ingest_->set_device_may_connect(
      [pki_dir = settings_.pki_dir](std::string_view device_id) { return device_may_connect(pki_dir, device_id); });
  if (!settings_.share_group.empty()) {
    if (auto r = start_peer_sync(); !r) return r;
  }
  if (settings_.http.enabled) {
    // Listens before the ingest starts (its listeners are fixed then); streams come with start_http.
    live_feed_ = std::make_unique<LiveFeed>(settings_.http.live);
    ingest_->add_commit_listener(
        [feed = live_feed_.get()](const store::IngestBatch& batch, const store::CommitSummary& summary) {
          feed->on_commit(batch, summary);
        });
    ingest_->add_status_listener(
        [feed = live_feed_.get()](std::string_view device_id, const store::DeviceStatus& status) {
          feed->on_status(device_id, status);
        });
  }
  if (auto r = create_alert_engine(); !r) return r;
  ingest_->start();
  if (auto r = create_rollout_engine(); !r) return r;
  if (settings_.influx) {
    if (auto r = start_exporter(); !r) return r;
  }
  if (settings_.http.enabled) {
    if (auto r = start_http(); !r) return r;
  }
  if (auto r = start_client(); !r) return r;
  if (auto r = rollouts_->start(); !r) return r;
  if (auto r = alerts_->start(); !r) return r;
  if (webhooks_) {
    if (auto r = webhooks_->start(); !r) return r;
  }
  housekeeping_ = core::named_thread("housekeeping", [this] { run_housekeeping(); });
  return {};
}

Result<void> Gateway::create_alert_engine() {
  // The rules operators added through the API join the configured ones before the first evaluation.
  alert_rules_ = std::make_unique<AlertRuleBook>(settings_.alerts.rules);
  {
    auto db = store::AlertDb::open(alerts_path(settings_.state_dir));
    if (!db) return make_error(db.error().code, "alerts: " + db.error().message);
    if (auto loaded = alert_rules_->load(*db); !loaded) {
      return make_error(loaded.error().code, "alerts: reading the added rules: " + loaded.error().message);
    }
  }
  AlertEngineOptions alert_options = settings_.alerts;
  alert_options.rules = alert_rules_->rules();
  AlertFactSources sources{
      .certificates = [pki_dir = settings_.pki_dir]() -> std::optional<std::vector<alerts::CertificateFacts>> {
        auto in_use = certificates_in_use(pki_dir);
        if (!in_use) {
          log::component("alerts").warn("cannot read the certificate index: {}", in_use.error().message);
          return std::nullopt;
        }
        std::vector<alerts::CertificateFacts> facts;
        for (const auto& certificate : *in_use) {
          alerts::CertificateFacts& out = facts.emplace_back(
              alerts::CertificateFacts{.name = certificate.common_name,
                                       .kind = std::string(pki::to_string(certificate.kind)),
                                       .not_after_ms = static_cast<std::int64_t>(certificate.not_after) * 1000,
                                       .serial = certificate.serial});
          for (const auto& earlier : certificate.earlier) {
            out.superseded.push_back(
                {.serial = earlier.serial, .not_after_ms = static_cast<std::int64_t>(earlier.not_after) * 1000});
          }
        }
        return facts;
      },
      // exporter_ is set before the engine starts and reset only after it stopped.
      .gateway =
          [this] {
            alerts::GatewayFacts facts;
            if (auto free_bytes = state_free_bytes()) facts.free_bytes = *free_bytes;
            if (exporter_) {
              const auto exported = exporter_->stats();
              facts.export_backlog = exported.backlog_readings;
              facts.export_lag_s = exported.lag_s;
            }
            if (auto next_update = read_crl_next_update(settings_.pki_dir)) {
              facts.crl_next_update_ms = static_cast<std::int64_t>(*next_update) * 1000;
            }
            return facts;
          },
      // http_ and ingest_ are set before the engine starts and reset only after it stopped.
      .event_counts =
          [this] {
            alerts::EventCounts counts{};
            const auto ingest = ingest_->counters();
            counts[static_cast<std::size_t>(alerts::GatewayEvent::rejected_readings)] =
                ingest.rejected_total + ingest.status_rejected;
            if (http_) {
              std::uint64_t refused = 0;
              for (const auto& count : sign_ins_.refused) refused += count.load();
              counts[static_cast<std::size_t>(alerts::GatewayEvent::failed_sign_ins)] = refused;
              counts[static_cast<std::size_t>(alerts::GatewayEvent::https_handshake_failures)] =
                  http_->counters().handshake_failures;
            }
            // broker_ (managed mode only) outlives the engine.
            if (broker_) {
              counts[static_cast<std::size_t>(alerts::GatewayEvent::broker_exits)] = broker_->exits();
              counts[static_cast<std::size_t>(alerts::GatewayEvent::mqtt_handshake_failures)] = broker_->tls_refusals();
              counts[static_cast<std::size_t>(alerts::GatewayEvent::acl_denials)] = broker_->acl_denials();
            }
            return counts;
          },
      .updates =
          [reader = std::make_shared<UpdateFactsReader>(rollouts_path(settings_.state_dir))] { return reader->read(); },
      .clients = [this] { return client_records_.snapshot(); },
  };
  alerts_ = std::make_unique<AlertEngine>(
      alerts_path(settings_.state_dir), store_path(settings_.state_dir), settings_.store, std::move(sources),
      // client_ is set before the engine starts: a publication waits for it to be connected.
      [this](const std::string& topic, const std::string& payload) {
        return connected_.load() && client_->publish(topic, payload, 1, true).ok();
      },
      std::move(alert_options));
  alert_rules_->on_change(
      [engine = alerts_.get()](std::vector<alerts::AlertRule> rules) { engine->use_rules(std::move(rules)); });
  if (peer_sync_) {
    // Only while connected, which client_ is set before; what is not published (the broker away) is
    // published again at the next connection (publish_all, the engine's republish).
    auto publish = [this](const std::string& topic, const std::string& payload, bool retain) {
      return connected_.load() && client_->publish(topic, payload, 1, retain).ok();
    };
    // The gateways of the share group judge the same added rules and keep the same silences
    // (alert_sharing.hpp).
    auto db = store::AlertDb::open(alerts_path(settings_.state_dir));
    if (!db) return make_error(db.error().code, "alerts: " + db.error().message);
    alert_sharing_ =
        std::make_unique<AlertSharing>(settings_.service_identity, *alert_rules_, silences_, std::move(*db), publish);
    // ... and one of them notifies each transition of the alerts they all raise
    // (notification_referee.hpp).
    NotificationRefereeOptions referee_options{.self = settings_.service_identity};
    for (const auto& webhook : settings_.webhooks.webhooks) referee_options.webhooks.push_back(webhook.name);
    notification_referee_ = std::make_unique<NotificationReferee>(std::move(referee_options), publish,
                                                                  [this] { return peer_sync_->online_peers(); });
    alerts_->share_states_with([referee = notification_referee_.get()](const store::AlertRecord& alert) {
      return referee->publish_state(alert);
    });
  }
  ingest_->add_commit_listener(
      [engine = alerts_.get()](const store::IngestBatch& batch, const store::CommitSummary& summary) {
        engine->on_commit(batch, summary);
      });
  // Created here, before the HTTPS server whose metrics read its counters, and started last.
  if (!settings_.webhooks.webhooks.empty()) {
    webhooks_ = std::make_unique<WebhookSender>(alerts_path(settings_.state_dir), settings_.webhooks);
    if (notification_referee_) {
      webhooks_->judge_with(
          [referee = notification_referee_.get()](const store::Delivery& delivery, std::int64_t now_ms) {
            return referee->judge(delivery, now_ms);
          });
    }
  }
  return {};
}

std::optional<std::uint64_t> Gateway::state_free_bytes() const {
  std::error_code error;
  const auto space = std::filesystem::space(settings_.state_dir, error);
  if (error) return std::nullopt;
  return space.available;
}

Result<void> Gateway::create_rollout_engine() {
  auto store = store::Store::open(store_path(settings_.state_dir), settings_.store);
  if (!store) return make_error(store.error().code, "rollouts: " + store.error().message);
  rollout_store_.emplace(std::move(*store));
  rollouts_ = std::make_unique<RolloutEngine>(
      rollouts_path(settings_.state_dir),
      [this](const std::string& topic, const std::string& payload) {
        return connected_.load() && client_->publish(topic, payload, 1, true).ok();
      },
      [this](std::string_view device) -> std::optional<std::string> {
        auto info = rollout_store_->device(device);
        if (!info || !*info || !(*info)->status || (*info)->status->firmware.empty()) return std::nullopt;
        return (*info)->status->firmware;
      },
      [this](std::string_view action, std::string_view target, std::string_view detail) {
        if (!accounts_) return;  // [http] disabled: no accounts database, the log has it
        if (auto written = accounts_->audit(accounts::Actor{"gateway", "local"}, action, target, "ok", detail);
            !written) {
          log::component("rollouts")
              .error("writing the audit entry {} {} failed: {}", action, target, written.error().message);
        }
      });
  return {};
}

bool Gateway::take_ota_status(const mqtt::Message& message) {
  auto parsed = proto::parse_device_topic(message.topic);
  if (!parsed || parsed->topic != proto::DeviceTopic::ota_status) return false;
  // An empty message is a retained one being deleted: nothing to report.
  if (!message.payload.empty()) rollouts_->submit_report(parsed->device_id, message.payload);
  return true;
}

Result<void> Gateway::start_broker() {
  pki::PkiPaths pki(settings_.pki_dir);
  auto user = owner_name(settings_.state_dir);
  if (!user) return std::move(user).error();
  auto plugin = acl_plugin_path(settings_.acl_plugin);
  if (!plugin) return std::move(plugin).error();
  SupervisorOptions options;
  options.mosquitto_program = settings_.mosquitto_program;
  BrokerSettings& broker = options.broker;
  broker.acl_plugin = *plugin;
  broker.bind_address = settings_.bind_address;
  broker.port = settings_.broker_port;
  broker.run_as_user = *user;
  broker.ca_file = pki.ca_certificate();
  broker.server_cert_file = pki.identity_certificate(pki::CertificateKind::server, "server");
  broker.server_key_file = pki.identity_key(pki::CertificateKind::server, "server");
  broker.crl_file = pki.crl();
  broker.state_dir = broker_state_path(settings_.state_dir);
  broker.gateway_identity = settings_.service_identity;
  broker.peer_gateway_identities = settings_.peer_gateways;
  broker.alert_readers = settings_.alert_readers;
  broker.max_packet_bytes =
      std::max<std::size_t>(broker.max_packet_bytes, settings_.ingest.limits.max_payload_bytes * 4);
  options.on_client_line = [this](const BrokerLine& line) {
    if (line.client_certificate) {
      client_records_.record_certificate(line.client_certificate->client_id, line.client_certificate->serial,
                                         system_now_ms());
    }
    if (line.acl_denials_client) client_records_.add_acl_denials(*line.acl_denials_client, line.acl_denials);
  };
  for (const auto& file : {broker.ca_file, broker.server_cert_file, broker.server_key_file, broker.crl_file}) {
    std::error_code ec;
    if (!std::filesystem::exists(file, ec)) {
      return make_error(Errc::not_found, file.string() + " is missing; create the PKI with `kelvinctl pki --dir " +
                                             settings_.pki_dir.string() + " init`");
    }
  }
  broker_ = std::make_unique<BrokerSupervisor>(std::move(options));
  return broker_->start();
}

Result<void> Gateway::start_http() {
  pki::PkiPaths pki(settings_.pki_dir);
  http::ServerOptions options = settings_.http.server;
  options.certificate_file = pki.identity_certificate(pki::CertificateKind::server, "server");
  options.private_key_file = pki.identity_key(pki::CertificateKind::server, "server");
  options.client_ca_file = pki.ca_certificate();
  options.client_crl_file = pki.crl();
  for (const auto& file :
       {options.certificate_file, options.private_key_file, options.client_ca_file, options.client_crl_file}) {
    std::error_code ec;
    if (!std::filesystem::exists(file, ec)) {
      return make_error(Errc::not_found, "HTTPS server: " + file.string() + " is missing; create the PKI with " +
                                             "`kelvinctl pki --dir " + settings_.pki_dir.string() +
                                             " init`, or set [http] enabled = false");
    }
  }
  options.log = [](http::LogLevel level, std::string_view message) {
    switch (level) {
      case http::LogLevel::info:
        log::component("https").info("{}", message);
        break;
      case http::LogLevel::warn:
        log::component("https").warn("{}", message);
        break;
      case http::LogLevel::error:
        log::component("https").error("{}", message);
        break;
    }
  };
  auto accounts = accounts::Accounts::open(accounts_path(settings_.state_dir), settings_.http.accounts);
  if (!accounts) return make_error(accounts.error().code, "accounts: " + accounts.error().message);
  accounts_ = std::move(*accounts);
  auto first_admin = accounts_->create_first_admin();
  if (!first_admin) return make_error(first_admin.error().code, "accounts: " + first_admin.error().message);
  first_admin_password_ = std::move(*first_admin);
  // A restart must not hand a password guesser fresh attempts.
  if (auto restored = accounts_->restore_sign_in_limits(); !restored) {
    return make_error(restored.error().code, "accounts: restoring sign-in limits: " + restored.error().message);
  } else if (*restored > 0) {
    log::component("accounts")
        .info("sign-in limits restored from the audit log: {} failed attempts in the last {} h", *restored,
              accounts::Accounts::kSignInMemoryMs / 3'600'000);
  }
  session_guard_ = std::make_unique<SessionGuard>(*accounts_);
  // Two threads: Argon2id holds 64 MiB per check, so at most two at once on a small gateway; a
  // short queue, so a flood of sign-ins is answered 503 busy instead of waiting for minutes.
  blocking_work_ = std::make_unique<BlockingWork>(2, 16, "password-checks");
  auto api_store = store::Store::open(store_path(settings_.state_dir), settings_.store);
  if (!api_store) return make_error(api_store.error().code, "HTTPS API: " + api_store.error().message);
  api_store_ = std::make_unique<SharedStore>(std::move(*api_store));
  // One thread: the API's reads take their one connection in turn anyway (shared_store.hpp).
  api_reads_ = std::make_unique<BlockingWork>(1, 32, "api-reads");
  // Devices' release lookups (a manifest or an image: the trusted key, the manifest and its signature
  // checked, the image's size) have a thread of their own, so a fleet fetching an update and the
  // dashboard's store queries never wait for each other. Its queue holds one lookup per connection:
  // a connection has at most one request in a handler, so a fleet downloading at once is queued,
  // never answered 503 busy (make bench-ota: with the 32 places of api_reads_, 500 devices starting
  // together got 400-600 busy answers a round), and what it can hold is bounded by max_connections.
  release_reads_ = std::make_unique<BlockingWork>(1, options.max_connections, "release-reads");

  std::string metrics_token;
  if (!settings_.metrics_token_file.empty()) {
    auto token = files::read_secret_file(settings_.metrics_token_file);
    if (!token) return make_error(token.error().code, "[metrics] token_file: " + token.error().message);
    if (token->size() < 32) {
      return make_error(Errc::invalid_argument, "[metrics] token_file: the scrape token in " +
                                                    settings_.metrics_token_file.string() +
                                                    " is shorter than 32 characters (openssl rand -hex 32 makes one)");
    }
    metrics_token = std::move(*token);
  }

  http_tls_fingerprint_ = http_tls_fingerprint(pki);
  auto post_to = [](BlockingWork& work) {
    return [&work](std::function<void()> job) { return work.post(std::move(job)); };
  };
  add_gateway_routes(
      api_routes_,
      GatewayRouteServices{
          .ingest = *ingest_,
          .client_records = client_records_,
          .accounts = *accounts_,
          .guard = *session_guard_,
          .password_checks = post_to(*blocking_work_),
          .sign_ins = sign_ins_,
          .fleet =
              FleetSources{
                  .run_blocking = post_to(*api_reads_),
                  .store = *api_store_,
                  .pki_dir = settings_.pki_dir,
                  .gateway_status =
                      [this] {
                        std::lock_guard lock(latest_stats_mutex_);
                        return latest_stats_;
                      },
                  .now_ms = system_now_ms,
              },
          .device_actions =
              DeviceActionSources{
                  .run_blocking = post_to(*api_reads_),
                  .pki_dir = settings_.pki_dir,
                  .ca_passphrase = settings_.ca_passphrase,
                  .open_store = [this] { return store::Store::open(store_path(settings_.state_dir), settings_.store); },
                  .accounts = *accounts_,
                  .now_ms = system_now_ms,
              },
          .live = *live_feed_,
          .releases =
              ReleaseSources{
                  .run_blocking = post_to(*release_reads_),
                  .state_dir = settings_.state_dir,
              },
          .release_uploads =
              ReleaseUploadSources{
                  .run_blocking = post_to(*blocking_work_),
                  .state_dir = settings_.state_dir,
                  .accounts = *accounts_,
                  .max_image_bytes = settings_.http.max_release_image_bytes,
              },
          .rollouts =
              RolloutSources{
                  .run_blocking = post_to(*api_reads_),
                  .state_dir = settings_.state_dir,
                  .store = *api_store_,
                  .accounts = *accounts_,
                  .engine = *rollouts_,
                  .now_ms = system_now_ms,
              },
          .alerts =
              AlertSources{
                  .run_blocking = post_to(*api_reads_),
                  .db_file = alerts_path(settings_.state_dir),
                  .accounts = *accounts_,
                  .now_ms = system_now_ms,
                  .rules = *alert_rules_,
                  .silences = silences_,
              },
          .metrics =
              MetricsSources{
                  .run_blocking = post_to(*api_reads_),
                  .token = std::move(metrics_token),
                  .clients = settings_.metrics_clients,
                  .text = [this](std::uint64_t auth_failures) { return metrics_text(auth_failures); },
              },
          .web_root = settings_.http.web_root,
      });
  // Streams' ids go on from the store's last position; resumed streams are replayed from the
  // API's connection (a short read on the feed's thread, at most max_replay_scan readings).
  auto last_position = api_store_->with([](store::Store& store) { return store.last_export_position(); });
  if (!last_position) return make_error(last_position.error().code, "live feed: " + last_position.error().message);
  live_feed_->start(*last_position, [store = api_store_.get()](std::uint64_t after, std::size_t max) {
    return store->with([&](store::Store& s) { return s.read_export_batch(after, max); });
  });
  options.admit_body = [this](const http::Request& head) { return api_routes_.admit_body(head); };
  // A refused client certificate (revoked, another CA's), plain HTTP, no common cipher: one line per
  // address and 10 s, so an address trying again and again cannot flood the log.
  options.handshake_failed = [this](const std::string& address, const std::string& reason) {
    if (auto suppressed = connection_log_.admit("https handshake " + address, std::chrono::steady_clock::now())) {
      const log::Subjects about{{log::SubjectKey::client, address}};
      log::component("https").warn(
          "TLS handshake from {} failed: {}{}", address, reason,
          *suppressed > 0 ? fmt::format(" ({} more from it not logged)", *suppressed) : std::string());
    }
  };
  auto server = http::Server::start(std::move(options), [this](http::Request request, http::Responder respond) {
    api_routes_.handle(std::move(request), std::move(respond));
  });
  if (!server) {
    return make_error(server.error().code, "HTTPS server: " + server.error().message + " (config: [http])");
  }
  http_ = std::move(*server);
  return {};
}

void Gateway::reload_http_tls_if_changed() {
  if (!http_) return;
  const std::string fingerprint = http_tls_fingerprint(pki::PkiPaths(settings_.pki_dir));
  if (fingerprint == http_tls_fingerprint_) return;
  // Remembered only once loaded: a certificate renewed a moment before its key (two files) fails
  // to load, and is tried again at the next round (logged once per state of the files).
  if (auto reloaded = http_->reload_tls(); !reloaded) {
    if (fingerprint != http_tls_failed_fingerprint_) {
      log::component("https").error(
          "the changed CRL or server certificate does not load; new connections keep the old: {}",
          reloaded.error().message);
      http_tls_failed_fingerprint_ = fingerprint;
    }
    return;
  }
  http_tls_fingerprint_ = fingerprint;
  log::component("https").info("loaded the changed CRL or server certificate for new connections");
}

Result<void> Gateway::start_client() {
  mqtt::ClientOptions options;
  options.client_id = settings_.service_identity;
  options.host = settings_.broker_host;
  options.port = settings_.broker_port;
  options.max_inflight = 1000;
  // Under a stream of messages the network thread handles a millisecond's worth per wake, not one
  // or two: waking costs more than a message. At most 1 ms on a reading's latency.
  options.min_wake_interval = std::chrono::milliseconds(1);
  // v5 for every gateway: the broker names a takeover of our session in its DISCONNECT, and
  // subscriptions can keep the retain flag of live publishes (retain as published).
  options.protocol = mqtt::ProtocolVersion::v5;
  if (peer_sync_) {
    // A member of a share group must leave it the moment it dies, or the broker would go on
    // queueing its share of every device's readings for it: a clean session does that. What it
    // had taken but not committed is resent by the devices (end-to-end acks).
    options.clean_session = true;
    options.will =
        mqtt::Will{proto::presence_topic(settings_.service_identity), proto::offline_presence_payload(), true};
  } else {
    options.clean_session = false;  // the broker queues readings while the gateway restarts
  }
  if (settings_.client_tls) {
    options.tls = *settings_.client_tls;
  } else {
    pki::PkiPaths pki(settings_.pki_dir);
    options.tls = {pki.ca_certificate(),
                   pki.identity_certificate(pki::CertificateKind::service, settings_.service_identity),
                   pki.identity_key(pki::CertificateKind::service, settings_.service_identity)};
  }
  mqtt::Callbacks callbacks;
  callbacks.on_connected = [this] {
    connected_.store(true);
    log::component("ingest").info("connected to broker {}:{}", settings_.broker_host, settings_.broker_port);
    check_previous_disconnect();
    // Telemetry keeps the retain flag it was published with, so a retained reading is recognised
    // also when it arrives live. Statuses and presences do not: for them "retained" has to mean
    // "replayed from before this subscription" (a purged device's status, a peer already there).
    auto subscribe = [this](std::string_view filter, bool telemetry) {
      if (auto r = client_->subscribe(filter, 1, mqtt::SubscribeOptions{.retain_as_published = telemetry}); !r) {
        log::component("ingest").error("{}", r.error().message);
      }
    };
    // Devices' update reports; and the notices are published again (retained: harmless).
    subscribe("devices/+/ota/status", false);
    rollouts_->republish();
    alerts_->republish();
    if (!peer_sync_) {
      subscribe(proto::kAllTelemetryFilter, true);
      subscribe("devices/+/status", false);
      return;
    }
    // Statuses reach every gateway; the share group's telemetry is subscribed at once (with no
    // member subscribed the broker would drop it), but held back until the peers' state is known
    // (peer_sync.hpp), so a reading another gateway already stored is recognised as one.
    close_telemetry();
    const std::string shared = "$share/" + settings_.share_group + "/" + std::string(proto::kAllTelemetryFilter);
    for (const std::string& filter :
         {std::string("devices/+/status"), proto::peer_presence_filter(), proto::peer_consumed_filter(),
          proto::peer_rules_filter(), proto::peer_silences_filter(), proto::peer_alert_states_filter()}) {
      subscribe(filter, false);
    }
    subscribe(shared, true);
    peer_sync_->on_connected(std::chrono::steady_clock::now());
    alert_sharing_->publish_all();
  };
  callbacks.on_refused = [](std::string_view reason) {
    log::component("ingest").error("broker refused connection: {}", reason);
  };
  callbacks.on_disconnected = [this](int rc, std::string_view reason) { on_disconnected(rc, reason); };
  callbacks.on_subscribe_refused = [this](std::string_view filter, int code) {
    ++subscriptions_refused_;
    log::component("ingest").error(
        "the broker refused the subscription to '{}' (reason code 0x{:02x}): nothing arrives from it while "
        "the gateway stays connected; allow identity {} to read it in the broker's ACL",
        filter, code, settings_.service_identity);
  };
  callbacks.on_message = [this](const mqtt::Message& message) {
    if (drop_retained_telemetry(message)) return;
    if (take_ota_status(message)) return;
    if (peer_sync_) {
      if (peer_sync_->handle_message(message.topic, message.payload, message.retain,
                                     std::chrono::steady_clock::now())) {
        return;
      }
      if (alert_sharing_->handle_message(message.topic, message.payload)) return;
      if (notification_referee_->handle_message(message.topic, message.payload)) return;
      if (hold_telemetry(message)) return;
    }
    ingest_->handle_message(message.topic, message.payload, message.retain);
  };
  callbacks.on_log = [](std::string_view line) { log::component("mqtt").warn("{}", line); };
  auto client = mqtt::Client::create(std::move(options), std::move(callbacks));
  if (!client) return std::move(client).error();
  client_ = std::move(*client);
  return client_->start_background();
}

Result<void> Gateway::start_peer_sync() {
  // Its own connection: summaries are read on the MQTT thread while the ingest commits.
  auto store = store::Store::open(store_path(settings_.state_dir), settings_.store);
  if (!store) return std::move(store).error();
  PeerSync::Options options;
  options.self = settings_.service_identity;
  peer_sync_ = std::make_unique<PeerSync>(
      options, std::move(*store),
      [this](const std::string& topic, const std::string& payload, bool retain) {
        return connected_.load() && client_->publish(topic, payload, 1, retain).ok();
      },
      [this](std::vector<store::ConsumedRange> ranges) { ingest_->add_consumed_elsewhere(std::move(ranges)); },
      [this] { open_telemetry(); });
  ingest_->add_commit_listener([this](const store::IngestBatch& batch, const store::CommitSummary& summary) {
    peer_sync_->after_commit(batch, summary);
  });
  log::component("ingest").info("sharing the devices' telemetry with the other gateways of group '{}'",
                                settings_.share_group);
  return {};
}

void Gateway::on_disconnected(int rc, std::string_view reason) {
  connected_.store(false);
  if (peer_sync_) peer_sync_->on_disconnected();
  if (stopping_.load() || rc == 0) return;
  lost_connection_ = true;
  if (rc == mqtt::kSessionTakenOver) {
    ++session_takeovers_;
    log::component("ingest").error(
        "another client connected with this gateway's identity {} and took over its session: its service "
        "key is in use elsewhere, which must never happen (the key must never leave this host); if it goes on, "
        "revoke the certificate and issue a new one; reconnecting",
        settings_.service_identity);
    return;
  }
  if (auto suppressed = connection_log_.admit("disconnect", std::chrono::steady_clock::now())) {
    log::component("ingest").warn("disconnected from broker ({}); reconnecting ({} similar suppressed)", reason,
                                  *suppressed);
  }
}

void Gateway::check_previous_disconnect() {
  if (!broker_) return;
  const int restarts = broker_->restarts();
  // By now (a reconnect takes a second at least) the supervisor has restarted a broker that died.
  if (lost_connection_ && restarts == broker_restarts_at_connect_) {
    ++closed_by_running_broker_;
    log::component("ingest").error(
        "the broker closed the gateway's connection while it kept running; that is what happens when another "
        "client connects with the gateway's identity {} and takes over its session. Its service key must never "
        "leave this host: if this repeats, revoke the certificate and issue a new one. (A gateway that stopped "
        "answering for longer than its keepalive is dropped the same way.)",
        settings_.service_identity);
  }
  lost_connection_ = false;
  broker_restarts_at_connect_ = restarts;
}

bool Gateway::drop_retained_telemetry(const mqtt::Message& message) {
  if (!message.retain) return false;
  auto parsed = proto::parse_device_topic(message.topic);
  if (!parsed || parsed->topic != proto::DeviceTopic::telemetry) return false;
  // An empty retained message is the broker passing on a deletion (ours): nothing to count.
  if (message.payload.empty()) return true;
  ++retained_telemetry_dropped_;
  const log::Subjects about{{log::SubjectKey::device, parsed->device_id}};
  log::component("ingest").warn(
      "dropped a retained telemetry message of {} (telemetry is never retained; the device must "
      "publish it without the retain flag) and cleared it from the broker",
      parsed->device_id);
  if (auto r = client_->publish(message.topic, "", 1, true); !r) {
    log::component("ingest").error("cannot clear the retained telemetry of {}: {}", parsed->device_id,
                                   r.error().message);
  }
  return true;
}

bool Gateway::hold_telemetry(const mqtt::Message& message) {
  std::lock_guard lock(held_mutex_);
  if (telemetry_open_) return false;
  auto parsed = proto::parse_device_topic(message.topic);
  if (!parsed || parsed->topic != proto::DeviceTopic::telemetry) return false;
  const std::size_t bytes = message.topic.size() + message.payload.size();
  if (held_bytes_ + bytes <= kMaxHeldBytes) {
    held_.push_back({std::string(message.topic), std::string(message.payload)});
    held_bytes_ += bytes;
  } else {
    // Acknowledged to the broker but never stored: the device resends it (end-to-end ack).
    ++held_dropped_;
  }
  return true;
}

void Gateway::open_telemetry() {
  std::lock_guard lock(held_mutex_);
  if (telemetry_open_) return;
  // In arrival order, and before any later message (on_message waits for the lock).
  for (const auto& held : held_) ingest_->handle_message(held.topic, held.payload, false);
  if (held_dropped_ > 0) {
    log::component("ingest").warn(
        "{} telemetry messages arrived while joining the other gateways and were dropped; the "
        "devices resend them",
        held_dropped_);
  }
  held_.clear();
  held_bytes_ = 0;
  held_dropped_ = 0;
  telemetry_open_ = true;
}

void Gateway::close_telemetry() {
  std::lock_guard lock(held_mutex_);
  telemetry_open_ = false;
}

Result<void> Gateway::start_exporter() {
  InfluxExportSettings& influx = *settings_.influx;
  auto credentials = influx::load_credentials(influx.credentials_file);
  if (!credentials) return std::move(credentials).error();
  influx.writer.credentials = std::move(*credentials);
  auto writer = influx::Writer::create(influx.writer);
  if (!writer) return std::move(writer).error();
  influx_writer_ = std::move(*writer);
  // Connections of its own (opened by start()): the exporter reads while the ingest commits (WAL
  // lets both proceed).
  exporter_ = std::make_unique<InfluxExporter>(
      store_path(settings_.state_dir), settings_.store,
      [writer = influx_writer_.get()](std::string_view lines) { return writer->write(lines); }, influx.exporter,
      system_now_ms);
  if (auto r = exporter_->start(); !r) return r;
  log::component("export").info("exporting readings to {} (database {})", influx_writer_->endpoint_for_logs(),
                                influx.writer.database);
  return {};
}

void Gateway::stop() {
  if (stopping_.exchange(true)) return;
  if (housekeeping_.joinable()) housekeeping_.join();
  // No new requests while the services behind them stop; requests in flight are answered first.
  if (http_) http_->stop();
  if (live_feed_) live_feed_->stop();
  if (blocking_work_) blocking_work_->stop();
  if (api_reads_) api_reads_->stop();
  if (release_reads_) release_reads_->stop();
  // After the routes that hand it reports; before the client its notices go through.
  if (rollouts_) rollouts_->stop();
  if (webhooks_) webhooks_->stop();
  if (alerts_) alerts_->stop();
  // A clean disconnect does not publish the last will: say "offline" ourselves, or the retained
  // presence would go on telling joining gateways to wait for this one.
  if (peer_sync_ && client_ && connected_.load()) {
    (void)client_->publish(proto::presence_topic(settings_.service_identity), proto::offline_presence_payload(), 1,
                           true);
  }
  // The ingest first stops taking messages, which also frees a network thread waiting for room
  // (commits failing on a full disk would otherwise hold it, and this join, for ever); it commits
  // and acknowledges what it took while the client is still connected, and only then does the
  // client disconnect.
  if (ingest_) ingest_->stop();
  if (client_) client_->stop_background();
  if (exporter_) exporter_->stop();
  if (broker_) broker_->stop();
  if (ingest_) write_stats();
}

IngestCounters Gateway::counters() const {
  return ingest_ ? ingest_->counters() : IngestCounters{};
}

std::uint16_t Gateway::http_port() const {
  return http_ ? http_->port() : 0;
}

std::optional<std::string> Gateway::take_first_admin_password() {
  return std::exchange(first_admin_password_, std::nullopt);
}

void Gateway::run_housekeeping() {
  using Clock = std::chrono::steady_clock;
  auto next_crl_check = Clock::now();
  auto next_session_sweep = Clock::now();
  auto next_audit_retention = Clock::now();
  while (!stopping_.load()) {
    write_stats();
    reload_http_tls_if_changed();
    // Timed-out sessions are refused anyway; removing them keeps accounts.db small.
    if (accounts_ && Clock::now() >= next_session_sweep) {
      if (auto swept = accounts_->remove_expired_sessions(); !swept) {
        log::component("accounts").error("cannot remove expired sessions: {}", swept.error().message);
      }
      next_session_sweep = Clock::now() + std::chrono::minutes(10);
    }
    if (accounts_ && Clock::now() >= next_audit_retention) {
      apply_audit_retention();
      next_audit_retention = Clock::now() + std::chrono::hours(1);
    }
    // The CRL belongs to the managed broker; an external broker's operator keeps their own.
    if (settings_.broker_mode == BrokerMode::managed && Clock::now() >= next_crl_check) {
      check_crl();
      next_crl_check = Clock::now() + settings_.crl_check_interval;
    }
    auto until = Clock::now() + settings_.stats_interval;
    while (!stopping_.load() && Clock::now() < until) {
      if (peer_sync_) peer_sync_->poll(Clock::now());
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
}

void Gateway::apply_audit_retention() {
  auto removed = accounts_->apply_audit_retention(accounts::Actor{"gateway", "local"});
  if (!removed) {
    log::component("accounts").error("cannot remove audit entries past their retention: {}", removed.error().message);
  } else if (*removed > 0) {
    log::component("accounts")
        .info("removed {} audit entries older than {} days", *removed, settings_.http.accounts.audit_retention_days);
  }
}

// A renewed CRL changes crl.pem, so the broker supervisor restarts Mosquitto to load it.
void Gateway::check_crl() {
  CrlRenewer renewer(settings_.pki_dir, settings_.ca_passphrase);
  auto checked = renewer.check(std::time(nullptr));
  if (!checked) {
    log::component("pki").error("{}", checked.error().message);
  } else if (*checked == CrlCheck::renewed) {
    log::component("pki").info("CRL renewed for another {} days", pki::kCrlValidityDays);
  }
}

// gateway-stats.json: the ingest counters, rewritten atomically every stats_interval; read by
// `kelvinctl status`, the tests and the ingest benchmark, and answered by GET /api/v1/gateway/status.
void Gateway::write_stats() const {
  const std::string json = stats_json();
  {
    std::lock_guard lock(latest_stats_mutex_);
    latest_stats_ = json;
  }
  if (auto r = files::write_file_atomic(stats_path(settings_.state_dir), json + "\n", 0600); !r) {
    log::component("stats").warn("cannot write statistics: {}", r.error().message);
  }
}

std::string Gateway::stats_json() const {
  IngestCounters c = ingest_->counters();
  std::string json = "{\"time_ms\":" + std::to_string(system_now_ms());
  auto field = [&json](std::string_view name, auto value) {
    json += ",\"";
    json += name;
    json += "\":" + std::to_string(value);
  };
  json += ",\"version\":\"" KELVIN_VERSION "\"";  // digits and dots: nothing to escape
  field("started_ms", started_ms_);
  field("connected", connected_.load() ? 1 : 0);
  field("broker_restarts", broker_ ? broker_->restarts() : 0);
  field("broker_pid", broker_ ? broker_->broker_pid().value_or(0) : 0);
  field("messages", c.messages);
  field("readings_accepted", c.readings_accepted);
  field("readings_stored", c.readings_stored);
  field("duplicates", c.duplicates);
  field("readings_given_up", c.readings_given_up);
  field("rejected_total", c.rejected_total);
  field("commits", c.commits);
  field("dense_batches", c.dense_batches);
  field("commit_failures", c.commit_failures);
  field("acks_published", c.acks_published);
  field("ack_failures", c.ack_failures);
  field("status_updates", c.status_updates);
  field("status_rejected", c.status_rejected);
  field("status_ignored", c.status_ignored);
  field("ignored_topics", c.ignored_topics);
  field("refused_while_stopping", c.refused_while_stopping);
  field("refused_while_full", c.refused_while_full);
  field("peer_ranges", c.peer_ranges);
  field("readings_withdrawn", c.readings_withdrawn);
  field("duplicates_kept", c.duplicates_kept);
  field("latency_p50_ms", c.latency_p50_ms);
  field("latency_p99_ms", c.latency_p99_ms);
  field("arrival_latency_p50_ms", c.arrival_latency_p50_ms);
  field("arrival_latency_p99_ms", c.arrival_latency_p99_ms);
  field("commit_duration_p50_ms", c.commit_duration_p50_ms);
  field("commit_duration_p99_ms", c.commit_duration_p99_ms);
  field("retained_telemetry_dropped", retained_telemetry_dropped_.load());
  field("subscriptions_refused", subscriptions_refused_.load());
  field("session_takeovers", session_takeovers_.load());
  field("closed_by_running_broker", closed_by_running_broker_.load());
  field("mqtt_callback_failures", client_ ? client_->callback_failures() : 0);
  field("client_reports_not_kept", client_records_.not_kept());
  json += ",\"rejected\":{";
  for (std::size_t i = 0; i < c.rejected.size(); ++i) {
    if (i > 0) json += ',';
    json += "\"" + std::string(proto::to_string(static_cast<proto::RejectReason>(i))) +
            "\":" + std::to_string(c.rejected[i]);
  }
  json += "}";
  if (exporter_) json += ",\"export\":" + export_stats_json(exporter_->stats());
  if (rollouts_) json += ",\"rollouts\":" + rollout_stats_json(rollouts_->counters());
  if (alerts_) {
    const AlertEngineCounters a = alerts_->counters();
    std::uint64_t firing = 0;
    for (const auto& [rule, count] : a.firing) firing += count;
    json += ",\"alerts\":{\"evaluations\":" + std::to_string(a.evaluations) + ",\"firing\":" + std::to_string(firing) +
            ",\"fired\":" + std::to_string(a.fired) + ",\"resolved\":" + std::to_string(a.resolved) +
            ",\"database_failures\":" + std::to_string(a.database_failures) + "}";
  }
  if (http_) json += ",\"http\":" + http_stats_json(http_->port(), http_->counters(), live_feed_->counters());
  if (peer_sync_) {
    const PeerSyncCounters p = peer_sync_->counters();
    json += ",\"peers\":{\"ready\":" + std::string(peer_sync_->ready() ? "true" : "false") +
            ",\"online\":" + std::to_string(p.peers_online) + ",\"notices_sent\":" + std::to_string(p.notices_sent) +
            ",\"notices_received\":" + std::to_string(p.notices_received) +
            ",\"notices_rejected\":" + std::to_string(p.notices_rejected) +
            ",\"presence_rejected\":" + std::to_string(p.presence_rejected) +
            ",\"summaries_sent\":" + std::to_string(p.summaries_sent) +
            ",\"publish_failures\":" + std::to_string(p.publish_failures) + "}";
  }
  if (alert_sharing_) {
    const AlertSharingCounters shared = alert_sharing_->counters();
    auto counters_json = [](const SharingCounters& kind) {
      return "{\"published\":" + std::to_string(kind.versions_published) +
             ",\"received\":" + std::to_string(kind.versions_received) +
             ",\"taken\":" + std::to_string(kind.versions_taken) +
             ",\"rejected\":" + std::to_string(kind.versions_rejected) +
             ",\"publish_failures\":" + std::to_string(kind.publish_failures) + "}";
    };
    json +=
        ",\"shared_rules\":" + counters_json(shared.rules) + ",\"shared_silences\":" + counters_json(shared.silences);
  }
  if (notification_referee_) {
    const RefereeCounters r = notification_referee_->counters();
    json += ",\"shared_alert_states\":{\"published\":" + std::to_string(r.states_published) +
            ",\"received\":" + std::to_string(r.states_received) +
            ",\"rejected\":" + std::to_string(r.states_rejected) +
            ",\"publish_failures\":" + std::to_string(r.publish_failures) + "}";
  }
  json += "}";
  return json;
}

std::string Gateway::metrics_text(std::uint64_t auth_failures) const {
  GatewayMetricsSnapshot snapshot{
      .started_ms = started_ms_,
      .broker_connected = connected_.load(),
      .broker_restarts = broker_ ? static_cast<std::uint64_t>(broker_->restarts()) : 0,
      .broker_exits = broker_ ? broker_->exits() : 0,
      .broker_tls_refusals = broker_ ? broker_->tls_refusals() : 0,
      .broker_acl_denials = broker_ ? broker_->acl_denials() : 0,
      .ingest = ingest_->counters(),
      .ingest_histograms = ingest_->histograms(),
      .metrics_auth_failures = auth_failures,
  };
  snapshot.sign_ins_ok = sign_ins_.signed_in.load();
  for (std::size_t i = 0; i < sign_ins_.refused.size(); ++i) snapshot.sign_ins_refused[i] = sign_ins_.refused[i].load();
  if (exporter_) snapshot.export_stats = exporter_->stats();
  if (rollouts_) snapshot.rollouts = rollouts_->counters();
  if (alerts_) snapshot.alerts = alerts_->counters();
  if (webhooks_) snapshot.webhooks = webhooks_->counters();
  if (http_) snapshot.http = http_->counters();
  if (live_feed_) snapshot.live = live_feed_->counters();
  snapshot.routes = api_routes_.route_uses();
  snapshot.unrouted = api_routes_.unrouted();
  snapshot.devices = api_store_->with([](store::Store& store) -> std::optional<DeviceStateCounts> {
    auto by_state = store.count_devices_by_status();
    if (!by_state) {
      log::component("metrics").warn("cannot count the devices: {}", by_state.error().message);
      return std::nullopt;
    }
    DeviceStateCounts counts;
    for (const auto& [state, devices] : *by_state) {
      (state.empty() ? counts.unreported : state == "online" ? counts.online : counts.offline) += devices;
    }
    return counts;
  });
  if (auto free_bytes = state_free_bytes()) snapshot.state_free_bytes = *free_bytes;
  snapshot.certificates = read_certificate_health(settings_.pki_dir);
  const std::filesystem::path store_file = store_path(settings_.state_dir);
  for (const auto& file : {store_file, std::filesystem::path(store_file.string() + "-wal")}) {
    std::error_code ignored;
    const auto size = std::filesystem::file_size(file, ignored);
    if (!ignored) snapshot.store_bytes += size;
  }
  return format_gateway_metrics(snapshot);
}

}  // namespace kelvin::gateway
