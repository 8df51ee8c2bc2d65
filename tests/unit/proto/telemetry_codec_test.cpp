#include "kelvin/proto/telemetry_codec.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <set>

#include "mutations.hpp"
#include "telemetry_facts.hpp"

namespace kelvin::proto {
namespace {

using ::testing::HasSubstr;

constexpr std::int64_t kNow = 1'800'000'000'000;  // 2027-01-15T08:00:00Z

Reading reading(std::uint64_t seq, double temperature, std::optional<double> humidity = std::nullopt) {
  Reading r;
  r.seq = seq;
  r.ts_ms = kNow - 1000 + static_cast<std::int64_t>(seq);
  r.set(Quantity::temperature, temperature);
  if (humidity) r.set(Quantity::humidity, *humidity);
  return r;
}

// The single-reading payload must be rejected (not accepted) for `reason`.
void expect_reading_rejected(const std::string& payload, RejectReason reason) {
  auto decoded = decode_telemetry(payload, kNow);
  EXPECT_FALSE(decoded.payload_rejection) << payload;
  EXPECT_TRUE(decoded.accepted.empty()) << payload;
  ASSERT_EQ(decoded.rejected.size(), 1u) << payload;
  EXPECT_EQ(decoded.rejected[0].reason, reason)
      << payload << " -> " << to_string(decoded.rejected[0].reason) << ": " << decoded.rejected[0].detail;
}

void expect_payload_rejected(const std::string& payload, RejectReason reason) {
  auto decoded = decode_telemetry(payload, kNow);
  ASSERT_TRUE(decoded.payload_rejection) << payload;
  EXPECT_EQ(decoded.payload_rejection->reason, reason) << payload << " -> " << decoded.payload_rejection->detail;
  EXPECT_TRUE(decoded.accepted.empty());
  EXPECT_TRUE(decoded.rejected.empty());
}

TEST(TelemetryCodec, EncodesTheDocumentedFormat) {
  Reading r;
  r.seq = 42;
  r.ts_ms = 1732200000123;
  r.set(Quantity::temperature, 21.5);
  r.set(Quantity::humidity, 40.2);
  std::string json;
  append_reading_json(r, json);
  EXPECT_EQ(json, R"({"seq":42,"ts":1732200000123,"values":{"temperature":21.5,"humidity":40.2}})");

  std::string batch;
  append_batch_json(std::vector<Reading>{r, r}, batch);
  EXPECT_EQ(batch, "{\"batch\":[" + json + "," + json + "]}");
}

TEST(TelemetryCodec, DecodesTheDocumentedExample) {
  auto decoded =
      decode_telemetry(R"({"seq":42,"ts":1799999999000,"values":{"temperature":21.5,"humidity":40.2}})", kNow);
  ASSERT_FALSE(decoded.payload_rejection);
  ASSERT_EQ(decoded.accepted.size(), 1u);
  EXPECT_TRUE(decoded.rejected.empty());
  const Reading& r = decoded.accepted[0];
  EXPECT_EQ(r.seq, 42u);
  EXPECT_EQ(r.ts_ms, 1799999999000);
  EXPECT_EQ(r.value(Quantity::temperature), 21.5);
  EXPECT_EQ(r.value(Quantity::humidity), 40.2);
}

TEST(TelemetryCodec, RoundTripsValuesExactly) {
  std::vector<Reading> readings;
  for (std::uint64_t seq = 1; seq <= 50; ++seq) {
    // Values that have no short decimal form must still come back bit for bit.
    readings.push_back(reading(seq, -55.0 + static_cast<double>(seq) * 3.1415926535897932, std::nextafter(40.0, 41.0)));
  }
  readings.push_back(reading(51, 125.0));  // humidity absent stays absent
  std::string json;
  append_batch_json(readings, json);
  auto decoded = decode_telemetry(json, kNow);
  ASSERT_FALSE(decoded.payload_rejection);
  EXPECT_TRUE(decoded.rejected.empty());
  EXPECT_EQ(decoded.accepted, readings);
}

TEST(TelemetryCodec, OneBadReadingInABatchDoesNotSinkTheOthers) {
  const std::string payload = R"({"batch":[{"seq":1,"ts":1799999999000,"values":{"temperature":20}},)"
                              R"({"seq":2,"ts":1799999999000,"values":{"temperature":900}},)"
                              R"({"seq":3,"ts":1799999999000,"values":{"humidity":55}}]})";
  auto decoded = decode_telemetry(payload, kNow);
  ASSERT_FALSE(decoded.payload_rejection);
  ASSERT_EQ(decoded.accepted.size(), 2u);
  EXPECT_EQ(decoded.accepted[0].seq, 1u);
  EXPECT_EQ(decoded.accepted[1].seq, 3u);
  ASSERT_EQ(decoded.rejected.size(), 1u);
  EXPECT_EQ(decoded.rejected[0].reason, RejectReason::out_of_range);
  EXPECT_EQ(decoded.rejected[0].seq, 2u);  // known, so the gateway can account for it
  EXPECT_THAT(decoded.rejected[0].detail, HasSubstr("temperature"));
}

TEST(TelemetryCodec, RefusesUnusablePayloads) {
  expect_payload_rejected(std::string(16 * 1024 + 1, ' '), RejectReason::payload_too_large);
  expect_payload_rejected("{\"seq\":1,\"ts\":1799999999000,\"values\":{\"temperature\":20},\"x\":\"\xC3\x28\"}",
                          RejectReason::invalid_utf8);
  expect_payload_rejected("{\"seq\":1", RejectReason::malformed_json);
  expect_payload_rejected("", RejectReason::malformed_json);
  expect_payload_rejected(R"({"seq":1,"ts":1799999999000,"values":{"temperature":NaN}})", RejectReason::malformed_json);
  expect_payload_rejected("[1,2,3]", RejectReason::wrong_shape);
  expect_payload_rejected("42", RejectReason::wrong_shape);
  expect_payload_rejected(R"({"batch":{}})", RejectReason::wrong_shape);
  expect_payload_rejected(R"({"batch":[],"seq":1})", RejectReason::wrong_shape);
  expect_payload_rejected(R"({"batch":[]})", RejectReason::batch_empty);

  std::string too_many = R"({"batch":[)";
  for (int i = 1; i <= 501; ++i) too_many += std::string(i > 1 ? "," : "") + "{}";
  too_many += "]}";
  expect_payload_rejected(too_many, RejectReason::batch_too_large);
}

TEST(TelemetryCodec, RefusesReadingsThatBreakTheSchema) {
  expect_reading_rejected(R"({"ts":1799999999000,"values":{"temperature":20}})", RejectReason::wrong_shape);
  expect_reading_rejected(R"({"seq":0,"ts":1799999999000,"values":{"temperature":20}})", RejectReason::invalid_seq);
  expect_reading_rejected(R"({"seq":-1,"ts":1799999999000,"values":{"temperature":20}})", RejectReason::invalid_seq);
  expect_reading_rejected(R"({"seq":1.5,"ts":1799999999000,"values":{"temperature":20}})", RejectReason::invalid_seq);
  expect_reading_rejected(R"({"seq":9223372036854775808,"ts":1799999999000,"values":{"temperature":20}})",
                          RejectReason::invalid_seq);
  expect_reading_rejected(R"({"seq":"1","ts":1799999999000,"values":{"temperature":20}})", RejectReason::invalid_seq);
  expect_reading_rejected(R"({"seq":1,"ts":"now","values":{"temperature":20}})", RejectReason::wrong_shape);
  expect_reading_rejected(R"({"seq":1,"ts":1799999999000.5,"values":{"temperature":20}})", RejectReason::wrong_shape);
  expect_reading_rejected(R"({"seq":1,"ts":1799999999000})", RejectReason::wrong_shape);
  expect_reading_rejected(R"({"seq":1,"ts":1799999999000,"values":[20]})", RejectReason::wrong_shape);
  expect_reading_rejected(R"({"seq":1,"ts":1799999999000,"values":{}})", RejectReason::no_values);
  expect_reading_rejected(R"({"seq":1,"ts":1799999999000,"values":{"temperature":"20"}})", RejectReason::wrong_shape);
  expect_reading_rejected(R"({"seq":1,"ts":1799999999000,"values":{"temperature":null}})", RejectReason::wrong_shape);
  expect_reading_rejected(R"({"seq":1,"ts":1799999999000,"values":{"pressure":1013}})", RejectReason::unknown_quantity);
  expect_reading_rejected(R"({"seq":1,"ts":1799999999000,"values":{"temperature":20},"extra":1})",
                          RejectReason::wrong_shape);
}

TEST(TelemetryCodec, RefusesImplausibleValues) {
  // JSON cannot carry NaN or Infinity; literals that overflow a double are refused as malformed.
  expect_payload_rejected(R"({"seq":1,"ts":1799999999000,"values":{"temperature":1e999}})",
                          RejectReason::malformed_json);
  expect_payload_rejected(R"({"seq":1,"ts":1799999999000,"values":{"temperature":-1e999}})",
                          RejectReason::malformed_json);
  expect_payload_rejected(R"({"seq":1,"ts":1799999999000,"values":{"temperature":Infinity}})",
                          RejectReason::malformed_json);
  expect_reading_rejected(R"({"seq":1,"ts":1799999999000,"values":{"temperature":125.01}})",
                          RejectReason::out_of_range);
  expect_reading_rejected(R"({"seq":1,"ts":1799999999000,"values":{"temperature":-55.01}})",
                          RejectReason::out_of_range);
  expect_reading_rejected(R"({"seq":1,"ts":1799999999000,"values":{"humidity":100.5}})", RejectReason::out_of_range);
  expect_reading_rejected(R"({"seq":1,"ts":1799999999000,"values":{"humidity":-0.1}})", RejectReason::out_of_range);
  // The range ends themselves are plausible.
  auto edges = decode_telemetry(R"({"seq":1,"ts":1799999999000,"values":{"temperature":-55,"humidity":100}})", kNow);
  EXPECT_EQ(edges.accepted.size(), 1u);
}

TEST(TelemetryCodec, APayloadIsItsFullLengthSoARawNulIsMalformed) {
  const std::string reading = R"({"seq":1,"ts":1799999999000,"values":{"temperature":20}})";
  const std::string nul(1, '\0');
  expect_payload_rejected(reading + " x", RejectReason::malformed_json);
  expect_payload_rejected(reading + nul + "garbage", RejectReason::malformed_json);
  expect_payload_rejected(reading + nul, RejectReason::malformed_json);
  expect_payload_rejected(nul + reading, RejectReason::malformed_json);
  expect_payload_rejected(R"({"seq":1,"ts":1799999999000,"values":{"temperature":20})" + nul + "}",
                          RejectReason::malformed_json);
  expect_payload_rejected(R"({"batch":[)" + reading + "," + nul + reading + "]}", RejectReason::malformed_json);
  expect_payload_rejected(R"({"seq":1,"ts":1799999999000,"values":{"temp)" + nul + R"(erature":20}})",
                          RejectReason::malformed_json);
}

TEST(TelemetryCodec, RefusesAMemberNameGivenTwiceInOneObjectAtAnyDepth) {
  const std::string values = R"("values":{"temperature":20})";
  for (const std::string& payload : {
           R"({"seq":1,"seq":2,"ts":1799999999000,)" + values + "}",
           R"({"seq":1,"ts":1799999999000,"ts":1799999999001,)" + values + "}",
           R"({"seq":1,"ts":1799999999000,)" + values + R"(,"values":{"humidity":40}})",
           std::string(R"({"seq":1,"ts":1799999999000,"values":{"temperature":10,"temperature":30}})"),
           std::string(R"({"seq":1,"ts":1799999999000,"values":{"temperature":10,"temperat\u0075re":30}})"),
           R"({"batch":[{"seq":1,"ts":1799999999000,)" + values + R"(}],"batch":[]})",
           R"({"batch":[{"seq":1,"ts":1799999999000,)" + values +
               R"(},{"seq":2,"ts":1799999999000,"values":{"humidity":1,"humidity":2}}]})",
           std::string(R"({"seq":1,"ts":1799999999000,"values":{"temperature":20},"x":{"a":{"b":1,"b":1}}})"),
       }) {
    expect_payload_rejected(payload, RejectReason::duplicate_member);
  }
  auto decoded = decode_telemetry(R"({"seq":1,"ts":1799999999000,"values":{"temperature":10,"temperature":30}})", kNow);
  ASSERT_TRUE(decoded.payload_rejection);
  EXPECT_THAT(decoded.payload_rejection->detail, HasSubstr("'temperature'"));
  // The same name in different objects is no duplicate.
  std::string batch;
  append_batch_json(std::vector<Reading>{reading(1, 20, 40), reading(2, 21, 41)}, batch);
  EXPECT_EQ(decode_telemetry(batch, kNow).accepted.size(), 2u);
}

TEST(TelemetryCodec, ARefusalNamesTheSameFaultWhateverTheMemberOrder) {
  // Two unexpected members: the one first in name order is named, wherever it stands.
  for (const char* payload : {R"({"zz":1,"seq":1,"ts":1799999999000,"values":{"temperature":20},"aa":2})",
                              R"({"aa":2,"values":{"temperature":20},"ts":1799999999000,"seq":1,"zz":1})"}) {
    auto decoded = decode_telemetry(payload, kNow);
    ASSERT_EQ(decoded.rejected.size(), 1u) << payload;
    EXPECT_EQ(decoded.rejected[0].reason, RejectReason::wrong_shape) << payload;
    EXPECT_THAT(decoded.rejected[0].detail, HasSubstr("'aa'")) << payload;
  }
  // Two bad values: humidity sorts before temperature, so its fault is the one reported.
  for (const char* payload : {R"({"seq":1,"ts":1799999999000,"values":{"temperature":"x","humidity":500}})",
                              R"({"seq":1,"ts":1799999999000,"values":{"humidity":500,"temperature":"x"}})"}) {
    auto decoded = decode_telemetry(payload, kNow);
    ASSERT_EQ(decoded.rejected.size(), 1u) << payload;
    EXPECT_EQ(decoded.rejected[0].reason, RejectReason::out_of_range) << payload;
  }
  // A repeated name deep inside an unexpected member is still a repeated name.
  expect_payload_rejected(R"({"seq":1,"ts":1799999999000,"values":{"temperature":20},"x":[1,{"a":1,"a":2}]})",
                          RejectReason::duplicate_member);
  // A batch element that is no object, and one with a member of its own named batch.
  auto decoded =
      decode_telemetry(R"({"batch":[[],{"seq":1,"ts":1799999999000,"values":{"temperature":20},"batch":[]}]})", kNow);
  ASSERT_EQ(decoded.rejected.size(), 2u);
  EXPECT_EQ(decoded.rejected[0].reason, RejectReason::wrong_shape);
  EXPECT_THAT(decoded.rejected[1].detail, HasSubstr("'batch'"));
}

TEST(TelemetryCodec, AnswersEveryPayloadNearAValidOneWithoutThrowing) {
  std::string batch;
  append_batch_json(std::vector<Reading>{reading(1, 20, 40), reading(2, -21.5)}, batch);
  for (const std::string& payload : testing::mutations_of(batch)) {
    EXPECT_NO_THROW((void)decode_telemetry(payload, kNow)) << payload;
  }
}

// The plain-reading fast path is a shortcut, never a second grammar: wherever it answers, its
// facts are the SAX reader's, on every payload near plain readings (alone or in a batch, written
// compactly or with whitespace, members in another order, numbers at the edges of their types);
// and it does answer for the plain forms devices send, or the gateway would lose its speed without
// a test noticing.
TEST(TelemetryFacts, ThePlainReadingFastPathAgreesWithTheFullReaderWheneverItAnswers) {
  constexpr std::size_t kMaxBatch = 3;
  const std::vector<std::string> plain = {
      R"({"seq":1,"ts":1799999999001,"values":{"temperature":20.5,"humidity":40}})",
      " {\n\t\"values\" : { \"humidity\" : -1.5e1 , \"temperature\" : 0 } ,\r\"ts\":1799999999001 , "
      "\"seq\" : 18446744073709551615 } ",
      R"({"seq":-0,"ts":-9223372036854775808,"values":{"pressure":1E-3,"temperature":-12.25E+1}})",
      R"({"seq":1,"ts":2,"values":{}})",
      R"({})",
      R"({"values":{"a":0.1,"b":1.7976931348623157e308,"c":2.2250738585072014e-308,"d":4.9e-324}})",
      R"({"batch":[{"seq":1,"ts":2,"values":{"temperature":1}},{"ts":3,"values":{"humidity":2},"seq":2},{}]})",
      R"( { "batch" : [ { "values" : { "e" : 1 , "x" : 2 } } ] } )",
      R"({"batch":[]})",
  };
  const std::vector<std::string> left_to_sax = {
      R"({"seq":7,"ts":12345678901234567890123,"values":{"temperature":1}})",  // beyond 64 bits
      R"({"values":{"a":1e400,"b":1e-400,"c":123456789012345678901234567890.5,"d":-0.0}})",
      R"({"seq":1,"ts":2,"values":{"e":1,"x":2,"e":3}})",  // repeated names
      R"({"seq":1,"ts":2,"values":{"temperature":1,"temperature":2}})",
      R"({"seq":1,"ts":2,"seq":3,"values":{"temperature":1}})",
      R"({"batch":[{"seq":1,"seq":1}]})",
      R"({"batch":[{"seq":1},{"seq":2},{"seq":3},{"seq":4}]})",  // more than kMaxBatch
      R"({"batch":[{"seq":1}],"seq":2})",
      R"({"seq":2,"batch":[{"seq":1}]})",
      R"({"seq":1,"ts":2,"values":{"temperature":1},"note":"x"})",
      R"({"values":{"a":1,"b":2,"c":3,"d":4,"e":5}})",  // more values than a reading can hold
  };
  for (const std::string& payload : plain) {
    EXPECT_TRUE(detail::read_plain_reading_facts(payload, kMaxBatch)) << payload;
  }
  for (const std::string& payload : left_to_sax) {
    EXPECT_FALSE(detail::read_plain_reading_facts(payload, kMaxBatch)) << payload;
  }
  std::size_t answered = 0, compared = 0;
  for (const auto* seeds : {&plain, &left_to_sax}) {
    for (const std::string& seed : *seeds) {
      std::vector<std::string> payloads = testing::mutations_of(seed);
      payloads.push_back(seed);
      for (const std::string& payload : payloads) {
        ++compared;
        auto fast = detail::read_plain_reading_facts(payload, kMaxBatch);
        if (!fast) continue;
        ++answered;
        auto full = detail::read_telemetry_facts(payload, kMaxBatch);
        ASSERT_TRUE(std::holds_alternative<detail::PayloadFacts>(full)) << payload;
        EXPECT_TRUE(*fast == std::get<detail::PayloadFacts>(full)) << payload;
      }
    }
  }
  EXPECT_GT(answered, compared / 20) << "the fast path answered " << answered << " of " << compared;
}

TEST(TelemetryCodec, RefusesTimestampsFromTheFutureOrBeforeAnyClockWasSet) {
  const std::int64_t five_minutes = 5 * 60 * 1000;
  auto at = [](std::int64_t ts) {
    return R"({"seq":7,"ts":)" + std::to_string(ts) + R"(,"values":{"temperature":20}})";
  };
  EXPECT_EQ(decode_telemetry(at(kNow + five_minutes), kNow).accepted.size(), 1u);
  expect_reading_rejected(at(kNow + five_minutes + 1), RejectReason::timestamp_in_future);
  expect_reading_rejected(at(std::numeric_limits<std::int64_t>::max()), RejectReason::timestamp_in_future);
  expect_reading_rejected("{\"seq\":7,\"ts\":18446744073709551615,\"values\":{\"temperature\":20}}",
                          RejectReason::timestamp_in_future);
  EXPECT_EQ(decode_telemetry(at(1'577'836'800'000), kNow).accepted.size(), 1u);  // 2020-01-01
  expect_reading_rejected(at(1'577'836'799'999), RejectReason::timestamp_too_old);
  expect_reading_rejected(at(0), RejectReason::timestamp_too_old);
  expect_reading_rejected(at(-5), RejectReason::timestamp_too_old);

  auto decoded = decode_telemetry(at(kNow + 3'600'000), kNow);
  ASSERT_EQ(decoded.rejected.size(), 1u);
  EXPECT_EQ(decoded.rejected[0].seq, 7u);
}

TEST(TelemetryCodec, LimitsAreConfigurable) {
  TelemetryLimits limits;
  limits.max_batch_readings = 2;
  limits.max_payload_bytes = 100'000;
  std::string json;
  append_batch_json(std::vector<Reading>{reading(1, 20), reading(2, 20), reading(3, 20)}, json);
  auto decoded = decode_telemetry(json, kNow, limits);
  ASSERT_TRUE(decoded.payload_rejection);
  EXPECT_EQ(decoded.payload_rejection->reason, RejectReason::batch_too_large);
}

TEST(RejectReason, EveryReasonHasADistinctStableName) {
  std::set<std::string_view> names;
  for (std::size_t i = 0; i < kRejectReasonCount; ++i) {
    auto name = to_string(static_cast<RejectReason>(i));
    EXPECT_NE(name, "unknown");
    names.insert(name);
  }
  EXPECT_EQ(names.size(), kRejectReasonCount);
}

}  // namespace
}  // namespace kelvin::proto
