// kelvin::http::Server as clients kelvin did not write meet it: the real server on an ephemeral
// loopback port, a real PKI made by libs/pki in a temp dir, and Debian's curl (verifying the CA,
// presenting client certificates), openssl s_client (protocol and suite probes, raw HTTP over
// TLS) and plain TCP sockets. Each limit, timeout and refusal is seen from the outside, and the
// server's counters are checked to agree with what the client saw.

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <ctime>
#include <fstream>
#include <functional>
#include <future>
#include <iostream>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "kelvin/http/file_response.hpp"
#include "kelvin/http/router.hpp"
#include "kelvin/http/server.hpp"
#include "kelvin/pki/certificate_authority.hpp"
#include "kelvin/testing/background_process.hpp"
#include "kelvin/testing/process.hpp"
#include "kelvin/testing/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
using kelvin::http::Handler;
using kelvin::http::Request;
using kelvin::http::Responder;
using kelvin::http::Response;
using kelvin::http::Router;
using kelvin::http::Server;
using kelvin::http::ServerCounters;
using kelvin::http::ServerOptions;
using kelvin::testing::CommandOptions;
using kelvin::testing::CommandResult;
using kelvin::testing::describe;
using kelvin::testing::run_command;
using kelvin::testing::TempDir;
using kelvin::testing::wait_until;
using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

// A TCP connection to 127.0.0.1:port that never speaks TLS; closed on destruction.
class RawConnection {
 public:
  // Connects to 127.0.0.1:`port` from the loopback address `from` (any of 127.0.0.0/8 is this
  // host: distinct ones play distinct clients).
  explicit RawConnection(int port, const char* from = "127.0.0.1") : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    if (fd_ < 0) throw std::runtime_error("socket failed");
    sockaddr_in source{};
    source.sin_family = AF_INET;
    if (::inet_pton(AF_INET, from, &source.sin_addr) != 1 ||
        ::bind(fd_, reinterpret_cast<sockaddr*>(&source), sizeof source) != 0) {
      ::close(fd_);
      throw std::runtime_error(std::string("cannot bind to ") + from);
    }
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      ::close(fd_);
      throw std::runtime_error("connect failed");
    }
  }
  ~RawConnection() { ::close(fd_); }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  // Whether the server closed the connection (EOF or reset) within `timeout`.
  bool closed_by_server(std::chrono::milliseconds timeout) const {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return false;
    char byte = 0;
    return ::recv(fd_, &byte, 1, MSG_DONTWAIT) <= 0;
  }

 private:
  int fd_;
};

// A handler's Responder parked until the test releases it from a thread of its own.
struct ParkedResponder {
  std::mutex mutex;
  std::condition_variable arrived;
  std::optional<Responder> responder;
};

// The stream of the last request to /stream, for the test to write to from its own thread.
struct StreamHolder {
  std::mutex mutex;
  std::condition_variable opened;
  std::shared_ptr<kelvin::http::ResponseStream> stream;
  std::size_t bound = 64 * 1024;  // its max_buffered_bytes

  std::shared_ptr<kelvin::http::ResponseStream> wait(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex);
    opened.wait_for(lock, timeout, [this] { return stream != nullptr; });
    return stream;
  }
};

class HttpsServer : public ::testing::Test {
 protected:
  void SetUp() override {
    kelvin::pki::InitOptions init;
    init.ca_name = "kelvin https test CA";
    init.server_name = "localhost";
    init.server_alt_names = {"DNS:localhost", "IP:127.0.0.1"};
    auto ca = kelvin::pki::CertificateAuthority::init(pki_dir(), init, std::time(nullptr));
    ASSERT_TRUE(ca.ok()) << ca.error().message;
    ca_.emplace(std::move(*ca));

    router_.get("/api/v1/health", [](const Request&, Responder respond) {
      respond(kelvin::http::json_response(200, R"({"status":"ok"})"));
    });
    router_.get("/whoami", [](const Request& request, Responder respond) {
      nlohmann::json body = {{"cn", nullptr}, {"peer", request.peer_address}};
      if (request.client_common_name) body["cn"] = *request.client_common_name;
      respond(kelvin::http::json_response(200, body.dump()));
    });
    router_.add("POST", "/echo", [](const Request& request, Responder respond) {
      respond(kelvin::http::json_response(200, nlohmann::json{{"bytes", request.body.size()}}.dump()));
    });
    // An upload: bodies go to a file in uploads() under upload_limit_, unless X-Refuse is sent.
    // The handler answers with what it found in the file: its size, mode and whether it holds
    // upload_expected_.
    fs::create_directories(uploads());
    router_.add(
        "POST", "/upload/{name}",
        [this](const Request& request, Responder respond) {
          nlohmann::json body = {{"name", request.param("name")}, {"in_memory", request.body.size()}};
          if (request.body_file) {
            const auto& path = request.body_file->path();
            std::ifstream in(path, std::ios::binary);
            const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
            body["bytes"] = bytes.size();
            body["same"] = bytes == upload_expected_;
            body["in_uploads"] = path.parent_path() == uploads();
            body["mode"] = static_cast<int>(fs::status(path).permissions() & fs::perms::all);
          }
          respond(kelvin::http::json_response(200, body.dump()));
        },
        [this](const Request& head) -> kelvin::http::BodyAdmission {
          if (head.header("X-Refuse")) return kelvin::http::error_response(403, "refused", "refused from the head");
          if (head.param("name") == "memory") return kelvin::http::BodyInMemory{};
          return kelvin::http::BodyToFile{uploads(), upload_limit_, upload_timeout_};
        });
    router_.get("/throws", [](const Request&, Responder) { throw std::runtime_error("handler failure"); });
    router_.get("/file", [this](const Request& request, Responder respond) {
      const auto size = fs::file_size(served_file());
      respond(kelvin::http::file_response(served_file(), size, request.header("Range"), "application/octet-stream",
                                          "\"v1\""));
    });
    router_.get("/stream", [this](const Request&, Responder respond) {
      Response head;
      head.content_type = "text/event-stream";
      std::lock_guard lock(streamed_.mutex);
      streamed_.stream = respond.stream(std::move(head), streamed_.bound);
      streamed_.opened.notify_all();
    });
    router_.get("/late", [this](const Request&, Responder respond) {
      std::lock_guard lock(parked_.mutex);
      parked_.responder.emplace(std::move(respond));
      parked_.arrived.notify_all();
    });
  }

  void TearDown() override {
    if (HasFailure()) {
      std::lock_guard lock(log_mutex_);
      std::cerr << "---- server log ----\n" << log_;
    }
    server_.reset();
  }

  fs::path pki_dir() const { return dir_ / "pki"; }
  fs::path served_file() const { return dir_ / "served.bin"; }
  fs::path uploads() const { return dir_ / "uploads"; }
  std::size_t files_in_uploads() const {
    return static_cast<std::size_t>(std::distance(fs::directory_iterator(uploads()), fs::directory_iterator()));
  }
  kelvin::pki::PkiPaths paths() const { return kelvin::pki::PkiPaths(pki_dir()); }
  fs::path ca_file() const { return paths().ca_certificate(); }

  ServerOptions options() {
    ServerOptions o;
    o.bind_address = "127.0.0.1";
    o.port = 0;
    o.certificate_file = paths().identity_certificate(kelvin::pki::CertificateKind::server, "server");
    o.private_key_file = paths().identity_key(kelvin::pki::CertificateKind::server, "server");
    o.client_ca_file = paths().ca_certificate();
    o.client_crl_file = paths().crl();
    o.admit_body = [this](const Request& head) { return router_.admit_body(head); };
    o.log = [this](kelvin::http::LogLevel, std::string_view line) {
      std::lock_guard lock(log_mutex_);
      log_ += std::string(line) + "\n";
    };
    return o;
  }

  void start(ServerOptions o) {
    auto server = Server::start(std::move(o), [this](Request request, Responder respond) {
      router_.handle(std::move(request), std::move(respond));
    });
    ASSERT_TRUE(server.ok()) << server.error().message;
    server_ = std::move(*server);
    ASSERT_NE(server_->port(), 0);
  }
  void start() { start(options()); }

  int port() const { return server_->port(); }
  std::string url(const std::string& path) const { return "https://localhost:" + std::to_string(port()) + path; }
  ServerCounters counters() const { return server_->counters(); }
  std::string log() {
    std::lock_guard lock(log_mutex_);
    return log_;
  }

  // curl trusting only the test CA (never -k); `args` add URLs, certificates, -X, ...
  CommandResult curl(const std::vector<std::string>& args, std::chrono::seconds timeout = 20s) const {
    std::vector<std::string> argv{
        "curl", "-sS", "--max-time", std::to_string(timeout.count()), "--cacert", ca_file().string()};
    argv.insert(argv.end(), args.begin(), args.end());
    CommandOptions options;
    options.timeout = timeout + 10s;
    return run_command(argv, options);
  }

  // openssl s_client verifying the server (CA and host name), completing the handshake, sending
  // `stdin_data` as raw bytes and printing what comes back until the server closes (-quiet
  // implies -ign_eof). `extra` adds options (-tls1_2, -cert, ...).
  CommandResult raw_exchange(const std::string& stdin_data, const std::vector<std::string>& extra = {},
                             std::chrono::seconds timeout = 20s) const {
    std::vector<std::string> argv = s_client_args();
    argv.push_back("-quiet");
    argv.insert(argv.end(), extra.begin(), extra.end());
    CommandOptions options;
    options.stdin_data = stdin_data;
    options.timeout = timeout;
    return run_command(argv, options);
  }

  // openssl s_client that completes (or fails) the handshake, prints the session and quits.
  CommandResult handshake(const std::vector<std::string>& extra) const {
    std::vector<std::string> argv = s_client_args();
    argv.insert(argv.end(), extra.begin(), extra.end());
    CommandOptions options;
    options.timeout = 20s;
    return run_command(argv, options);
  }

  std::vector<std::string> s_client_args() const {
    return {"openssl",
            "s_client",
            "-connect",
            "127.0.0.1:" + std::to_string(port()),
            "-servername",
            "localhost",
            "-verify_hostname",
            "localhost",
            "-verify_return_error",
            "-CAfile",
            ca_file().string()};
  }

  kelvin::pki::IssuedIdentity issue_device(kelvin::pki::CertificateAuthority& ca, const std::string& id) {
    auto issued = ca.issue(kelvin::pki::CertificateKind::device, id, {}, std::time(nullptr));
    if (!issued.ok()) throw std::runtime_error(issued.error().message);
    return *issued;
  }

  // Waits (bounded) for the counters to satisfy `condition`: the server counts on its own threads.
  bool eventually(const std::function<bool(const ServerCounters&)>& condition,
                  std::chrono::milliseconds timeout = 10s) const {
    return wait_until([&] { return condition(counters()); }, timeout);
  }

  TempDir dir_;
  std::optional<kelvin::pki::CertificateAuthority> ca_;
  std::string upload_expected_;
  std::uint64_t upload_limit_ = 8 << 20;
  std::chrono::milliseconds upload_timeout_{20'000};
  Router router_;
  ParkedResponder parked_;
  StreamHolder streamed_;
  std::mutex log_mutex_;
  std::string log_;
  std::unique_ptr<Server> server_;
};

std::string health_request(const std::string& connection = "close") {
  return "GET /api/v1/health HTTP/1.1\r\nHost: localhost\r\nConnection: " + connection + "\r\n\r\n";
}

std::size_t count_of(const std::string& text, const std::string& needle) {
  std::size_t count = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++count;
  return count;
}

// ---- HTTPS, headers, routing -------------------------------------------------------------------

TEST_F(HttpsServer, HealthIsServedOverHttpsVerifiedAgainstTheCaWithSecurityHeaders) {
  start();
  const CommandResult r = curl({"-D", "-", url("/api/v1/health")});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_THAT(r.out, HasSubstr("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(r.out, HasSubstr("\r\n\r\n{\"status\":\"ok\"}"));
  for (const char* header :
       {"Strict-Transport-Security: max-age=31536000\r\n", "X-Content-Type-Options: nosniff\r\n",
        "Content-Security-Policy: default-src 'self'; frame-ancestors 'none'\r\n", "Referrer-Policy: no-referrer\r\n",
        "Cache-Control: no-store\r\n", "Content-Type: application/json\r\n"}) {
    EXPECT_THAT(r.out, HasSubstr(header)) << r.out;
  }
  // Trusting another CA, curl must refuse the server: the certificate is checked, not waved through.
  TempDir other_dir;
  kelvin::pki::InitOptions other_init;
  other_init.ca_name = "someone else's CA";
  other_init.server_alt_names = {"DNS:localhost"};
  ASSERT_TRUE(kelvin::pki::CertificateAuthority::init(other_dir / "pki", other_init, std::time(nullptr)).ok());
  const CommandResult untrusted = run_command(
      {"curl", "-sS", "--max-time", "20", "--cacert", (other_dir / "pki" / "ca.crt").string(), url("/api/v1/health")},
      CommandOptions{{}, "", 30s});
  EXPECT_EQ(untrusted.exit_code, 60) << describe(untrusted);  // CURLE_PEER_FAILED_VERIFICATION
  const ServerCounters c = counters();
  EXPECT_EQ(c.requests, 1u);
  EXPECT_EQ(c.responses_2xx, 1u);
}

TEST_F(HttpsServer, UnknownPathIs404AndWrongMethodIs405WithAllowBothWithSecurityHeaders) {
  start();
  const CommandResult missing = curl({"-D", "-", url("/api/v1/nothing")});
  ASSERT_EQ(missing.exit_code, 0) << describe(missing);
  EXPECT_THAT(missing.out, HasSubstr("HTTP/1.1 404 Not Found\r\n"));
  EXPECT_THAT(missing.out, HasSubstr(R"({"error":{"code":"not_found","message":)"));
  EXPECT_THAT(missing.out, HasSubstr("X-Content-Type-Options: nosniff\r\n"));

  const CommandResult wrong = curl({"-D", "-", "-X", "POST", url("/api/v1/health")});
  ASSERT_EQ(wrong.exit_code, 0) << describe(wrong);
  EXPECT_THAT(wrong.out, HasSubstr("HTTP/1.1 405 Method Not Allowed\r\n"));
  EXPECT_THAT(wrong.out, HasSubstr("Allow: GET, HEAD\r\n"));
  EXPECT_THAT(wrong.out, HasSubstr(R"("code":"method_not_allowed")"));
  EXPECT_THAT(wrong.out, HasSubstr("Strict-Transport-Security: max-age=31536000\r\n"));
  EXPECT_TRUE(eventually([](const ServerCounters& c) { return c.responses_4xx == 2; }));
}

TEST_F(HttpsServer, HeadIsAnsweredAsGetWithoutTheBody) {
  start();
  const CommandResult get = curl({"-D", "-", url("/api/v1/health")});
  ASSERT_EQ(get.exit_code, 0) << describe(get);
  EXPECT_THAT(get.out, HasSubstr("Content-Length: 15\r\n"));
  // curl -I sends HEAD and reads no body; the raw exchange shows that none came.
  const CommandResult head = curl({"-I", url("/api/v1/health")});
  ASSERT_EQ(head.exit_code, 0) << describe(head);
  EXPECT_THAT(head.out, HasSubstr("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(head.out, HasSubstr("Content-Length: 15\r\n"));
  EXPECT_THAT(head.out, HasSubstr("Content-Type: application/json\r\n"));
  const CommandResult raw = raw_exchange(
      "HEAD /api/v1/health HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive\r\n\r\n" + health_request("close"));
  EXPECT_EQ(count_of(raw.out, "HTTP/1.1 200 OK\r\n"), 2u) << describe(raw);
  EXPECT_EQ(count_of(raw.out, R"({"status":"ok"})"), 1u) << "the HEAD answer carried a body: " << raw.out;
  // A stream's HEAD is its head alone: no stream is opened.
  const CommandResult stream_head = curl({"-I", url("/stream")});
  ASSERT_EQ(stream_head.exit_code, 0) << describe(stream_head);
  EXPECT_THAT(stream_head.out, HasSubstr("Content-Type: text/event-stream\r\n"));
  EXPECT_EQ(counters().streams_opened, 0u);
}

// A file answer (Response::file) is read from disk as it is sent: whole, or the one range asked
// for, as curl resumes a download (--continue-at) and asks for ranges (--range).
TEST_F(HttpsServer, AFileIsServedWholeOrByTheRangeAskedFor) {
  std::string content;
  for (int i = 0; i < 300'000; ++i) content += static_cast<char>('a' + i % 26);  // several 64 KiB reads
  std::ofstream(served_file(), std::ios::binary) << content;
  start();
  const fs::path out = dir_ / "downloaded.bin";
  const CommandResult whole = curl({"-D", "-", "-o", out.string(), url("/file")});
  ASSERT_EQ(whole.exit_code, 0) << describe(whole);
  EXPECT_THAT(whole.out, HasSubstr("HTTP/1.1 200"));
  EXPECT_THAT(whole.out, HasSubstr("Accept-Ranges: bytes"));
  EXPECT_THAT(whole.out, HasSubstr("ETag: \"v1\""));
  EXPECT_EQ(kelvin::testing::read_text(out), content);

  // A download cut off after 100,000 bytes, resumed.
  std::ofstream(out, std::ios::binary | std::ios::trunc) << content.substr(0, 100'000);
  const CommandResult resumed = curl({"-D", "-", "--continue-at", "-", "-o", out.string(), url("/file")});
  ASSERT_EQ(resumed.exit_code, 0) << describe(resumed);
  EXPECT_THAT(resumed.out, HasSubstr("HTTP/1.1 206"));
  EXPECT_THAT(resumed.out, HasSubstr("Content-Range: bytes 100000-299999/300000"));
  EXPECT_EQ(kelvin::testing::read_text(out), content);

  const CommandResult middle = curl({"--range", "70000-70009", url("/file")});
  EXPECT_EQ(middle.out, content.substr(70'000, 10));
  const CommandResult past = curl({"-D", "-", "--range", "300000-", url("/file")});
  EXPECT_THAT(past.out, HasSubstr("HTTP/1.1 416"));
  EXPECT_THAT(past.out, HasSubstr("Content-Range: bytes */300000"));
  const CommandResult head = curl({"-I", url("/file")});
  EXPECT_THAT(head.out, HasSubstr("Content-Length: 300000"));

  // The connection survives a file answer: the next request on it is served.
  const CommandResult twice = curl({"-v", "-o", "/dev/null", url("/file"), "-o", "/dev/null", url("/api/v1/health")});
  EXPECT_THAT(twice.err, HasSubstr("Re-using existing connection")) << twice.err;
  EXPECT_EQ(counters().connections_accepted, 6u) << "one connection per curl run";
}

TEST_F(HttpsServer, KeepAliveServesSeveralRequestsOnOneConnection) {
  start();
  // curl reuses its connection for the second URL, and the server saw one connection only.
  const CommandResult r = curl({"-v", url("/api/v1/health"), url("/api/v1/health")});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_EQ(r.out, R"({"status":"ok"}{"status":"ok"})");
  EXPECT_THAT(r.err, HasSubstr("Re-using existing connection")) << r.err;
  EXPECT_TRUE(eventually([](const ServerCounters& c) { return c.requests == 2; }));
  EXPECT_EQ(counters().connections_accepted, 1u);

  // Two requests written at once on one raw TLS connection: both answered, in order.
  const CommandResult raw = raw_exchange(health_request("keep-alive") + health_request("close"));
  EXPECT_EQ(count_of(raw.out, "HTTP/1.1 200 OK\r\n"), 2u) << describe(raw);
  EXPECT_THAT(raw.out, HasSubstr("Connection: close\r\n"));
  EXPECT_TRUE(eventually([](const ServerCounters& c) { return c.requests == 4; }));
  EXPECT_EQ(counters().connections_accepted, 2u);
}

TEST_F(HttpsServer, AHandlerThatThrowsGives500AndTheNextRequestWorks) {
  start();
  // Both on one connection: the failure does not even cost the connection.
  const CommandResult r = curl({"-D", "-", url("/throws"), url("/api/v1/health")});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_THAT(r.out, HasSubstr("HTTP/1.1 500 Internal Server Error\r\n"));
  EXPECT_THAT(r.out, HasSubstr(R"({"error":{"code":"internal","message":)"));
  EXPECT_THAT(r.out, HasSubstr("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(r.out, HasSubstr(R"({"status":"ok"})"));
  EXPECT_EQ(counters().handler_exceptions, 1u);
  EXPECT_EQ(counters().responses_5xx, 1u);
  EXPECT_THAT(log(), HasSubstr("handler failure"));
  EXPECT_EQ(curl({url("/api/v1/health")}).out, R"({"status":"ok"})");
}

// ---- TLS policy --------------------------------------------------------------------------------

TEST_F(HttpsServer, OnlyTls12WithAeadSuitesOrTls13IsAccepted) {
  start();
  const CommandResult tls11 = handshake({"-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0"});
  EXPECT_NE(tls11.exit_code, 0) << describe(tls11);
  EXPECT_THAT(tls11.err, HasSubstr("alert protocol version")) << describe(tls11);  // the server's refusal

  const CommandResult cbc = handshake({"-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA"});
  EXPECT_NE(cbc.exit_code, 0) << describe(cbc);
  EXPECT_THAT(cbc.err, HasSubstr("alert handshake failure")) << describe(cbc);

  const CommandResult gcm = handshake({"-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256"});
  EXPECT_EQ(gcm.exit_code, 0) << describe(gcm);
  EXPECT_THAT(gcm.out, HasSubstr("\nNew, TLSv1.2, Cipher is ECDHE-ECDSA-AES128-GCM-SHA256\n")) << describe(gcm);
  EXPECT_THAT(gcm.out, HasSubstr("Verify return code: 0 (ok)\n"));

  const CommandResult tls13 = handshake({"-tls1_3"});
  EXPECT_EQ(tls13.exit_code, 0) << describe(tls13);
  EXPECT_THAT(tls13.out, HasSubstr("\nNew, TLSv1.3, Cipher is TLS_")) << describe(tls13);

  EXPECT_TRUE(eventually([](const ServerCounters& c) { return c.handshake_failures == 2; }))
      << counters().handshake_failures;
}

// ---- client certificates -----------------------------------------------------------------------

TEST_F(HttpsServer, AValidDeviceCertificateGivesItsCnAndNoneGivesNoIdentity) {
  const auto device = issue_device(*ca_, "sensor-01");
  start();
  const CommandResult with_cert =
      curl({"--cert", device.certificate_path.string(), "--key", device.key_path.string(), url("/whoami")});
  ASSERT_EQ(with_cert.exit_code, 0) << describe(with_cert);
  EXPECT_EQ(nlohmann::json::parse(with_cert.out)["cn"], "sensor-01") << with_cert.out;
  EXPECT_EQ(nlohmann::json::parse(with_cert.out)["peer"], "127.0.0.1");

  const CommandResult without = curl({url("/whoami")});
  ASSERT_EQ(without.exit_code, 0) << describe(without);
  EXPECT_TRUE(nlohmann::json::parse(without.out)["cn"].is_null()) << without.out;
}

TEST_F(HttpsServer, RevokedAndForeignCertificatesFailTheHandshake) {
  const auto device = issue_device(*ca_, "sensor-02");
  start();
  const std::vector<std::string> as_device = {"--cert", device.certificate_path.string(), "--key",
                                              device.key_path.string(), url("/whoami")};
  const CommandResult before = curl(as_device);
  ASSERT_EQ(before.exit_code, 0) << describe(before);
  EXPECT_EQ(nlohmann::json::parse(before.out)["cn"], "sensor-02");

  // Revoked through the CA, which rewrites the CRL; the server loads it for new connections.
  auto revoked = ca_->revoke("sensor-02", std::time(nullptr));
  ASSERT_TRUE(revoked.ok()) << revoked.error().message;
  auto reloaded = server_->reload_tls();
  ASSERT_TRUE(reloaded.ok()) << reloaded.error().message;
  const std::uint64_t requests_before = counters().requests;
  const CommandResult after = curl(as_device);
  EXPECT_NE(after.exit_code, 0) << describe(after);
  EXPECT_THAT(after.err, HasSubstr("certificate revoked")) << describe(after);
  EXPECT_TRUE(eventually([](const ServerCounters& c) { return c.handshake_failures == 1; }));

  // A certificate from another CA, for a name this CA knows nothing about.
  TempDir other_dir;
  kelvin::pki::InitOptions other_init;
  other_init.ca_name = "someone else's CA";
  other_init.server_name = "localhost";
  other_init.server_alt_names = {"DNS:localhost"};
  auto other = kelvin::pki::CertificateAuthority::init(other_dir / "pki", other_init, std::time(nullptr));
  ASSERT_TRUE(other.ok()) << other.error().message;
  const auto foreign = issue_device(*other, "sensor-03");
  const CommandResult stranger =
      curl({"--cert", foreign.certificate_path.string(), "--key", foreign.key_path.string(), url("/whoami")});
  EXPECT_NE(stranger.exit_code, 0) << describe(stranger);
  EXPECT_THAT(stranger.err, HasSubstr("unknown ca")) << describe(stranger);
  EXPECT_TRUE(eventually([](const ServerCounters& c) { return c.handshake_failures == 2; }));

  // The barrier: the server still answers, and neither refused client reached a handler.
  EXPECT_EQ(curl({url("/api/v1/health")}).out, R"({"status":"ok"})");
  EXPECT_EQ(counters().requests, requests_before + 1);
}

// A device's keep-alive connection opened before its revocation: once the CRL is reloaded it takes
// no further request (the next handshake would fail), while the request in flight is answered.
TEST_F(HttpsServer, AKeptAliveConnectionWithAClientCertificateTakesNoRequestAfterAReload) {
  const auto device = issue_device(*ca_, "sensor-04");
  start();
  // Two requests at once on one connection: the first parks in /late, the second waits behind it.
  const std::string requests =
      "GET /late HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive\r\n\r\n"
      "GET /whoami HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
  auto client = std::async(std::launch::async, [&] {
    return raw_exchange(requests, {"-cert", device.certificate_path.string(), "-key", device.key_path.string()});
  });
  {
    std::unique_lock lock(parked_.mutex);
    ASSERT_TRUE(parked_.arrived.wait_for(lock, 20s, [this] { return parked_.responder.has_value(); }));
  }
  auto revoked = ca_->revoke("sensor-04", std::time(nullptr));
  ASSERT_TRUE(revoked.ok()) << revoked.error().message;
  auto reloaded = server_->reload_tls();
  ASSERT_TRUE(reloaded.ok()) << reloaded.error().message;
  {
    std::lock_guard lock(parked_.mutex);
    (*parked_.responder)(kelvin::http::json_response(200, R"({"late":true})"));
  }
  const CommandResult r = client.get();
  EXPECT_EQ(count_of(r.out, "HTTP/1.1 200 OK\r\n"), 1u) << describe(r);
  EXPECT_THAT(r.out, HasSubstr(R"({"late":true})"));
  EXPECT_THAT(r.out, Not(HasSubstr("sensor-04"))) << "the revoked device's second request was served";
  EXPECT_EQ(counters().requests, 1u);
  EXPECT_EQ(curl({url("/api/v1/health")}).out, R"({"status":"ok"})") << "the server goes on serving";
}

// ---- limits and bad input ----------------------------------------------------------------------

TEST_F(HttpsServer, OversizedHeaderIs431AndTheConnectionCloses) {
  start();
  const std::string big = "GET /api/v1/health HTTP/1.1\r\nHost: localhost\r\nX-Filler: " + std::string(9000, 'a') +
                          "\r\nConnection: keep-alive\r\n\r\n";
  const CommandResult r = raw_exchange(big);
  EXPECT_THAT(r.out, HasSubstr("HTTP/1.1 431 Request Header Fields Too Large\r\n")) << describe(r);
  EXPECT_THAT(r.out, HasSubstr(R"("code":"header_too_large")"));
  EXPECT_THAT(r.out, HasSubstr("Connection: close\r\n"));
  EXPECT_THAT(r.out, HasSubstr("X-Content-Type-Options: nosniff\r\n"));
  // A header within the limit is fine.
  const std::string fits = "GET /api/v1/health HTTP/1.1\r\nHost: localhost\r\nX-Filler: " + std::string(7000, 'a') +
                           "\r\nConnection: close\r\n\r\n";
  EXPECT_THAT(raw_exchange(fits).out, HasSubstr("HTTP/1.1 200 OK\r\n"));
}

TEST_F(HttpsServer, OversizedBodyIs413BeforeTheBodyIsRead) {
  ServerOptions o = options();
  o.max_body_bytes = 1000;
  start(o);
  // Only the header is sent: the answer comes from Content-Length alone, long before the 15 s
  // request timeout could end the wait for a body that never comes (s_client is given 10 s).
  const CommandResult r = raw_exchange(
      "POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1001\r\n\r\n", {},
      10s);
  EXPECT_THAT(r.out, HasSubstr("HTTP/1.1 413 Payload Too Large\r\n")) << describe(r);
  EXPECT_THAT(r.out, HasSubstr(R"("code":"body_too_large")"));
  EXPECT_EQ(counters().timeouts, 0u);
  // At the limit it is read and handled (curl sends it).
  const CommandResult fits = curl({"-X", "POST", "--data-binary", std::string(1000, 'x'), url("/echo")});
  EXPECT_EQ(fits.out, R"({"bytes":1000})") << describe(fits);
  // A client that waits for 100 Continue is told to go on (curl would otherwise wait 20 s here).
  const CommandResult expecting = curl({"-v", "-X", "POST", "-H", "Expect: 100-continue", "--expect100-timeout", "20",
                                        "--data-binary", "hello", url("/echo")});
  EXPECT_EQ(expecting.out, R"({"bytes":5})") << describe(expecting);
  EXPECT_THAT(expecting.err, HasSubstr("< HTTP/1.1 100 Continue")) << describe(expecting);
  // A chunked body over the limit is cut off as it arrives.
  const CommandResult chunked =
      raw_exchange("POST /echo HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n3e9\r\n" +
                   std::string(1001, 'x') + "\r\n0\r\n\r\n");
  EXPECT_THAT(chunked.out, HasSubstr("HTTP/1.1 413 Payload Too Large\r\n")) << describe(chunked);
}

TEST_F(HttpsServer, MalformedRequestsAndDangerousTargetsAre400) {
  start();
  const std::vector<std::string> requests = {
      "THIS IS NOT HTTP\r\n\r\n",
      "GET /api/v1/health HTTP/1.1\r\nHost: localhost\r\nBad Header\r\n\r\n",
      "GET /api/v1/health HTTP/1.1\r\nContent-Length: x\r\n\r\n",
      "GET api/v1/health HTTP/1.1\r\nHost: localhost\r\n\r\n",
      "GET http://localhost/api/v1/health HTTP/1.1\r\nHost: localhost\r\n\r\n",
      "GET /api/v1/../v1/health HTTP/1.1\r\nHost: localhost\r\n\r\n",
      "GET /api/v1/./health HTTP/1.1\r\nHost: localhost\r\n\r\n",
      "GET /api/v1/%2e%2e/v1/health HTTP/1.1\r\nHost: localhost\r\n\r\n",
      "GET /api/v1/%2E%2E/v1/health HTTP/1.1\r\nHost: localhost\r\n\r\n",
      "GET /api/v1/..%2fv1/health HTTP/1.1\r\nHost: localhost\r\n\r\n",
      "GET /api/v1/health%00 HTTP/1.1\r\nHost: localhost\r\n\r\n",
      std::string("GET /api/v1/hea") + '\0' + "lth HTTP/1.1\r\nHost: localhost\r\n\r\n",
      "GET /api/v1/health%zz HTTP/1.1\r\nHost: localhost\r\n\r\n",
      "GET /api/v1/health?x=%4 HTTP/1.1\r\nHost: localhost\r\n\r\n",
  };
  for (const std::string& request : requests) {
    SCOPED_TRACE(request);
    const CommandResult r = raw_exchange(request);
    EXPECT_THAT(r.out, HasSubstr("HTTP/1.1 400 Bad Request\r\n")) << describe(r);
    EXPECT_THAT(r.out, HasSubstr(R"("code":"bad_request")"));
    EXPECT_THAT(r.out, HasSubstr("Connection: close\r\n"));
  }
  // curl with --path-as-is sends the dots as typed.
  const CommandResult dots =
      curl({"--path-as-is", "-o", "/dev/null", "-w", "%{http_code}", url("/api/v1/../v1/health")});
  EXPECT_EQ(dots.out, "400") << describe(dots);
  EXPECT_EQ(counters().responses_2xx, 0u);
  EXPECT_EQ(counters().responses_4xx, requests.size() + 1);
}

// ---- bodies written to a file (uploads) --------------------------------------------------------

TEST_F(HttpsServer, AnUploadLargerThanTheBodyLimitIsWrittenToAPrivateFileAndRemovedAfterTheHandler) {
  start();  // max_body_bytes: 1 MiB
  upload_expected_.resize(3 << 20);
  for (std::size_t i = 0; i < upload_expected_.size(); ++i) upload_expected_[i] = static_cast<char>(i * 7 + i / 4096);
  const fs::path source = dir_ / "upload.bin";
  std::ofstream(source, std::ios::binary) << upload_expected_;
  const CommandResult r = curl({"-X", "POST", "--data-binary", "@" + source.string(), url("/upload/image")});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  const auto answer = nlohmann::json::parse(r.out);
  EXPECT_EQ(answer["bytes"], upload_expected_.size()) << r.out;
  EXPECT_EQ(answer["same"], true) << r.out;
  EXPECT_EQ(answer["in_uploads"], true) << r.out;
  EXPECT_EQ(answer["mode"], 0600) << r.out;
  EXPECT_EQ(answer["in_memory"], 0) << r.out;
  EXPECT_EQ(answer["name"], "image") << r.out;
  EXPECT_EQ(files_in_uploads(), 0u) << "the body's file outlived the request";
  // The route's admission may also keep a body in memory, under max_body_bytes as any other.
  const CommandResult memory = curl({"-X", "POST", "--data-binary", "small", url("/upload/memory")});
  EXPECT_THAT(memory.out, HasSubstr(R"("in_memory":5)")) << describe(memory);
  const CommandResult too_big = curl({"-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", "--data-binary",
                                      "@" + source.string(), url("/upload/memory")});
  EXPECT_EQ(too_big.out, "413") << describe(too_big);
}

TEST_F(HttpsServer, AnUploadOverItsLimitOrRefusedFromItsHeadIsAnsweredUnreadAndLeavesNoFile) {
  upload_limit_ = 1000;
  start();
  // Only the heads are sent: the answers come without a body, long before any timeout.
  const CommandResult over =
      raw_exchange("POST /upload/image HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1001\r\n\r\n", {}, 10s);
  EXPECT_THAT(over.out, HasSubstr("HTTP/1.1 413 Payload Too Large\r\n")) << describe(over);
  EXPECT_THAT(over.out, HasSubstr("larger than 1000 bytes"));
  EXPECT_THAT(over.out, HasSubstr("Connection: close\r\n"));
  const CommandResult refused = raw_exchange(
      "POST /upload/image HTTP/1.1\r\nHost: localhost\r\nX-Refuse: 1\r\nContent-Length: 10\r\n\r\n", {}, 10s);
  EXPECT_THAT(refused.out, HasSubstr("HTTP/1.1 403 Forbidden\r\n")) << describe(refused);
  EXPECT_THAT(refused.out, HasSubstr(R"("code":"refused")"));
  EXPECT_THAT(refused.out, HasSubstr("X-Content-Type-Options: nosniff\r\n"));
  // A chunked body is cut off at the limit as it arrives, and its file removed.
  const CommandResult chunked =
      raw_exchange("POST /upload/image HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n3e9\r\n" +
                   std::string(1001, 'x') + "\r\n0\r\n\r\n");
  EXPECT_THAT(chunked.out, HasSubstr("HTTP/1.1 413 Payload Too Large\r\n")) << describe(chunked);
  EXPECT_EQ(counters().timeouts, 0u);
  EXPECT_TRUE(eventually([](const ServerCounters& c) { return c.connections_active == 0; }));
  EXPECT_EQ(files_in_uploads(), 0u);
}

TEST_F(HttpsServer, AnUploadHasItsOwnTimeoutAndAClientThatGoesAwayMidBodyLeavesNoFile) {
  ServerOptions o = options();
  o.request_timeout = 1000ms;
  upload_timeout_ = 20s;
  start(o);
  // 400 KB at 150 KB/s: about 2.7 s, past request_timeout but within the upload's own.
  upload_expected_ = std::string(400'000, 'k');
  const fs::path source = dir_ / "slow.bin";
  std::ofstream(source, std::ios::binary) << upload_expected_;
  const CommandResult slow =
      curl({"-X", "POST", "--limit-rate", "150k", "--data-binary", "@" + source.string(), url("/upload/slow")});
  EXPECT_THAT(slow.out, HasSubstr(R"("same":true)")) << describe(slow);
  EXPECT_EQ(counters().timeouts, 0u);
  // Half a body, then the client is gone: the partial file goes with the connection.
  const CommandResult cut = raw_exchange(
      "POST /upload/image HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100000\r\n\r\n" + std::string(5000, 'x'), {},
      3s);
  EXPECT_THAT(cut.out, Not(HasSubstr("HTTP/1.1"))) << describe(cut);
  EXPECT_TRUE(eventually([](const ServerCounters& c) { return c.connections_active == 0; }));
  EXPECT_EQ(files_in_uploads(), 0u);
}

// ---- timeouts and connection limits ------------------------------------------------------------

TEST_F(HttpsServer, ASlowlorisClientIsDroppedAfterTheRequestTimeoutWhileOthersAreServed) {
  ServerOptions o = options();
  o.request_timeout = 1500ms;
  start(o);
  // Half a header, then silence: s_client keeps the connection open until the server closes it.
  auto slow = std::async(std::launch::async, [this] {
    const auto began = std::chrono::steady_clock::now();
    CommandResult r = raw_exchange("GET /api/v1/health HTTP/1.1\r\nHost: local", {}, 30s);
    return std::make_pair(r, std::chrono::steady_clock::now() - began);
  });
  ASSERT_TRUE(eventually([](const ServerCounters& c) { return c.connections_active == 1; }));
  const CommandResult other = curl({url("/api/v1/health")});
  EXPECT_EQ(other.out, R"({"status":"ok"})") << describe(other);
  const auto [r, took] = slow.get();
  EXPECT_THAT(r.out, Not(HasSubstr("HTTP/1.1"))) << describe(r);  // dropped, not answered
  EXPECT_GE(took, 1400ms);
  EXPECT_LT(took, 15s) << "s_client was not disconnected by the server";
  // Beast's timer closes the socket before the read's handler runs and counts the timeout: s_client
  // may see the close first.
  EXPECT_TRUE(eventually([](const ServerCounters& c) { return c.timeouts == 1; })) << counters().timeouts;
  EXPECT_EQ(counters().requests, 1u);
}

TEST_F(HttpsServer, FiveHundredIdleConnectionsDoNotKeepAClientWaitingAndAreDropped) {
  ServerOptions o = options();
  o.handshake_timeout = 6s;  // long enough to still hold all 500 while curl is served
  start(o);
  auto timed_curl = [this] {
    const auto began = std::chrono::steady_clock::now();
    const CommandResult r = curl({url("/api/v1/health")}, 5s);
    EXPECT_EQ(r.out, R"({"status":"ok"})") << describe(r);
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - began);
  };
  const auto alone = timed_curl();
  // From two addresses: one alone may hold at most max_connections_per_address (256).
  std::vector<std::unique_ptr<RawConnection>> idle;
  for (int i = 0; i < 500; ++i)
    idle.push_back(std::make_unique<RawConnection>(port(), i % 2 ? "127.0.0.2" : "127.0.0.3"));
  ASSERT_TRUE(eventually([](const ServerCounters& c) { return c.connections_accepted == 1 + 500; }))
      << counters().connections_accepted;
  const auto beside_idle = timed_curl();
  std::cout << "curl served in " << alone.count() << " ms alone, in " << beside_idle.count()
            << " ms beside 500 idle connections\n";
  EXPECT_EQ(counters().timeouts, 0u) << "the idle ones must still be there while curl is served";
  // Then the handshake timeout drops every one of them.
  EXPECT_TRUE(eventually([](const ServerCounters& c) { return c.timeouts == 500 && c.connections_active == 0; }, 20s))
      << counters().timeouts;
  for (const auto& connection : idle) EXPECT_TRUE(connection->closed_by_server(1s));
}

TEST_F(HttpsServer, AKeptAliveConnectionIsClosedAfterTheIdleTimeout) {
  ServerOptions o = options();
  o.idle_timeout = 800ms;
  start(o);
  // One request that keeps the connection alive, then silence: the server answers, waits the idle
  // timeout, and closes (s_client quits then).
  const auto began = std::chrono::steady_clock::now();
  const CommandResult r = raw_exchange(health_request("keep-alive"), {}, 30s);
  const auto took = std::chrono::steady_clock::now() - began;
  EXPECT_THAT(r.out, HasSubstr("HTTP/1.1 200 OK\r\n")) << describe(r);
  EXPECT_THAT(r.out, Not(HasSubstr("Connection: close")));
  EXPECT_GE(took, 700ms);
  EXPECT_LT(took, 15s) << "the idle connection was not closed";
  EXPECT_EQ(counters().timeouts, 0u) << "an idle connection closing is not a timeout";
}

TEST_F(HttpsServer, ConnectionsPastTheCapAreClosedAtOnceAndCounted) {
  ServerOptions o = options();
  o.max_connections = 3;
  o.handshake_timeout = 60s;  // the held connections never handshake; they must outlast the test
  start(o);
  std::vector<std::unique_ptr<RawConnection>> held;
  for (int i = 0; i < 3; ++i) held.push_back(std::make_unique<RawConnection>(port()));
  ASSERT_TRUE(eventually([](const ServerCounters& c) { return c.connections_active == 3; }));
  RawConnection fourth(port());
  EXPECT_TRUE(fourth.closed_by_server(5s));
  const CommandResult refused = curl({url("/api/v1/health")});
  EXPECT_NE(refused.exit_code, 0) << describe(refused);
  EXPECT_TRUE(eventually([](const ServerCounters& c) { return c.connections_refused == 2; }));
  EXPECT_EQ(counters().connections_accepted, 3u);
  // One leaves; a client is served again.
  held.pop_back();
  ASSERT_TRUE(eventually([](const ServerCounters& c) { return c.connections_active == 2; }));
  EXPECT_EQ(curl({url("/api/v1/health")}).out, R"({"status":"ok"})");
}

TEST_F(HttpsServer, OneAddressCannotTakeEveryPlace) {
  ServerOptions o = options();
  o.max_connections_per_address = 3;
  o.handshake_timeout = 60s;  // the held connections never handshake; they must outlast the test
  start(o);
  std::vector<std::unique_ptr<RawConnection>> held;
  for (int i = 0; i < 3; ++i) held.push_back(std::make_unique<RawConnection>(port(), "127.0.0.2"));
  ASSERT_TRUE(eventually([](const ServerCounters& c) { return c.connections_active == 3; }));
  RawConnection fourth(port(), "127.0.0.2");
  EXPECT_TRUE(fourth.closed_by_server(5s));
  EXPECT_TRUE(eventually([](const ServerCounters& c) { return c.connections_refused_per_address == 1; }));
  EXPECT_EQ(counters().connections_refused, 1u);
  // Another address is served meanwhile; and the first gets a place again when one of its leaves.
  EXPECT_EQ(curl({url("/api/v1/health")}).out, R"({"status":"ok"})");
  held.pop_back();
  ASSERT_TRUE(eventually([](const ServerCounters& c) { return c.connections_active == 2; }));
  RawConnection again(port(), "127.0.0.2");
  EXPECT_FALSE(again.closed_by_server(1s)) << "a place freed by the address was not given back to it";
  EXPECT_EQ(counters().connections_refused, 1u);
}

// ---- streamed responses (live events) ----------------------------------------------------------

TEST_F(HttpsServer, AStreamedResponseArrivesChunkByChunkWithSecurityHeadersAndEndsWhenClosed) {
  start();
  const fs::path output = dir_ / "stream.out";
  // curl -N: no buffering of its own, so the file shows what arrived and when.
  kelvin::testing::BackgroundProcess client(
      {"curl", "-sS", "-N", "-D", "-", "--cacert", ca_file().string(), url("/stream")}, output);
  auto stream = streamed_.wait(10s);
  ASSERT_TRUE(stream);
  ASSERT_TRUE(stream->send("data: one\n\n"));
  ASSERT_TRUE(
      wait_until([&] { return kelvin::testing::read_text(output).find("data: one") != std::string::npos; }, 10s))
      << kelvin::testing::read_text(output);
  EXPECT_TRUE(client.running()) << "the response ended after its first chunk";
  ASSERT_TRUE(stream->send("data: two\n\n"));
  ASSERT_TRUE(
      wait_until([&] { return kelvin::testing::read_text(output).find("data: two") != std::string::npos; }, 10s));
  EXPECT_EQ(counters().streams_active, 1u);
  stream->close();
  ASSERT_EQ(client.wait(10s), std::optional<int>(0)) << kelvin::testing::read_text(output);
  const std::string text = kelvin::testing::read_text(output);
  EXPECT_THAT(text, HasSubstr("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(text, HasSubstr("Transfer-Encoding: chunked\r\n"));
  EXPECT_THAT(text, HasSubstr("Content-Type: text/event-stream\r\n"));
  EXPECT_THAT(text, HasSubstr("Content-Security-Policy: default-src 'self'; frame-ancestors 'none'\r\n"));
  EXPECT_THAT(text, HasSubstr("data: one\n\ndata: two\n\n"));
  EXPECT_FALSE(stream->send("data: three\n\n")) << "a closed stream took more";
  EXPECT_TRUE(eventually([](const ServerCounters& c) { return c.streams_active == 0 && c.streams_opened == 1; }));
}

TEST_F(HttpsServer, AStreamLearnsThatItsClientWentAway) {
  start();
  auto client = std::async(std::launch::async, [this] { return curl({"-N", url("/stream")}, 2s); });
  auto stream = streamed_.wait(10s);
  ASSERT_TRUE(stream);
  client.get();  // curl gave up after 2 s and closed its connection
  EXPECT_TRUE(wait_until([&] { return !stream->is_open(); }, 10s));
  EXPECT_FALSE(stream->send("data: late\n\n"));
  EXPECT_TRUE(eventually([](const ServerCounters& c) { return c.streams_active == 0 && c.connections_active == 0; }));
}

TEST_F(HttpsServer, AReaderTooSlowForItsStreamIsCutOffAtTheBoundAndOthersAreStillServed) {
  start();
  // openssl s_client sends the request, then writes what it receives into a pipe nobody reads:
  // once the pipe and the socket buffers are full, it reads no more from the server.
  const std::string request = "GET /stream HTTP/1.1\\r\\nHost: localhost\\r\\n\\r\\n";
  std::string command = "(printf '" + request + "'; sleep 60) | ";
  for (const auto& arg : s_client_args()) command += "'" + arg + "' ";
  command += "-quiet 2>/dev/null | sleep 60";
  kelvin::testing::BackgroundProcess stalled({"sh", "-c", command}, dir_ / "stalled.log");
  auto stream = streamed_.wait(20s);
  ASSERT_TRUE(stream);
  const std::string chunk(16 * 1024, 'x');
  std::size_t sent = 0;
  // Bounded: the kernel's buffers take a few MiB before the server's own queue starts to grow.
  ASSERT_TRUE(wait_until(
      [&] {
        for (int i = 0; i < 64; ++i) {
          if (!stream->send("data: " + chunk + "\n\n")) return true;
          sent += chunk.size();
        }
        return sent > 512u * 1024 * 1024;
      },
      60s));
  EXPECT_FALSE(stream->is_open());
  EXPECT_TRUE(eventually([](const ServerCounters& c) { return c.streams_overflowed == 1 && c.streams_active == 0; }));
  EXPECT_THAT(log(), HasSubstr("reads more slowly"));
  const CommandResult health = curl({url("/api/v1/health")});
  EXPECT_EQ(health.exit_code, 0) << describe(health);
  EXPECT_EQ(health.out, R"({"status":"ok"})");
}

TEST_F(HttpsServer, StopClosesOpenStreamsWithoutWaitingForTheGracePeriod) {
  ServerOptions o = options();
  o.stop_grace = 60s;
  start(o);
  auto client = std::async(std::launch::async, [this] { return curl({"-N", url("/stream")}, 90s); });
  auto stream = streamed_.wait(10s);
  ASSERT_TRUE(stream);
  ASSERT_TRUE(stream->send("data: one\n\n"));
  auto stopping = std::async(std::launch::async, [this] { server_->stop(); });
  EXPECT_EQ(stopping.wait_for(30s), std::future_status::ready) << "stop() waited for the stream";
  EXPECT_EQ(client.wait_for(30s), std::future_status::ready);
  EXPECT_FALSE(stream->is_open());
  EXPECT_FALSE(stream->send("data: after stop\n\n"));
}

TEST_F(HttpsServer, AResponderWithoutStreamingAnswers500ToAStreamRequest) {
  std::promise<Response> answered;
  Responder responder([&answered](Response response) { answered.set_value(std::move(response)); });
  EXPECT_EQ(responder.stream(Response{}, 1024), nullptr);
  auto answer = answered.get_future();
  ASSERT_EQ(answer.wait_for(0s), std::future_status::ready);
  EXPECT_EQ(answer.get().status, 500);
  EXPECT_FALSE(responder.pending());
}

// ---- graceful stop -----------------------------------------------------------------------------

TEST_F(HttpsServer, StopAnswersARequestInFlightWhoseHandlerRespondsLateFromAnotherThread) {
  start();
  auto client = std::async(std::launch::async, [this] { return curl({"-D", "-", url("/late")}); });
  {
    std::unique_lock lock(parked_.mutex);
    ASSERT_TRUE(parked_.arrived.wait_for(lock, 20s, [this] { return parked_.responder.has_value(); }));
  }
  RawConnection idle(port());  // an idle connection: stop() closes it instead of waiting for it
  ASSERT_TRUE(eventually([](const ServerCounters& c) { return c.connections_active == 2; }));

  auto stopping = std::async(std::launch::async, [this] { server_->stop(); });
  // Stop has begun once new connections are no longer accepted.
  ASSERT_TRUE(wait_until(
      [this] {
        try {
          RawConnection probe(port());
          return false;
        } catch (const std::runtime_error&) {
          return true;  // connection refused: the listener is closed
        }
      },
      10s));
  EXPECT_TRUE(idle.closed_by_server(5s));
  EXPECT_EQ(stopping.wait_for(0s), std::future_status::timeout) << "stop() did not wait for the request in flight";

  // The handler answers from a thread of its own, late.
  std::thread late([this] {
    std::lock_guard lock(parked_.mutex);
    (*parked_.responder)(kelvin::http::json_response(200, R"({"late":true})"));
  });
  late.join();
  ASSERT_EQ(stopping.wait_for(10s), std::future_status::ready);
  const CommandResult r = client.get();
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_THAT(r.out, HasSubstr("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(r.out, HasSubstr("Connection: close\r\n"));
  EXPECT_THAT(r.out, HasSubstr(R"({"late":true})"));
  EXPECT_EQ(counters().connections_active, 0u);
}

TEST_F(HttpsServer, AResponderUsedAfterStopDoesNothingAndStopCutsAHandlerThatNeverAnswers) {
  ServerOptions o = options();
  o.stop_grace = 500ms;
  start(o);
  auto client = std::async(std::launch::async, [this] { return curl({url("/late")}); });
  {
    std::unique_lock lock(parked_.mutex);
    ASSERT_TRUE(parked_.arrived.wait_for(lock, 20s, [this] { return parked_.responder.has_value(); }));
  }
  server_->stop();  // returns after the grace period although the handler never answered
  const CommandResult r = client.get();
  EXPECT_NE(r.exit_code, 0) << describe(r);  // cut off without an answer
  std::lock_guard lock(parked_.mutex);
  (*parked_.responder)(kelvin::http::json_response(200, "{}"));  // must not crash or post anywhere
  parked_.responder.reset();
  EXPECT_EQ(counters().connections_active, 0u);
}

}  // namespace
