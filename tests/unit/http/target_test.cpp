// parse_target: what reaches routing, and every way a target is refused before it (400).

#include "kelvin/http/target.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace kelvin::http {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(ParseTarget, SplitsPathSegmentsAndQuery) {
  auto target = parse_target("/api/v1/devices/sensor-01?from=1&to=2");
  ASSERT_TRUE(target.ok()) << target.error().message;
  EXPECT_EQ(target->path, "/api/v1/devices/sensor-01");
  EXPECT_THAT(target->segments, ElementsAre("api", "v1", "devices", "sensor-01"));
  EXPECT_EQ(target->query, "from=1&to=2");
}

TEST(ParseTarget, RootHasNoSegmentsAndATrailingSlashAnEmptyOne) {
  auto root = parse_target("/");
  ASSERT_TRUE(root.ok());
  EXPECT_THAT(root->segments, IsEmpty());
  auto trailing = parse_target("/api/");
  ASSERT_TRUE(trailing.ok());
  EXPECT_THAT(trailing->segments, ElementsAre("api", ""));
}

TEST(ParseTarget, DecodesSegmentsButKeepsPathAndQueryEncoded) {
  auto target = parse_target("/a%20b/%41%2d%7e?q=%2F");
  ASSERT_TRUE(target.ok()) << target.error().message;
  EXPECT_THAT(target->segments, ElementsAre("a b", "A-~"));
  EXPECT_EQ(target->path, "/a%20b/%41%2d%7e");
  EXPECT_EQ(target->query, "q=%2F");
}

TEST(ParseTarget, DotsInsideANameAreOrdinary) {
  auto target = parse_target("/files/app.min.js/...x/..a");
  ASSERT_TRUE(target.ok()) << target.error().message;
  EXPECT_THAT(target->segments, ElementsAre("files", "app.min.js", "...x", "..a"));
}

// Each of these must be refused before any routing, whatever route exists.
TEST(ParseTarget, RefusesTraversalControlBytesAndBadEscapes) {
  const std::vector<std::string> refused = {
      // not origin-form
      "",
      "api/v1",
      "*",
      "http://example.net/",
      // raw dot segments
      "/.",
      "/..",
      "/a/../b",
      "/a/./b",
      "/a/..",
      "/../etc/passwd",
      // encoded dot segments, any case, fully or partly encoded
      "/%2e",
      "/%2E",
      "/%2e%2e",
      "/%2E%2E/x",
      "/.%2e/x",
      "/%2e./x",
      "/a/%2e%2E/b",
      // encoded separators that would change the path after decoding
      "/..%2f",
      "/..%2Fetc",
      "/a%2fb",
      "/%5c..",
      "/..%5c",
      // NUL and other control bytes, raw or encoded, in path or query
      std::string("/a\0b", 4),
      "/a%00b",
      "/a\tb",
      "/a b",
      "/a%0d%0aSet-Cookie:x",
      "/a?x=%00",
      "/a?x=\x7f",
      // invalid percent-encoding in path or query
      "/%",
      "/%2",
      "/%zz",
      "/a%g0",
      "/a?q=%",
      "/a?q=%4",
      // fragment
      "/a#b",
  };
  for (const std::string& target : refused) {
    auto parsed = parse_target(target);
    EXPECT_FALSE(parsed.ok()) << "accepted: " << target;
    if (!parsed.ok()) {
      EXPECT_EQ(parsed.error().code, Errc::invalid_argument) << target;
    }
  }
}

TEST(PercentDecode, DecodesBothCasesAndRefusesTruncatedEscapes) {
  auto decoded = percent_decode("%2e%2E+%41");
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, "..+A");
  EXPECT_FALSE(percent_decode("abc%").ok());
  EXPECT_FALSE(percent_decode("abc%4").ok());
  EXPECT_FALSE(percent_decode("%x1").ok());
}

}  // namespace
}  // namespace kelvin::http
