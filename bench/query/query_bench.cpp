// The harness of `make bench-query` (bench/query/run starts InfluxDB and the gateway and calls it):
// how fast a dashboard's series query is answered over a year of one-minute readings from 100
// devices, by the embedded store, by the gateway's HTTPS API, and by InfluxDB 1.x holding the same
// readings. A plain program, not a test: nothing is asserted.
//
//   query_bench fill --store-dir DIR --devices N --days D
//       fills DIR/telemetry.db through Store::commit (fill.hpp), or reuses or resumes a fill there;
//       prints the fill record (DIR/fill.txt) on stdout
//   query_bench load-influx --store-dir DIR --influx-port P --ca-file F --database DB
//       exports the store into InfluxDB with the gateway's exporter (influx_load.hpp), unless the
//       database already holds every reading
//   query_bench measure --store-dir DIR --api-port P --influx-port P --ca-file F --database DB
//       times the queries and prints the results as Markdown (measure.hpp)
//
// Secrets come from the environment, never the command line: KELVIN_INFLUX_USERNAME and
// KELVIN_INFLUX_PASSWORD (InfluxDB), KELVIN_BENCH_API_USER and KELVIN_BENCH_API_PASSWORD (the
// gateway's sign-in).

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>

#include "fill.hpp"
#include "influx_load.hpp"
#include "kelvin/curl/curl_support.hpp"
#include "measure.hpp"

namespace {

using namespace kelvin::bench;

int fail(const kelvin::Error& error) {
  std::fprintf(stderr, "query_bench: %s\n", error.message.c_str());
  return 1;
}

std::optional<std::string> environment(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

kelvin::Result<FillRecord> complete_fill(const std::filesystem::path& store_dir) {
  auto record = read_fill_record(store_dir / "fill.txt");
  if (record && !record->complete) {
    return kelvin::make_error(kelvin::Errc::invalid_argument, "the fill in " + store_dir.string() + " is incomplete");
  }
  return record;
}

int run_fill(const std::filesystem::path& store_dir, const FillOptions& options) {
  auto record = fill(store_dir, options);
  if (!record) return fail(record.error());
  std::printf("devices=%d\ndays=%d\nreadings=%llu\ncommit_readings=%zu\nfill_seconds=%.1f\n", record->shape.devices,
              record->shape.days, static_cast<unsigned long long>(record->shape.readings()), record->commit_readings,
              record->fill_seconds);
  return 0;
}

kelvin::Result<kelvin::influx::Credentials> influx_credentials() {
  auto loaded = kelvin::influx::load_credentials(std::nullopt);
  if (!loaded) return std::move(loaded).error();
  if (!*loaded) return kelvin::make_error(kelvin::Errc::invalid_argument, "KELVIN_INFLUX_USERNAME/PASSWORD are unset");
  return **loaded;
}

// Loads unless the database already holds exactly the store's readings (a reused data dir); a
// database holding anything else is dropped first.
int run_load(const std::filesystem::path& store_dir, InfluxTarget target) {
  auto record = complete_fill(store_dir);
  if (!record) return fail(record.error());
  auto credentials = influx_credentials();
  if (!credentials) return fail(credentials.error());
  target.credentials = *credentials;
  HttpsClient client = influx_client(target);
  auto held = count_readings(client, target.database);
  if (held && *held == record->shape.readings()) {
    std::printf("reused=1\npoints=%llu\n", static_cast<unsigned long long>(*held));
    return 0;
  }
  if (auto dropped = influx_statement(client, "", "DROP DATABASE \"" + target.database + "\""); !dropped) {
    return fail(dropped.error());
  }
  auto seconds = load_into_influx(store_dir / "telemetry.db", target, record->shape.readings());
  if (!seconds) return fail(seconds.error());
  auto counted = count_readings(client, target.database);
  if (!counted) return fail(counted.error());
  std::printf("reused=0\npoints=%llu\nload_seconds=%.1f\n", static_cast<unsigned long long>(*counted), *seconds);
  if (*counted != record->shape.readings()) {
    std::fprintf(stderr, "query_bench: InfluxDB holds %llu readings, the store %llu\n",
                 static_cast<unsigned long long>(*counted), static_cast<unsigned long long>(record->shape.readings()));
    return 1;
  }
  return 0;
}

int run_measure(MeasureOptions options) {
  auto record = complete_fill(options.store_dir);
  if (!record) return fail(record.error());
  options.shape = record->shape;
  auto credentials = influx_credentials();
  if (!credentials) return fail(credentials.error());
  options.influx.credentials = *credentials;
  auto user = environment("KELVIN_BENCH_API_USER");
  auto password = environment("KELVIN_BENCH_API_PASSWORD");
  if (!user || !password) {
    return fail({kelvin::Errc::invalid_argument, "KELVIN_BENCH_API_USER/PASSWORD are unset"});
  }
  options.api_user = *user;
  options.api_password = *password;
  auto measured = measure(options, stdout);
  return measured ? 0 : fail(measured.error());
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Dashboard query latency: the kelvin store, the gateway's HTTPS API and InfluxDB on the same data"};
  app.require_subcommand(1);
  std::filesystem::path store_dir;
  InfluxTarget influx;

  FillOptions fill_options;
  auto* fill_command = app.add_subcommand("fill", "fill (or reuse, or resume) the store");
  fill_command->add_option("--store-dir", store_dir, "the directory of the store")->required();
  fill_command->add_option("--devices", fill_options.devices)->check(CLI::Range(1, 100'000));
  fill_command->add_option("--days", fill_options.days)->check(CLI::Range(1, 3650));
  fill_command->add_option("--commit-readings", fill_options.commit_readings, "readings per commit")
      ->check(CLI::Range(std::size_t{1}, kMaxCommitReadings));

  auto add_influx = [&](CLI::App* command) {
    command->add_option("--influx-port", influx.port, "InfluxDB's HTTPS port on 127.0.0.1")->required();
    command->add_option("--ca-file", influx.ca_file, "the CA of InfluxDB's (and the gateway's) certificate")
        ->required()
        ->check(CLI::ExistingFile);
    command->add_option("--database", influx.database, "the InfluxDB database")->required();
  };
  auto* load_command = app.add_subcommand("load-influx", "export the store into InfluxDB");
  load_command->add_option("--store-dir", store_dir)->required();
  add_influx(load_command);

  MeasureOptions measure_options;
  auto* measure_command = app.add_subcommand("measure", "time the queries");
  measure_command->add_option("--store-dir", store_dir)->required();
  measure_command->add_option("--api-port", measure_options.api_port, "the gateway's HTTPS port on 127.0.0.1")
      ->required();
  measure_command->add_option("--queries", measure_options.queries)->check(CLI::PositiveNumber);
  measure_command->add_option("--warmup", measure_options.warmup);
  measure_command->add_option("--seed", measure_options.seed);
  add_influx(measure_command);
  CLI11_PARSE(app, argc, argv);

  if (auto initialised = kelvin::curl::ensure_initialised(); !initialised) return fail(initialised.error());
  if (*fill_command) return run_fill(store_dir, fill_options);
  if (*load_command) return run_load(store_dir, influx);
  measure_options.store_dir = store_dir;
  measure_options.api_ca_file = influx.ca_file;
  measure_options.influx = influx;
  return run_measure(measure_options);
}
