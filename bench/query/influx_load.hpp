#pragma once
// Loading the store's readings into InfluxDB the way the gateway does: its InfluxExporter
// (libs/gateway) from the start of the store's export log, with its default batches, read-ahead
// and gzip, through influx::Writer over HTTPS with Basic auth. So InfluxDB holds exactly what a
// gateway exporting this store would have written: measurement kelvin_reading, tag device,
// fields temperature, humidity and seq, millisecond timestamps (docs/influxdb.md).

#include <cstdint>
#include <filesystem>
#include <string>

#include "common/https_client.hpp"
#include "kelvin/core/result.hpp"
#include "kelvin/influx/credentials.hpp"

namespace kelvin::bench {

struct InfluxTarget {
  int port = 0;  // https://localhost:<port>, pinned to 127.0.0.1
  std::filesystem::path ca_file;
  std::string database;
  influx::Credentials credentials;
};

HttpsClient influx_client(const InfluxTarget& target);

// Runs an InfluxQL statement (POST /query, so that CREATE and DROP are allowed); the answer's body,
// or an error naming the statement and InfluxDB's words.
Result<std::string> influx_statement(HttpsClient& client, const std::string& database, const std::string& influxql);

// SELECT count(seq) FROM kelvin_reading: how many readings the database holds (0 when none).
Result<std::uint64_t> count_readings(HttpsClient& client, const std::string& database);

// Creates the database and exports `db_file` into it until all `readings` are in, with progress
// on stderr. Uses an export cursor of its own, named after the database and the time, so loading
// again (into a fresh database) starts from the beginning. Returns the seconds it took.
Result<double> load_into_influx(const std::filesystem::path& db_file, const InfluxTarget& target,
                                std::uint64_t readings);

}  // namespace kelvin::bench
