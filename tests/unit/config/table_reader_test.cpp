#include "kelvin/config/table_reader.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>

#include "kelvin/config/config_document.hpp"

namespace kelvin::config {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

const fs::path kFile = "/etc/kelvin/agent.toml";

ConfigDocument parse(const std::string& text, const fs::path& path = kFile) {
  auto document = ConfigDocument::parse(text, path);
  if (!document) throw std::runtime_error(document.error().message);
  return std::move(document).value();
}

TEST(TableReader, ReadsTypedValues) {
  auto document = parse(
      "name = \"sensor-01\"\ncount = 42\nratio = 0.25\nwhole = 3\nenabled = true\n"
      "tags = [\"a\", \"b\"]\n");
  auto root = document.root();
  EXPECT_EQ(root.string("name", "default"), "sensor-01");
  EXPECT_EQ(root.integer("count", 0, 0, 100), 42);
  EXPECT_DOUBLE_EQ(root.number("ratio", 1.0, 0.0, 1.0), 0.25);
  EXPECT_DOUBLE_EQ(root.number("whole", 1.0, 0.0, 10.0), 3.0);  // a TOML integer is a number
  EXPECT_TRUE(root.boolean("enabled", false));
  EXPECT_THAT(root.strings("tags", {}), ElementsAre("a", "b"));
  EXPECT_THAT(document.issues(), IsEmpty());
  EXPECT_TRUE(document.finish().ok());
}

TEST(TableReader, MissingKeysGiveTheFallbackWithoutIssues) {
  auto document = parse("");
  auto root = document.root();
  EXPECT_EQ(root.string("name", "default"), "default");
  EXPECT_EQ(root.integer<std::uint32_t>("interval_s", 10, 1, 86400), 10u);
  EXPECT_DOUBLE_EQ(root.number("ratio", 0.5, 0.0, 1.0), 0.5);
  EXPECT_FALSE(root.boolean("enabled", false));
  EXPECT_TRUE(root.boolean("verbose", true));
  EXPECT_THAT(root.strings("tags", {"x"}), ElementsAre("x"));
  EXPECT_EQ(root.one_of("mode", "managed", {"managed", "external"}), "managed");
  EXPECT_FALSE(root.optional_string("name").has_value());
  EXPECT_TRUE(document.finish().ok());
}

TEST(TableReader, IntegerOutOfRangeIsReportedWithPositionAndGivesTheFallback) {
  auto document = parse("a = 1\ninterval_s = 0\n");
  auto root = document.root();
  root.integer("a", 0, 0, 10);
  EXPECT_EQ(root.integer<std::uint32_t>("interval_s", 10, 1, 86400), 10u);
  EXPECT_THAT(document.issues(),
              ElementsAre("/etc/kelvin/agent.toml:2:14: interval_s: must be between 1 and 86400, found 0"));
  auto done = document.finish();
  ASSERT_FALSE(done.ok());
  EXPECT_EQ(done.error().code, Errc::invalid_argument);
}

TEST(TableReader, BoundsFollowTheMemberType) {
  auto document = parse("port = 70000\nbig = 9223372036854775807\nnegative = -1\n");
  auto root = document.root();
  EXPECT_EQ(root.integer<std::uint16_t>("port", 8883, 1, 65535), 8883);
  EXPECT_EQ(root.integer<std::uint64_t>("big", 0), 9223372036854775807u);
  EXPECT_EQ(root.integer<std::uint64_t>("negative", 7), 7u);  // below the type's minimum
  auto issues = document.issues();
  ASSERT_EQ(issues.size(), 2u);
  EXPECT_NE(issues[0].find("port: must be between 1 and 65535, found 70000"), std::string::npos) << issues[0];
  EXPECT_NE(issues[1].find("negative: must be between 0 and"), std::string::npos) << issues[1];
}

TEST(TableReader, WrongTypesAreReported) {
  auto document =
      parse("count = \"ten\"\nname = 5\nenabled = \"yes\"\nratio = \"half\"\nwhole = 10.0\ntags = [\"a\", 2]\n");
  auto root = document.root();
  EXPECT_EQ(root.integer("count", 7, 0, 100), 7);
  EXPECT_EQ(root.string("name", "d"), "d");
  EXPECT_FALSE(root.boolean("enabled", false));
  EXPECT_DOUBLE_EQ(root.number("ratio", 0.5, 0.0, 1.0), 0.5);
  EXPECT_EQ(root.integer("whole", 1, 0, 100), 1);  // 10.0 is not silently truncated to 10
  EXPECT_THAT(root.strings("tags", {"x"}), ElementsAre("x"));
  EXPECT_THAT(document.issues(),
              ElementsAre("/etc/kelvin/agent.toml:1:9: count: expected an integer, found a string",
                          "/etc/kelvin/agent.toml:2:8: name: expected a string, found an integer",
                          "/etc/kelvin/agent.toml:3:11: enabled: expected a boolean (true or false), found a string",
                          "/etc/kelvin/agent.toml:4:9: ratio: expected a number, found a string",
                          "/etc/kelvin/agent.toml:5:9: whole: expected an integer, found a float",
                          "/etc/kelvin/agent.toml:6:14: tags[1]: expected a string, found an integer"));
}

TEST(TableReader, NumberRangeRefusesNan) {
  auto document = parse("low = -0.5\nnot_a_number = nan\n");
  auto root = document.root();
  EXPECT_DOUBLE_EQ(root.number("low", 0.5, 0.0, 1.0), 0.5);
  EXPECT_DOUBLE_EQ(root.number("not_a_number", 0.5, 0.0, 1.0), 0.5);
  auto issues = document.issues();
  ASSERT_EQ(issues.size(), 2u);
  EXPECT_NE(issues[0].find("low: must be between 0 and 1, found -0.5"), std::string::npos) << issues[0];
  EXPECT_NE(issues[1].find("not_a_number: must be between 0 and 1"), std::string::npos) << issues[1];
}

TEST(TableReader, RequiredStringReportsMissingAndEmpty) {
  auto document = parse("device_id = \"\"\n[broker]\nport = 1\n");
  auto root = document.root();
  EXPECT_EQ(root.required_string("device_id"), "");
  auto broker = root.table("broker");
  EXPECT_EQ(broker.required_string("host"), "");
  broker.integer("port", 0);
  EXPECT_THAT(document.issues(), ElementsAre("/etc/kelvin/agent.toml:1:13: device_id: must not be empty",
                                             // a key missing from a table is placed at the table's header
                                             "/etc/kelvin/agent.toml:2:1: broker.host: required key is missing"));
}

TEST(TableReader, RequiredKeyMissingFromTheRootHasNoPosition) {
  auto document = parse("x = 1\n");
  auto root = document.root();
  root.integer("x", 0);
  root.required_string("device_id");
  EXPECT_THAT(document.issues(), ElementsAre("/etc/kelvin/agent.toml: device_id: required key is missing"));
}

TEST(TableReader, OneOfListsTheChoices) {
  auto document = parse("[[sensor]]\ntype = \"thermo\"\n[[sensor]]\n");
  auto sensors = document.root().tables("sensor");
  ASSERT_EQ(sensors.size(), 2u);
  EXPECT_EQ(sensors[0].required_one_of("type", {"hwmon", "iio"}), "");
  EXPECT_EQ(sensors[1].required_one_of("type", {"hwmon", "iio"}), "");
  EXPECT_THAT(document.issues(),
              ElementsAre("/etc/kelvin/agent.toml:2:8: sensor[0].type: must be one of \"hwmon\", \"iio\"",
                          "/etc/kelvin/agent.toml:3:1: sensor[1].type: required key is missing"));
}

TEST(TableReader, PathsResolveAgainstTheConfigDirectory) {
  auto document = parse(
      "ca_file = \"ca.crt\"\nkey_file = \"keys/../keys/device.key\"\nabsolute = \"/var/lib/kelvin\"\n"
      "empty = \"\"\n");
  auto root = document.root();
  EXPECT_EQ(root.path("ca_file", "x"), fs::path("/etc/kelvin/ca.crt"));
  EXPECT_EQ(root.path("key_file", "x"), fs::path("/etc/kelvin/keys/device.key"));
  EXPECT_EQ(root.path("absolute", "x"), fs::path("/var/lib/kelvin"));
  EXPECT_EQ(root.path("dir", "outbox"), fs::path("/etc/kelvin/outbox"));  // a relative fallback too
  EXPECT_EQ(root.path("other", "/srv/x"), fs::path("/srv/x"));
  EXPECT_EQ(root.path("empty", "fallback"), fs::path("/etc/kelvin/fallback"));
  EXPECT_EQ(root.required_path("cert_file"), fs::path());
  EXPECT_THAT(document.issues(), ElementsAre("/etc/kelvin/agent.toml: cert_file: required key is missing",
                                             "/etc/kelvin/agent.toml:4:9: empty: must not be empty"));
}

TEST(TableReader, PathsOfARelativeConfigFileResolveAgainstTheWorkingDirectory) {
  auto document = parse("ca_file = \"ca.crt\"\n", "conf/agent.toml");
  EXPECT_EQ(document.root().path("ca_file", "x"), fs::current_path() / "conf" / "ca.crt");
}

TEST(TableReader, NestedTablesCarryTheirKeyPath) {
  auto document = parse("[broker]\nport = 0\n[broker.tls]\nverify = 1\ninline = { depth = \"x\" }\n");
  auto broker = document.root().table("broker");
  EXPECT_TRUE(broker.present());
  EXPECT_EQ(broker.key_path(), "broker");
  broker.integer("port", 1, 1, 65535);
  auto tls = broker.table("tls");
  tls.boolean("verify", true);
  tls.table("inline").integer("depth", 0);
  EXPECT_THAT(document.issues(),
              ElementsAre("/etc/kelvin/agent.toml:2:8: broker.port: must be between 1 and 65535, found 0",
                          "/etc/kelvin/agent.toml:4:10: broker.tls.verify: expected a boolean (true or false), "
                          "found an integer",
                          "/etc/kelvin/agent.toml:5:20: broker.tls.inline.depth: expected an integer, found a string"));
}

TEST(TableReader, AbsentTableReadsFallbacks) {
  auto document = parse("");
  auto broker = document.root().table("broker");
  EXPECT_FALSE(broker.present());
  EXPECT_EQ(broker.integer("port", 8883), 8883);
  EXPECT_TRUE(document.finish().ok());
}

TEST(TableReader, ATableOfTheWrongTypeIsOneIssueNotACascade) {
  auto document = parse("broker = \"gateway.local\"\n");
  auto broker = document.root().table("broker");
  EXPECT_FALSE(broker.present());
  broker.required_string("host");
  broker.required_path("ca_file");
  EXPECT_THAT(document.issues(), ElementsAre("/etc/kelvin/agent.toml:1:10: broker: expected a table, found a string"));
}

TEST(TableReader, ArrayOfTablesGivesOneReaderPerElement) {
  auto document = parse("[[sensor]]\ntype = \"hwmon\"\n[[sensor]]\ntype = \"w1\"\nid = \"28-1\"\n");
  auto sensors = document.root().tables("sensor");
  ASSERT_EQ(sensors.size(), 2u);
  EXPECT_EQ(sensors[0].key_path(), "sensor[0]");
  EXPECT_EQ(sensors[1].key_path(), "sensor[1]");
  EXPECT_EQ(sensors[0].string("type", ""), "hwmon");
  EXPECT_EQ(sensors[1].string("type", ""), "w1");
  EXPECT_EQ(sensors[1].string("id", ""), "28-1");
  EXPECT_TRUE(document.finish().ok());
}

TEST(TableReader, ArrayElementsThatAreNotTablesAreReported) {
  auto document = parse("sensor = [{ type = \"hwmon\" }, 3]\nsingle = \"x\"\n");
  auto root = document.root();
  EXPECT_EQ(root.tables("sensor").size(), 1u);
  EXPECT_THAT(root.tables("single"), IsEmpty());
  EXPECT_THAT(
      document.issues(),
      ElementsAre("/etc/kelvin/agent.toml:1:31: sensor[1]: expected a table, found an integer",
                  "/etc/kelvin/agent.toml:2:10: single: expected an array of tables ([[single]]), found a string"));
}

TEST(TableReader, CallerIssuesArePlacedAtTheKey) {
  auto document = parse("[outbox]\ncapacity = 5\n");
  auto outbox = document.root().table("outbox");
  outbox.integer("capacity", 0);
  outbox.add_issue("capacity", "is smaller than one batch");
  outbox.add_issue("dir", "is not writable");  // absent: the table's header
  outbox.add_issue("is inconsistent");
  EXPECT_THAT(document.issues(),
              ElementsAre("/etc/kelvin/agent.toml:1:1: outbox.dir: is not writable",
                          "/etc/kelvin/agent.toml:1:1: outbox: is inconsistent",
                          "/etc/kelvin/agent.toml:2:12: outbox.capacity: is smaller than one batch"));
}

}  // namespace
}  // namespace kelvin::config
