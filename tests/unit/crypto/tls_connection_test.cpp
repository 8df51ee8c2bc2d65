// The write buffer below a TLS connection (tls_connection.hpp), on a real TLS 1.2+ connection over a
// socket pair, the client verifying the server's certificate: the handshake completes through the
// buffer, small writes stay in it until the flush and then arrive whole, a socket that takes no
// more leaves the rest pending until the peer reads, and freeing the connection writes what is left.

#include "kelvin/crypto/tls_connection.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "crypto_test_support.hpp"
#include "kelvin/crypto/openssl.hpp"

namespace kelvin::crypto {
namespace {

using test_support::fresh_key;
using test_support::self_signed;

using Context = std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)>;
using Connection = std::unique_ptr<SSL, decltype(&SSL_free)>;

class TlsWriteBufferTest : public ::testing::Test {
 protected:
  void SetUp() override {
    int fds[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    client_fd_ = fds[0];
    server_fd_ = fds[1];
    for (int fd : fds) ASSERT_EQ(::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK), 0);

    key_ = fresh_key();
    cert_ = self_signed(key_.get());
    ASSERT_EQ(SSL_CTX_use_certificate(server_context_.get(), cert_.get()), 1);
    ASSERT_EQ(SSL_CTX_use_PrivateKey(server_context_.get(), key_.get()), 1);
    SSL_CTX_set_min_proto_version(client_context_.get(), TLS1_2_VERSION);
    SSL_CTX_set_verify(client_context_.get(), SSL_VERIFY_PEER, nullptr);
    ASSERT_EQ(X509_STORE_add_cert(SSL_CTX_get_cert_store(client_context_.get()), cert_.get()), 1);

    client_.reset(SSL_new(client_context_.get()));
    server_.reset(SSL_new(server_context_.get()));
    ASSERT_TRUE(client_ && server_);
    ASSERT_EQ(SSL_set1_host(client_.get(), "localhost"), 1);
    ASSERT_EQ(SSL_set_fd(client_.get(), client_fd_), 1);
    ASSERT_EQ(SSL_set_fd(server_.get(), server_fd_), 1);
    SSL_set_connect_state(client_.get());
    SSL_set_accept_state(server_.get());
  }

  void TearDown() override {
    client_.reset();
    server_.reset();
    ::close(client_fd_);
    if (server_fd_ >= 0) ::close(server_fd_);
  }

  // Both sides step until both finished; each step only does what the socket allows.
  bool handshake() {
    bool client_done = false;
    bool server_done = false;
    for (int step = 0; step < 1000 && !(client_done && server_done); ++step) {
      if (!client_done) client_done = step_handshake(client_.get());
      if (!server_done) server_done = step_handshake(server_.get());
    }
    return client_done && server_done && SSL_get_verify_result(client_.get()) == X509_V_OK;
  }

  static bool step_handshake(SSL* ssl) {
    const int rc = SSL_do_handshake(ssl);
    if (rc == 1) return true;
    const int error = SSL_get_error(ssl, rc);
    EXPECT_TRUE(error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) << drain_openssl_errors();
    return false;
  }

  bool server_socket_readable() const {
    pollfd watched{server_fd_, POLLIN, 0};
    return ::poll(&watched, 1, 0) == 1;
  }

  // Everything the server can read now, decrypted.
  std::string server_reads() {
    std::string received;
    char chunk[16384];
    for (;;) {
      const int n = SSL_read(server_.get(), chunk, sizeof chunk);
      if (n <= 0) break;
      received.append(chunk, static_cast<std::size_t>(n));
    }
    return received;
  }

  int client_fd_ = -1;
  int server_fd_ = -1;
  PKey key_;
  Certificate cert_;
  Context client_context_{SSL_CTX_new(TLS_client_method()), &SSL_CTX_free};
  Context server_context_{SSL_CTX_new(TLS_server_method()), &SSL_CTX_free};
  Connection client_{nullptr, &SSL_free};
  Connection server_{nullptr, &SSL_free};
};

TEST_F(TlsWriteBufferTest, SmallWritesWaitForTheFlushAndThenArriveWhole) {
  // Set up before the handshake, as the MQTT client does: the handshake must pass through it.
  ASSERT_TRUE(enable_tls_write_buffer(client_.get(), 64 * 1024));
  ASSERT_TRUE(handshake());
  ASSERT_FALSE(has_pending_tls_output(client_.get()));
  (void)server_reads();  // TLS 1.3 session tickets and the like

  std::string sent;
  for (int i = 0; i < 100; ++i) {
    const std::string packet = "packet " + std::to_string(i) + ";";
    ASSERT_EQ(SSL_write(client_.get(), packet.data(), static_cast<int>(packet.size())),
              static_cast<int>(packet.size()));
    sent += packet;
  }
  EXPECT_TRUE(has_pending_tls_output(client_.get()));
  EXPECT_FALSE(server_socket_readable()) << "a record reached the socket before the flush";

  EXPECT_EQ(flush_tls_output(client_.get()), TlsFlush::done);
  EXPECT_FALSE(has_pending_tls_output(client_.get()));
  EXPECT_EQ(server_reads(), sent);
}

TEST_F(TlsWriteBufferTest, WhatTheSocketDoesNotTakeStaysPendingUntilThePeerReads) {
  ASSERT_TRUE(enable_tls_write_buffer(client_.get(), 64 * 1024));
  ASSERT_TRUE(handshake());
  (void)server_reads();

  // Write and flush until the socket pair's buffers are full.
  std::string sent;
  const std::string chunk(4096, 'x');
  bool blocked = false;
  for (int i = 0; i < 10'000 && !blocked; ++i) {
    const int written = SSL_write(client_.get(), chunk.data(), static_cast<int>(chunk.size()));
    if (written <= 0) {
      ASSERT_EQ(SSL_get_error(client_.get(), written), SSL_ERROR_WANT_WRITE);
      blocked = true;
      break;
    }
    sent += chunk;
    blocked = flush_tls_output(client_.get()) == TlsFlush::would_block;
  }
  ASSERT_TRUE(blocked) << "the socket never filled";
  EXPECT_TRUE(has_pending_tls_output(client_.get()));

  // The peer reads; each flush hands over more, until nothing is left.
  std::string received;
  for (int round = 0; round < 1'000 && has_pending_tls_output(client_.get()); ++round) {
    received += server_reads();
    const TlsFlush flushed = flush_tls_output(client_.get());
    ASSERT_NE(flushed, TlsFlush::failed);
  }
  EXPECT_FALSE(has_pending_tls_output(client_.get()));
  received += server_reads();
  EXPECT_EQ(received.size(), sent.size());
  EXPECT_EQ(received, sent);
}

// libmosquitto writes a DISCONNECT, then frees the TLS object and closes the socket in one call.
TEST_F(TlsWriteBufferTest, WhatIsBufferedWhenTheConnectionIsFreedStillReachesThePeer) {
  ASSERT_TRUE(enable_tls_write_buffer(client_.get(), 64 * 1024));
  ASSERT_TRUE(handshake());
  (void)server_reads();
  const std::string last_words = "DISCONNECT";
  ASSERT_EQ(SSL_write(client_.get(), last_words.data(), static_cast<int>(last_words.size())),
            static_cast<int>(last_words.size()));
  ASSERT_TRUE(has_pending_tls_output(client_.get()));
  client_.reset();  // no flush_tls_output: freeing must write it
  EXPECT_EQ(server_reads(), last_words);
}

TEST_F(TlsWriteBufferTest, AFlushToAClosedPeerFails) {
  ASSERT_TRUE(enable_tls_write_buffer(client_.get(), 64 * 1024));
  ASSERT_TRUE(handshake());
  const std::string packet = "lost";
  ASSERT_EQ(SSL_write(client_.get(), packet.data(), static_cast<int>(packet.size())), 4);
  ::close(server_fd_);
  server_fd_ = -1;
  // The write to the closed peer must fail with EPIPE, not end the test by SIGPIPE.
  const auto previous = ::signal(SIGPIPE, SIG_IGN);
  EXPECT_EQ(flush_tls_output(client_.get()), TlsFlush::failed);
  client_.reset();  // tries once more to write what is left, to the same closed peer
  ::signal(SIGPIPE, previous);
}

}  // namespace
}  // namespace kelvin::crypto
