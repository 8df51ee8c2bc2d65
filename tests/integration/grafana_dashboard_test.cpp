// The Grafana dashboard (deploy/grafana) against the real InfluxDB 1.6 fed by the real exporter.
//
// Grafana is not packaged for Debian, so it does not run here. What Grafana would do is done by
// hand, the way its InfluxDB data source does it for raw InfluxQL queries: template variables are
// replaced with their "regex" format (one value escaped, several as `(a|b)`, "All" as every value
// of the variable's own query), `$timeFilter` becomes `time >= <from>ms and time <= <to>ms`,
// `$__interval` / `$__interval_ms` the interval as text / in milliseconds. Every query of every
// panel, and the variable's query, then runs over HTTPS as a READ-only InfluxDB user (what the
// provisioned data source uses), and its numbers are compared with what the known data gives.
//
// The data goes the way it goes in production: readings and statuses into a kelvin store, the
// InfluxExporter with a real influx::Writer into influxd. So a dashboard that names a wrong
// measurement, field or tag, aggregates wrongly or filters wrongly fails here, and so does an
// exporter that stops writing what docs/influxdb.md says. A panel or variable added to the
// dashboard without a check here fails too.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "installation.hpp"
#include "kelvin/gateway/influx_exporter.hpp"
#include "kelvin/influx/writer.hpp"
#include "kelvin/store/store.hpp"
#include "kelvin/testing/influx_server.hpp"
#include "kelvin/testing/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
using kelvin::testing::InfluxServer;
using kelvin::testing::Installation;
using kelvin::testing::TempDir;
using nlohmann::json;

// The repository's deploy/grafana.
fs::path grafana_dir() {
  return KELVIN_GRAFANA_DIR;
}
constexpr const char* kDataSourceUid = "kelvin-influxdb";
constexpr const char* kDatabase = "kelvin";

constexpr std::int64_t kSecond = 1000;
constexpr std::int64_t kMinute = 60 * kSecond;
constexpr std::int64_t kHour = 60 * kMinute;
constexpr std::int64_t kT0 = 1'767'225'600'000;  // 2026-01-01T00:00:00Z
// The dashboard's time range as Grafana sends it; both ends inclusive ($timeFilter uses >= and <=).
// `from` is not on a minute so the first bucket is partial; `to` falls on samples of dev-a and dev-b.
constexpr std::int64_t kFrom = kT0 + 25 * kSecond;
constexpr std::int64_t kTo = kT0 + 60 * kMinute;

// ---- The known data ---------------------------------------------------------------------------

struct Sample {
  std::string device;
  std::uint64_t seq = 0;
  std::int64_t ts_ms = 0;
  double temperature = 0;
  std::optional<double> humidity;
};

// Values are multiples of 1/8, so sums are exact in binary floating point and a mean can only
// differ from InfluxDB's by the rounding of its one division.
std::vector<Sample> known_samples() {
  std::vector<Sample> samples;
  auto series = [&](const std::string& device, std::int64_t start, std::int64_t period, std::uint64_t count,
                    const std::function<void(Sample&)>& values) {
    for (std::uint64_t seq = 1; seq <= count; ++seq) {
      Sample sample{device, seq, start + static_cast<std::int64_t>(seq - 1) * period, 0, std::nullopt};
      values(sample);
      samples.push_back(std::move(sample));
    }
  };
  const auto eighths = [](std::uint64_t n) { return static_cast<double>(n) / 8.0; };
  // dev-a: every 10 s, from before the range to after it.
  series("dev-a", kT0 - 10 * kMinute, 10 * kSecond, 481, [&](Sample& s) {
    s.temperature = 21.0 + eighths(2 * (s.seq % 8));
    s.humidity = 45.0 + eighths(4 * (s.seq % 5));
  });
  // dev-b: every 20 s over the whole range, with a step in temperature every 15 minutes.
  series("dev-b", kT0, 20 * kSecond, 181, [&](Sample& s) {
    s.temperature = 18.5 + eighths(s.seq % 6) + static_cast<double>((s.seq / 45) % 2);
    s.humidity = 50.0 + eighths(2 * (s.seq % 4));
  });
  // dev-c: every 30 s, only in the middle of the range; every 4th reading has no humidity.
  series("dev-c", kT0 + 15 * kMinute, 30 * kSecond, 61, [&](Sample& s) {
    s.temperature = 24.0 + eighths(4 * (s.seq % 3));
    if (s.seq % 4 != 0) s.humidity = 60.0 - eighths(4 * (s.seq % 7));
  });
  // dev-a-old: only long before the range: listed by the variable, but not reporting in the range.
  // Its name starts with another device's, so a device filter without regex anchors shows.
  series("dev-a-old", kT0 - 3 * kHour, kMinute, 60, [&](Sample& s) {
    s.temperature = 5.0 + eighths(4 * (s.seq % 2));
    s.humidity = 80.0;
  });
  return samples;
}

struct Status {
  std::string device;
  kelvin::store::DeviceStatus status;
};

// In the order the gateway receives them. The latest per device: dev-a online (after being
// offline), dev-b offline (after being online), dev-c online, dev-a-old offline long ago, and
// dev-new online without any reading yet (so it is no value of the device variable, which lists
// the devices that have readings).
std::vector<Status> known_statuses() {
  return {
      {"dev-a-old", {"online", "0.9.0", 0, kT0 - 3 * kHour}},  {"dev-a", {"online", "1.4.0", 0, kT0 + 1 * kSecond}},
      {"dev-b", {"online", "1.3.9", 4, kT0 + 2 * kSecond}},    {"dev-c", {"online", "1.4.0", 0, kT0 + 3 * kSecond}},
      {"dev-a-old", {"offline", "0.9.0", 0, kT0 - 2 * kHour}}, {"dev-a", {"offline", "1.4.0", 0, kT0 + 20 * kMinute}},
      {"dev-a", {"online", "1.4.1", 2, kT0 + 25 * kMinute}},   {"dev-b", {"offline", "1.3.9", 4, kT0 + 50 * kMinute}},
      {"dev-new", {"online", "1.4.1", 0, kT0 + 55 * kMinute}},
  };
}

// ---- What Grafana substitutes -----------------------------------------------------------------

// One evaluation of the dashboard: the devices the variable stands for and the interval.
struct View {
  std::vector<std::string> devices;
  std::int64_t interval_ms = kMinute;
};

// Grafana's regexEscape (the "regex" format of raw InfluxQL queries).
std::string regex_escape(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (std::string_view("\\^$*+?.()|[]{}/").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

std::string regex_format(const std::vector<std::string>& values) {
  if (values.size() == 1) return regex_escape(values[0]);
  std::string out = "(";
  for (std::size_t i = 0; i < values.size(); ++i) out += (i ? "|" : "") + regex_escape(values[i]);
  return out + ")";
}

std::string interval_text(std::int64_t interval_ms) {
  if (interval_ms % kMinute == 0) return std::to_string(interval_ms / kMinute) + "m";
  if (interval_ms % kSecond == 0) return std::to_string(interval_ms / kSecond) + "s";
  return std::to_string(interval_ms) + "ms";
}

bool is_word(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
}

// Replaces $name and ${name} as Grafana does; anything the test does not know is a failure, so a
// query using a variable the dashboard does not define (or a typo) cannot pass.
std::string interpolate(const std::string& query, const View& view) {
  const std::map<std::string, std::string> values{
      {"device", regex_format(view.devices)},
      {"timeFilter", "time >= " + std::to_string(kFrom) + "ms and time <= " + std::to_string(kTo) + "ms"},
      {"__interval", interval_text(view.interval_ms)},
      {"interval", interval_text(view.interval_ms)},
      {"__interval_ms", std::to_string(view.interval_ms)},
  };
  std::string out;
  for (std::size_t i = 0; i < query.size();) {
    if (query[i] != '$') {
      out += query[i++];
      continue;
    }
    std::size_t begin = i + 1;
    std::size_t end = begin;
    bool braced = begin < query.size() && query[begin] == '{';
    if (braced) begin = end = begin + 1;
    while (end < query.size() && is_word(query[end])) ++end;
    if (end == begin || (braced && (end >= query.size() || query[end] != '}'))) {
      out += query[i++];  // a lone '$', as in the regex anchor of /^$device$/
      continue;
    }
    const std::string name = query.substr(begin, end - begin);
    auto value = values.find(name);
    if (value == values.end()) {
      ADD_FAILURE() << "the query uses $" << name << ", which is no variable of the dashboard: " << query;
      out += query.substr(i, end - i);
    } else {
      out += value->second;
    }
    i = braced ? end + 1 : end;
  }
  return out;
}

// ---- Expectations from the known data ---------------------------------------------------------

bool contains(const std::vector<std::string>& devices, const std::string& device) {
  return std::find(devices.begin(), devices.end(), device) != devices.end();
}

bool in_range(std::int64_t ts) {
  return ts >= kFrom && ts <= kTo;
}

std::int64_t bucket_of(std::int64_t ts, std::int64_t interval) {
  return ts - ts % interval;
}

// Every GROUP BY time() bucket InfluxDB reports for the range, first to last.
std::vector<std::int64_t> buckets_in_range(std::int64_t interval) {
  std::vector<std::int64_t> buckets;
  for (std::int64_t t = bucket_of(kFrom, interval); t <= kTo; t += interval) buckets.push_back(t);
  return buckets;
}

struct Aggregate {
  std::uint64_t count = 0;
  double sum = 0;
  double min = 0;
  double max = 0;
};

// device -> bucket start -> aggregate of `field` ("temperature", "humidity" or "seq").
std::map<std::string, std::map<std::int64_t, Aggregate>> aggregates(const std::vector<Sample>& samples,
                                                                    const View& view, const std::string& field) {
  std::map<std::string, std::map<std::int64_t, Aggregate>> out;
  for (const auto& sample : samples) {
    if (!contains(view.devices, sample.device) || !in_range(sample.ts_ms)) continue;
    std::optional<double> value;
    if (field == "temperature") value = sample.temperature;
    if (field == "humidity") value = sample.humidity;
    if (field == "seq") value = static_cast<double>(sample.seq);
    if (!value) continue;
    Aggregate& a = out[sample.device][bucket_of(sample.ts_ms, view.interval_ms)];
    a.min = a.count == 0 ? *value : std::min(a.min, *value);
    a.max = a.count == 0 ? *value : std::max(a.max, *value);
    a.sum += *value;
    ++a.count;
  }
  return out;
}

// The latest status of each selected device whose latest status is not "online".
std::map<std::string, kelvin::store::DeviceStatus> offline_now(const View& view) {
  std::map<std::string, kelvin::store::DeviceStatus> latest;
  for (const auto& [device, status] : known_statuses()) {
    auto known = latest.find(device);
    if (known == latest.end() || known->second.at_ms < status.at_ms) latest[device] = status;
  }
  std::map<std::string, kelvin::store::DeviceStatus> offline;
  for (const auto& [device, status] : latest) {
    if (contains(view.devices, device) && status.state != "online") offline[device] = status;
  }
  return offline;
}

// What `pointer` (e.g. "/datasource/uid") names in a dashboard object; null when absent, so a
// malformed dashboard is a failed expectation rather than undefined behaviour.
json member(const json& object, const std::string& pointer) {
  return object.value(json::json_pointer(pointer), json());
}

// ---- Reading InfluxDB's answers ---------------------------------------------------------------

// The series of one statement's result ([] when there are none), each {name, tags, columns, values}.
std::vector<json> series_of(const json& result) {
  if (!result.contains("series")) return {};
  return result["series"].get<std::vector<json>>();
}

std::string device_tag(const json& series) {
  if (!series.contains("tags") || !series["tags"].contains("device")) {
    ADD_FAILURE() << "a series without a device tag: " << series.dump();
    return "";
  }
  return series["tags"]["device"].get<std::string>();
}

std::set<std::string> keys_of(const auto& map) {
  std::set<std::string> keys;
  for (const auto& entry : map) keys.insert(entry.first);
  return keys;
}

// The one number of a stat query (`SELECT count(...) ...` without GROUP BY); nullopt without data.
std::optional<double> single_number(const json& result) {
  auto series = series_of(result);
  if (series.empty()) return std::nullopt;
  EXPECT_EQ(series.size(), 1u) << result.dump();
  const auto& values = series[0]["values"];
  EXPECT_EQ(values.size(), 1u) << result.dump();
  EXPECT_EQ(series[0]["columns"].size(), 2u) << result.dump();
  if (values.empty() || values[0].size() < 2 || !values[0][1].is_number()) return std::nullopt;
  return values[0][1].get<double>();
}

// A stat panel shows its query's number, or its noValue when the query returns nothing (InfluxDB's
// count() over no points returns no series at all). `expected` 0 must therefore read "0".
void expect_stat(const json& panel, const json& result, double expected) {
  auto number = single_number(result);
  if (expected == 0) {
    EXPECT_FALSE(number.has_value()) << result.dump();
    EXPECT_EQ(member(panel, "/fieldConfig/defaults/noValue"), "0")
        << "with no data the panel would show \"No data\" instead of 0";
  } else {
    ASSERT_TRUE(number.has_value()) << result.dump();
    EXPECT_EQ(*number, expected);
  }
}

// The names of the series a panel's field overrides refer to (fill-below band, hidden legend).
std::set<std::string> override_names(const json& panel) {
  std::set<std::string> names;
  for (const auto& override_entry : member(panel, "/fieldConfig/overrides")) {
    if (member(override_entry, "/matcher/id") == "byName") {
      names.insert(member(override_entry, "/matcher/options").get<std::string>());
    }
    for (const auto& property : member(override_entry, "/properties")) {
      if (member(property, "/id") == "custom.fillBelowTo") names.insert(member(property, "/value").get<std::string>());
    }
  }
  return names;
}

// mean/min/max per interval and device with fill(null): every bucket of the range in every series
// of a device that has the field in the range; null where the device had no value.
void expect_band(const json& panel, const json& target, const json& result, const View& view,
                 const std::vector<Sample>& samples, const std::string& field) {
  const auto expected = aggregates(samples, view, field);
  const auto series = series_of(result);
  std::set<std::string> devices;
  for (const auto& s : series) {
    const std::string device = device_tag(s);
    devices.insert(device);
    SCOPED_TRACE("device " + device);
    ASSERT_EQ(s["columns"], json::parse(R"(["time","mean","min","max"])"));
    // alias $col names the series after the columns; the band's overrides must name them. The
    // names carry no device, so the panel must be repeated per device or every device's series
    // would share the same three names (and one band).
    EXPECT_EQ(target.value("alias", ""), "$col");
    EXPECT_EQ(panel.value("repeat", ""), "device");
    for (const auto& name : override_names(panel)) {
      EXPECT_TRUE(name == "mean" || name == "min" || name == "max") << "override for a series named " << name;
    }
    EXPECT_EQ(override_names(panel), (std::set<std::string>{"min", "max"}));
    const auto buckets = buckets_in_range(view.interval_ms);
    ASSERT_EQ(s["values"].size(), buckets.size());
    auto by_bucket = expected.find(device);
    ASSERT_NE(by_bucket, expected.end()) << "a series for a device without " << field << " in the range";
    for (std::size_t i = 0; i < buckets.size(); ++i) {
      const auto& row = s["values"][i];
      EXPECT_EQ(row[0], buckets[i]);
      auto bucket = by_bucket->second.find(buckets[i]);
      if (bucket == by_bucket->second.end()) {
        EXPECT_TRUE(row[1].is_null() && row[2].is_null() && row[3].is_null()) << row.dump();
        continue;
      }
      const Aggregate& a = bucket->second;
      ASSERT_TRUE(row[1].is_number() && row[2].is_number() && row[3].is_number()) << row.dump();
      EXPECT_NEAR(row[1].get<double>(), a.sum / static_cast<double>(a.count), 1e-9) << "mean at " << buckets[i];
      EXPECT_EQ(row[2].get<double>(), a.min) << "min at " << buckets[i];
      EXPECT_EQ(row[3].get<double>(), a.max) << "max at " << buckets[i];
    }
  }
  EXPECT_EQ(devices, keys_of(expected));
}

// ---- The test ---------------------------------------------------------------------------------

json read_json(const fs::path& file) {
  std::ifstream in(file);
  EXPECT_TRUE(in.good()) << "cannot read " << file;
  return json::parse(in, nullptr, /*allow_exceptions=*/false);
}

std::string read_file_text(const fs::path& file) {
  std::ifstream in(file);
  EXPECT_TRUE(in.good()) << "cannot read " << file;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

class GrafanaDashboardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    influx_.create_database(kDatabase);
    // The user the provisioned data source logs in as: READ on the database, nothing else.
    influx_.query("", "CREATE USER \"grafana\" WITH PASSWORD '" + reader_password_ + "'");
    influx_.query("", R"(GRANT READ ON "kelvin" TO "grafana")");
  }

  void TearDown() override {
    if (HasFailure()) std::cerr << "---- influxd log ----\n" << influx_.log();
  }

  // Stores the known data and exports it with the gateway's exporter and a real writer.
  void store_and_export() {
    auto store = kelvin::store::Store::open(dir_ / "telemetry.db");
    ASSERT_TRUE(store.ok()) << store.error().message;
    kelvin::store::IngestBatch batch;
    for (const auto& sample : samples_) {
      kelvin::proto::Reading reading;
      reading.seq = sample.seq;
      reading.ts_ms = sample.ts_ms;
      reading.set(kelvin::proto::Quantity::temperature, sample.temperature);
      if (sample.humidity) reading.set(kelvin::proto::Quantity::humidity, *sample.humidity);
      batch.readings.push_back({sample.device, reading});
    }
    auto committed = store->commit(batch, kTo);
    ASSERT_TRUE(committed.ok()) << committed.error().message;
    ASSERT_EQ(committed->stored, samples_.size());

    kelvin::influx::WriterOptions writer_options;
    writer_options.url = influx_.url();
    writer_options.database = kDatabase;
    writer_options.ca_file = install_.pki_dir() / "ca.crt";
    writer_options.credentials = kelvin::influx::Credentials{influx_.admin_user(), influx_.admin_password()};
    auto writer = kelvin::influx::Writer::create(writer_options);
    ASSERT_TRUE(writer.ok()) << writer.error().message;
    kelvin::gateway::ExporterOptions options;
    options.batch_readings = 250;                            // several batches
    options.status_interval = std::chrono::milliseconds(0);  // statuses checked at every step
    kelvin::gateway::InfluxExporter exporter(
        dir_ / "telemetry.db", kelvin::store::StoreOptions{},
        [w = writer->get()](std::string_view lines) { return w->write(lines); }, options, [] { return kTo; });
    ASSERT_TRUE(exporter.load_cursor().ok());

    auto run_until_idle = [&] {
      for (int steps = 0; steps < 100; ++steps) {
        auto step = exporter.step();
        ASSERT_NE(step, kelvin::gateway::InfluxExporter::Step::failed) << exporter.stats().last_error;
        if (step == kelvin::gateway::InfluxExporter::Step::idle) return;
      }
      FAIL() << "the exporter never became idle";
    };
    run_until_idle();
    if (HasFatalFailure()) return;
    // One step per status: the exporter writes the status a device has when it looks, so each
    // change must be seen before the next one for InfluxDB to get the whole history.
    for (const auto& [device, status] : known_statuses()) {
      ASSERT_TRUE(store->record_status(device, status).ok());
      run_until_idle();
      if (HasFatalFailure()) return;
    }
    const auto stats = exporter.stats();
    EXPECT_EQ(stats.readings_exported, samples_.size());
    EXPECT_EQ(stats.statuses_exported, known_statuses().size());
    EXPECT_EQ(stats.points_rejected, 0u);
  }

  // POST /query as the data source's READ-only user over HTTPS, the installation's CA verifying
  // influxd; the one statement's result ({"series": [...]} or {}). An error is a failure.
  [[nodiscard]] json run_as_grafana(const std::string& influxql) const {
    auto answer = influx_.curl({"--fail-with-body", "-u", "grafana:" + reader_password_, "--data-urlencode",
                                "q=" + influxql, influx_.url() + "/query?db=kelvin&epoch=ms"});
    EXPECT_EQ(answer.exit_code, 0) << influxql << "\n" << answer.out << answer.err;
    json parsed = json::parse(answer.out, nullptr, /*allow_exceptions=*/false);
    if (!parsed.is_object() || !parsed.contains("results") || parsed["results"].size() != 1) {
      ADD_FAILURE() << "unexpected answer to " << influxql << ": " << answer.out;
      return json::object();
    }
    const json& result = parsed["results"][0];
    EXPECT_FALSE(result.contains("error")) << influxql << ": " << result.dump();
    return result;
  }

  Installation install_;
  InfluxServer influx_{install_.server_tls()};
  TempDir dir_;
  std::string reader_password_ = kelvin::testing::random_hex(24);
  std::vector<Sample> samples_ = known_samples();
};

TEST_F(GrafanaDashboardTest, EveryPanelShowsTheNumbersOfTheExportedData) {
  store_and_export();
  if (HasFatalFailure()) return;

  // The dashboards directory holds this one dashboard: another one would go unchecked.
  std::set<std::string> dashboard_files;
  for (const auto& entry : fs::directory_iterator(grafana_dir() / "dashboards")) {
    dashboard_files.insert(entry.path().filename().string());
  }
  EXPECT_EQ(dashboard_files, (std::set<std::string>{"kelvin-fleet.json"}));
  const json dashboard = read_json(grafana_dir() / "dashboards" / "kelvin-fleet.json");
  ASSERT_TRUE(dashboard.is_object()) << "kelvin-fleet.json is not valid JSON";
  EXPECT_GE(dashboard.value("schemaVersion", 0), 36);
  EXPECT_EQ(dashboard.value("uid", ""), "kelvin-fleet");

  // ---- The template variable: its query is what "All" and the repeated panels expand to.
  ASSERT_TRUE(dashboard.contains("templating"));
  const json variables = member(dashboard, "/templating/list");
  ASSERT_EQ(variables.size(), 1u) << "a variable was added without a check: " << variables.dump();
  const json& variable = variables[0];
  EXPECT_EQ(member(variable, "/name"), "device");
  EXPECT_EQ(member(variable, "/type"), "query");
  EXPECT_EQ(member(variable, "/datasource/uid"), kDataSourceUid);
  EXPECT_EQ(member(variable, "/multi"), true);
  EXPECT_EQ(member(variable, "/includeAll"), true);
  EXPECT_TRUE(member(variable, "/allValue").is_null())
      << "a custom All value would replace the regex of all devices the checks below assume";
  std::vector<std::string> all_devices;
  {
    SCOPED_TRACE("variable device");
    const json result = run_as_grafana(interpolate(variable.value("query", ""), View{}));
    const auto series = series_of(result);
    ASSERT_EQ(series.size(), 1u) << result.dump();
    for (const auto& row : series[0]["values"]) {
      EXPECT_EQ(row[0], "device");
      all_devices.push_back(row[1].get<std::string>());
    }
  }
  // Every device InfluxDB has readings of, whenever they were taken.
  ASSERT_EQ(all_devices, (std::vector<std::string>{"dev-a", "dev-a-old", "dev-b", "dev-c"}));

  // The selections a user may make; "All" is every value of the variable.
  const std::vector<std::vector<std::string>> selections{
      all_devices, {"dev-b", "dev-a-old"}, {"dev-a"}, {"dev-c"}, {"dev-a-old"}};
  const std::vector<std::int64_t> intervals{kMinute, 5 * kMinute};

  // ---- One check per (panel title, refId); each runs for every view the panel is drawn with.
  using Check = std::function<void(const json& panel, const json& target, const json& result, const View& view)>;
  const std::map<std::pair<std::string, std::string>, Check> checks{
      {{"Devices reporting", "A"},
       [&](const json& panel, const json&, const json& result, const View& view) {
         expect_stat(panel, result, static_cast<double>(aggregates(samples_, view, "seq").size()));
       }},
      {{"Readings in range", "A"},
       [&](const json& panel, const json&, const json& result, const View& view) {
         std::uint64_t readings = 0;
         for (const auto& sample : samples_) {
           if (contains(view.devices, sample.device) && in_range(sample.ts_ms)) ++readings;
         }
         expect_stat(panel, result, static_cast<double>(readings));
       }},
      {{"Devices offline now", "A"},
       [&](const json& panel, const json&, const json& result, const View& view) {
         expect_stat(panel, result, static_cast<double>(offline_now(view).size()));
       }},
      {{"Temperature · $device", "A"},
       [&](const json& panel, const json& target, const json& result, const View& view) {
         expect_band(panel, target, result, view, samples_, "temperature");
       }},
      {{"Humidity · $device", "A"},
       [&](const json& panel, const json& target, const json& result, const View& view) {
         expect_band(panel, target, result, view, samples_, "humidity");
       }},
      {{"Reading rate", "A"},
       [&](const json&, const json& target, const json& result, const View& view) {
         EXPECT_EQ(target.value("alias", ""), "$tag_device");
         const auto counts = aggregates(samples_, view, "seq");
         std::set<std::string> devices;
         for (const auto& s : series_of(result)) {
           const std::string device = device_tag(s);
           devices.insert(device);
           SCOPED_TRACE("device " + device);
           ASSERT_EQ(s["columns"], json::parse(R"(["time","rate"])"));
           const auto buckets = buckets_in_range(view.interval_ms);
           ASSERT_EQ(s["values"].size(), buckets.size()) << "fill(0): every bucket of the range";
           auto device_counts = counts.find(device);
           ASSERT_NE(device_counts, counts.end()) << "a rate for a device without readings in the range";
           const auto& by_bucket = device_counts->second;
           for (std::size_t i = 0; i < buckets.size(); ++i) {
             auto bucket = by_bucket.find(buckets[i]);
             const double readings = bucket == by_bucket.end() ? 0.0 : static_cast<double>(bucket->second.count);
             EXPECT_EQ(s["values"][i][0], buckets[i]);
             // readings per second over the interval: count * 1000 / interval_ms
             EXPECT_DOUBLE_EQ(s["values"][i][1].get<double>(),
                              readings * 1000.0 / static_cast<double>(view.interval_ms))
                 << "bucket " << buckets[i];
           }
         }
         EXPECT_EQ(devices, keys_of(counts));
       }},
      {{"Devices offline", "A"},
       [&](const json&, const json& target, const json& result, const View& view) {
         EXPECT_EQ(target.value("resultFormat", ""), "table");
         const auto expected = offline_now(view);
         std::set<std::string> devices;
         for (const auto& s : series_of(result)) {
           const std::string device = device_tag(s);
           devices.insert(device);
           SCOPED_TRACE("device " + device);
           ASSERT_EQ(s["columns"], json::parse(R"(["time","state","firmware","dropped"])"));
           ASSERT_EQ(s["values"].size(), 1u) << "one row per device: its latest status";
           auto status = expected.find(device);
           ASSERT_NE(status, expected.end()) << "listed as offline";
           EXPECT_EQ(s["values"][0], json::array({status->second.at_ms, status->second.state, status->second.firmware,
                                                  status->second.dropped_total}));
         }
         EXPECT_EQ(devices, keys_of(expected));
       }},
  };

  std::set<std::pair<std::string, std::string>> checked;
  ASSERT_TRUE(dashboard.contains("panels"));
  for (const auto& panel : member(dashboard, "/panels")) {
    const std::string title = panel.value("title", "");
    SCOPED_TRACE("panel \"" + title + "\"");
    const json targets = member(panel, "/targets");
    ASSERT_TRUE(targets.is_array() && !targets.empty()) << "a panel without queries";
    EXPECT_EQ(member(panel, "/datasource/uid"), kDataSourceUid);
    // A repeated panel is drawn once per selected device, with $device that one device.
    std::vector<View> views;
    const bool repeated = panel.value("repeat", "") == "device";
    for (const auto& selection : selections) {
      if (repeated) {
        for (const auto& device : selection) views.push_back(View{{device}, kMinute});
      } else {
        views.push_back(View{selection, kMinute});
      }
    }
    for (const auto& target : targets) {
      const std::string ref_id = target.value("refId", "");
      SCOPED_TRACE("target " + ref_id);
      EXPECT_TRUE(checked.insert({title, ref_id}).second) << "the same panel title and refId twice";
      EXPECT_EQ(member(target, "/datasource/uid"), kDataSourceUid);
      EXPECT_EQ(target.value("rawQuery", false), true);
      auto check = checks.find({title, ref_id});
      if (check == checks.end()) {
        ADD_FAILURE() << "no check for this panel's query: add one to this test";
        continue;
      }
      const std::string query = target.value("query", "");
      const bool uses_interval = query.find("$__interval") != std::string::npos;
      for (View view : views) {
        for (const std::int64_t interval : intervals) {
          if (!uses_interval && interval != intervals.front()) continue;
          view.interval_ms = interval;
          const std::string influxql = interpolate(query, view);
          SCOPED_TRACE(influxql);
          check->second(panel, target, run_as_grafana(influxql), view);
        }
      }
    }
  }
  for (const auto& [key, check] : checks) {
    EXPECT_TRUE(checked.contains(key)) << "checked panel \"" << key.first << "\" (" << key.second
                                       << ") is not in the dashboard";
  }
}

// The provisioning files refer to what the dashboard uses and keep credentials out of the file.
// (No YAML parser among the project's dependencies: these are line checks on files we own.)
TEST(GrafanaProvisioning, TheDataSourceIsTheDashboardsOverVerifiedHttpsWithoutCredentials) {
  const std::string datasource =
      read_file_text(grafana_dir() / "provisioning" / "datasources" / "kelvin-influxdb.yaml");
  using ::testing::HasSubstr;
  EXPECT_THAT(datasource, HasSubstr("uid: kelvin-influxdb\n"));
  EXPECT_THAT(datasource, HasSubstr("type: influxdb\n"));
  EXPECT_THAT(datasource, HasSubstr("url: https://"));
  EXPECT_THAT(datasource, HasSubstr("dbName: kelvin\n"));
  EXPECT_THAT(datasource, HasSubstr("tlsAuthWithCACert: true\n"));
  EXPECT_THAT(datasource, HasSubstr("tlsSkipVerify: false\n"));
  EXPECT_THAT(datasource, HasSubstr("basicAuth: true\n"));
  // Every credential is an environment lookup or a file reference, never a literal.
  std::istringstream lines(datasource);
  int secrets = 0;
  for (std::string line; std::getline(lines, line);) {
    for (const char* key : {"basicAuthUser:", "basicAuthPassword:", "password:", "user:", "tlsCACert:"}) {
      auto at = line.find(key);
      if (at == std::string::npos || line.find('#') < at) continue;
      if (at > 0 && line[at - 1] != ' ') continue;  // "password:" inside "basicAuthPassword:"
      ++secrets;
      std::string value = line.substr(at + std::string(key).size());
      value.erase(0, value.find_first_not_of(' '));
      EXPECT_EQ(value.substr(0, 1), "$") << line;
    }
  }
  EXPECT_EQ(secrets, 3) << "basicAuthUser, basicAuthPassword, tlsCACert";

  const std::string provider = read_file_text(grafana_dir() / "provisioning" / "dashboards" / "kelvin.yaml");
  EXPECT_THAT(provider, HasSubstr("type: file\n"));
  EXPECT_THAT(provider, HasSubstr("path: /"));
}

}  // namespace
