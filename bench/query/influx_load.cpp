#include "influx_load.hpp"

#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <thread>

#include "kelvin/core/time_arguments.hpp"
#include "kelvin/gateway/influx_exporter.hpp"
#include "kelvin/influx/writer.hpp"
#include "kelvin/store/store.hpp"

namespace kelvin::bench {
namespace {

using Clock = std::chrono::steady_clock;

// Write failures the exporter may retry before the load gives up: it would retry for ever, and a
// run that cannot load is better stopped with InfluxDB's words than left hanging.
constexpr std::uint64_t kMaxWriteFailures = 10;

std::string base_url(const InfluxTarget& target) {
  return "https://localhost:" + std::to_string(target.port);
}

Result<std::unique_ptr<influx::Writer>> make_writer(const InfluxTarget& target) {
  influx::WriterOptions options;
  options.url = base_url(target);
  options.database = target.database;
  options.ca_file = target.ca_file;
  options.credentials = target.credentials;
  options.timeout = std::chrono::seconds(60);  // a large gzipped batch while InfluxDB compacts
  return influx::Writer::create(std::move(options));
}

// Waits until the exporter has delivered `readings` (or failed too often), printing progress.
Result<void> follow(gateway::InfluxExporter& exporter, std::uint64_t readings) {
  const auto start = Clock::now();
  auto last_report = start;
  for (;;) {
    const auto stats = exporter.stats();
    const std::uint64_t done = stats.readings_exported + stats.points_rejected + stats.readings_expired;
    if (stats.points_rejected + stats.readings_expired > 0) {
      return make_error(Errc::invalid_argument, "InfluxDB refused " + std::to_string(stats.points_rejected) +
                                                    " points; " + std::to_string(stats.readings_expired) + " expired");
    }
    if (stats.write_failures > kMaxWriteFailures) {
      return make_error(Errc::io, "writes to InfluxDB keep failing: " + stats.last_error);
    }
    const bool finished = done >= readings;
    if (finished || Clock::now() - last_report >= std::chrono::seconds(2)) {
      last_report = Clock::now();
      const double elapsed = std::chrono::duration<double>(last_report - start).count();
      const double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0;
      std::fprintf(stderr, "influx load: %5.1f %% (%llu of %llu readings), %.0f points/s, %.0f s left\n",
                   100.0 * static_cast<double>(done) / static_cast<double>(readings),
                   static_cast<unsigned long long>(done), static_cast<unsigned long long>(readings), rate,
                   rate > 0 ? static_cast<double>(readings - done) / rate : 0.0);
    }
    if (finished) return {};
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace

HttpsClient influx_client(const InfluxTarget& target) {
  HttpsClientOptions options;
  options.port = target.port;
  options.ca_file = target.ca_file;
  options.username = target.credentials.username;
  options.password = target.credentials.password;
  return HttpsClient(std::move(options));
}

Result<std::string> influx_statement(HttpsClient& client, const std::string& database, const std::string& influxql) {
  std::string form = "q=" + client.escape(influxql) + "&epoch=ms";
  if (!database.empty()) form += "&db=" + client.escape(database);
  auto answer = client.post("/query", "application/x-www-form-urlencoded", form);
  const auto json = nlohmann::json::parse(answer.body, nullptr, false);
  const bool refused = answer.status != 200 || json.is_discarded() || json.contains("error") ||
                       (json.contains("results") && !json["results"].empty() && json["results"][0].contains("error"));
  if (refused) {
    return make_error(Errc::io, "InfluxDB answered `" + influxql + "` with " + std::to_string(answer.status) + " " +
                                    answer.error + answer.body);
  }
  return answer.body;
}

Result<std::uint64_t> count_readings(HttpsClient& client, const std::string& database) {
  auto body = influx_statement(client, database, "SELECT count(seq) FROM kelvin_reading");
  if (!body) return std::move(body).error();
  const auto json = nlohmann::json::parse(*body, nullptr, false);
  try {
    const auto& statement = json.at("results").at(0);
    if (!statement.contains("series")) return std::uint64_t{0};
    return statement.at("series").at(0).at("values").at(0).at(1).get<std::uint64_t>();
  } catch (const nlohmann::json::exception&) {
    return make_error(Errc::corrupt, "unexpected answer to the count: " + *body);
  }
}

Result<double> load_into_influx(const std::filesystem::path& db_file, const InfluxTarget& target,
                                std::uint64_t readings) {
  HttpsClient client = influx_client(target);
  if (auto created = influx_statement(client, "", "CREATE DATABASE \"" + target.database + "\""); !created) {
    return std::move(created).error();
  }
  auto writer = make_writer(target);
  if (!writer) return std::move(writer).error();
  gateway::ExporterOptions options;
  options.name = "bench-query-" + target.database + "-" + std::to_string(wall_clock_ms());
  gateway::InfluxExporter exporter(
      db_file, store::StoreOptions{}, [&writer](std::string_view lines) { return (*writer)->write(lines); }, options,
      wall_clock_ms);
  const auto start = Clock::now();
  if (auto started = exporter.start(); !started) return std::move(started).error();
  auto followed = follow(exporter, readings);
  exporter.stop();
  if (!followed) return std::move(followed).error();
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace kelvin::bench
