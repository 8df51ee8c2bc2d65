// The test harness for the real InfluxDB (and VictoriaMetrics) servers, checked with curl: HTTPS
// with the installation's own PKI, authentication, data surviving a restart, and TLS verification
// that really fails with a foreign CA. Other integration tests build on these servers.

#include "kelvin/testing/influx_server.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "installation.hpp"
#include "kelvin/testing/victoria_server.hpp"

namespace {

using kelvin::testing::InfluxServer;
using kelvin::testing::Installation;
using kelvin::testing::VictoriaServer;
using ::testing::HasSubstr;

class InfluxHarness : public ::testing::Test {
 protected:
  void TearDown() override {
    if (HasFailure()) std::cerr << "---- influxd log ----\n" << influx_.log();
  }

  std::string credentials() const { return influx_.admin_user() + ":" + influx_.admin_password(); }

  Installation install_;
  InfluxServer influx_{install_.server_tls()};
};

TEST_F(InfluxHarness, ServesHttpsWithAuthenticationAndReturnsWrittenPoints) {
  EXPECT_THAT(influx_.url(), HasSubstr("https://localhost:"));
  influx_.create_database("kelvin");
  // A write as an independent client would do it: curl, the installation's CA, basic auth.
  auto write = influx_.curl({"-w", "%{http_code}", "-u", credentials(), "--data-raw",
                             "readings,device=sensor-01 temperature=21.5,humidity=40.2 1732200000123\n"
                             "readings,device=sensor-02 temperature=19.25 1732200000456",
                             influx_.url() + "/write?db=kelvin&precision=ms"});
  ASSERT_EQ(write.exit_code, 0) << write.err;
  EXPECT_EQ(write.out, "204");

  auto rows = influx_.rows("kelvin", "SELECT temperature, humidity FROM readings WHERE device = 'sensor-01'");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0], nlohmann::json::parse("[1732200000123, 21.5, 40.2]"));
  auto count = influx_.rows("kelvin", "SELECT count(temperature) FROM readings");
  ASSERT_EQ(count.size(), 1u);
  EXPECT_EQ(count[0][1], 2);
}

TEST_F(InfluxHarness, RefusesRequestsWithoutOrWithWrongCredentials) {
  influx_.create_database("kelvin");
  for (const auto& auth : std::vector<std::vector<std::string>>{{}, {"-u", influx_.admin_user() + ":wrong"}}) {
    std::vector<std::string> write{"-w", "\n%{http_code}", "--data-raw", "readings temperature=1 1732200000123",
                                   influx_.url() + "/write?db=kelvin&precision=ms"};
    write.insert(write.begin(), auth.begin(), auth.end());
    auto refused_write = influx_.curl(write);
    EXPECT_THAT(refused_write.out, ::testing::EndsWith("\n401"));

    std::vector<std::string> query{"-w", "\n%{http_code}", "--data-urlencode", "q=SHOW DATABASES",
                                   influx_.url() + "/query"};
    query.insert(query.begin(), auth.begin(), auth.end());
    auto refused_query = influx_.curl(query);
    EXPECT_THAT(refused_query.out, ::testing::EndsWith("\n401"));
    EXPECT_THAT(refused_query.out, ::testing::Not(HasSubstr("kelvin")));
  }
  EXPECT_TRUE(influx_.rows("kelvin", "SELECT * FROM readings").empty()) << "a refused write was stored";
  // Creating another admin without credentials is allowed only while no user exists.
  auto second_admin =
      influx_.curl({"--data-urlencode", "q=CREATE USER \"mallory\" WITH PASSWORD 'x' WITH ALL PRIVILEGES",
                    influx_.url() + "/query"});
  EXPECT_THAT(second_admin.out, HasSubstr("error"));
}

TEST_F(InfluxHarness, KeepsDataAndPortAcrossStopAndStart) {
  influx_.create_database("kelvin");
  influx_.write("kelvin", "readings,device=sensor-01 temperature=21.5 1732200000123");
  const int port = influx_.port();

  influx_.stop();
  auto down = influx_.curl({"--max-time", "3", influx_.url() + "/ping"});
  EXPECT_NE(down.exit_code, 0) << "influxd still answers after stop()";

  auto started = std::chrono::steady_clock::now();
  influx_.start();
  std::cerr << "influxd restart took "
            << std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count()
            << " ms\n";
  EXPECT_EQ(influx_.port(), port);
  auto rows = influx_.rows("kelvin", "SELECT temperature FROM readings");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0], nlohmann::json::parse("[1732200000123, 21.5]"));
  // Written after the restart too, and the admin's password did not change.
  influx_.write("kelvin", "readings,device=sensor-01 temperature=22 1732200001123");
  EXPECT_EQ(influx_.rows("kelvin", "SELECT count(temperature) FROM readings").at(0)[1], 2);
}

TEST_F(InfluxHarness, CurlWithAnotherCaRefusesTheServer) {
  Installation other;  // a second PKI: its CA did not sign influxd's certificate
  auto refused = kelvin::testing::run_command({"curl", "-sS", "--max-time", "10", "--cacert",
                                               (other.pki_dir() / "ca.crt").string(), "-u", credentials(),
                                               influx_.url() + "/query?q=SHOW+DATABASES"});
  EXPECT_EQ(refused.exit_code, 60) << refused.out << refused.err;  // CURLE_PEER_FAILED_VERIFICATION
  EXPECT_THAT(refused.out, ::testing::Not(HasSubstr("results")));
  // The same request with the installation's CA goes through.
  auto accepted = influx_.curl({"-u", credentials(), influx_.url() + "/query?q=SHOW+DATABASES"});
  EXPECT_EQ(accepted.exit_code, 0) << accepted.err;
  EXPECT_THAT(accepted.out, HasSubstr("results"));
}

TEST(InfluxServerPlain, ServesHttpOnLoopbackWithAuthentication) {
  InfluxServer influx(std::nullopt);
  EXPECT_THAT(influx.url(), HasSubstr("http://127.0.0.1:"));
  influx.create_database("plain");
  influx.write("plain", "readings,device=d temperature=1.5 1732200000000");
  auto rows = influx.rows("plain", "SELECT temperature FROM readings");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][1], 1.5);
  auto anonymous = influx.curl({"-w", "\n%{http_code}", influx.url() + "/query?q=SHOW+DATABASES"});
  EXPECT_THAT(anonymous.out, ::testing::EndsWith("\n401"));
}

// VictoriaMetrics: line protocol in, {measurement}_{field} series out, over HTTPS with basic auth.
TEST(VictoriaServerHarness, AcceptsLineProtocolOverHttpsAndExportsIt) {
  Installation install;
  VictoriaServer victoria(install.server_tls(), /*basic_auth=*/true);
  if (::testing::Test::HasFailure()) std::cerr << victoria.log();
  EXPECT_THAT(victoria.url(), HasSubstr("https://localhost:"));

  auto write = victoria.curl({"-w", "%{http_code}", "--data-raw",
                              "readings,device=sensor-01 temperature=21.5,humidity=40.2 1732200000123",
                              victoria.url() + "/write?db=kelvin&precision=ms"});
  ASSERT_EQ(write.exit_code, 0) << write.err;
  EXPECT_EQ(write.out, "204");

  std::vector<nlohmann::json> series;
  EXPECT_TRUE(kelvin::testing::wait_until(
      [&] { return (series = victoria.export_series("readings_temperature{device=\"sensor-01\"}")).size() == 1; },
      std::chrono::seconds(10)));
  ASSERT_EQ(series.size(), 1u);
  EXPECT_EQ(series[0]["metric"],
            nlohmann::json::parse(R"({"__name__":"readings_temperature","db":"kelvin","device":"sensor-01"})"));
  EXPECT_EQ(series[0]["values"], nlohmann::json::parse("[21.5]"));
  EXPECT_EQ(series[0]["timestamps"], nlohmann::json::parse("[1732200000123]"));
  EXPECT_EQ(victoria.export_series("{__name__=~\"readings_.*\"}").size(), 2u);

  // Basic auth is enforced on the write API.
  auto anonymous = kelvin::testing::run_command({"curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--cacert",
                                                 (install.pki_dir() / "ca.crt").string(), "--data-raw",
                                                 "readings temperature=1 1732200000123", victoria.url() + "/write"});
  EXPECT_EQ(anonymous.out, "401");

  // Storage survives a restart on the same port.
  victoria.stop();
  victoria.start();
  EXPECT_EQ(victoria.export_series("readings_humidity").size(), 1u);
}

TEST(VictoriaServerHarness, ServesPlainHttpOnLoopback) {
  VictoriaServer victoria;
  EXPECT_THAT(victoria.url(), HasSubstr("http://127.0.0.1:"));
  const auto now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  auto write = victoria.curl({"-w", "%{http_code}", "--data-raw", "m,t=a f=2 " + std::to_string(now_ms),
                              victoria.url() + "/write?precision=ms"});
  EXPECT_EQ(write.out, "204");
  // A series seen for the first time can take a moment to become searchable, even after a flush.
  std::vector<nlohmann::json> series;
  EXPECT_TRUE(kelvin::testing::wait_until([&] { return (series = victoria.export_series("m_f")).size() == 1; },
                                          std::chrono::seconds(10)));
  ASSERT_EQ(series.size(), 1u);
  EXPECT_EQ(series[0]["values"], nlohmann::json::parse("[2]"));
  nlohmann::json data;
  EXPECT_TRUE(kelvin::testing::wait_until(
      [&] {
        data = victoria.query("m_f");
        return data.is_object() && data["result"].size() == 1;
      },
      std::chrono::seconds(10)));
  ASSERT_TRUE(data.is_object());
  ASSERT_EQ(data["result"].size(), 1u) << data.dump();
  EXPECT_EQ(data["result"][0]["metric"], nlohmann::json::parse(R"({"__name__":"m_f","t":"a"})"));
  EXPECT_EQ(data["result"][0]["value"][1], "2");
}

}  // namespace
