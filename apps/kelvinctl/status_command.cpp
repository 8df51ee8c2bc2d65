#include "status_command.hpp"

#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include "failure.hpp"
#include "gateway_stats.hpp"
#include "kelvin/core/time_arguments.hpp"
#include "kelvin/proto/telemetry_codec.hpp"
#include "state_options.hpp"

namespace kelvin::ctl {
namespace {

// "0.4 s", "53 s", "12 min", "5 h", "3 d": how long ago, as precisely as matters.
std::string format_age(std::int64_t ms) {
  if (ms < 0) ms = 0;
  char text[32];
  if (ms < 10'000) {
    std::snprintf(text, sizeof text, "%.1f s", static_cast<double>(ms) / 1000.0);
  } else if (ms < 120'000) {
    std::snprintf(text, sizeof text, "%lld s", static_cast<long long>(ms / 1000));
  } else if (ms < 7'200'000) {
    std::snprintf(text, sizeof text, "%lld min", static_cast<long long>(ms / 60'000));
  } else if (ms < 172'800'000) {
    std::snprintf(text, sizeof text, "%lld h", static_cast<long long>(ms / 3'600'000));
  } else {
    std::snprintf(text, sizeof text, "%lld d", static_cast<long long>(ms / 86'400'000));
  }
  return text;
}

// "2: out_of_range 1, malformed_json 1" in the protocol's order of reasons; "0" when none.
std::string rejections(const GatewayStats& stats) {
  std::string by_reason;
  const auto& rejected = stats.counters.contains("rejected") ? stats.counters["rejected"] : nlohmann::json::object();
  for (std::size_t i = 0; i < proto::kRejectReasonCount; ++i) {
    const std::string reason(proto::to_string(static_cast<proto::RejectReason>(i)));
    auto count = rejected.find(reason);
    if (count == rejected.end() || !count->is_number_unsigned() || count->get<std::uint64_t>() == 0) continue;
    by_reason += (by_reason.empty() ? ": " : ", ") + reason + " " + std::to_string(count->get<std::uint64_t>());
  }
  return std::to_string(stats.count("rejected_total")) + by_reason;
}

// The exporter's lines, when the gateway exports (gateway-stats.json "export").
void print_export(const nlohmann::json& exported) {
  auto number = [&exported](const char* name) {
    auto found = exported.find(name);
    return found != exported.end() && found->is_number_unsigned() ? found->get<std::uint64_t>() : 0;
  };
  const double lag_s = exported.value("lag_s", 0.0);
  std::cout << "  InfluxDB export    " << (exported.value("retrying", false) ? "RETRYING" : "ok") << ", "
            << number("backlog_readings") << " readings waiting, lag "
            << format_age(static_cast<std::int64_t>(lag_s * 1000.0)) << "\n"
            << "  exported           " << number("readings_exported") << " readings, " << number("statuses_exported")
            << " statuses\n"
            << "  not exported       " << number("points_rejected") << " refused by InfluxDB, "
            << number("readings_expired") << " deleted by retention first\n"
            << "  export writes      " << number("writes") << " (" << number("write_failures") << " failed)\n";
  const std::string last_error = exported.value("last_error", std::string());
  if (!last_error.empty()) std::cout << "  export error       " << last_error << "\n";
}

int run_status(const StateOptions& options) {
  const auto file = options.stats_file();
  auto stats = read_gateway_stats(file);
  if (!stats) return report_failure(stats.error(), options.state_dir);
  const std::int64_t age_ms = wall_clock_ms() - stats->written_ms;
  const auto& s = *stats;
  auto failed = [&s](const char* name) { return " (" + std::to_string(s.count(name)) + " failed)"; };

  std::cout << "kelvin-gateway statistics from " << file.string() << ", written " << format_age(age_ms) << " ago\n";
  if (age_ms > kStaleStatsMs) {
    std::cout << "warning: kelvin-gateway seems not to be running (it rewrites this file every second); "
                 "these are its last numbers\n";
  }
  if (const auto version = s.counters.find("version"); version != s.counters.end() && version->is_string()) {
    std::cout << "  gateway            kelvin-gateway " << version->get<std::string>() << ", up "
              << format_age(stats->written_ms - s.integer("started_ms")) << "\n";
  }
  std::cout << "  broker connection  " << (s.count("connected") == 1 ? "connected" : "NOT connected") << "\n"
            << "  broker restarts    " << s.count("broker_restarts") << "\n"
            << "  readings stored    " << s.count("readings_stored") << "\n"
            << "  duplicates         " << s.count("duplicates") << " (resent readings stored before)\n"
            << "  given up           " << s.count("readings_given_up") << " (dropped by full device outboxes)\n"
            << "  rejected           " << rejections(s) << "\n"
            << "  commits            " << s.count("commits") << failed("commit_failures") << "\n"
            << "  acks published     " << s.count("acks_published") << failed("ack_failures") << "\n"
            << "  status updates     " << s.count("status_updates") << " (" << s.count("status_rejected")
            << " rejected)\n"
            << "  latency            p50 " << s.integer("latency_p50_ms") << " ms, p99 " << s.integer("latency_p99_ms")
            << " ms (reading taken to stored, recent readings)\n";
  if (auto exported = s.counters.find("export"); exported != s.counters.end() && exported->is_object()) {
    print_export(*exported);
  } else {
    std::cout << "  InfluxDB export    not configured\n";
  }
  return 0;
}

}  // namespace

void add_status_command(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<StateOptions>();
  CLI::App* status = app.add_subcommand("status", "Summarise the running gateway's statistics");
  add_state_options(status, *options, /*with_pki=*/false);
  status->callback([&exit_code, options] { exit_code = run_status(*options); });
}

}  // namespace kelvin::ctl
