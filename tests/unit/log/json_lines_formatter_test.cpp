// The log's line format (JSON lines) and its loggers, written through a real spdlog sink.

#include "kelvin/log/json_lines_formatter.hpp"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "kelvin/log/log.hpp"
#include "kelvin/log/subject.hpp"

namespace {

using kelvin::log::JsonLinesFormatter;

// Formats one message as logger `name` would write it.
std::string format_line(std::string_view logger_name, spdlog::level::level_enum level, std::string_view text) {
  spdlog::details::log_msg message(spdlog::string_view_t(logger_name.data(), logger_name.size()), level,
                                   spdlog::string_view_t(text.data(), text.size()));
  spdlog::memory_buf_t out;
  JsonLinesFormatter().format(message, out);
  return std::string(out.data(), out.size());
}

nlohmann::json parsed(const std::string& line) {
  EXPECT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1) << "more than one line: " << line;
  return nlohmann::json::parse(line);  // throws (and fails the test) when it is not JSON
}

TEST(JsonLinesFormatter, WritesTimeLevelComponentAndMessage) {
  const std::string line = format_line("ingest", spdlog::level::warn, "rejected 3 readings");
  const auto object = parsed(line);
  EXPECT_EQ(object.size(), 4u) << line;
  EXPECT_EQ(object["level"], "warn");
  EXPECT_EQ(object["component"], "ingest");
  EXPECT_EQ(object["message"], "rejected 3 readings");
  EXPECT_TRUE(
      std::regex_match(object["time"].get<std::string>(), std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")))
      << object["time"];
  EXPECT_EQ(line.rfind("{\"time\":", 0), 0u) << "the time comes first, for people reading the raw lines";
}

TEST(JsonLinesFormatter, NamesEveryLevelAsTheConfigDoes) {
  const std::vector<std::pair<spdlog::level::level_enum, std::string>> levels{
      {spdlog::level::trace, "trace"}, {spdlog::level::debug, "debug"}, {spdlog::level::info, "info"},
      {spdlog::level::warn, "warn"},   {spdlog::level::err, "error"},   {spdlog::level::critical, "critical"}};
  for (const auto& [level, name] : levels) EXPECT_EQ(parsed(format_line("x", level, "m"))["level"], name);
}

TEST(JsonLinesFormatter, SplitsADevicesLoggerNameIntoComponentAndDevice) {
  const auto object = parsed(format_line("agent:sensor-01", spdlog::level::info, "connected"));
  EXPECT_EQ(object["component"], "agent");
  EXPECT_EQ(object["device"], "sensor-01");
  EXPECT_FALSE(parsed(format_line("", spdlog::level::info, "m")).contains("component"));
}

TEST(JsonLinesFormatter, ARecordCarriesTheSubjectsOfItsThreadWhileTheyLast) {
  using kelvin::log::SubjectKey;
  using kelvin::log::Subjects;
  {
    const Subjects about{{SubjectKey::rule, "freezer_warm"}, {SubjectKey::subject, "sensor-01"}};
    const std::string line = format_line("alerts", spdlog::level::warn, "alert freezer_warm firing for sensor-01");
    const auto object = parsed(line);
    EXPECT_EQ(object["rule"], "freezer_warm");
    EXPECT_EQ(object["subject"], "sensor-01");
    EXPECT_EQ(object.size(), 6u) << line;
    // In the order of SubjectKey, after the component and before the message.
    EXPECT_LT(line.find("\"component\""), line.find("\"rule\"")) << line;
    EXPECT_LT(line.find("\"rule\""), line.find("\"subject\"")) << line;
    EXPECT_LT(line.find("\"subject\""), line.find("\"message\"")) << line;
    {
      // Nested: the innermost value of a key wins, and each key comes once.
      const Subjects inner{{SubjectKey::user, "ops"}};
      const Subjects innermost{{SubjectKey::rule, "cold_room"}};
      const std::string nested = format_line("alerts", spdlog::level::info, "m");
      EXPECT_EQ(parsed(nested)["rule"], "cold_room");
      EXPECT_EQ(parsed(nested)["user"], "ops");
      EXPECT_EQ(nested.find("freezer_warm"), std::string::npos) << nested;
    }
    EXPECT_EQ(parsed(format_line("alerts", spdlog::level::info, "m"))["rule"], "freezer_warm");
    // Another thread's records carry none of this thread's subjects.
    std::string other;
    std::thread([&other] { other = format_line("alerts", spdlog::level::info, "m"); }).join();
    EXPECT_EQ(parsed(other).size(), 4u) << other;
  }
  EXPECT_EQ(parsed(format_line("alerts", spdlog::level::info, "m")).size(), 4u);
}

TEST(JsonLinesFormatter, EverySubjectKeyIsWrittenUnderItsNameInTheOrderOfTheEnum) {
  using kelvin::log::SubjectKey;
  using kelvin::log::Subjects;
  const Subjects about{{SubjectKey::client, "192.0.2.7"},      {SubjectKey::webhook, "ops"},
                       {SubjectKey::gateway, "svc-gateway-b"}, {SubjectKey::user, "vera"},
                       {SubjectKey::subject, "sensor-01"},     {SubjectKey::rule, "freezer_warm"},
                       {SubjectKey::device, "sensor-02"}};
  const std::string line = format_line("https", spdlog::level::info, "m");
  const auto object = parsed(line);
  EXPECT_EQ(object.size(), 4u + kelvin::log::kSubjectKeyCount) << line;
  std::size_t previous = line.find("\"component\"");
  for (const auto& [key, value] : std::vector<std::pair<std::string, std::string>>{{"device", "sensor-02"},
                                                                                   {"rule", "freezer_warm"},
                                                                                   {"subject", "sensor-01"},
                                                                                   {"user", "vera"},
                                                                                   {"gateway", "svc-gateway-b"},
                                                                                   {"webhook", "ops"},
                                                                                   {"client", "192.0.2.7"}}) {
    EXPECT_EQ(object[key], value) << line;
    const std::size_t at = line.find("\"" + key + "\"");
    EXPECT_LT(previous, at) << key << " in " << line;
    previous = at;
  }
  EXPECT_LT(previous, line.find("\"message\"")) << line;
}

TEST(JsonLinesFormatter, ADevicesOwnLoggerNamesItsDeviceOnce) {
  using kelvin::log::SubjectKey;
  using kelvin::log::Subjects;
  const Subjects device{{SubjectKey::device, "sensor-02"}};
  const std::string own = format_line("agent:sensor-01", spdlog::level::info, "connected");
  EXPECT_EQ(parsed(own)["device"], "sensor-01");
  EXPECT_EQ(own.find("sensor-02"), std::string::npos) << own;
  EXPECT_EQ(parsed(format_line("ingest", spdlog::level::info, "m"))["device"], "sensor-02");
}

TEST(JsonLinesFormatter, AHostileSubjectStaysOneValidLine) {
  using kelvin::log::SubjectKey;
  using kelvin::log::Subjects;
  const std::string value = std::string("u\",\"level\":\"error\n\x1b\xff") + '\0';
  const Subjects user{{SubjectKey::user, value}};
  const auto object = parsed(format_line("https", spdlog::level::info, "signed in"));
  EXPECT_EQ(object["level"], "info");
  EXPECT_EQ(object["user"], std::string("u\",\"level\":\"error\n\x1b\xef\xbf\xbd") + '\0');
}

TEST(JsonLinesFormatter, HostileTextStaysOneValidLineAndComesBackIntact) {
  // What a client can put into a log line: a forged second line, quotes closing the string, a
  // terminal escape, a NUL, a backslash, and characters beyond ASCII.
  const std::string text = std::string("id\" ,\"level\":\"error\n{\"time\":\"x\"}\r\t\x1b[31m\x7f\\") + '\0' +
                           "end \xc3\xa9 \xe2\x82\xac \xf0\x9f\x8c\xa1";
  const std::string line = format_line("mosquitto", spdlog::level::info, text);
  const auto object = parsed(line);
  EXPECT_EQ(object["message"], text);
  EXPECT_EQ(object["level"], "info");
  EXPECT_EQ(line.find('\x1b'), std::string::npos);
  EXPECT_NE(line.find("\\u001b"), std::string::npos) << line;
  EXPECT_NE(line.find("\\u0000"), std::string::npos) << line;
}

TEST(JsonLinesFormatter, ReplacesBytesThatAreNotUtf8) {
  // A lone continuation byte, a truncated sequence, an overlong '/', a surrogate, 0xFF.
  const std::string text = "a\x80 b\xe2\x82 c\xc0\xaf d\xed\xa0\x80 e\xff";
  const auto object = parsed(format_line("ingest", spdlog::level::warn, text));
  const std::string replaced = object["message"];
  EXPECT_EQ(replaced.rfind("a\xEF\xBF\xBD b\xEF\xBF\xBD", 0), 0u) << replaced;
  EXPECT_NE(replaced.find(" e\xEF\xBF\xBD"), std::string::npos) << replaced;
  EXPECT_EQ(replaced.find('\xff'), std::string::npos);
  EXPECT_EQ(replaced.find("\xc0\xaf"), std::string::npos);
}

class ComponentLoggers : public ::testing::Test {
 protected:
  void SetUp() override {
    previous_ = spdlog::default_logger();
    auto logger = std::make_shared<spdlog::logger>("", std::make_shared<spdlog::sinks::ostream_sink_mt>(written_));
    spdlog::set_default_logger(logger);
    spdlog::set_formatter(std::make_unique<JsonLinesFormatter>());
    ASSERT_TRUE(kelvin::log::set_level("info"));
  }
  void TearDown() override {
    spdlog::drop_all();
    spdlog::set_default_logger(previous_);
  }
  std::vector<nlohmann::json> lines() const {
    std::vector<nlohmann::json> out;
    std::istringstream in(written_.str());
    for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line));
    return out;
  }
  std::ostringstream written_;
  std::shared_ptr<spdlog::logger> previous_;
};

TEST_F(ComponentLoggers, WriteThroughTheDefaultSinkAtTheConfiguredLevel) {
  auto& ingest = kelvin::log::component("ingest-level-test");
  EXPECT_EQ(&ingest, &kelvin::log::component("ingest-level-test")) << "one logger per component";
  ingest.info("stored {} readings", 3);
  ASSERT_TRUE(kelvin::log::set_level("warn"));
  ingest.info("not written at warn");
  kelvin::log::component("agent-level-test", "sensor-01").warn("outbox {}% full", 90);
  EXPECT_FALSE(kelvin::log::set_level("loud"));
  EXPECT_FALSE(kelvin::log::set_level("warning")) << "the config's names only";
  ingest.info("still not written: a refused name changes nothing");

  const auto written = lines();
  ASSERT_EQ(written.size(), 2u) << written_.str();
  EXPECT_EQ(written[0]["component"], "ingest-level-test");
  EXPECT_EQ(written[0]["message"], "stored 3 readings");
  EXPECT_EQ(written[1]["component"], "agent-level-test");
  EXPECT_EQ(written[1]["device"], "sensor-01");
  EXPECT_EQ(written[1]["level"], "warn");
  EXPECT_EQ(written[1]["message"], "outbox 90% full");
}

TEST_F(ComponentLoggers, ErrorLinesLogsEachLineOfAMessageAsItsOwnRecord) {
  kelvin::log::error_lines("config-lines-test", "gateway.toml:\n  [http] port: not a number\n\n  [log] level: loud\n");
  const auto written = lines();
  ASSERT_EQ(written.size(), 3u) << written_.str();
  EXPECT_EQ(written[0]["message"], "gateway.toml:");
  EXPECT_EQ(written[1]["message"], "  [http] port: not a number");
  EXPECT_EQ(written[2]["message"], "  [log] level: loud");
  for (const auto& record : written) {
    EXPECT_EQ(record["level"], "error");
    EXPECT_EQ(record["component"], "config-lines-test");
  }
}

}  // namespace
