// Writer against a real HTTP server on 127.0.0.1 (LoopbackHttpServer; plain http to a loopback
// address is what the writer allows without TLS): the request it sends, what each answer means,
// transport failures, keep-alive, and what create() refuses. TLS is covered by the integration
// test against the real InfluxDB.

#include "kelvin/influx/writer.hpp"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gunzip.hpp"
#include "kelvin/testing/temp_dir.hpp"
#include "loopback_http_server.hpp"

namespace kelvin::influx {
namespace {

using testing::CannedResponse;
using testing::gunzip;
using ::testing::HasSubstr;
using testing::LoopbackHttpServer;
using ::testing::Not;
using testing::RecordedRequest;

constexpr std::string_view kLines =
    "kelvin_reading,device=sensor-01 temperature=21.5,humidity=40.2,seq=42i 1732200000123\n"
    "kelvin_reading,device=sensor-02 temperature=-40,seq=7i 1732200000456\n";

// RFC 4648 base64, written independently of libcurl's.
std::string base64(std::string_view data) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    const auto n = (static_cast<unsigned>(static_cast<unsigned char>(data[i])) << 16) |
                   (static_cast<unsigned>(static_cast<unsigned char>(data[i + 1])) << 8) |
                   static_cast<unsigned>(static_cast<unsigned char>(data[i + 2]));
    for (int shift : {18, 12, 6, 0}) out.push_back(kAlphabet[(n >> shift) & 0x3f]);
  }
  if (const std::size_t rest = data.size() - i; rest > 0) {
    unsigned n = static_cast<unsigned>(static_cast<unsigned char>(data[i])) << 16;
    if (rest == 2) n |= static_cast<unsigned>(static_cast<unsigned char>(data[i + 1])) << 8;
    out.push_back(kAlphabet[(n >> 18) & 0x3f]);
    out.push_back(kAlphabet[(n >> 12) & 0x3f]);
    out.push_back(rest == 2 ? kAlphabet[(n >> 6) & 0x3f] : '=');
    out.push_back('=');
  }
  return out;
}

WriterOptions options_for(const std::string& url) {
  WriterOptions options;
  options.url = url;
  options.database = "kelvin";
  options.timeout = std::chrono::milliseconds(5'000);
  options.connect_timeout = std::chrono::milliseconds(2'000);
  return options;
}

std::unique_ptr<Writer> make_writer(WriterOptions options) {
  auto writer = Writer::create(std::move(options));
  if (!writer) {
    ADD_FAILURE() << "Writer::create: " << writer.error().message;
    return nullptr;
  }
  return std::move(writer).value();
}

// A loopback port nothing listens on: bound by the kernel, then closed again.
std::uint16_t closed_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  EXPECT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length), 0);
  ::close(fd);
  return ntohs(address.sin_port);
}

// Sets environment variables for one test and restores them afterwards.
class ScopedEnvironment {
 public:
  explicit ScopedEnvironment(const std::map<std::string, std::optional<std::string>>& variables) {
    for (const auto& [name, value] : variables) {
      const char* old = ::getenv(name.c_str());
      saved_[name] = old == nullptr ? std::nullopt : std::optional<std::string>(old);
      if (value) {
        ::setenv(name.c_str(), value->c_str(), 1);
      } else {
        ::unsetenv(name.c_str());
      }
    }
  }
  ScopedEnvironment(const ScopedEnvironment&) = delete;
  ScopedEnvironment& operator=(const ScopedEnvironment&) = delete;
  ~ScopedEnvironment() {
    for (const auto& [name, value] : saved_) {
      if (value) {
        ::setenv(name.c_str(), value->c_str(), 1);
      } else {
        ::unsetenv(name.c_str());
      }
    }
  }

 private:
  std::map<std::string, std::optional<std::string>> saved_;
};

TEST(Writer, PostsGzippedLinesToTheWriteEndpoint) {
  LoopbackHttpServer server({{204, ""}});
  auto writer = make_writer(options_for(server.url()));
  ASSERT_TRUE(writer);
  const WriteResult result = writer->write(kLines);
  EXPECT_EQ(result.status, WriteStatus::written) << result.message;
  EXPECT_EQ(result.http_status, 204);
  EXPECT_EQ(result.message, "");

  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  const RecordedRequest& request = requests[0];
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.target, "/write?db=kelvin&precision=ms");
  EXPECT_EQ(request.header("Content-Encoding"), "gzip");
  EXPECT_EQ(request.header("Content-Length"), std::to_string(request.body.size()));
  auto inflated = gunzip(request.body);
  ASSERT_TRUE(inflated.has_value()) << "the body is not one gzip member";
  EXPECT_EQ(*inflated, kLines);
  EXPECT_EQ(request.header("Authorization"), std::nullopt);  // no credentials configured
}

TEST(Writer, PostsThePlainBodyWhenGzipIsOff) {
  LoopbackHttpServer server({{204, ""}});
  auto options = options_for(server.url());
  options.gzip_body = false;
  auto writer = make_writer(options);
  ASSERT_TRUE(writer);
  EXPECT_EQ(writer->write(kLines).status, WriteStatus::written);
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].header("Content-Encoding"), std::nullopt);
  EXPECT_EQ(requests[0].body, kLines);
}

TEST(Writer, SendsALargeBodyCompletely) {
  // Several MiB, uncompressed: larger than libcurl's threshold for "Expect: 100-continue", which
  // the writer turns off (InfluxDB would be fine with it; a round trip per write is not).
  std::string lines;
  for (int i = 0; lines.size() < (3u << 20); ++i) {
    lines += "kelvin_reading,device=sensor-" + std::to_string(i % 100) + " seq=" + std::to_string(i) + "i " +
             std::to_string(1732200000000 + i) + "\n";
  }
  LoopbackHttpServer server({{204, ""}});
  auto options = options_for(server.url());
  options.gzip_body = false;
  auto writer = make_writer(options);
  ASSERT_TRUE(writer);
  EXPECT_EQ(writer->write(lines).status, WriteStatus::written);
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].header("Expect"), std::nullopt);
  EXPECT_TRUE(requests[0].body == lines) << "got " << requests[0].body.size() << " of " << lines.size() << " bytes";
}

TEST(Writer, AddsTheRetentionPolicyAndEncodesParameters) {
  LoopbackHttpServer server({{204, ""}});
  auto options = options_for(server.url() + "/influx/");
  options.database = "site 1&db";
  options.retention_policy = "one week";
  auto writer = make_writer(options);
  ASSERT_TRUE(writer);
  EXPECT_EQ(writer->write(kLines).status, WriteStatus::written);
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].target, "/influx/write?db=site%201%26db&precision=ms&rp=one%20week");
}

TEST(Writer, SendsBasicAuthentication) {
  LoopbackHttpServer server({{204, ""}, {204, ""}});
  {
    auto options = options_for(server.url());
    options.credentials = Credentials{"Aladdin", "open sesame"};  // RFC 7617's example
    auto writer = make_writer(options);
    ASSERT_TRUE(writer);
    EXPECT_EQ(writer->write(kLines).status, WriteStatus::written);
  }
  {
    auto options = options_for(server.url());
    options.credentials = Credentials{"kelvin-writer", "p@ss:w ord=é"};  // ':' is fine in a password
    auto writer = make_writer(options);
    ASSERT_TRUE(writer);
    EXPECT_EQ(writer->write(kLines).status, WriteStatus::written);
    EXPECT_THAT(writer->endpoint_for_logs(), Not(HasSubstr("p@ss")));
    EXPECT_THAT(writer->endpoint_for_logs(), Not(HasSubstr("kelvin-writer")));
  }
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].header("Authorization"), "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
  EXPECT_EQ(requests[1].header("Authorization"), "Basic " + base64("kelvin-writer:p@ss:w ord=é"));
  EXPECT_EQ(requests[1].target, "/write?db=kelvin&precision=ms");  // never in the URL
}

TEST(Writer, ReportsTheEndpointWithoutCredentials) {
  auto options = options_for("http://127.0.0.1:8086/prefix");
  options.credentials = Credentials{"writer", "hunter2"};
  auto writer = make_writer(options);
  ASSERT_TRUE(writer);
  EXPECT_EQ(writer->endpoint_for_logs(), "http://127.0.0.1:8086/prefix/write?db=kelvin&precision=ms");
}

struct StatusCase {
  int http_status;
  WriteStatus expected;
};

TEST(Writer, MapsEachHttpStatusToWhatTheCallerShouldDo) {
  const std::vector<StatusCase> cases{
      {200, WriteStatus::written},      {204, WriteStatus::written},     {400, WriteStatus::bad_points},
      {413, WriteStatus::bad_points},   {422, WriteStatus::bad_points},  {401, WriteStatus::unauthorized},
      {403, WriteStatus::unauthorized}, {404, WriteStatus::not_found},   {408, WriteStatus::unavailable},
      {429, WriteStatus::unavailable},  {500, WriteStatus::unavailable}, {502, WriteStatus::unavailable},
      {503, WriteStatus::unavailable},  {418, WriteStatus::unavailable}, {409, WriteStatus::unavailable},
  };
  for (const StatusCase& c : cases) {
    SCOPED_TRACE(c.http_status);
    const std::string error = "reason for " + std::to_string(c.http_status);
    LoopbackHttpServer server({{c.http_status, R"({"error":")" + error + R"("})"}});
    auto writer = make_writer(options_for(server.url()));
    ASSERT_TRUE(writer);
    const WriteResult result = writer->write(kLines);
    EXPECT_EQ(result.status, c.expected) << to_string(result.status) << ": " << result.message;
    EXPECT_EQ(result.http_status, c.http_status);
    if (c.expected == WriteStatus::written) {
      EXPECT_EQ(result.message, "");
    } else {
      EXPECT_EQ(result.message, error);  // InfluxDB's own words, from its {"error": ...} answer
    }
    EXPECT_EQ(server.requests().size(), 1u);
  }
}

TEST(Writer, PassesOnInfluxDbsErrorTextForRefusedPoints) {
  const std::string influx_error =
      "partial write: field type conflict: input field \"temperature\" on measurement \"kelvin_reading\" is type "
      "float, already exists as type string dropped=1";
  LoopbackHttpServer server({{400, R"({"error":"partial write: field type conflict: input field \"temperature\" )"
                                   R"(on measurement \"kelvin_reading\" is type float, already exists as type )"
                                   R"(string dropped=1"})"}});
  auto writer = make_writer(options_for(server.url()));
  ASSERT_TRUE(writer);
  const WriteResult result = writer->write(kLines);
  EXPECT_EQ(result.status, WriteStatus::bad_points);
  EXPECT_EQ(result.message, influx_error);
}

TEST(Writer, DescribesAnErrorWithoutBody) {
  LoopbackHttpServer server({{503, ""}});
  auto writer = make_writer(options_for(server.url()));
  ASSERT_TRUE(writer);
  const WriteResult result = writer->write(kLines);
  EXPECT_EQ(result.status, WriteStatus::unavailable);
  EXPECT_THAT(result.message, HasSubstr("503"));
}

TEST(Writer, UsesARawBodyAsOneLine) {
  LoopbackHttpServer server({{502, "<html>\n<h1>Bad Gateway</h1>\n</html>\n"}});
  auto writer = make_writer(options_for(server.url()));
  ASSERT_TRUE(writer);
  const WriteResult result = writer->write(kLines);
  EXPECT_EQ(result.status, WriteStatus::unavailable);
  EXPECT_EQ(result.message, "<html> <h1>Bad Gateway</h1> </html>");
}

TEST(Writer, RedactsThePasswordIfTheServerEchoesIt) {
  LoopbackHttpServer server({{401, R"({"error":"authorization failed: user writer, password pw-Zq81x"})"}});
  auto options = options_for(server.url());
  options.credentials = Credentials{"writer", "pw-Zq81x"};
  auto writer = make_writer(options);
  ASSERT_TRUE(writer);
  const WriteResult result = writer->write(kLines);
  EXPECT_EQ(result.status, WriteStatus::unauthorized);
  EXPECT_EQ(result.message, "authorization failed: user writer, password ***");
}

TEST(Writer, DoesNotFollowRedirects) {
  // The redirect points at a second server that would accept the write: following it would send
  // the readings (and credentials) somewhere the configuration did not name.
  LoopbackHttpServer elsewhere({{204, ""}});
  LoopbackHttpServer server(
      {{.status = 307, .body = "", .headers = {{"Location", elsewhere.url() + "/write?db=kelvin&precision=ms"}}}});
  auto options = options_for(server.url());
  options.credentials = Credentials{"writer", "pw-Zq81x"};
  auto writer = make_writer(options);
  ASSERT_TRUE(writer);
  const WriteResult result = writer->write(kLines);
  EXPECT_EQ(result.status, WriteStatus::unavailable);
  EXPECT_EQ(result.http_status, 307);
  EXPECT_THAT(result.message, HasSubstr("redirect"));
  EXPECT_THAT(result.message, HasSubstr("307"));
  EXPECT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(elsewhere.requests_received(), 0u);
}

TEST(Writer, AHungServerIsUnavailableOnceTheTimeoutPasses) {
  auto server =
      std::make_unique<LoopbackHttpServer>(std::vector<CannedResponse>{{.status = 204, .body = "", .answer = false}});
  auto options = options_for(server->url());
  options.timeout = std::chrono::milliseconds(500);
  auto writer = make_writer(options);
  ASSERT_TRUE(writer);
  auto pending = std::async(std::launch::async, [&writer] { return writer->write(kLines); });
  // A generous bound, not a timing claim: without its timeout the write would wait for ever.
  if (pending.wait_for(std::chrono::seconds(60)) != std::future_status::ready) {
    ADD_FAILURE() << "write() did not return within 60 s although its timeout is 500 ms";
    server.reset();  // closes the hung connection: the write ends and its thread can be joined
  }
  const WriteResult result = pending.get();
  EXPECT_EQ(result.status, WriteStatus::unavailable);
  EXPECT_EQ(result.http_status, 0);
  EXPECT_FALSE(result.message.empty());
}

TEST(Writer, ARefusedConnectionIsUnavailable) {
  auto writer = make_writer(options_for("http://127.0.0.1:" + std::to_string(closed_port())));
  ASSERT_TRUE(writer);
  const WriteResult result = writer->write(kLines);
  EXPECT_EQ(result.status, WriteStatus::unavailable);
  EXPECT_EQ(result.http_status, 0);
  EXPECT_FALSE(result.message.empty());
}

TEST(Writer, AConnectionClosedWithoutAnswerIsUnavailable) {
  // The server has no answer for a second request and closes the connection.
  LoopbackHttpServer server({{204, ""}});
  auto options = options_for(server.url());
  options.timeout = std::chrono::milliseconds(1'000);  // libcurl may retry on a fresh connection, which hangs
  auto writer = make_writer(options);
  ASSERT_TRUE(writer);
  EXPECT_EQ(writer->write(kLines).status, WriteStatus::written);
  const WriteResult second = writer->write(kLines);
  EXPECT_EQ(second.status, WriteStatus::unavailable) << second.message;
  EXPECT_EQ(second.http_status, 0);
}

TEST(Writer, KeepsTheConnectionAliveBetweenWrites) {
  LoopbackHttpServer server({{204, ""}, {400, R"({"error":"bad"})"}, {204, ""}});
  auto writer = make_writer(options_for(server.url()));
  ASSERT_TRUE(writer);
  EXPECT_EQ(writer->write(kLines).status, WriteStatus::written);
  EXPECT_EQ(writer->write(kLines).status, WriteStatus::bad_points);  // an error answer keeps it too
  EXPECT_EQ(writer->write("m f=1 1\n").status, WriteStatus::written);
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(server.connections_accepted(), 1);
  EXPECT_EQ(gunzip(requests[2].body), "m f=1 1\n");  // each request carries its own body
}

TEST(Writer, WritesNothingTriviallyWithoutARequest) {
  LoopbackHttpServer server({{204, ""}});
  auto writer = make_writer(options_for(server.url()));
  ASSERT_TRUE(writer);
  const WriteResult empty = writer->write("");
  EXPECT_EQ(empty.status, WriteStatus::written);
  EXPECT_EQ(empty.http_status, 0);
  EXPECT_EQ(empty.message, "");
  // Had the empty write sent a request, it would have used up the one answer and this would fail.
  EXPECT_EQ(writer->write(kLines).status, WriteStatus::written);
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(gunzip(requests[0].body), std::string(kLines));
}

TEST(Writer, AcceptsLocalhostByName) {
  LoopbackHttpServer server({{204, ""}});
  auto writer = make_writer(options_for("http://localhost:" + std::to_string(server.port())));
  ASSERT_TRUE(writer);
  EXPECT_EQ(writer->write(kLines).status, WriteStatus::written);
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST(Writer, NeverSendsLoopbackHttpThroughAProxy) {
  // A proxy would carry the clear text (and the credentials) off the machine.
  LoopbackHttpServer proxy({{204, ""}});
  LoopbackHttpServer server({{204, ""}});
  ScopedEnvironment env({{"http_proxy", proxy.url()},
                         {"HTTP_PROXY", proxy.url()},
                         {"all_proxy", proxy.url()},
                         {"ALL_PROXY", proxy.url()},
                         {"no_proxy", std::nullopt},
                         {"NO_PROXY", std::nullopt}});
  auto writer = make_writer(options_for(server.url()));
  ASSERT_TRUE(writer);
  EXPECT_EQ(writer->write(kLines).status, WriteStatus::written);
  EXPECT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(proxy.requests_received(), 0u);
}

TEST(WriterCreate, RefusesUrlsTheWriteTargetRefuses) {
  for (const char* url : {"", "ftp://127.0.0.1/", "http://influx.example:8086", "http://10.1.2.3:8086",
                          "https://writer:pw@influx.example", "https://influx.example/?db=x",
                          "https://influx.example/#x", "influx.example:8086"}) {
    SCOPED_TRACE(url);
    auto writer = Writer::create(options_for(url));
    ASSERT_FALSE(writer);
    EXPECT_EQ(writer.error().code, Errc::invalid_argument);
  }
}

TEST(WriterCreate, AcceptsHttpsAnywhere) {
  auto writer = Writer::create(options_for("https://influx.example:8086"));
  ASSERT_TRUE(writer) << writer.error().message;
  EXPECT_EQ((*writer)->endpoint_for_logs(), "https://influx.example:8086/write?db=kelvin&precision=ms");
}

TEST(WriterCreate, RefusesAnEmptyDatabase) {
  auto options = options_for("https://influx.example:8086");
  options.database = "";
  auto writer = Writer::create(options);
  ASSERT_FALSE(writer);
  EXPECT_EQ(writer.error().code, Errc::invalid_argument);
}

TEST(WriterCreate, RefusesAMissingCaFile) {
  kelvin::testing::TempDir dir;
  auto options = options_for("https://influx.example:8086");
  options.ca_file = dir / "absent-ca.crt";
  auto missing = Writer::create(options);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Errc::not_found);
  EXPECT_THAT(missing.error().message, HasSubstr("absent-ca.crt"));

  options.ca_file = dir.path();  // a directory is no CA file either
  auto directory = Writer::create(options);
  ASSERT_FALSE(directory);
  EXPECT_EQ(directory.error().code, Errc::not_found);
}

TEST(WriterCreate, RefusesNonPositiveTimeouts) {
  for (std::chrono::milliseconds::rep ms : {0, -1, -10'000}) {
    SCOPED_TRACE(ms);
    auto options = options_for("https://influx.example:8086");
    options.timeout = std::chrono::milliseconds(ms);
    auto timeout = Writer::create(options);
    ASSERT_FALSE(timeout);
    EXPECT_EQ(timeout.error().code, Errc::invalid_argument);

    options = options_for("https://influx.example:8086");
    options.connect_timeout = std::chrono::milliseconds(ms);
    auto connect = Writer::create(options);
    ASSERT_FALSE(connect);
    EXPECT_EQ(connect.error().code, Errc::invalid_argument);
  }
}

TEST(WriterCreate, RefusesAColonInTheUsername) {
  auto options = options_for("https://influx.example:8086");
  options.credentials = Credentials{"team:writer", "pw-Zq81x"};
  auto writer = Writer::create(options);
  ASSERT_FALSE(writer);
  EXPECT_EQ(writer.error().code, Errc::invalid_argument);
  EXPECT_THAT(writer.error().message, Not(HasSubstr("pw-Zq81x")));
}

TEST(WriteStatusNames, NameEveryStatus) {
  EXPECT_EQ(to_string(WriteStatus::written), "written");
  EXPECT_EQ(to_string(WriteStatus::bad_points), "bad_points");
  EXPECT_EQ(to_string(WriteStatus::unauthorized), "unauthorized");
  EXPECT_EQ(to_string(WriteStatus::not_found), "not_found");
  EXPECT_EQ(to_string(WriteStatus::unavailable), "unavailable");
  EXPECT_EQ(to_string(WriteStatus::tls_failure), "tls_failure");
}

}  // namespace
}  // namespace kelvin::influx
