#include "kelvin/gateway/metrics_route.hpp"

#include <algorithm>

#include "kelvin/gateway/prometheus_text.hpp"
#include "kelvin/gateway/rate_limited_log.hpp"
#include "kelvin/log/log.hpp"
#include "kelvin/log/subject.hpp"
#include "route_checks.hpp"

namespace kelvin::gateway {
namespace {

// Compares in time that depends on the lengths only, so the answer's timing does not tell how
// much of a guess was right.
bool same_secret(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char differences = 0;
  for (std::size_t i = 0; i < a.size(); ++i) differences |= static_cast<unsigned char>(a[i] ^ b[i]);
  return differences == 0;
}

struct Shared {
  explicit Shared(MetricsSources s) : sources(std::move(s)) {}
  MetricsSources sources;
  std::atomic<std::uint64_t> auth_failures{0};
  RateLimitedLog refusals_log{std::chrono::seconds(60)};
};

}  // namespace

void add_metrics_route(http::Router& router, MetricsSources sources) {
  auto shared = std::make_shared<Shared>(std::move(sources));
  router.get("/metrics", [shared](http::Request request, http::Responder respond) {
    const MetricsSources& allowed = shared->sources;
    if (allowed.token.empty() && allowed.clients.empty()) {
      return respond(http::error_response(404, "metrics_disabled",
                                          "the gateway's metrics are not enabled: set [metrics] token_file or clients "
                                          "in gateway.toml"));
    }
    if (auto refused = refuse_parameters(request)) return respond(std::move(*refused));
    const auto header = request.header("Authorization");
    const std::string_view presented = header && header->starts_with("Bearer ") ? header->substr(7) : "";
    const bool listed_client =
        request.client_common_name &&
        std::find(allowed.clients.begin(), allowed.clients.end(), *request.client_common_name) != allowed.clients.end();
    const bool token_holder = !allowed.token.empty() && same_secret(presented, allowed.token);
    if (!listed_client && !token_holder) {
      const std::uint64_t failures = ++shared->auth_failures;
      if (shared->refusals_log.admit(request.peer_address, std::chrono::steady_clock::now())) {
        const log::Subjects about{{log::SubjectKey::client, request.peer_address}};
        log::component("https").warn(
            "a /metrics scrape from {} was refused: {}{} ({} refused in all)", request.peer_address,
            header ? "wrong scrape token" : "no scrape token",
            request.client_common_name ? ", and " + *request.client_common_name + " is not in [metrics] clients" : "",
            failures);
      }
      http::Response refused = http::error_response(401, "metrics_token_invalid",
                                                    "scraping the metrics takes the scrape token as a Bearer token, or "
                                                    "a service certificate in [metrics] clients");
      refused.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"kelvin metrics\"");
      return respond(std::move(refused));
    }
    answer_blocking(shared->sources.run_blocking, std::move(respond), [shared] {
      http::Response response;
      response.status = 200;
      response.content_type = std::string(kPrometheusContentType);
      response.body = shared->sources.text(shared->auth_failures.load());
      return response;
    });
  });
}

}  // namespace kelvin::gateway
