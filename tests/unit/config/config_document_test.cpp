#include "kelvin/config/config_document.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "kelvin/testing/temp_dir.hpp"

namespace kelvin::config {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const fs::path kFile = "/etc/kelvin/agent.toml";

ConfigDocument parse(const std::string& text) {
  auto document = ConfigDocument::parse(text, kFile);
  if (!document) throw std::runtime_error(document.error().message);
  return std::move(document).value();
}

// Reads what a small component config knows: name, [broker] host/port, [[sensor]] type.
void read_known_keys(ConfigDocument& document) {
  auto root = document.root();
  root.string("name", "");
  auto broker = root.table("broker");
  broker.string("host", "");
  broker.integer("port", 8883);
  for (auto& sensor : root.tables("sensor")) sensor.string("type", "");
}

TEST(ConfigDocument, KnownKeysOnlyFinishCleanly) {
  auto document = parse("name = \"a\"\n[broker]\nhost = \"h\"\nport = 1\n[[sensor]]\ntype = \"x\"\n");
  read_known_keys(document);
  EXPECT_TRUE(document.finish().ok());
}

TEST(ConfigDocument, UnknownKeysAreReportedAtEveryDepth) {
  auto document = parse(
      "name = \"a\"\nnmae = \"typo\"\n\"odd\\tkey\" = 3\n"
      "[broker]\nhost = \"h\"\nprot = 1\n"
      "[[sensor]]\ntype = \"x\"\npaht = \"auto\"\n"
      "[extra]\nanything = 1\nmore = 2\n");
  read_known_keys(document);
  auto done = document.finish();
  ASSERT_FALSE(done.ok());
  EXPECT_EQ(done.error().code, Errc::invalid_argument);
  EXPECT_EQ(done.error().message,
            "/etc/kelvin/agent.toml:2:1: nmae: unknown key\n"
            // a key that is not a bare TOML key is quoted, its control characters replaced
            "/etc/kelvin/agent.toml:3:1: \"odd?key\": unknown key\n"
            "/etc/kelvin/agent.toml:6:1: broker.prot: unknown key\n"
            "/etc/kelvin/agent.toml:9:1: sensor[0].paht: unknown key\n"
            // an unknown table is one issue, not one per key inside it
            "/etc/kelvin/agent.toml:10:2: extra: unknown key");
}

TEST(ConfigDocument, EveryProblemIsReportedAtOnceInFileOrder) {
  auto document = parse(
      "port = \"x\"\n"      // wrong type (line 1)
      "color = \"blue\"\n"  // unknown (line 2)
      "interval_s = 0\n");  // out of range (line 3)
  auto root = document.root();
  root.required_string("device_id");  // missing (no position)
  root.integer("interval_s", 10, 1, 86400);
  root.integer("port", 8883, 1, 65535);
  auto done = document.finish();
  ASSERT_FALSE(done.ok());
  EXPECT_EQ(done.error().message,
            "/etc/kelvin/agent.toml: device_id: required key is missing\n"
            "/etc/kelvin/agent.toml:1:8: port: expected an integer, found a string\n"
            "/etc/kelvin/agent.toml:2:1: color: unknown key\n"
            "/etc/kelvin/agent.toml:3:14: interval_s: must be between 1 and 86400, found 0");
}

TEST(ConfigDocument, AKeyWithTheWrongTypeIsNotAlsoUnknown) {
  auto document = parse("port = \"x\"\n");
  document.root().integer("port", 1);
  auto done = document.finish();
  ASSERT_FALSE(done.ok());
  EXPECT_THAT(done.error().message, ::testing::Not(HasSubstr("unknown key")));
}

TEST(ConfigDocument, FinishingTwiceDoesNotRepeatIssues) {
  auto document = parse("x = 1\n");
  ASSERT_FALSE(document.finish().ok());
  auto again = document.finish();
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().message, "/etc/kelvin/agent.toml:1:1: x: unknown key");
}

TEST(ConfigDocument, ReadersSurviveAMoveOfTheDocument) {
  auto parsed = ConfigDocument::parse("a = 1\nb = 2\n", kFile);
  ASSERT_TRUE(parsed.ok());
  auto root = parsed->root();
  ConfigDocument document = std::move(parsed).value();
  EXPECT_EQ(root.integer("a", 0), 1);
  document.root().integer("b", 0);
  EXPECT_TRUE(document.finish().ok());
}

TEST(ConfigDocument, LoadReadsAFileAndResolvesPathsNextToIt) {
  kelvin::testing::TempDir dir;
  std::ofstream(dir / "agent.toml") << "ca_file = \"ca.crt\"\n";
  auto document = ConfigDocument::load(dir / "agent.toml");
  ASSERT_TRUE(document.ok()) << document.error().message;
  EXPECT_EQ(document->path(), dir / "agent.toml");
  EXPECT_EQ(document->root().path("ca_file", ""), dir / "ca.crt");
  EXPECT_TRUE(document->finish().ok());
}

TEST(ConfigDocument, LoadReportsTheSyntaxErrorLine) {
  kelvin::testing::TempDir dir;
  std::ofstream(dir / "agent.toml") << "device_id = \"a\"\n[broker\nhost = \"h\"\n";
  auto document = ConfigDocument::load(dir / "agent.toml");
  ASSERT_FALSE(document.ok());
  EXPECT_THAT(document.error().message, ::testing::StartsWith((dir / "agent.toml").string() + ":2:"));
}

// ---- A document from JSON (the HTTPS API's bodies) ----

ConfigDocument from_json(const std::string& text) {
  auto document = ConfigDocument::from_json(text);
  if (!document) throw std::runtime_error(document.error().message);
  return std::move(document).value();
}

TEST(ConfigDocumentFromJson, ValuesReadAsTheirTomlCounterparts) {
  auto document =
      from_json(R"({"name": "a", "broker": {"host": "h", "port": 1}, "sensor": [{"type": "x"}], "level": -15,)"
                R"( "ratio": 0.5, "on": true, "devices": ["d1", "d2"]})");
  auto root = document.root();
  EXPECT_EQ(root.string("name", ""), "a");
  auto broker = root.table("broker");
  EXPECT_EQ(broker.string("host", ""), "h");
  EXPECT_EQ(broker.integer("port", 8883), 1);
  auto sensors = root.tables("sensor");
  ASSERT_EQ(sensors.size(), 1u);
  EXPECT_EQ(sensors[0].string("type", ""), "x");
  EXPECT_EQ(root.number("level", 0, -100, 100), -15);  // an integer is a number
  EXPECT_EQ(root.number("ratio", 0, 0, 1), 0.5);
  EXPECT_TRUE(root.boolean("on", false));
  EXPECT_THAT(root.strings("devices", {}), ElementsAre("d1", "d2"));
  EXPECT_TRUE(document.finish().ok());
}

TEST(ConfigDocumentFromJson, IssuesNameTheKeyWithoutAFileOrPosition) {
  auto document = from_json(R"({"port": 1.5, "nmae": "typo", "broker": {"prot": 2}, "gone": null,)"
                            R"( "huge": 18446744073709551615, "list": ["a", null]})");
  auto root = document.root();
  root.integer("port", 8883);  // a float is not an integer, in JSON as in TOML
  root.table("broker");
  root.integer("huge", 0);
  root.strings("list", {});
  root.add_issue("a problem of the whole table");
  auto done = document.finish();
  ASSERT_FALSE(done.ok());
  EXPECT_EQ(done.error().code, Errc::invalid_argument);
  const std::string& message = done.error().message;
  EXPECT_THAT(message, HasSubstr("port: expected an integer"));
  EXPECT_THAT(message, HasSubstr("gone: null is no value: leave the key out for its default"));
  EXPECT_THAT(message, HasSubstr("huge: a whole number beyond 64-bit integers"));
  EXPECT_THAT(message, HasSubstr("list[1]: null is no value"));
  EXPECT_THAT(message, HasSubstr("nmae: unknown key"));
  EXPECT_THAT(message, HasSubstr("broker.prot: unknown key"));
  EXPECT_THAT(message, HasSubstr("\na problem of the whole table"));  // no key, no file: the message alone
  // Nothing names a file or a position: there is none.
  for (std::size_t start = 0; start < message.size();) {
    const std::size_t end = std::min(message.find('\n', start), message.size());
    EXPECT_NE(message[start], ':') << message.substr(start, end - start);
    start = end + 1;
  }
}

TEST(ConfigDocumentFromJson, TextThatIsNotOneObjectIsRefused) {
  for (const char* text : {"", "[1, 2]", "\"rule\"", "{\"a\": 1", "{\"a\": 1} {}", "null"}) {
    auto document = ConfigDocument::from_json(text);
    ASSERT_FALSE(document.ok()) << text;
    EXPECT_EQ(document.error().code, Errc::invalid_argument);
    EXPECT_EQ(document.error().message, "the body must be one JSON object");
  }
  // Nested a million levels deep: refused before anything recurses through it.
  const std::string deep = "{\"a\":" + std::string(1'000'000, '[') + std::string(1'000'000, ']') + "}";
  auto document = ConfigDocument::from_json(deep);
  ASSERT_FALSE(document.ok());
  EXPECT_EQ(document.error().message, "the body nests deeper than 32 levels");
}

}  // namespace
}  // namespace kelvin::config
