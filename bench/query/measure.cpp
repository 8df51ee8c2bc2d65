#include "measure.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>
#include <random>
#include <vector>

#include "common/percentile.hpp"
#include "kelvin/core/time_arguments.hpp"
#include "kelvin/store/store.hpp"

namespace kelvin::bench {
namespace {

using Clock = std::chrono::steady_clock;

// About this many points per answer: a chart's width in pixels.
constexpr std::int64_t kTargetPoints = 1000;
constexpr std::int64_t kDashboardYearStepMs = 8 * kHourMs;
// Answers whose means differ by more than this (relative) are not the same: the store sums
// rollups and InfluxDB raw values, in another order.
constexpr double kMeanTolerance = 1e-9;

// One dashboard range: the last `span_ms` of the data, at `step_ms`.
struct RangeSpec {
  std::string label;
  std::int64_t span_ms = 0;
  std::int64_t step_ms = 0;
};

// 1 h, 24 h, 7 d and 30 d where the data is longer, then all of it (twice, see below). The step
// is the API's own rounding (default_step) for about kTargetPoints buckets, but not below the
// readings' minute: a finer step only adds empty buckets.
std::vector<RangeSpec> ranges_for(const FleetShape& shape) {
  const std::int64_t whole = shape.minutes() * kMinuteMs;
  const std::array<std::pair<const char*, std::int64_t>, 4> candidates{
      {{"1 h", kHourMs}, {"24 h", kDayMs}, {"7 d", 7 * kDayMs}, {"30 d", 30 * kDayMs}}};
  std::vector<RangeSpec> ranges;
  for (const auto& [label, span] : candidates) {
    if (span < whole) ranges.push_back({label, span, 0});
  }
  const std::string all_of_it = shape.days == 365 ? "1 y" : std::to_string(shape.days) + " d";
  ranges.push_back({all_of_it, whole, 0});
  for (auto& range : ranges) range.step_ms = std::max(kMinuteMs, default_step(range.span_ms, kTargetPoints));
  // All of it also at the dashboard's step for a year (web/src/pages/device.ts), which the 8-hour
  // rollups serve; the rounded step above (9 h for a year) is read from the hour rollups. Asked
  // before it, so the b-tree pages both share are warmed by this one, not for it.
  ranges.insert(ranges.end() - 1, RangeSpec{all_of_it, whole, kDashboardYearStepMs});
  return ranges;
}

std::int64_t align_down(std::int64_t ms, std::int64_t step) {
  return ms / step * step;
}
std::int64_t align_up(std::int64_t ms, std::int64_t step) {
  return (ms + step - 1) / step * step;
}

// One query, asked of all three, and the buckets its answers must have.
struct QueryCase {
  int device = 0;
  std::int64_t from_ms = 0;
  std::int64_t to_ms = 0;
  std::int64_t step_ms = 0;
  std::vector<std::int64_t> store_starts;   // the store and the API answer every overlapping bucket whole
  std::vector<std::int64_t> influx_starts;  // InfluxDB only counts readings inside [from, to)
};

QueryCase make_case(const FleetShape& shape, const RangeSpec& range, int device) {
  QueryCase q;
  q.device = device;
  q.to_ms = shape.end_ms;
  q.from_ms = shape.end_ms - range.span_ms;
  q.step_ms = range.step_ms;
  q.store_starts =
      bucket_starts(shape, device, align_down(q.from_ms, q.step_ms), align_up(q.to_ms, q.step_ms), q.step_ms);
  q.influx_starts = bucket_starts(shape, device, q.from_ms, q.to_ms, q.step_ms);
  return q;
}

// A bucket as the three answer it (the store's count aside).
struct Point {
  std::int64_t start_ms = 0;
  double min = 0;
  double mean = 0;
  double max = 0;
};

// What one system answered to one query, and how long it took.
struct Answer {
  double seconds = 0;
  std::string problem;  // empty: an answer (still to be checked)
  std::vector<Point> points;
};

// ---- the three systems ---------------------------------------------------------------------------

// The series route's store work (libs/gateway fleet_answers.cpp, series_answer): Store::device to
// tell an unknown device from an empty series, then Store::query. Only query() is in `seconds`;
// the lookup's time goes to `device_seconds`.
Answer ask_store(store::Store& store, const QueryCase& q, double& device_seconds) {
  Answer answer;
  const auto looked_up = Clock::now();
  auto info = store.device(device_name(q.device));
  device_seconds = std::chrono::duration<double>(Clock::now() - looked_up).count();
  if (!info || !*info) {
    answer.problem = info ? "device unknown to the store" : info.error().message;
    return answer;
  }
  store::Query query;
  query.device_id = device_name(q.device);
  query.quantity = proto::Quantity::temperature;
  query.from_ms = q.from_ms;
  query.to_ms = q.to_ms;
  query.step_ms = q.step_ms;
  const auto start = Clock::now();
  auto result = store.query(query);
  answer.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (!result) {
    answer.problem = result.error().message;
    return answer;
  }
  for (const auto& bucket : result->buckets) {
    answer.points.push_back({bucket.start_ms, bucket.min, bucket.mean, bucket.max});
  }
  return answer;
}

std::string api_target(const QueryCase& q) {
  return "/api/v1/devices/" + device_name(q.device) + "/series?quantity=temperature&from=" + std::to_string(q.from_ms) +
         "&to=" + std::to_string(q.to_ms) + "&step=" + format_step(q.step_ms);
}

// Reads a 200 answer's body with `read` (which throws nlohmann's exceptions on a wrong shape).
template <class Read>
Answer read_answer(const HttpsAnswer& http, Read read) {
  Answer answer;
  answer.seconds = http.seconds;
  if (http.status != 200) {
    answer.problem = "HTTP " + std::to_string(http.status) + " " + http.error + " " + http.body.substr(0, 300);
    return answer;
  }
  const auto json = nlohmann::json::parse(http.body, nullptr, false);
  try {
    if (json.is_discarded()) throw std::runtime_error("not JSON");
    read(json, answer.points);
  } catch (const std::exception& error) {
    answer.problem = std::string("unexpected answer (") + error.what() + "): " + http.body.substr(0, 300);
  }
  return answer;
}

Answer ask_api(HttpsClient& api, const QueryCase& q) {
  return read_answer(api.get(api_target(q)), [](const nlohmann::json& json, std::vector<Point>& points) {
    for (const auto& bucket : json.at("buckets")) {
      points.push_back({bucket.at("start_ms").get<std::int64_t>(), bucket.at("min").get<double>(),
                        bucket.at("mean").get<double>(), bucket.at("max").get<double>()});
    }
  });
}

// What a Grafana panel on the exporter's layout asks: one device, the range, GROUP BY time(step).
std::string influx_select(const QueryCase& q) {
  return "SELECT mean(temperature), min(temperature), max(temperature) FROM kelvin_reading WHERE device = '" +
         device_name(q.device) + "' AND time >= " + std::to_string(q.from_ms) + "ms AND time < " +
         std::to_string(q.to_ms) + "ms GROUP BY time(" + format_step(q.step_ms) + ") fill(none)";
}

Answer ask_influx(HttpsClient& influx, const std::string& database, const QueryCase& q) {
  const std::string target = "/query?db=" + influx.escape(database) + "&epoch=ms&q=" + influx.escape(influx_select(q));
  return read_answer(influx.get(target), [](const nlohmann::json& json, std::vector<Point>& points) {
    const auto& statement = json.at("results").at(0);
    if (statement.contains("error")) throw std::runtime_error(statement["error"].get<std::string>());
    if (!statement.contains("series")) return;
    for (const auto& row : statement.at("series").at(0).at("values")) {
      points.push_back(
          {row.at(0).get<std::int64_t>(), row.at(2).get<double>(), row.at(1).get<double>(), row.at(3).get<double>()});
    }
  });
}

// ---- checks --------------------------------------------------------------------------------------

bool same_starts(const std::vector<Point>& points, const std::vector<std::int64_t>& starts) {
  return std::equal(points.begin(), points.end(), starts.begin(), starts.end(),
                    [](const Point& point, std::int64_t start) { return point.start_ms == start; });
}

std::string count_problem(const std::vector<Point>& points, const std::vector<std::int64_t>& starts) {
  if (same_starts(points, starts)) return {};
  return std::to_string(points.size()) + " points where the data has " + std::to_string(starts.size()) +
         (points.size() == starts.size() ? " (other buckets)" : "");
}

// The API serves the store's answer: every number identical.
std::string api_problem(const Answer& api, const Answer& store) {
  if (!store.problem.empty()) return {};  // nothing to compare with; the count was checked
  const bool same =
      std::equal(api.points.begin(), api.points.end(), store.points.begin(), store.points.end(),
                 [](const Point& a, const Point& b) {
                   return a.start_ms == b.start_ms && a.min == b.min && a.mean == b.mean && a.max == b.max;
                 });
  return same ? std::string() : "numbers differ from the store's answer";
}

// InfluxDB's buckets that the range covers whole hold the same readings as the store's.
std::string influx_problem(const Answer& influx, const Answer& store, const QueryCase& q) {
  if (!store.problem.empty()) return {};
  std::size_t s = 0;
  for (const auto& point : influx.points) {
    if (point.start_ms < q.from_ms || point.start_ms + q.step_ms > q.to_ms) continue;  // a partial bucket
    while (s < store.points.size() && store.points[s].start_ms < point.start_ms) ++s;
    if (s == store.points.size() || store.points[s].start_ms != point.start_ms) return "a bucket the store lacks";
    const Point& other = store.points[s];
    const double scale = std::max(1.0, std::abs(other.mean));
    if (point.min != other.min || point.max != other.max ||
        std::abs(point.mean - other.mean) > kMeanTolerance * scale) {
      return "numbers differ from the store's in the bucket at " + std::to_string(point.start_ms);
    }
  }
  return {};
}

// ---- figures -------------------------------------------------------------------------------------

// Timings of one system over one range, and its failures. `first_ms` and `again_ms` split the
// timings by whether the query was the range's first for its device: the first reads the
// device's pages from disk unless something else left them cached, the others mostly do not.
struct Series {
  std::vector<double> ms;
  std::vector<double> first_ms;
  std::vector<double> again_ms;
  std::size_t answers = 0;
  std::size_t failures = 0;
  std::string first_failure;

  void add(const std::string& problem, double seconds, bool timed, bool first_for_device) {
    ++answers;
    if (!problem.empty()) {
      if (failures++ == 0) first_failure = problem;
      return;
    }
    if (!timed) return;
    ms.push_back(seconds * 1000.0);
    (first_for_device ? first_ms : again_ms).push_back(seconds * 1000.0);
  }
};

struct RangeFigures {
  RangeSpec range;
  std::string resolution;  // what the store read
  std::size_t points_min = 0;
  std::size_t points_max = 0;
  Series store, api, influx;
  std::vector<double> device_lookup_ms;
};

std::string figure(double value) {
  if (std::isnan(value)) return "–";
  char text[32];
  std::snprintf(text, sizeof text, value < 10 ? "%.2f" : "%.1f", value);
  return text;
}

std::string triple(const Series& series) {
  if (series.ms.empty()) return "failed";
  return figure(percentile(series.ms, 0.5)) + " / " + figure(percentile(series.ms, 0.99)) + " / " +
         figure(*std::max_element(series.ms.begin(), series.ms.end()));
}

// "p50 / p99 (n)" of some timings.
std::string pair_of(const std::vector<double>& ms) {
  if (ms.empty()) return "–";
  return figure(percentile(ms, 0.5)) + " / " + figure(percentile(ms, 0.99)) + " (" + std::to_string(ms.size()) + ")";
}

std::string ratio(const Series& numerator, const Series& denominator, double p) {
  if (numerator.ms.empty() || denominator.ms.empty()) return "–";
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", percentile(numerator.ms, p) / percentile(denominator.ms, p));
  return text;
}

// ---- the run -------------------------------------------------------------------------------------

struct Clients {
  store::Store& store;
  HttpsClient& api;
  HttpsClient& influx;
  const std::string& database;
};

// Asks all three in the rotating order for query number `index` and books the outcome.
void ask_all(Clients& clients, const QueryCase& q, std::size_t index, bool timed, bool first_for_device,
             RangeFigures& figures) {
  Answer store, api, influx;
  double device_seconds = 0;
  for (std::size_t k = 0; k < 3; ++k) {
    switch ((index + k) % 3) {
      case 0:
        store = ask_store(clients.store, q, device_seconds);
        break;
      case 1:
        api = ask_api(clients.api, q);
        break;
      default:
        influx = ask_influx(clients.influx, clients.database, q);
        break;
    }
  }
  if (store.problem.empty()) store.problem = count_problem(store.points, q.store_starts);
  if (api.problem.empty()) api.problem = count_problem(api.points, q.store_starts);
  if (api.problem.empty()) api.problem = api_problem(api, store);
  if (influx.problem.empty()) influx.problem = count_problem(influx.points, q.influx_starts);
  if (influx.problem.empty()) influx.problem = influx_problem(influx, store, q);
  figures.store.add(store.problem, store.seconds, timed, first_for_device);
  figures.api.add(api.problem, api.seconds, timed, first_for_device);
  figures.influx.add(influx.problem, influx.seconds, timed, first_for_device);
  if (timed) figures.device_lookup_ms.push_back(device_seconds * 1000.0);
  figures.points_min = index == 0 ? q.store_starts.size() : std::min(figures.points_min, q.store_starts.size());
  figures.points_max = std::max(figures.points_max, q.store_starts.size());
}

// The resolution the store reads for this range (the same for every device).
std::string resolution_of(store::Store& store, const FleetShape& shape, const RangeSpec& range) {
  store::Query query;
  query.device_id = device_name(0);
  query.from_ms = shape.end_ms - range.span_ms;
  query.to_ms = shape.end_ms;
  query.step_ms = range.step_ms;
  auto result = store.query(query);
  return result ? std::string(store::to_string(result->resolution)) : "?";
}

RangeFigures run_range(Clients& clients, const MeasureOptions& options, const RangeSpec& range, std::uint64_t seed) {
  RangeFigures figures;
  figures.range = range;
  std::mt19937_64 random(seed);
  std::uniform_int_distribution<int> pick(0, options.shape.devices - 1);
  std::vector<bool> asked(static_cast<std::size_t>(options.shape.devices), false);
  const std::size_t total = options.warmup + options.queries;
  for (std::size_t i = 0; i < total; ++i) {
    const int device = pick(random);
    const bool first = !asked[static_cast<std::size_t>(device)];
    asked[static_cast<std::size_t>(device)] = true;
    ask_all(clients, make_case(options.shape, range, device), i, i >= options.warmup, first, figures);
  }
  figures.resolution = resolution_of(clients.store, options.shape, range);
  std::fprintf(
      stderr, "query %-5s step %-4s: store p99 %s ms, HTTPS p99 %s ms, InfluxDB p99 %s ms; failures %zu / %zu / %zu\n",
      range.label.c_str(), format_step(range.step_ms).c_str(), figure(percentile(figures.store.ms, 0.99)).c_str(),
      figure(percentile(figures.api.ms, 0.99)).c_str(), figure(percentile(figures.influx.ms, 0.99)).c_str(),
      figures.store.failures, figures.api.failures, figures.influx.failures);
  return figures;
}

Result<void> sign_in(HttpsClient& api, const MeasureOptions& options) {
  const nlohmann::json body = {{"user", options.api_user}, {"password", options.api_password}};
  auto answer = api.post("/api/v1/session", "application/json", body.dump());
  if (answer.status != 200) {
    return make_error(Errc::bad_credentials, "signing in to the gateway as " + options.api_user + " failed: HTTP " +
                                                 std::to_string(answer.status) + " " + answer.error + answer.body);
  }
  return {};
}

void print_main_table(std::FILE* out, const std::vector<RangeFigures>& all) {
  std::fprintf(out,
               "| range | step | points | store reads | store p50 / p99 / max ms | HTTPS API p50 / p99 / max ms | "
               "InfluxDB p50 / p99 / max ms | InfluxDB ÷ store (p50, p99) | InfluxDB ÷ HTTPS (p50, p99) |\n");
  std::fprintf(out, "|---|---|---|---|---|---|---|---|---|\n");
  for (const auto& f : all) {
    const std::string points = f.points_min == f.points_max
                                   ? std::to_string(f.points_min)
                                   : std::to_string(f.points_min) + "–" + std::to_string(f.points_max);
    std::fprintf(out, "| %s | %s | %s | %s | %s | %s | %s | %s, %s | %s, %s |\n", f.range.label.c_str(),
                 format_step(f.range.step_ms).c_str(), points.c_str(), f.resolution.c_str(), triple(f.store).c_str(),
                 triple(f.api).c_str(), triple(f.influx).c_str(), ratio(f.influx, f.store, 0.5).c_str(),
                 ratio(f.influx, f.store, 0.99).c_str(), ratio(f.influx, f.api, 0.5).c_str(),
                 ratio(f.influx, f.api, 0.99).c_str());
  }
}

// How many answers were checked and which failed: figures of a run with failures say little.
void print_checks(std::FILE* out, const MeasureOptions& options, const std::vector<RangeFigures>& all,
                  const HttpsClient& api, const HttpsClient& influx) {
  std::size_t answers = 0, failures = 0;
  for (const auto& f : all) {
    for (const Series* s : {&f.store, &f.api, &f.influx}) {
      answers += s->answers;
      failures += s->failures;
    }
  }
  std::fprintf(out,
               "\n%zu queries per range and system (after %zu untimed), devices drawn at random (seed %llu), the same "
               "sequence for all three. Answers checked: %zu, failed: %zu%s. HTTPS over one kept-alive connection "
               "each (connections opened: API %llu, InfluxDB %llu).\n",
               options.queries, options.warmup, static_cast<unsigned long long>(options.seed), answers, failures,
               failures == 0 ? " (every answer 200, with exactly the expected buckets and the store's numbers)" : "",
               static_cast<unsigned long long>(api.connections_opened()),
               static_cast<unsigned long long>(influx.connections_opened()));
  for (const auto& f : all) {
    for (const auto& [name, s] :
         {std::pair<const char*, const Series*>{"store", &f.store}, {"HTTPS API", &f.api}, {"InfluxDB", &f.influx}}) {
      if (s->failures > 0) {
        std::fprintf(out, "\n**%s, %s: %zu of %zu answers failed**; the first: %s\n", f.range.label.c_str(), name,
                     s->failures, s->answers, s->first_failure.c_str());
      }
    }
  }
}

void print_split_table(std::FILE* out, const std::vector<RangeFigures>& all) {
  std::fprintf(out,
               "\nThe same timings split by whether the query was the range's first for its device (which reads the "
               "device's pages from disk unless they were cached) or a repeat: p50 / p99 ms (queries).\n\n");
  std::fprintf(
      out,
      "| range | store, first | store, again | HTTPS API, first | HTTPS API, again | InfluxDB, first | InfluxDB, "
      "again |\n");
  std::fprintf(out, "|---|---|---|---|---|---|---|\n");
  for (const auto& f : all) {
    std::fprintf(out, "| %s | %s | %s | %s | %s | %s | %s |\n", f.range.label.c_str(),
                 pair_of(f.store.first_ms).c_str(), pair_of(f.store.again_ms).c_str(), pair_of(f.api.first_ms).c_str(),
                 pair_of(f.api.again_ms).c_str(), pair_of(f.influx.first_ms).c_str(),
                 pair_of(f.influx.again_ms).c_str());
  }
}

void print_notes(std::FILE* out, const MeasureOptions& options, const RangeFigures& longest) {
  std::fprintf(out,
               "\nThe route also looks the device up (`Store::device`) before the query: p50 %s ms, p99 %s ms over "
               "the %s queries (not in the store column). InfluxQL of the %s query: `%s`.\n",
               figure(percentile(longest.device_lookup_ms, 0.5)).c_str(),
               figure(percentile(longest.device_lookup_ms, 0.99)).c_str(), longest.range.label.c_str(),
               longest.range.label.c_str(), influx_select(make_case(options.shape, longest.range, 0)).c_str());
}

}  // namespace

Result<void> measure(const MeasureOptions& options, std::FILE* out) {
  auto store = store::Store::open(options.store_dir / "telemetry.db");
  if (!store) return std::move(store).error();
  HttpsClientOptions api_options;
  api_options.port = options.api_port;
  api_options.ca_file = options.api_ca_file;
  api_options.keep_cookies = true;
  HttpsClient api(std::move(api_options));
  if (auto signed_in = sign_in(api, options); !signed_in) return signed_in;
  HttpsClient influx = influx_client(options.influx);
  Clients clients{*store, api, influx, options.influx.database};

  std::vector<RangeFigures> all;
  const auto ranges = ranges_for(options.shape);
  // Each range draws its devices from a seed of its own, so adding a range changes no other's.
  for (std::size_t r = 0; r < ranges.size(); ++r) {
    all.push_back(run_range(clients, options, ranges[r], options.seed + r));
  }
  print_main_table(out, all);
  print_checks(out, options, all, api, influx);
  print_split_table(out, all);
  print_notes(out, options, all.back());
  return {};
}

}  // namespace kelvin::bench
