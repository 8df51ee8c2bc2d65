// The harness of `make bench-export` (bench/export/run starts InfluxDB and calls it): the gateway's
// InfluxDB export throughput against InfluxDB's own ceiling on the same machine, in one run.
//
// It fills a kelvin store with N readings, then runs, alternating ABBA (ceiling, exporter,
// exporter, ceiling, ...) so that a drift of the machine or of InfluxDB over the run weighs on both
// sides alike:
//   ceiling   the store's readings as line protocol (append_reading_line), pre-built in batches
//             before the clock starts, posted one after the other with influx::Writer: what
//             InfluxDB and the write path (TLS, auth, gzip) take at best;
//   exporter  the gateway's InfluxExporter from cursor 0 as the gateway runs it (start(): its export
//             thread writing and moving the cursor while its reader thread reads and formats the
//             next batches), until every reading is exported, with the same kind of Writer.
// With --sequential a third kind runs in every round: the same exporter driven by step() until
// idle (one batch after the other, no read-ahead), reported beside the others but not part of
// the ratio.
// Every phase writes to a database of its own, so each starts from the same InfluxDB state; at the
// end every database is counted (SELECT count(seq)) and compared with N, mismatches printed. After
// the phases the exporter's parts (store read, formatting, gzip) are timed alone, to say where its
// CPU goes.
// Nothing is asserted: it prints a Markdown report and exits 0 unless the setup failed.
//
// Credentials come from KELVIN_INFLUX_USERNAME / KELVIN_INFLUX_PASSWORD (never the command line).

#include <curl/curl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "kelvin/gateway/influx_exporter.hpp"
#include "kelvin/gateway/influx_points.hpp"
#include "kelvin/influx/credentials.hpp"
#include "kelvin/influx/gzip.hpp"
#include "kelvin/influx/writer.hpp"
#include "kelvin/store/store.hpp"

namespace {

using Clock = std::chrono::steady_clock;

// 2026-01-01T00:00:00Z, a Thursday: the start of one of InfluxDB's 7-day shard groups (they are
// aligned to the Unix epoch, also a Thursday), so at a reading per second per device up to 6
// days of readings land in one shard in every database.
constexpr std::int64_t kT0 = 1'767'225'600'000;
constexpr std::int64_t kIntervalMs = 1000;
constexpr std::size_t kFillCommitReadings = 5000;  // the ingest's largest commits

struct Settings {
  std::string url;
  std::filesystem::path ca_file;
  std::filesystem::path store_dir;
  std::size_t readings = 1'000'000;
  std::size_t devices = 100;
  std::size_t batch = 5000;        // readings per ceiling write
  std::size_t exporter_batch = 0;  // 0: ExporterOptions' default
  int rounds = 2;                  // ceiling and exporter phases each
  bool gzip = true;
  bool sequential = false;  // also run the exporter driven by step() (not part of the ratio)
  int influxd_pid = 0;      // 0: influxd's CPU is not reported
  std::optional<kelvin::influx::Credentials> credentials;
};

double seconds(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

double process_cpu_s() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto to_s = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6; };
  return to_s(usage.ru_utime) + to_s(usage.ru_stime);
}

// utime + stime of another process from /proc/<pid>/stat (fields 14 and 15), in seconds; 0 if
// unreadable.
double other_process_cpu_s(int pid) {
  if (pid <= 0) return 0;
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto paren = text.rfind(')');
  if (paren == std::string::npos) return 0;
  std::istringstream fields(text.substr(paren + 1));
  std::string field;
  double ticks = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i >= 14) ticks += std::stod(field);
  }
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// VmRSS or VmHWM of this process in MiB (0 if unreadable).
double status_mib(const std::string& key) {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(key + ":", 0) == 0) return std::stod(line.substr(key.size() + 1)) / 1024.0;
  }
  return 0;
}

// Linux resets VmHWM to the current RSS when "5" is written to clear_refs, which gives a peak per
// phase instead of the process's peak so far.
bool reset_peak_rss() {
  std::ofstream out("/proc/self/clear_refs");
  out << "5";
  out.flush();
  return static_cast<bool>(out);
}

// POST /query with libcurl (the Writer only writes). TLS verified against the given CA only.
class QueryClient {
 public:
  explicit QueryClient(const Settings& settings) : settings_(settings) {}

  // The answer's body, or std::nullopt (with a message on stderr) when no 2xx answer came.
  std::optional<std::string> post(const std::string& database, const std::string& influxql) const {
    CURL* curl = curl_easy_init();
    if (curl == nullptr) return std::nullopt;
    std::string form = "epoch=ms&q=" + escape(curl, influxql);
    if (!database.empty()) form += "&db=" + escape(curl, database);
    std::string body;
    const std::string url = settings_.url + "/query";
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, form.c_str());
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 120L);
    curl_easy_setopt(curl, CURLOPT_CAINFO, settings_.ca_file.c_str());
    curl_easy_setopt(curl, CURLOPT_CAPATH, static_cast<const char*>(nullptr));
    if (settings_.credentials) {
      curl_easy_setopt(curl, CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC));
      curl_easy_setopt(curl, CURLOPT_USERNAME, settings_.credentials->username.c_str());
      curl_easy_setopt(curl, CURLOPT_PASSWORD, settings_.credentials->password.c_str());
    }
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &append);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
    const CURLcode rc = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(curl);
    if (rc != CURLE_OK || status / 100 != 2) {
      std::fprintf(stderr, "query `%s` failed: %s (HTTP %ld) %s\n", influxql.c_str(), curl_easy_strerror(rc), status,
                   body.c_str());
      return std::nullopt;
    }
    return body;
  }

  // count(seq) of kelvin_reading in `database`; std::nullopt when the query failed. An empty
  // database answers without series: 0.
  std::optional<std::uint64_t> count_readings(const std::string& database) const {
    auto body = post(database, "SELECT count(seq) FROM kelvin_reading");
    if (!body) return std::nullopt;
    auto json = nlohmann::json::parse(*body, nullptr, false);
    try {
      const auto& statement = json.at("results").at(0);
      if (statement.contains("error")) {
        std::fprintf(stderr, "count in %s: %s\n", database.c_str(), body->c_str());
        return std::nullopt;
      }
      if (!statement.contains("series")) return 0;
      return statement.at("series").at(0).at("values").at(0).at(1).get<std::uint64_t>();
    } catch (const nlohmann::json::exception&) {
      std::fprintf(stderr, "count in %s: unexpected answer %s\n", database.c_str(), body->c_str());
      return std::nullopt;
    }
  }

 private:
  static std::string escape(CURL* curl, const std::string& text) {
    char* escaped = curl_easy_escape(curl, text.c_str(), static_cast<int>(text.size()));
    std::string out = escaped != nullptr ? escaped : "";
    curl_free(escaped);
    return out;
  }
  static size_t append(char* data, size_t size, size_t count, void* user) {
    static_cast<std::string*>(user)->append(data, size * count);
    return size * count;
  }

  const Settings& settings_;
};

struct PhaseResult {
  std::string kind;  // "ceiling", "exporter" or "sequential"
  int round = 0;
  std::string database;
  std::uint64_t points = 0;
  double wall_s = 0;
  double cpu_s = 0;  // this process
  double influxd_cpu_s = 0;
  double rss_start_mib = 0;
  double rss_peak_mib = 0;
  std::uint64_t writes = 0;
  std::uint64_t failed_writes = 0;
  std::string last_error;
};

// A phase that could not run: no points, reported as such.
PhaseResult failed_phase(std::string kind, std::string database) {
  PhaseResult result;
  result.kind = std::move(kind);
  result.database = std::move(database);
  result.last_error = "the phase could not be set up (see stderr)";
  return result;
}

// Measures one phase around `body` (which fills points, writes, failed_writes, last_error).
template <class Body>
PhaseResult measure(const Settings& settings, std::string kind, std::string database, Body&& body) {
  PhaseResult result;
  result.kind = std::move(kind);
  result.database = std::move(database);
  reset_peak_rss();
  result.rss_start_mib = status_mib("VmRSS");
  const double cpu0 = process_cpu_s();
  const double influxd0 = other_process_cpu_s(settings.influxd_pid);
  const auto t0 = Clock::now();
  body(result);
  result.wall_s = seconds(Clock::now() - t0);
  result.cpu_s = process_cpu_s() - cpu0;
  result.influxd_cpu_s = other_process_cpu_s(settings.influxd_pid) - influxd0;
  result.rss_peak_mib = status_mib("VmHWM");
  std::fprintf(stderr, "%-8s %-12s %llu points in %.2f s: %.0f points/s\n", result.kind.c_str(),
               result.database.c_str(), static_cast<unsigned long long>(result.points), result.wall_s,
               static_cast<double>(result.points) / result.wall_s);
  return result;
}

std::unique_ptr<kelvin::influx::Writer> make_writer(const Settings& settings, const std::string& database) {
  kelvin::influx::WriterOptions options;
  options.url = settings.url;
  options.database = database;
  options.ca_file = settings.ca_file;
  options.credentials = settings.credentials;
  options.gzip_body = settings.gzip;
  auto writer = kelvin::influx::Writer::create(std::move(options));
  if (!writer) {
    std::fprintf(stderr, "writer: %s\n", writer.error().message.c_str());
    return nullptr;
  }
  return std::move(writer).value();
}

std::string device_name(std::size_t index) {
  std::string digits = std::to_string(index);
  return "bench-" + std::string(digits.size() < 3 ? 3 - digits.size() : 0, '0') + digits;
}

// N readings, device after device within each commit (round robin), each device's seqs
// consecutive; returns the fill rate for the report.
bool fill_store(kelvin::store::Store& store, const Settings& settings, double& readings_per_s) {
  std::vector<std::string> devices;
  for (std::size_t d = 0; d < settings.devices; ++d) devices.push_back(device_name(d));
  const auto t0 = Clock::now();
  kelvin::store::IngestBatch batch;
  for (std::size_t r = 0; r < settings.readings; ++r) {
    const std::size_t d = r % settings.devices;
    const std::size_t n = r / settings.devices;  // 0-based reading number of device d
    kelvin::proto::Reading reading;
    reading.seq = n + 1;
    reading.ts_ms = kT0 + static_cast<std::int64_t>(n) * kIntervalMs + static_cast<std::int64_t>(d);
    reading.set(kelvin::proto::Quantity::temperature, 20.0 + static_cast<double>((n + d) % 100) / 10.0);
    reading.set(kelvin::proto::Quantity::humidity, 40.0 + static_cast<double>((n * 7 + d) % 300) / 10.0);
    batch.readings.push_back({devices[d], reading});
    if (batch.readings.size() == kFillCommitReadings || r + 1 == settings.readings) {
      auto committed = store.commit(batch, kT0);
      if (!committed) {
        std::fprintf(stderr, "commit: %s\n", committed.error().message.c_str());
        return false;
      }
      batch.readings.clear();
    }
  }
  readings_per_s = static_cast<double>(settings.readings) / seconds(Clock::now() - t0);
  return true;
}

// The ceiling's bodies: the store's readings in export order, formatted exactly as the exporter
// formats them, `batch` readings per body.
std::vector<std::string> build_bodies(kelvin::store::Store& store, std::size_t batch) {
  std::vector<std::string> bodies;
  std::uint64_t position = 0;
  for (;;) {
    auto read = store.read_export_batch(position, batch);
    if (!read) {
      std::fprintf(stderr, "read_export_batch: %s\n", read.error().message.c_str());
      return {};
    }
    if (read->readings.empty()) break;
    std::string body;
    for (const auto& exported : read->readings) {
      if (!kelvin::gateway::append_reading_line(body, exported)) return {};
    }
    bodies.push_back(std::move(body));
    position = read->end_position;
  }
  return bodies;
}

PhaseResult run_ceiling(const Settings& settings, const std::vector<std::string>& bodies, std::size_t lines_per_body,
                        const std::string& database) {
  auto writer = make_writer(settings, database);
  return measure(settings, "ceiling", database, [&](PhaseResult& result) {
    if (!writer) return;
    for (std::size_t i = 0; i < bodies.size(); ++i) {
      const std::string& body = bodies[i];
      // A failed write is repeated, like the exporter does (without its backoff), a few times.
      for (int attempt = 0; attempt < 5; ++attempt) {
        ++result.writes;
        const auto written = writer->write(body);
        if (written.status == kelvin::influx::WriteStatus::written) {
          const std::size_t remaining = settings.readings - i * lines_per_body;
          result.points += std::min(lines_per_body, remaining);
          break;
        }
        ++result.failed_writes;
        result.last_error = std::string(kelvin::influx::to_string(written.status)) + ": " + written.message;
      }
    }
  });
}

std::int64_t system_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

kelvin::gateway::ExporterOptions exporter_options(const Settings& settings, const std::string& database) {
  kelvin::gateway::ExporterOptions options;
  options.name = database;  // a cursor of its own per phase, starting at 0
  if (settings.exporter_batch > 0) options.batch_readings = settings.exporter_batch;
  return options;
}

void copy_stats(const kelvin::gateway::ExporterStats& stats, PhaseResult& result) {
  result.points = stats.readings_exported;
  result.writes = stats.writes;
  result.failed_writes = stats.write_failures;
  result.last_error = stats.last_error;
}

// The gateway's exporter as the gateway runs it: start() (its export thread and its read-ahead
// reader, each with a store connection of its own), until every reading is exported, then stop().
// The harness's thread only looks at stats() every 2 ms.
PhaseResult run_exporter(const Settings& settings, const std::filesystem::path& db_file, const std::string& database) {
  auto writer = make_writer(settings, database);
  if (!writer) return failed_phase("exporter", database);
  kelvin::gateway::InfluxExporter exporter(
      db_file, kelvin::store::StoreOptions{}, [&writer](std::string_view lines) { return writer->write(lines); },
      exporter_options(settings, database), system_now_ms);
  return measure(settings, "exporter", database, [&](PhaseResult& result) {
    if (auto started = exporter.start(); !started) {
      std::fprintf(stderr, "exporter start: %s\n", started.error().message.c_str());
      return;
    }
    for (;;) {
      const auto stats = exporter.stats();
      if (stats.readings_exported + stats.points_rejected + stats.readings_expired >= settings.readings) break;
      if (stats.write_failures > 5) break;  // it would retry for ever; the report shows the error
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    exporter.stop();
    copy_stats(exporter.stats(), result);
  });
}

// The same exporter driven by step() until idle (what unit tests and the Grafana test do): one
// batch after the other, no read-ahead. A comparison, not part of the ratio.
PhaseResult run_sequential(const Settings& settings, const std::filesystem::path& db_file,
                           const std::string& database) {
  auto writer = make_writer(settings, database);
  if (!writer) return failed_phase("sequential", database);
  kelvin::gateway::InfluxExporter exporter(
      db_file, kelvin::store::StoreOptions{}, [&writer](std::string_view lines) { return writer->write(lines); },
      exporter_options(settings, database), system_now_ms);
  if (auto loaded = exporter.load_cursor(); !loaded) {
    std::fprintf(stderr, "load_cursor: %s\n", loaded.error().message.c_str());
    return failed_phase("sequential", database);
  }
  return measure(settings, "sequential", database, [&](PhaseResult& result) {
    int failed_steps = 0;
    for (;;) {
      const auto step = exporter.step();
      if (step == kelvin::gateway::InfluxExporter::Step::idle) break;
      if (step == kelvin::gateway::InfluxExporter::Step::failed) {
        // The exporter's own thread would back off; here a short pause, and give up after a few.
        if (++failed_steps > 5) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
      }
    }
    copy_stats(exporter.stats(), result);
  });
}

// The exporter's work without InfluxDB, each part timed on its own (CPU seconds of this thread,
// after the phases, with the store in the page cache as in the exporter phases): reading the store
// in the exporter's batches, formatting line protocol, and gzip, which both phases do in the
// Writer.
struct Breakdown {
  double read_s = 0;
  double format_s = 0;
  double gzip_s = 0;
};

double thread_cpu_s() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

std::optional<Breakdown> measure_breakdown(const std::filesystem::path& db_file, std::size_t batch) {
  auto store = kelvin::store::Store::open(db_file);
  if (!store) return std::nullopt;
  Breakdown breakdown;
  std::uint64_t position = 0;
  for (;;) {
    double t0 = thread_cpu_s();
    auto read = store->read_export_batch(position, batch);
    breakdown.read_s += thread_cpu_s() - t0;
    if (!read) return std::nullopt;
    if (read->readings.empty()) break;
    t0 = thread_cpu_s();
    std::string body;
    for (const auto& exported : read->readings) {
      if (!kelvin::gateway::append_reading_line(body, exported)) return std::nullopt;
    }
    breakdown.format_s += thread_cpu_s() - t0;
    t0 = thread_cpu_s();
    if (!kelvin::influx::gzip(body)) return std::nullopt;
    breakdown.gzip_s += thread_cpu_s() - t0;
    position = read->end_position;
  }
  return breakdown;
}

double rate(std::uint64_t points, double wall_s) {
  return wall_s > 0 ? static_cast<double>(points) / wall_s : 0;
}
double per_100k(double cpu_s, std::uint64_t points) {
  return points > 0 ? cpu_s / static_cast<double>(points) * 100'000 : 0;
}

struct Totals {
  std::uint64_t points = 0;
  double wall_s = 0;
  double cpu_s = 0;
  double influxd_cpu_s = 0;
  double rss_peak_mib = 0;
  double rss_growth_mib = 0;
};

Totals totals(const std::vector<PhaseResult>& phases, const std::string& kind) {
  Totals t;
  for (const auto& p : phases) {
    if (p.kind != kind) continue;
    t.points += p.points;
    t.wall_s += p.wall_s;
    t.cpu_s += p.cpu_s;
    t.influxd_cpu_s += p.influxd_cpu_s;
    t.rss_peak_mib = std::max(t.rss_peak_mib, p.rss_peak_mib);
    t.rss_growth_mib = std::max(t.rss_growth_mib, p.rss_peak_mib - p.rss_start_mib);
  }
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  Settings settings;
  CLI::App app{"InfluxDB export throughput: the gateway's exporter against InfluxDB's own ceiling"};
  app.add_option("--url", settings.url, "InfluxDB base URL (https://localhost:PORT)")->required();
  app.add_option("--ca-file", settings.ca_file, "the CA of InfluxDB's certificate")
      ->required()
      ->check(CLI::ExistingFile);
  app.add_option("--store-dir", settings.store_dir, "an empty directory for the kelvin store")->required();
  app.add_option("--readings", settings.readings, "readings stored and exported per phase")->check(CLI::PositiveNumber);
  app.add_option("--devices", settings.devices, "devices the readings come from")->check(CLI::PositiveNumber);
  app.add_option("--batch", settings.batch, "readings per ceiling write")->check(CLI::PositiveNumber);
  app.add_option("--exporter-batch", settings.exporter_batch, "the exporter's batch_readings (0: its default)");
  app.add_option("--rounds", settings.rounds, "phases of each kind, alternated ABBA")->check(CLI::PositiveNumber);
  app.add_option("--influxd-pid", settings.influxd_pid, "influxd's pid, to report its CPU per phase");
  app.add_flag("--sequential", settings.sequential,
               "also run the exporter driven by step(), without read-ahead, in every round (reported, not in the "
               "ratio)");
  bool no_gzip = false;
  app.add_flag("--no-gzip", no_gzip, "send write bodies uncompressed (both phases)");
  CLI11_PARSE(app, argc, argv);
  settings.gzip = !no_gzip;

  auto credentials = kelvin::influx::load_credentials(std::nullopt);
  if (!credentials) {
    std::fprintf(stderr, "credentials: %s\n", credentials.error().message.c_str());
    return 1;
  }
  settings.credentials = std::move(credentials).value();
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return 1;
  const QueryClient influx(settings);

  // ---- the store ----
  const auto db_file = settings.store_dir / "telemetry.db";
  auto store = kelvin::store::Store::open(db_file);
  if (!store) {
    std::fprintf(stderr, "store: %s\n", store.error().message.c_str());
    return 1;
  }
  double fill_rate = 0;
  std::fprintf(stderr, "filling the store with %zu readings from %zu devices\n", settings.readings, settings.devices);
  if (!fill_store(*store, settings, fill_rate)) return 1;
  std::vector<std::string> bodies = build_bodies(*store, settings.batch);
  if (bodies.empty()) return 1;
  std::size_t body_bytes = 0;
  for (const auto& body : bodies) body_bytes += body.size();
  const double bytes_per_point = static_cast<double>(body_bytes) / static_cast<double>(settings.readings);
  double gzip_share = 0;
  if (auto zipped = kelvin::influx::gzip(bodies.front())) {
    gzip_share = static_cast<double>(zipped->size()) / static_cast<double>(bodies.front().size());
  }

  const std::size_t exporter_batch =
      settings.exporter_batch > 0 ? settings.exporter_batch : kelvin::gateway::ExporterOptions{}.batch_readings;

  // ---- the phases, ABBA ----
  std::vector<std::string> kinds{"ceiling", "exporter"};
  if (settings.sequential) kinds.emplace_back("sequential");
  std::vector<PhaseResult> phases;
  std::map<std::string, int> runs;  // per kind, for database names
  for (int round = 1; round <= settings.rounds; ++round) {
    std::vector<std::string> order = kinds;
    if (round % 2 == 0) std::reverse(order.begin(), order.end());
    for (const auto& kind : order) {
      const std::string database = kind + std::to_string(++runs[kind]);
      if (!influx.post("", "CREATE DATABASE \"" + database + "\"")) return 1;
      if (kind == "ceiling") {
        phases.push_back(run_ceiling(settings, bodies, settings.batch, database));
      } else if (kind == "exporter") {
        phases.push_back(run_exporter(settings, db_file, database));
      } else {
        phases.push_back(run_sequential(settings, db_file, database));
      }
      phases.back().round = round;
    }
  }

  // ---- the report ----
  const auto ceiling = totals(phases, "ceiling");
  const auto exported = totals(phases, "exporter");
  const double ratio = rate(ceiling.points, ceiling.wall_s) > 0
                           ? rate(exported.points, exported.wall_s) / rate(ceiling.points, ceiling.wall_s)
                           : 0;

  std::printf(
      "%zu readings (temperature + humidity, one point each) from %zu devices; ceiling batches of %zu readings "
      "(pre-built), exporter batch %zu (%s); HTTPS + basic auth%s; line protocol %.1f bytes per point%s; store filled "
      "at %.0f readings/s (commits of %zu). Phases alternated ABBA over %d round(s), each into a fresh database.\n\n",
      settings.readings, settings.devices, settings.batch, exporter_batch,
      settings.exporter_batch > 0 ? "set" : "its default", settings.gzip ? " + gzip" : ", gzip off", bytes_per_point,
      settings.gzip ? (", gzip to " + std::to_string(static_cast<int>(gzip_share * 100 + 0.5)) + " %").c_str() : "",
      fill_rate, kFillCommitReadings, settings.rounds);

  std::printf(
      "| phase | database | points | s | points/s | bench CPU s per 100k | influxd CPU s per 100k | RSS MiB start → "
      "peak | writes | failed writes |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|\n");
  for (const auto& p : phases) {
    std::printf("| %s | %s | %llu | %.2f | %.0f | %.2f | %.2f | %.0f → %.0f | %llu | %llu |\n", p.kind.c_str(),
                p.database.c_str(), static_cast<unsigned long long>(p.points), p.wall_s, rate(p.points, p.wall_s),
                per_100k(p.cpu_s, p.points), per_100k(p.influxd_cpu_s, p.points), p.rss_start_mib, p.rss_peak_mib,
                static_cast<unsigned long long>(p.writes), static_cast<unsigned long long>(p.failed_writes));
  }
  std::printf("\n| | points/s | bench CPU s per 100k | influxd CPU s per 100k | peak RSS MiB (growth in phase) |\n");
  std::printf("|---|---|---|---|---|\n");
  std::vector<std::pair<const char*, Totals>> summary{{"ceiling (Writer alone)", ceiling}, {"exporter", exported}};
  if (settings.sequential) summary.emplace_back("exporter by step(), no read-ahead", totals(phases, "sequential"));
  for (const auto& [label, t] : summary) {
    std::printf("| %s | %.0f | %.2f | %.2f | %.0f (+%.0f) |\n", label, rate(t.points, t.wall_s),
                per_100k(t.cpu_s, t.points), per_100k(t.influxd_cpu_s, t.points), t.rss_peak_mib, t.rss_growth_mib);
  }
  std::printf("\n**Ratio exporter / ceiling: %.2f** (total points over total time of each kind)", ratio);
  {
    // Per round: the phases that ran next to each other.
    std::string per_round;
    for (int round = 1; round <= settings.rounds; ++round) {
      double ceiling_rate = 0;
      double exporter_rate = 0;
      for (const auto& p : phases) {
        if (p.round != round) continue;
        if (p.kind == "ceiling") ceiling_rate = rate(p.points, p.wall_s);
        if (p.kind == "exporter") exporter_rate = rate(p.points, p.wall_s);
      }
      char buffer[32];
      std::snprintf(buffer, sizeof buffer, "%s%.2f", per_round.empty() ? "" : ", ",
                    ceiling_rate > 0 ? exporter_rate / ceiling_rate : 0);
      per_round += buffer;
    }
    std::printf("; per round: %s.\n\n", per_round.c_str());
  }
  if (settings.sequential) {
    const auto sequential = totals(phases, "sequential");
    const double ceiling_rate = rate(ceiling.points, ceiling.wall_s);
    std::printf(
        "The same exporter driven by step() (one batch after the other, no read-ahead, as unit tests drive it): "
        "%.0f points/s, %.2f of the ceiling; %.2f s CPU per 100k.\n\n",
        rate(sequential.points, sequential.wall_s),
        ceiling_rate > 0 ? rate(sequential.points, sequential.wall_s) / ceiling_rate : 0,
        per_100k(sequential.cpu_s, sequential.points));
  }
  for (const auto& p : phases) {
    if (!p.last_error.empty()) std::printf("Last failed write of %s: %s\n\n", p.database.c_str(), p.last_error.c_str());
  }

  if (auto breakdown = measure_breakdown(db_file, exporter_batch)) {
    const auto n = static_cast<std::uint64_t>(settings.readings);
    std::printf(
        "Where the exporter's CPU goes, each part timed alone after the phases (CPU s per 100k readings): reading the "
        "store in batches of %zu %.2f, formatting line protocol %.2f, gzip %.2f (%s).\n\n",
        exporter_batch, per_100k(breakdown->read_s, n), per_100k(breakdown->format_s, n),
        per_100k(breakdown->gzip_s, n), settings.gzip ? "the Writer's, in both phases" : "off in this run");
  }
  std::printf("Count check (`SELECT count(seq) FROM kelvin_reading`, expected %zu in each):\n\n", settings.readings);
  std::printf("| database | count(seq) | |\n|---|---|---|\n");
  for (const auto& p : phases) {
    const auto count = influx.count_readings(p.database);
    if (!count) {
      std::printf("| %s | query failed | MISMATCH |\n", p.database.c_str());
    } else {
      std::printf("| %s | %llu | %s |\n", p.database.c_str(), static_cast<unsigned long long>(*count),
                  *count == settings.readings ? "ok" : "MISMATCH");
    }
  }
  return 0;
}
