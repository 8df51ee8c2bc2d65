#include "kelvin/proto/status.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <string>

#include "kelvin/core/utf8.hpp"
#include "mutations.hpp"

namespace kelvin::proto {
namespace {

StatusReport online(std::string firmware, std::uint64_t dropped, std::optional<std::uint64_t> oldest_seq,
                    std::string release_check = {}) {
  return StatusReport{true, std::move(firmware), dropped, oldest_seq, std::move(release_check)};
}

// Every code docs/protocol.md says a device sends.
constexpr const char* kDocumentedReleaseChecks[] = {"current",           "timestamp_expired", "timestamp_rolled_back",
                                                    "timestamp_missing", "timestamp_invalid", "clock_unknown"};

TEST(StatusEncoder, WritesTheDocumentedForms) {
  EXPECT_EQ(encode_status(online("1.2.0", 0, 1)), R"({"state":"online","fw":"1.2.0","dropped":0,"oldest_seq":1})");
  EXPECT_EQ(encode_status(online("1.2.0", std::numeric_limits<std::uint64_t>::max(), 42)),
            R"({"state":"online","fw":"1.2.0","dropped":18446744073709551615,"oldest_seq":42})");
  EXPECT_EQ(encode_status(online("1.2.0", 3, std::nullopt)), R"({"state":"online","fw":"1.2.0","dropped":3})");
  EXPECT_EQ(encode_status(online("1.2.0", 0, 1, "timestamp_expired")),
            R"({"state":"online","fw":"1.2.0","dropped":0,"oldest_seq":1,"release_check":"timestamp_expired"})");
  EXPECT_EQ(kOfflineStatusJson, R"({"state":"offline"})");
  EXPECT_EQ(encode_status(StatusReport{}), kOfflineStatusJson);
}

TEST(StatusEncoder, WhatItWritesDecodesToTheSameReport) {
  for (const StatusReport& report :
       {online("1.2.0", 0, 1), online("2.0.0-rc.1+\"q\"", 7, 123456789), online("", 0, std::nullopt),
        online("é ✓", std::numeric_limits<std::uint64_t>::max(), 1), online("1.2.0", 0, 1, "current"),
        online("1.2.0", 0, std::nullopt, std::string(kMaxReleaseCheckBytes, 'z')), StatusReport{}}) {
    auto decoded = decode_status(encode_status(report));
    ASSERT_TRUE(decoded.ok()) << encode_status(report) << ": " << decoded.error().message;
    EXPECT_EQ(*decoded, report) << encode_status(report);
  }
}

TEST(StatusEncoder, TheGatewayAcceptsWhateverFirmwareStringItIsGiven) {
  const std::string long_utf8 = std::string(63, 'v') + "é";  // 65 bytes; cutting at 64 would split é
  for (std::string fw : {std::string("1.2.0"), std::string("2.0.0-rc.1+\"quoted\"\\"), std::string("bad\nline\x7f"),
                         std::string("\xC3\x28 not utf-8"), long_utf8, std::string(500, 'x'), std::string()}) {
    const std::string payload = encode_status(online(fw, 3, 7));
    ASSERT_TRUE(is_valid_utf8(payload)) << payload;
    auto report = decode_status(payload);
    ASSERT_TRUE(report) << payload << ": " << report.error().message;
    EXPECT_TRUE(report->online);
    EXPECT_EQ(report->dropped, 3U);
    EXPECT_LE(report->firmware.size(), kMaxFirmwareVersionBytes);
  }
  EXPECT_EQ(decode_status(encode_status(online("bad\nline", 0, 1)))->firmware, "bad?line");
  EXPECT_EQ(decode_status(encode_status(online("\xC3\x28!", 0, 1)))->firmware, "?(!");
  EXPECT_EQ(decode_status(encode_status(online(long_utf8, 0, 1)))->firmware, std::string(63, 'v'));
}

TEST(StatusEncoder, ReportsEveryDocumentedReleaseCheck) {
  for (const char* code : kDocumentedReleaseChecks) {
    EXPECT_TRUE(is_valid_release_check(code)) << code;
    auto decoded = decode_status(encode_status(online("1.2.0", 0, 1, code)));
    ASSERT_TRUE(decoded.ok()) << code << ": " << decoded.error().message;
    EXPECT_EQ(decoded->release_check, code);
  }
}

// A caller's invalid code must not cost the gateway the rest of the status (drop count, floor).
TEST(StatusEncoder, LeavesOutAnInvalidReleaseCheck) {
  for (const std::string& code :
       {std::string("Current"), std::string("time-stamp"), std::string("expired1"), std::string("a b"),
        std::string("\"\\"), std::string(kMaxReleaseCheckBytes + 1, 'a'), std::string("\xC3\xA9"), std::string()}) {
    EXPECT_FALSE(is_valid_release_check(code)) << code;
    const std::string payload = encode_status(online("1.2.0", 5, 9, code));
    EXPECT_EQ(payload, R"({"state":"online","fw":"1.2.0","dropped":5,"oldest_seq":9})") << code;
  }
}

TEST(StatusEncoder, TheLastWillCarriesNoReleaseCheck) {
  StatusReport offline;
  offline.release_check = "current";
  EXPECT_EQ(encode_status(offline), kOfflineStatusJson);
}

TEST(StatusDecoder, OnlineStatusWithEveryField) {
  auto status = decode_status(R"({"state":"online","fw":"1.2.0","dropped":4,"oldest_seq":17,"extra":true})");
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_TRUE(status->online);
  EXPECT_EQ(status->firmware, "1.2.0");
  EXPECT_EQ(status->dropped, 4u);
  EXPECT_EQ(status->oldest_seq, 17u);
  EXPECT_EQ(status->release_check, "");
}

TEST(StatusDecoder, TakesAnyValidReleaseCheckCode) {
  // Codes the gateway does not know yet are kept: devices may add codes later.
  for (const std::string& code : {std::string("current"), std::string("clock_unknown"), std::string("a"),
                                  std::string("some_future_code"), std::string(kMaxReleaseCheckBytes, '_')}) {
    auto status = decode_status(R"({"state":"online","fw":"1.2.0","release_check":")" + code + R"("})");
    ASSERT_TRUE(status.ok()) << code << ": " << status.error().message;
    EXPECT_EQ(status->release_check, code);
  }
}

TEST(StatusDecoder, RefusesAStatusWithAnInvalidReleaseCheck) {
  for (const std::string& member :
       {std::string(R"("")"), std::string(R"("Current")"), std::string(R"("timestamp-expired")"),
        std::string(R"("v2")"), std::string(R"(" current")"), std::string(R"("\u0063urrent\u0000")"),
        std::string("\"" + std::string(kMaxReleaseCheckBytes + 1, 'a') + "\""), std::string("1"), std::string("null"),
        std::string("true"), std::string(R"(["current"])"), std::string(R"({"code":"current"})")}) {
    const std::string payload = R"({"state":"online","fw":"1.2.0","release_check":)" + member + "}";
    auto status = decode_status(payload);
    EXPECT_FALSE(status.ok()) << payload;
    if (!status.ok()) {
      EXPECT_EQ(status.error().code, Errc::invalid_argument);
      EXPECT_NE(status.error().message.find("release_check"), std::string::npos) << status.error().message;
    }
  }
  EXPECT_FALSE(decode_status(R"({"state":"online","release_check":"current","release_check":"current"})").ok());
}

TEST(StatusDecoder, LastWillIsOfflineWithNothingElse) {
  auto status = decode_status(R"({"state":"offline"})");
  ASSERT_TRUE(status.ok());
  EXPECT_FALSE(status->online);
  EXPECT_EQ(status->firmware, "");
  EXPECT_FALSE(status->oldest_seq.has_value());
  EXPECT_EQ(status->release_check, "");
}

TEST(StatusDecoder, RefusesMalformedStatuses) {
  const std::string too_long_fw = R"({"state":"online","fw":")" + std::string(65, 'v') + R"("})";
  for (const std::string& payload :
       {std::string("not json"), std::string("[]"), std::string(R"({"fw":"1"})"), std::string(R"({"state":"busy"})"),
        std::string(R"({"state":1})"), std::string(R"({"state":"online","fw":7})"), too_long_fw,
        std::string("{\"state\":\"online\",\"fw\":\"a\\u0001\"}"), std::string(R"({"state":"online","dropped":-1})"),
        std::string(R"({"state":"online","oldest_seq":0})"), std::string(R"({"state":"online","oldest_seq":"5"})"),
        std::string("{\"state\":\"online\",\"fw\":\"\xff\"}"), std::string(2000, ' ')}) {
    auto status = decode_status(payload);
    EXPECT_FALSE(status.ok()) << payload;
    if (!status.ok()) {
      EXPECT_EQ(status.error().code, Errc::invalid_argument);
    }
  }
}

TEST(StatusDecoder, APayloadIsItsFullLengthAndEveryMemberNameIsGivenOnce) {
  const std::string nul(1, '\0');
  for (const std::string& payload : {
           R"({"state":"online"})" + nul + "garbage",
           R"({"state":"online"})" + nul,
           R"({"state":"online",)" + nul + R"("fw":"1"})",
           std::string(R"({"state":"online","state":"offline"})"),
           std::string(R"({"state":"online","fw":"1.2.0","fw":"1.3.0"})"),
           std::string(R"({"state":"online","dropped":1,"dropped":0})"),
           std::string(R"({"state":"online","oldest_seq":5,"oldest_seq":9})"),
           std::string(R"({"state":"online","extra":1,"extra":2})"),
           std::string(R"({"state":"online","extra":{"a":1,"a":2}})"),
           std::string(R"({"state":"online","":1,"":2})"),
       }) {
    auto status = decode_status(payload);
    EXPECT_FALSE(status.ok()) << payload;
    if (!status.ok()) {
      EXPECT_EQ(status.error().code, Errc::invalid_argument);
    }
  }
  auto duplicate = decode_status(R"({"state":"online","state":"offline"})");
  ASSERT_FALSE(duplicate.ok());
  EXPECT_NE(duplicate.error().message.find("'state'"), std::string::npos) << duplicate.error().message;
  EXPECT_TRUE(decode_status(R"({"state":"online","extra":{"a":1},"more":{"a":1}})").ok());
}

TEST(StatusDecoder, AnswersEveryPayloadNearAValidOneWithoutThrowing) {
  for (
      const std::string& payload : testing::mutations_of(
          R"({"state":"online","fw":"1.2.0","dropped":4,"oldest_seq":17,"release_check":"current","extra":[1,{"a":true}]})")) {
    EXPECT_NO_THROW((void)decode_status(payload)) << payload;
  }
}

}  // namespace
}  // namespace kelvin::proto
