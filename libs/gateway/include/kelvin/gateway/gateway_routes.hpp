#pragma once
// Every route kelvin-gateway's HTTPS server answers, added in one place: what Gateway::start_http
// serves, and what tests/unit/gateway/route_access_test.cpp walks with every kind of caller.

#include <filesystem>

#include "kelvin/accounts/accounts.hpp"
#include "kelvin/gateway/account_routes.hpp"
#include "kelvin/gateway/alert_routes.hpp"
#include "kelvin/gateway/blocking_answer.hpp"
#include "kelvin/gateway/client_records.hpp"
#include "kelvin/gateway/device_routes.hpp"
#include "kelvin/gateway/fleet_routes.hpp"
#include "kelvin/gateway/ingest.hpp"
#include "kelvin/gateway/live_feed.hpp"
#include "kelvin/gateway/metrics_route.hpp"
#include "kelvin/gateway/release_routes.hpp"
#include "kelvin/gateway/release_upload_routes.hpp"
#include "kelvin/gateway/rollout_routes.hpp"
#include "kelvin/gateway/session_guard.hpp"
#include "kelvin/http/router.hpp"

namespace kelvin::gateway {

// What the routes need; everything must outlive the router's use.
struct GatewayRouteServices {
  Ingest& ingest;                        // telemetry over HTTPS
  ClientRecords& client_records;         // the certificates devices post with
  accounts::Accounts& accounts;          // sign-in, users, audit
  const SessionGuard& guard;             // who may call the user routes
  BlockingExecutor password_checks;      // where Argon2id runs (a BlockingWork of its own)
  SignInCounters& sign_ins;              // how sign-ins ended, for the metrics
  FleetSources fleet;                    // the fleet's read routes
  DeviceActionSources device_actions;    // operators revoking and removing devices
  LiveFeed& live;                        // GET /api/v1/events
  ReleaseSources releases;               // firmware releases: the list, devices' downloads
  ReleaseUploadSources release_uploads;  // operators publishing releases over HTTPS
  RolloutSources rollouts;               // firmware rollouts: operators' and devices' routes
  AlertSources alerts;                   // the alerts: listing, acknowledging
  MetricsSources metrics;                // GET /metrics for a scraper with the token
  // The web dashboard's files, served for every GET no API route takes (static_files.hpp,
  // docs/dashboard.md); empty: none.
  std::filesystem::path web_root;
};

void add_gateway_routes(http::Router& router, GatewayRouteServices services);

}  // namespace kelvin::gateway
