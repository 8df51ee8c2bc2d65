#include "query_command.hpp"

#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include "arguments.hpp"
#include "failure.hpp"
#include "kelvin/core/time_arguments.hpp"
#include "kelvin/fleet/fleet_json.hpp"
#include "kelvin/store/store.hpp"
#include "state_options.hpp"
#include "text_table.hpp"

namespace kelvin::ctl {
namespace {

constexpr const char* kCommand = "query";

struct QueryOptions {
  StateOptions state;
  std::string device_id;
  std::string quantity = "temperature";
  std::string from = "-1h";
  std::string to = "now";
  std::string step;  // empty: about 60 buckets (default_step)
  bool json = false;
};

std::string fixed2(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f", value);
  return text;
}

void print_table(const store::Query& query, const store::QueryResult& result) {
  const auto& quantity = proto::info(query.quantity);
  std::cout << query.device_id << " " << quantity.name << " (" << quantity.unit << ") from "
            << format_utc_ms(query.from_ms) << " to " << format_utc_ms(query.to_ms) << ", step "
            << format_step(query.step_ms) << ", resolution " << store::to_string(result.resolution) << "\n";
  if (result.buckets.empty()) {
    std::cout << "no " << quantity.name << " readings in this range\n";
    return;
  }
  TextTable table({{"BUCKET START (UTC)"},
                   {"MIN", Align::right},
                   {"MEAN", Align::right},
                   {"MAX", Align::right},
                   {"COUNT", Align::right}});
  for (const auto& bucket : result.buckets) {
    table.add_row({format_utc_ms(bucket.start_ms), fixed2(bucket.min), fixed2(bucket.mean), fixed2(bucket.max),
                   std::to_string(bucket.count)});
  }
  table.print(std::cout);
}

int run_query(const QueryOptions& options) {
  store::Query query;
  query.device_id = options.device_id;
  query.quantity = *proto::parse_quantity(options.quantity);  // checked by the option's validator
  const std::int64_t now_ms = wall_clock_ms();
  auto from = parse_time_argument(options.from, now_ms);
  if (!from) return report_usage_error("--from: " + from.error().message, kCommand);
  auto to = parse_time_argument(options.to, now_ms);
  if (!to) return report_usage_error("--to: " + to.error().message, kCommand);
  if (*from >= *to) {
    return report_usage_error("--from (" + format_utc_ms(*from) + ") must be before --to (" + format_utc_ms(*to) + ")",
                              kCommand);
  }
  query.from_ms = *from;
  query.to_ms = *to;
  if (options.step.empty()) {
    query.step_ms = default_step(query.to_ms - query.from_ms);
  } else {
    auto step = parse_step(options.step);
    if (!step) return report_usage_error("--step: " + step.error().message, kCommand);
    query.step_ms = *step;
    if ((query.to_ms - query.from_ms) / query.step_ms > store::kMaxQueryBuckets) {
      return report_usage_error("--step " + options.step + " gives more than " +
                                    std::to_string(store::kMaxQueryBuckets) +
                                    " buckets over this range; use a larger step",
                                kCommand);
    }
  }

  auto opened = open_existing_store(options.state);
  if (!opened) return report_failure(opened.error(), options.state.state_dir);
  if (!opened->has_value()) {
    return report_failure(make_error(Errc::not_found, "no telemetry store at " + options.state.store_file().string() +
                                                          "; is --state-dir kelvin-gateway's state directory?"));
  }
  store::Store& store = **opened;
  auto device = store.device(query.device_id);
  if (!device) return report_failure(device.error(), options.state.state_dir);
  if (!device->has_value()) {
    return report_failure(make_error(
        Errc::not_found, "device '" + query.device_id + "' has sent nothing; kelvinctl device list shows the devices"));
  }
  auto result = store.query(query);
  if (!result) return report_failure(result.error(), options.state.state_dir);
  if (options.json) {
    std::cout << fleet::series_json(query, *result, 2) << "\n";
  } else {
    print_table(query, *result);
  }
  return 0;
}

}  // namespace

void add_query_command(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<QueryOptions>();
  CLI::App* query = app.add_subcommand("query", "Show a device's readings in time buckets: min, mean, max, count");
  add_state_options(query, options->state, /*with_pki=*/false);
  query->add_option("id", options->device_id, "Device id")->required()->check(device_id_check());
  query->add_option("--quantity", options->quantity, "temperature or humidity")
      ->check(CLI::IsMember({"temperature", "humidity"}))
      ->capture_default_str();
  query
      ->add_option("--from", options->from,
                   "Start: ISO 8601 UTC (2026-11-22T10:00:00Z), now, or relative (-30m, -1h, -7d)")
      ->capture_default_str();
  query->add_option("--to", options->to, "End (excluded), same forms as --from")->capture_default_str();
  query->add_option("--step", options->step,
                    "Bucket length: 30s, 5m, 1h, 1d, ... (default: about 60 buckets over the range)");
  query->add_flag("--json", options->json, "Print JSON instead of a table");
  query->callback([&exit_code, options] { exit_code = run_query(*options); });
}

}  // namespace kelvin::ctl
