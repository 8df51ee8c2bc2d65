// append_line: the InfluxDB 1.x line protocol as the 1.x parser reads it. Escaping per position,
// number formats (shortest round-trip doubles, `i` integers), and every checked precondition:
// invalid_argument, `out` untouched, and no string field value in the message.

#include "kelvin/influx/line_protocol.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace kelvin::influx {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// A string field value that must never show up in an error message (it may be user data).
constexpr std::string_view kSecretText = "do-not-echo-this-value";

std::string line_of(const Point& point) {
  std::string out;
  auto appended = append_line(out, point);
  EXPECT_TRUE(appended) << appended.error().message;
  return out;
}

std::string line_with_field(Field field, std::int64_t ts_ms = 1732200000123) {
  const std::vector<Field> fields{field};
  return line_of(Point{"m", {}, fields, ts_ms});
}

TEST(LineProtocol, WritesMeasurementTagsFieldsAndTimestampInOneLine) {
  const std::vector<Tag> tags{{"device", "sensor-01"}, {"site", "lab"}};
  const std::vector<Field> fields{{"temperature", 21.5}, {"humidity", 40.25}, {"seq", std::int64_t{42}}};
  EXPECT_EQ(line_of(Point{"kelvin_reading", tags, fields, 1732200000123}),
            "kelvin_reading,device=sensor-01,site=lab temperature=21.5,humidity=40.25,seq=42i 1732200000123\n");
}

TEST(LineProtocol, WritesAPointWithoutTags) {
  const std::vector<Field> fields{{"value", 1.5}};
  EXPECT_EQ(line_of(Point{"m", {}, fields, 7}), "m value=1.5 7\n");
}

TEST(LineProtocol, AppendsToWhatIsAlreadyThere) {
  std::string out = "first line\n";
  const std::vector<Field> fields{{"f", 1.0}};
  ASSERT_TRUE(append_line(out, Point{"m", {}, fields, 1}));
  ASSERT_TRUE(append_line(out, Point{"n", {}, fields, 2}));
  EXPECT_EQ(out, "first line\nm f=1 1\nn f=1 2\n");
}

TEST(LineProtocol, KeepsTagsInTheOrderGiven) {
  const std::vector<Tag> tags{{"zone", "b"}, {"area", "a"}};
  const std::vector<Field> fields{{"f", std::int64_t{1}}};
  EXPECT_EQ(line_of(Point{"m", tags, fields, 1}), "m,zone=b,area=a f=1i 1\n");
}

TEST(LineProtocol, EscapesCommaAndSpaceInTheMeasurementButNotEquals) {
  const std::vector<Field> fields{{"f", 1.0}};
  EXPECT_EQ(line_of(Point{"cpu load,total=all", {}, fields, 1}), "cpu\\ load\\,total=all f=1 1\n");
}

TEST(LineProtocol, EscapesCommaEqualsAndSpaceInTagKeysTagValuesAndFieldKeys) {
  const std::vector<Tag> tags{{"tag key,=", "tag value,=x"}};
  const std::vector<Field> fields{{"field key,=", 1.0}};
  EXPECT_EQ(line_of(Point{"m", tags, fields, 1}), "m,tag\\ key\\,\\==tag\\ value\\,\\=x field\\ key\\,\\==1 1\n");
}

TEST(LineProtocol, QuotesStringFieldsEscapingOnlyQuoteAndBackslash) {
  EXPECT_EQ(line_with_field({"state", std::string_view(R"(say "hi", a=b \ c)")}, 5),
            "m state=\"say \\\"hi\\\", a=b \\\\ c\" 5\n");
  EXPECT_EQ(line_with_field({"state", std::string_view("")}, 5), "m state=\"\" 5\n");
}

TEST(LineProtocol, WritesUtf8AndOtherBytesAsTheyAre) {
  const std::vector<Tag> tags{{"lieu", "salle à manger"}};
  const std::vector<Field> fields{{"température", 20.0}, {"note", std::string_view("déjà vu\t€")}};
  EXPECT_EQ(line_of(Point{"mesure°", tags, fields, 1}),
            "mesure°,lieu=salle\\ à\\ manger température=20,note=\"déjà vu\t€\" 1\n");
}

TEST(LineProtocol, KeepsABackslashThatTheParserDoesNotReadAsAnEscape) {
  const std::vector<Tag> tags{{"path", "C:\\temp"}};
  const std::vector<Field> fields{{"a\\b", 1.0}};
  EXPECT_EQ(line_of(Point{"x\\y", tags, fields, 1}), "x\\y,path=C:\\temp a\\b=1 1\n");
}

TEST(LineProtocol, WritesDoublesInTheirShortestRoundTripForm) {
  EXPECT_EQ(line_with_field({"f", 0.1}, 1), "m f=0.1 1\n");
  EXPECT_EQ(line_with_field({"f", -40.0}, 1), "m f=-40 1\n");  // a float still: no `i`
  EXPECT_EQ(line_with_field({"f", 21.5}, 1), "m f=21.5 1\n");
  EXPECT_EQ(line_with_field({"f", 0.0}, 1), "m f=0 1\n");
}

TEST(LineProtocol, EveryDoubleReadsBackAsTheSameDouble) {
  const std::vector<double> values{1.0 / 3.0,
                                   -273.15,
                                   1e21,
                                   1e-7,
                                   123456789.123456789,
                                   std::numeric_limits<double>::max(),
                                   std::numeric_limits<double>::lowest(),
                                   std::numeric_limits<double>::min(),
                                   std::numeric_limits<double>::denorm_min(),
                                   std::nextafter(0.1, 1.0)};
  for (double value : values) {
    const std::string line = line_with_field({"f", value}, 1);
    ASSERT_EQ(line.rfind("m f=", 0), 0u) << line;
    const std::size_t end = line.find(' ', 4);
    ASSERT_NE(end, std::string::npos) << line;
    const std::string text = line.substr(4, end - 4);
    double parsed = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), parsed);
    ASSERT_EQ(ec, std::errc()) << text;
    EXPECT_EQ(ptr, text.data() + text.size()) << text;
    EXPECT_EQ(parsed, value) << text;
    EXPECT_EQ(text.find('i'), std::string::npos) << text;
  }
}

TEST(LineProtocol, WritesIntegersWithTheISuffix) {
  EXPECT_EQ(line_with_field({"seq", std::int64_t{42}}, 1), "m seq=42i 1\n");
  EXPECT_EQ(line_with_field({"seq", std::int64_t{-7}}, 1), "m seq=-7i 1\n");
  EXPECT_EQ(line_with_field({"seq", std::int64_t{0}}, 1), "m seq=0i 1\n");
  EXPECT_EQ(line_with_field({"seq", std::numeric_limits<std::int64_t>::max()}, 1), "m seq=9223372036854775807i 1\n");
  EXPECT_EQ(line_with_field({"seq", std::numeric_limits<std::int64_t>::min()}, 1), "m seq=-9223372036854775808i 1\n");
}

TEST(LineProtocol, AcceptsTimestampsAtBothEndsOfInfluxDbsRange) {
  EXPECT_EQ(line_with_field({"f", 1.0}, kMinTimestampMs), "m f=1 " + std::to_string(kMinTimestampMs) + "\n");
  EXPECT_EQ(line_with_field({"f", 1.0}, kMaxTimestampMs), "m f=1 " + std::to_string(kMaxTimestampMs) + "\n");
  EXPECT_EQ(line_with_field({"f", 1.0}, -1), "m f=1 -1\n");  // before 1970 is fine
}

TEST(LineProtocol, AcceptsAHashInsideNamesAndAtTheStartOfKeys) {
  const std::vector<Tag> tags{{"#tag", "#value"}};
  const std::vector<Field> fields{{"#f", 1.0}};
  EXPECT_EQ(line_of(Point{"m#1", tags, fields, 1}), "m#1,#tag=#value #f=1 1\n");
}

// One violated precondition: the point, and what the error message must name (besides never
// containing the string field's value).
struct BadPoint {
  std::string label;
  std::string measurement = "m";
  std::vector<std::pair<std::string, std::string>> tags = {};
  std::vector<std::pair<std::string, std::variant<double, std::int64_t, std::string>>> fields = {
      {"f", std::string(kSecretText)}};
  std::int64_t ts_ms = 1732200000123;
  std::vector<std::string> message_names = {};  // substrings the message must contain
};

std::vector<BadPoint> bad_points() {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  const std::string invalid_utf8 = "caf\xc3";  // a truncated two-byte sequence
  const std::string secret(kSecretText);
  std::vector<BadPoint> cases;
  auto add = [&cases](BadPoint point) { cases.push_back(std::move(point)); };

  add({.label = "no fields", .measurement = "meas", .fields = {}, .message_names = {"meas"}});
  add({.label = "NaN",
       .measurement = "meas",
       .fields = {{"s", secret}, {"temp", nan}},
       .message_names = {"meas", "temp"}});
  add({.label = "+infinity",
       .measurement = "meas",
       .fields = {{"s", secret}, {"temp", inf}},
       .message_names = {"meas", "temp"}});
  add({.label = "-infinity",
       .measurement = "meas",
       .fields = {{"s", secret}, {"temp", -inf}},
       .message_names = {"meas", "temp"}});

  add({.label = "empty measurement", .measurement = ""});
  add({.label = "empty tag key", .tags = {{"", "v"}}});
  add({.label = "empty tag value",
       .measurement = "meas",
       .tags = {{"device", ""}},
       .message_names = {"meas", "device"}});
  add({.label = "empty field key", .fields = {{"", std::int64_t{1}}}});

  for (const std::string& control : std::vector<std::string>{"\n", "\r", "\t", std::string(1, '\0'), "\x1f", "\x7f"}) {
    add({.label = "control in measurement", .measurement = "a" + control + "b"});
    add({.label = "control in tag key", .tags = {{"k" + control, "v"}}});
    add({.label = "control in tag value",
         .measurement = "meas",
         .tags = {{"device", "v" + control}},
         .message_names = {"meas", "device"}});
    add({.label = "control in field key", .fields = {{"f" + control, 1.0}}});
  }
  add({.label = "measurement starting with #", .measurement = "#comment"});

  for (const std::string& bad : std::vector<std::string>{"end\\", "a\\,b", "a\\ b", "a\\=b", "a\\\"b"}) {
    add({.label = "backslash in measurement: " + bad, .measurement = bad});
    add({.label = "backslash in tag key: " + bad, .tags = {{bad, "v"}}});
    add({.label = "backslash in tag value: " + bad,
         .measurement = "meas",
         .tags = {{"device", bad}},
         .message_names = {"meas", "device"}});
    add({.label = "backslash in field key: " + bad, .fields = {{bad, 1.0}}});
  }

  add({.label = "newline in string field",
       .measurement = "meas",
       .fields = {{"state", secret + "\nnext line"}},
       .message_names = {"meas", "state"}});
  add({.label = "invalid UTF-8 in string field",
       .measurement = "meas",
       .fields = {{"state", secret + invalid_utf8}},
       .message_names = {"meas", "state"}});
  add({.label = "invalid UTF-8 in measurement", .measurement = invalid_utf8});
  add({.label = "invalid UTF-8 in tag key", .tags = {{invalid_utf8, "v"}}});
  add({.label = "invalid UTF-8 in tag value",
       .measurement = "meas",
       .tags = {{"device", invalid_utf8}},
       .message_names = {"meas", "device"}});
  add({.label = "invalid UTF-8 in field key", .fields = {{invalid_utf8, 1.0}}});
  add({.label = "overlong UTF-8 in tag value", .tags = {{"device", "\xc0\xaf"}}});
  add({.label = "UTF-16 surrogate in tag value", .tags = {{"device", "\xed\xa0\x80"}}});

  add({.label = "timestamp below the range",
       .measurement = "meas",
       .ts_ms = kMinTimestampMs - 1,
       .message_names = {"meas"}});
  add({.label = "timestamp above the range",
       .measurement = "meas",
       .ts_ms = kMaxTimestampMs + 1,
       .message_names = {"meas"}});
  add({.label = "timestamp int64 max", .ts_ms = std::numeric_limits<std::int64_t>::max()});
  return cases;
}

TEST(LineProtocol, RefusesEveryCheckedPreconditionLeavingOutUntouched) {
  for (const BadPoint& bad : bad_points()) {
    SCOPED_TRACE(bad.label);
    std::vector<Tag> tags;
    for (const auto& [key, value] : bad.tags) tags.push_back({key, value});
    std::vector<Field> fields;
    for (const auto& [key, value] : bad.fields) {
      if (const auto* text = std::get_if<std::string>(&value)) {
        fields.push_back({key, std::string_view(*text)});
      } else if (const auto* integer = std::get_if<std::int64_t>(&value)) {
        fields.push_back({key, *integer});
      } else {
        fields.push_back({key, std::get<double>(value)});
      }
    }
    const std::string before = "m,device=x f=1 1\npartial batch";
    std::string out = before;
    auto appended = append_line(out, Point{bad.measurement, tags, fields, bad.ts_ms});
    ASSERT_FALSE(appended);
    EXPECT_EQ(appended.error().code, Errc::invalid_argument);
    EXPECT_EQ(out, before);
    EXPECT_THAT(appended.error().message, Not(HasSubstr(kSecretText)));
    EXPECT_EQ(appended.error().message.find('\n'), std::string::npos) << appended.error().message;
    for (const std::string& name : bad.message_names) EXPECT_THAT(appended.error().message, HasSubstr(name));
  }
}

TEST(LineProtocol, TheSamePointsWithTheProblemRemovedAreAccepted) {
  // Guards the table above: each bad case fails for its own reason, not because of the base point.
  const std::vector<Tag> tags{{"device", "v"}};
  const std::vector<Field> fields{{"f", kSecretText}, {"temp", 1.5}};
  std::string out;
  EXPECT_TRUE(append_line(out, Point{"meas", tags, fields, 1732200000123}));
  EXPECT_EQ(out, "meas,device=v f=\"do-not-echo-this-value\",temp=1.5 1732200000123\n");
}

}  // namespace
}  // namespace kelvin::influx
