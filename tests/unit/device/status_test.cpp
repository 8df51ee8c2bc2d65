#include "kelvin/device/status.hpp"

#include <gtest/gtest.h>

#include <string>

#include "kelvin/core/utf8.hpp"
#include "kelvin/proto/status.hpp"

namespace kelvin::device {
namespace {

std::string json_string(std::string_view text) {
  std::string out;
  append_json_string(text, out);
  return out;
}

TEST(Status, OnlineCarriesFirmwareAndDropCount) {
  EXPECT_EQ(online_status_json("1.2.0", 0, 1), R"({"state":"online","fw":"1.2.0","dropped":0,"oldest_seq":1})");
  EXPECT_EQ(online_status_json("1.2.0", 18446744073709551615ULL, 42),
            R"({"state":"online","fw":"1.2.0","dropped":18446744073709551615,"oldest_seq":42})");
}

TEST(Status, LastWillIsOffline) {
  EXPECT_EQ(kOfflineStatusJson, R"({"state":"offline"})");
}

TEST(Status, EscapesJsonStrings) {
  EXPECT_EQ(json_string(R"(a"b\c)"), R"("a\"b\\c")");
  EXPECT_EQ(json_string("\n\r\t\b\f"), R"("\n\r\t\b\f")");
  EXPECT_EQ(json_string(std::string_view("\x01\x1f\0", 3)), R"("\u0001\u001f\u0000")");
  EXPECT_EQ(json_string("/ é ✓ \x7f"), "\"/ é ✓ \x7f\"");  // '/', UTF-8 and DEL need no escape
}

TEST(Status, TheGatewayAcceptsWhateverFirmwareStringItIsGiven) {
  const std::string long_utf8 = std::string(63, 'v') + "é";  // 65 bytes; cutting at 64 would split é
  for (std::string fw : {std::string("1.2.0"), std::string("2.0.0-rc.1+\"quoted\"\\"), std::string("bad\nline\x7f"),
                         std::string("\xC3\x28 not utf-8"), long_utf8, std::string(500, 'x'), std::string()}) {
    const std::string payload = online_status_json(fw, 3, 7);
    ASSERT_TRUE(is_valid_utf8(payload)) << payload;
    auto report = proto::decode_status(payload);
    ASSERT_TRUE(report) << payload << ": " << report.error().message;
    EXPECT_TRUE(report->online);
    EXPECT_EQ(report->dropped, 3U);
    EXPECT_LE(report->firmware.size(), proto::kMaxFirmwareVersionBytes);
  }
  EXPECT_EQ(proto::decode_status(online_status_json("2.0.0-rc.1+\"q\"", 0, 1))->firmware, "2.0.0-rc.1+\"q\"");
  EXPECT_EQ(proto::decode_status(online_status_json("bad\nline", 0, 1))->firmware, "bad?line");
  EXPECT_EQ(proto::decode_status(online_status_json("\xC3\x28!", 0, 1))->firmware, "?(!");
  EXPECT_EQ(proto::decode_status(online_status_json(long_utf8, 0, 1))->firmware, std::string(63, 'v'));
  auto offline = proto::decode_status(kOfflineStatusJson);
  ASSERT_TRUE(offline);
  EXPECT_FALSE(offline->online);
}

}  // namespace
}  // namespace kelvin::device
