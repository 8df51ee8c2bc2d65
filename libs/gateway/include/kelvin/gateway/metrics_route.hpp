#pragma once
// GET /metrics: the gateway's own metrics in Prometheus's text format (docs/metrics.md), for a
// scraper that presents the installation's scrape token as "Authorization: Bearer <token>". Never
// open: with no token configured ([metrics] token_file) the route answers 404 metrics_disabled;
// a missing or wrong token is 401 (counted, and the failures are among the metrics).

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "kelvin/gateway/blocking_answer.hpp"
#include "kelvin/http/router.hpp"

namespace kelvin::gateway {

struct MetricsSources {
  BlockingExecutor run_blocking;  // where the text is made (it takes the gateway's locks briefly)
  std::string token;              // the scrape token; "" when only clients (or nobody) may scrape
  // Services whose verified client certificate (its CN) opens the metrics without the token.
  std::vector<std::string> clients{};
  // The metrics as Prometheus text; `auth_failures` is the route's count of refused scrapes.
  std::function<std::string(std::uint64_t auth_failures)> text;
};

void add_metrics_route(http::Router& router, MetricsSources sources);

}  // namespace kelvin::gateway
