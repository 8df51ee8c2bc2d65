// write_target: which base URLs the writer accepts (https anywhere, http only to this machine,
// nothing that could smuggle credentials or parameters), the /write endpoint built from them, and
// error messages that show the host at most.

#include "write_url.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace kelvin::influx::detail {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string endpoint(std::string_view base, std::string_view database = "kelvin", std::string_view rp = "") {
  auto target = write_target(base, database, rp);
  EXPECT_TRUE(target) << base << ": " << target.error().message;
  return target ? target->endpoint : std::string();
}

void expect_refused(std::string_view base, std::string_view database = "kelvin") {
  SCOPED_TRACE(std::string(base));
  auto target = write_target(base, database, "");
  ASSERT_FALSE(target) << "accepted, endpoint " << target->endpoint;
  EXPECT_EQ(target.error().code, Errc::invalid_argument);
  if (!base.empty()) {
    EXPECT_THAT(target.error().message, Not(HasSubstr(std::string(base))));
  }
}

TEST(WriteTarget, BuildsTheWriteEndpointForAnHttpsUrl) {
  auto target = write_target("https://influx.example:8086", "kelvin", "");
  ASSERT_TRUE(target) << target.error().message;
  EXPECT_EQ(target->endpoint, "https://influx.example:8086/write?db=kelvin&precision=ms");
  EXPECT_FALSE(target->loopback_http);
  EXPECT_EQ(endpoint("https://influx.example"), "https://influx.example/write?db=kelvin&precision=ms");
  EXPECT_EQ(endpoint("https://203.0.113.7:8086"), "https://203.0.113.7:8086/write?db=kelvin&precision=ms");
}

TEST(WriteTarget, AddsTheRetentionPolicyOnlyWhenSet) {
  EXPECT_EQ(endpoint("https://influx.example:8086", "kelvin", "autogen"),
            "https://influx.example:8086/write?db=kelvin&precision=ms&rp=autogen");
  EXPECT_EQ(endpoint("https://influx.example:8086", "kelvin", ""),
            "https://influx.example:8086/write?db=kelvin&precision=ms");
}

TEST(WriteTarget, UrlEncodesDatabaseAndRetentionPolicy) {
  EXPECT_EQ(endpoint("https://influx.example", "my db&x=1", "one week/#2"),
            "https://influx.example/write?db=my%20db%26x%3D1&precision=ms&rp=one%20week%2F%232");
  EXPECT_EQ(endpoint("https://influx.example", "données"), "https://influx.example/write?db=donn%C3%A9es&precision=ms");
}

TEST(WriteTarget, KeepsAPathPrefixAndDropsTrailingSlashes) {
  EXPECT_EQ(endpoint("https://proxy.example/influx"), "https://proxy.example/influx/write?db=kelvin&precision=ms");
  EXPECT_EQ(endpoint("https://proxy.example/tsdb/influx/"),
            "https://proxy.example/tsdb/influx/write?db=kelvin&precision=ms");
  EXPECT_EQ(endpoint("https://influx.example:8086/"), "https://influx.example:8086/write?db=kelvin&precision=ms");
}

TEST(WriteTarget, AllowsPlainHttpOnlyToLoopbackHosts) {
  for (const char* url :
       {"http://localhost:8086", "http://LocalHost:8086", "http://127.0.0.1:8086", "http://127.10.20.30:8086",
        "http://127.255.255.254", "http://[::1]:8086", "http://localhost/influx"}) {
    SCOPED_TRACE(url);
    auto target = write_target(url, "kelvin", "");
    ASSERT_TRUE(target) << target.error().message;
    EXPECT_TRUE(target->loopback_http);
    EXPECT_EQ(target->endpoint, std::string(url) + "/write?db=kelvin&precision=ms");
  }
}

TEST(WriteTarget, RefusesPlainHttpToAnyOtherHost) {
  for (const char* url :
       {"http://influx.example:8086", "http://10.0.0.5:8086", "http://128.0.0.1:8086", "http://126.255.255.255",
        "http://0.0.0.0:8086", "http://[::2]:8086", "http://[::ffff:10.0.0.1]:8086",
        "http://localhost.example.net:8086", "http://127.0.0.1.nip.io:8086"}) {
    expect_refused(url);
  }
  // The message says why and what to do, naming the host but not the rest of the URL.
  auto target = write_target("http://influx.example:8086/secret-prefix", "kelvin", "");
  ASSERT_FALSE(target);
  EXPECT_THAT(target.error().message, HasSubstr("influx.example"));
  EXPECT_THAT(target.error().message, HasSubstr("https://"));
  EXPECT_THAT(target.error().message, Not(HasSubstr("secret-prefix")));
}

TEST(WriteTarget, RefusesUserInfoWithoutEchoingIt) {
  for (const char* url : {"https://writer:hunter2@influx.example:8086", "https://writer@influx.example",
                          "http://writer:hunter2@127.0.0.1:8086", "https://:hunter2@influx.example"}) {
    expect_refused(url);
    auto target = write_target(url, "kelvin", "");
    ASSERT_FALSE(target);
    EXPECT_THAT(target.error().message, Not(HasSubstr("hunter2")));
  }
}

TEST(WriteTarget, RefusesQueriesAndFragmentsWithoutEchoingThem) {
  for (const char* url : {"https://influx.example:8086?u=writer&p=hunter2", "https://influx.example:8086/?p=hunter2",
                          "https://influx.example:8086/#hunter2", "https://influx.example:8086?",
                          "https://influx.example:8086#", "http://127.0.0.1:8086/?db=other"}) {
    expect_refused(url);
    auto target = write_target(url, "kelvin", "");
    ASSERT_FALSE(target);
    EXPECT_THAT(target.error().message, Not(HasSubstr("hunter2")));
  }
}

TEST(WriteTarget, RefusesOtherSchemesAndWhatIsNotAUrl) {
  for (const char* url : {"ftp://influx.example/", "file:///var/lib/influxdb", "ws://influx.example:8086",
                          "influx.example:8086", "//influx.example:8086", "https://:8086", "not a url", ""}) {
    expect_refused(url);
  }
}

TEST(WriteTarget, RefusesAnEmptyDatabase) {
  expect_refused("https://influx.example:8086", "");
  expect_refused("http://127.0.0.1:8086", "");
}

TEST(IsLoopbackHost, AcceptsLocalhostAndTheLoopbackRanges) {
  for (const char* host : {"localhost", "LOCALHOST", "127.0.0.1", "127.0.0.2", "127.255.255.255", "::1", "[::1]",
                           "0:0:0:0:0:0:0:1", "[0:0:0:0:0:0:0:1]"}) {
    EXPECT_TRUE(is_loopback_host(host)) << host;
  }
}

TEST(IsLoopbackHost, RefusesEverythingElse) {
  for (const char* host : {"", "example.com", "localhost.example.com", "localhostx", "xlocalhost", "128.0.0.1",
                           "126.0.0.1", "10.0.0.1", "0.0.0.0", "::", "::2", "[::2]", "::ffff:192.168.0.1", "fe80::1",
                           "[::1", "::1]", "127.0.0.1 ", "127.0.0.256"}) {
    EXPECT_FALSE(is_loopback_host(host)) << '"' << host << '"';
  }
}

TEST(UrlEncode, KeepsUnreservedCharactersAndPercentEncodesTheRest) {
  EXPECT_EQ(url_encode("AZaz09-_.~"), "AZaz09-_.~");
  EXPECT_EQ(url_encode(""), "");
  EXPECT_EQ(url_encode(" !\"#$%&'()*+,/:;=?@[]"), "%20%21%22%23%24%25%26%27%28%29%2A%2B%2C%2F%3A%3B%3D%3F%40%5B%5D");
  EXPECT_EQ(url_encode("é€"), "%C3%A9%E2%82%AC");  // UTF-8 bytes, upper-case hex
  EXPECT_EQ(url_encode(std::string("\0\x7f\xff", 3)), "%00%7F%FF");
}

}  // namespace
}  // namespace kelvin::influx::detail
