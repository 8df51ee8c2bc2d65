// kelvin::influx::Writer against the real InfluxDB 1.x (Debian's influxd) over HTTPS with the
// installation's own PKI and authentication on: what it writes is what InfluxDB stores, and each
// way InfluxDB or the TLS layer says no comes back as the WriteStatus the exporter acts on.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "installation.hpp"
#include "kelvin/influx/line_protocol.hpp"
#include "kelvin/influx/writer.hpp"
#include "kelvin/testing/influx_server.hpp"

namespace {

using kelvin::influx::Credentials;
using kelvin::influx::Field;
using kelvin::influx::Point;
using kelvin::influx::Tag;
using kelvin::influx::Writer;
using kelvin::influx::WriteResult;
using kelvin::influx::WriterOptions;
using kelvin::influx::WriteStatus;
using kelvin::testing::InfluxServer;
using kelvin::testing::Installation;
using ::testing::HasSubstr;
using ::testing::Not;

std::string line(const Point& point) {
  std::string out;
  auto appended = kelvin::influx::append_line(out, point);
  EXPECT_TRUE(appended) << appended.error().message;
  return out;
}

std::string temperature_line(std::int64_t ts_ms, double temperature) {
  const std::vector<Tag> tags{{"device", "sensor-01"}};
  const std::vector<Field> fields{{"temperature", temperature}};
  return line(Point{"kelvin_reading", tags, fields, ts_ms});
}

// For failure messages: what the writer said.
std::string describe(const WriteResult& result) {
  return std::string(kelvin::influx::to_string(result.status)) + " (HTTP " + std::to_string(result.http_status) +
         "): " + result.message;
}

class InfluxWriter : public ::testing::Test {
 protected:
  void SetUp() override {
    influx_.create_database("kelvin");
    // A user that may only write, as docs/influxdb.md tells operators to create.
    influx_.query("", "CREATE USER \"writer\" WITH PASSWORD '" + password_ + "'");
    influx_.query("", "GRANT WRITE ON \"kelvin\" TO \"writer\"");
  }

  void TearDown() override {
    if (HasFailure()) std::cerr << "---- influxd log ----\n" << influx_.log();
  }

  WriterOptions options() const {
    WriterOptions options;
    options.url = influx_.url();
    options.database = "kelvin";
    options.ca_file = install_.pki_dir() / "ca.crt";
    options.credentials = Credentials{"writer", password_};
    return options;
  }

  std::unique_ptr<Writer> writer(const WriterOptions& options) const {
    auto created = Writer::create(options);
    if (!created) {
      ADD_FAILURE() << "Writer::create: " << created.error().message;
      return nullptr;
    }
    return std::move(created).value();
  }

  std::vector<nlohmann::json> readings() const { return influx_.rows("kelvin", "SELECT * FROM kelvin_reading"); }

  Installation install_;
  InfluxServer influx_{install_.server_tls()};
  std::string password_ = kelvin::testing::random_hex(24);
};

TEST_F(InfluxWriter, AGzippedWriteIsStoredAndReadsBackExactly) {
  const std::string state = R"(on "fire" \ now, really = yes)";
  const std::vector<Tag> first_tags{{"device", "sensor 01,b=c"}};
  const std::vector<Field> first_fields{
      {"temperature", 21.5}, {"humidity", 0.1}, {"seq", std::int64_t{42}}, {"state", std::string_view(state)}};
  const std::vector<Tag> second_tags{{"device", "sensor-02"}};
  const std::vector<Field> second_fields{{"temperature", -40.0}, {"seq", std::int64_t{-7}}};
  const std::string lines = line(Point{"kelvin_reading", first_tags, first_fields, 1732200000123}) +
                            line(Point{"kelvin_reading", second_tags, second_fields, 1732200000456});

  auto options = this->options();
  ASSERT_TRUE(options.gzip_body);
  auto gzip_writer = writer(options);
  ASSERT_TRUE(gzip_writer);
  const WriteResult result = gzip_writer->write(lines);
  ASSERT_EQ(result.status, WriteStatus::written) << describe(result);
  EXPECT_EQ(result.http_status, 204);

  auto first = influx_.rows("kelvin",
                            "SELECT temperature, humidity, seq, state FROM kelvin_reading WHERE device = "
                            "'sensor 01,b=c'");
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0], nlohmann::json({1732200000123, 21.5, 0.1, 42, state}));
  auto second = influx_.rows("kelvin", "SELECT temperature, seq FROM kelvin_reading WHERE device = 'sensor-02'");
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0], nlohmann::json({1732200000456, -40, -7}));
  EXPECT_EQ(readings().size(), 2u);

  // "-40" is still a float and "42i" an integer: the field types InfluxDB recorded.
  auto field_types = influx_.rows("kelvin", "SHOW FIELD KEYS FROM kelvin_reading");
  EXPECT_EQ(nlohmann::json(field_types), nlohmann::json::parse(R"([["humidity","float"],["seq","integer"],)"
                                                               R"(["state","string"],["temperature","float"]])"));
}

TEST_F(InfluxWriter, APlainBodyIsStoredToo) {
  auto options = this->options();
  options.gzip_body = false;
  auto plain_writer = writer(options);
  ASSERT_TRUE(plain_writer);
  const WriteResult result = plain_writer->write(temperature_line(1732200000123, 19.25));
  ASSERT_EQ(result.status, WriteStatus::written) << describe(result);
  auto rows = influx_.rows("kelvin", "SELECT temperature FROM kelvin_reading");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0], nlohmann::json({1732200000123, 19.25}));
}

TEST_F(InfluxWriter, AWrongPasswordIsUnauthorizedAndStoresNothing) {
  auto options = this->options();
  const std::string wrong = "wrong-" + password_;
  options.credentials = Credentials{"writer", wrong};
  auto refused_writer = writer(options);
  ASSERT_TRUE(refused_writer);
  const WriteResult result = refused_writer->write(temperature_line(1732200000123, 21.5));
  EXPECT_EQ(result.status, WriteStatus::unauthorized) << describe(result);
  EXPECT_EQ(result.http_status, 401);
  EXPECT_THAT(result.message, HasSubstr("authorization failed"));
  EXPECT_THAT(result.message, Not(HasSubstr(wrong)));
  EXPECT_TRUE(readings().empty()) << "a refused write was stored";
}

TEST_F(InfluxWriter, NoCredentialsIsUnauthorized) {
  auto options = this->options();
  options.credentials.reset();
  auto anonymous_writer = writer(options);
  ASSERT_TRUE(anonymous_writer);
  const WriteResult result = anonymous_writer->write(temperature_line(1732200000123, 21.5));
  EXPECT_EQ(result.status, WriteStatus::unauthorized) << describe(result);
  EXPECT_EQ(result.http_status, 401);
  EXPECT_TRUE(readings().empty()) << "an anonymous write was stored";
}

TEST_F(InfluxWriter, AUserWithoutWriteOnTheDatabaseIsUnauthorized) {
  influx_.create_database("other");  // "writer" has no privilege on it
  auto options = this->options();
  options.database = "other";
  auto refused_writer = writer(options);
  ASSERT_TRUE(refused_writer);
  const WriteResult result = refused_writer->write(temperature_line(1732200000123, 21.5));
  EXPECT_EQ(result.status, WriteStatus::unauthorized) << describe(result);
  EXPECT_EQ(result.http_status, 403);
  EXPECT_THAT(result.message, HasSubstr("not authorized"));
  EXPECT_TRUE(influx_.rows("other", "SELECT * FROM kelvin_reading").empty());
}

TEST_F(InfluxWriter, AMissingDatabaseIsNotFound) {
  auto options = this->options();
  options.database = "absent";
  auto lost_writer = writer(options);
  ASSERT_TRUE(lost_writer);
  const WriteResult result = lost_writer->write(temperature_line(1732200000123, 21.5));
  EXPECT_EQ(result.status, WriteStatus::not_found) << describe(result);
  EXPECT_EQ(result.http_status, 404);
  EXPECT_THAT(result.message, HasSubstr("database not found"));
  EXPECT_THAT(result.message, HasSubstr("absent"));
}

TEST_F(InfluxWriter, AFieldTypeConflictIsBadPointsWithInfluxDbsMessage) {
  auto conflict_writer = writer(options());
  ASSERT_TRUE(conflict_writer);
  // Something else wrote `temperature` as a string first, in the same shard (same hour).
  const std::vector<Tag> tags{{"device", "sensor-01"}};
  const std::vector<Field> as_string{{"temperature", std::string_view("warm")}};
  const WriteResult first = conflict_writer->write(line(Point{"kelvin_reading", tags, as_string, 1732200000123}));
  ASSERT_EQ(first.status, WriteStatus::written) << describe(first);

  const WriteResult conflict = conflict_writer->write(temperature_line(1732200001123, 21.5));
  EXPECT_EQ(conflict.status, WriteStatus::bad_points) << describe(conflict);
  EXPECT_EQ(conflict.http_status, 400);
  EXPECT_THAT(conflict.message, HasSubstr("field type conflict"));
  EXPECT_THAT(conflict.message, HasSubstr("temperature"));
  EXPECT_EQ(conflict.message.find('\n'), std::string::npos);

  auto rows = influx_.rows("kelvin", "SELECT temperature FROM kelvin_reading");
  ASSERT_EQ(rows.size(), 1u) << "the conflicting point was stored";
  EXPECT_EQ(rows[0], nlohmann::json({1732200000123, "warm"}));
}

TEST_F(InfluxWriter, ACaFileFromAnotherInstallationIsATlsFailure) {
  Installation other;  // its CA did not sign influxd's certificate
  auto options = this->options();
  options.ca_file = other.pki_dir() / "ca.crt";
  auto untrusting_writer = writer(options);
  ASSERT_TRUE(untrusting_writer);
  const WriteResult result = untrusting_writer->write(temperature_line(1732200000123, 21.5));
  EXPECT_EQ(result.status, WriteStatus::tls_failure) << describe(result);
  EXPECT_EQ(result.http_status, 0);
  EXPECT_FALSE(result.message.empty());
  EXPECT_THAT(result.message, Not(HasSubstr(password_)));
  EXPECT_TRUE(readings().empty());
}

// Loopback names and addresses that reach influxd (it listens on 127.0.0.1) but are not in its
// certificate (DNS:localhost, IP:127.0.0.1, DNS:<host name>): the IPv4-mapped IPv6 form of
// 127.0.0.1 (an IPv6 address, so it cannot match the 4-byte IP SAN), and any other alias of
// 127.0.0.1 in /etc/hosts.
std::vector<std::string> hosts_missing_from_the_certificate() {
  std::vector<std::string> hosts{"[::ffff:127.0.0.1]"};
  char own_name[256] = {};
  ::gethostname(own_name, sizeof own_name - 1);
  std::ifstream hosts_file("/etc/hosts");
  for (std::string entry; std::getline(hosts_file, entry);) {
    std::istringstream words(entry.substr(0, entry.find('#')));
    std::string address;
    if (!(words >> address) || address != "127.0.0.1") continue;
    for (std::string name; words >> name;) {
      if (name != "localhost" && name != own_name) hosts.push_back(name);
    }
  }
  return hosts;
}

TEST_F(InfluxWriter, AHostNameNotInTheCertificateIsATlsFailure) {
  // Control: the name in the certificate works with the same CA and credentials.
  auto trusted_writer = writer(options());
  ASSERT_TRUE(trusted_writer);
  ASSERT_EQ(trusted_writer->write(temperature_line(1732200000123, 21.5)).status, WriteStatus::written);

  bool reached = false;
  for (const std::string& host : hosts_missing_from_the_certificate()) {
    SCOPED_TRACE(host);
    auto options = this->options();
    options.url = "https://" + host + ":" + std::to_string(influx_.port());
    auto mismatched_writer = writer(options);
    ASSERT_TRUE(mismatched_writer);
    const WriteResult result = mismatched_writer->write(temperature_line(1732200001123, 22.5));
    std::cerr << host << ": " << describe(result) << "\n";
    if (result.status == WriteStatus::unavailable && result.http_status == 0) continue;  // does not reach influxd here
    reached = true;
    EXPECT_EQ(result.status, WriteStatus::tls_failure) << describe(result);
    EXPECT_EQ(result.http_status, 0);
    // curl with the same CA refuses it too (CURLE_PEER_FAILED_VERIFICATION): it is the name.
    auto independent = influx_.curl({"-g", "-o", "/dev/null", "-u", "writer:" + password_, "--data-raw",
                                     temperature_line(1732200002123, 23.5), options.url + "/write?db=kelvin"});
    EXPECT_EQ(independent.exit_code, 60) << independent.err;
    break;
  }
  if (!reached) GTEST_SKIP() << "no loopback name or address outside the certificate reaches influxd on this machine";
  EXPECT_EQ(readings().size(), 1u) << "a write to a host not in the certificate was stored";
}

TEST_F(InfluxWriter, AStoppedServerIsUnavailableAndTheSameWriteSucceedsAfterStart) {
  auto restart_writer = writer(options());
  ASSERT_TRUE(restart_writer);
  ASSERT_EQ(restart_writer->write(temperature_line(1732200000123, 21.5)).status, WriteStatus::written);

  influx_.stop();
  const std::string lines = temperature_line(1732200001123, 22.5);
  const WriteResult down = restart_writer->write(lines);
  EXPECT_EQ(down.status, WriteStatus::unavailable) << describe(down);
  EXPECT_EQ(down.http_status, 0);
  EXPECT_FALSE(down.message.empty());

  influx_.start();
  const WriteResult again = restart_writer->write(lines);  // the same Writer: it reconnects by itself
  EXPECT_EQ(again.status, WriteStatus::written) << describe(again);
  auto rows = influx_.rows("kelvin", "SELECT temperature FROM kelvin_reading");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1], nlohmann::json({1732200001123, 22.5}));
}

}  // namespace
