#include "kelvin/mqtt/client.hpp"

#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <exception>
#include <mutex>
#include <thread>

#include "kelvin/core/thread_name.hpp"
#include "kelvin/crypto/tls_connection.hpp"
#include "kelvin/crypto/tls_policy.hpp"

namespace kelvin::mqtt {
namespace {

// Outgoing TLS records gather here during one pass of the loop (Client::process). 64 KiB holds a
// PUBACK and an ack for several hundred single-reading messages; a fuller buffer is written at once.
constexpr int kTlsWriteBufferBytes = 64 * 1024;

// libmosquitto needs one process-wide init; cleanup is left to process exit because clients may
// outlive any owner we could tie it to.
void ensure_library_initialised() {
  static std::once_flag once;
  std::call_once(once, [] { mosquitto_lib_init(); });
}

// libmosquitto sets up its TLS globals (an OpenSSL UI method, an SSL ex-data index) lazily, in the
// first connection that reaches the TLS step, without a lock: two threads connecting at once for
// the first time both create them and one set leaks (seen with the simulator's many devices).
// Connections are serialised until one has got past that step; afterwards they run in parallel.
class FirstTlsConnectGate {
 public:
  template <typename Connect>
  int run(Connect&& connect) {
    if (done_.load(std::memory_order_acquire)) return connect();
    std::lock_guard lock(mutex_);
    const int rc = connect();
    // A successful call has made the TCP connection and set up TLS; a refused one never got there.
    if (rc == MOSQ_ERR_SUCCESS) done_.store(true, std::memory_order_release);
    return rc;
  }

 private:
  std::mutex mutex_;
  std::atomic<bool> done_{false};
};

FirstTlsConnectGate first_tls_connect_gate;

Error mosquitto_failure(std::string_view what, int rc) {
  Errc code = rc == MOSQ_ERR_TLS ? Errc::crypto : rc == MOSQ_ERR_INVAL ? Errc::invalid_argument : Errc::io;
  return make_error(code, std::string(what) + ": " + describe_error(rc));
}

Result<void> require_readable(const std::filesystem::path& file, std::string_view role) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) {
    return make_error(Errc::not_found, std::string(role) + " " + file.string() + " does not exist or is not a file");
  }
  return {};
}

}  // namespace

std::string describe_error(int rc) {
  if (rc == MOSQ_ERR_ERRNO) return std::strerror(errno);
  return mosquitto_strerror(rc);
}

Client::Client(ClientOptions options, Callbacks callbacks)
    : options_(std::move(options)), callbacks_(std::move(callbacks)) {}

Client::~Client() {
  if (handle_ != nullptr) {
    if (background_) stop_background();
    mosquitto_destroy(handle_);
  }
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

Result<std::unique_ptr<Client>> Client::create(ClientOptions options, Callbacks callbacks) {
  if (options.client_id.empty()) return make_error(Errc::invalid_argument, "MQTT client id is empty");
  if (options.host.empty()) return make_error(Errc::invalid_argument, "MQTT broker host is empty");
  if (options.port < 1 || options.port > 65535) {
    return make_error(Errc::invalid_argument,
                      "MQTT broker port " + std::to_string(options.port) + " is not in 1..65535");
  }
  if (auto r = require_readable(options.tls.ca_file, "CA certificate"); !r) return std::move(r).error();
  if (auto r = require_readable(options.tls.cert_file, "client certificate"); !r) return std::move(r).error();
  if (auto r = require_readable(options.tls.key_file, "client key"); !r) return std::move(r).error();
  ensure_library_initialised();
  std::unique_ptr<Client> client(new Client(std::move(options), std::move(callbacks)));
  if (auto r = client->configure(); !r) return std::move(r).error();
  return client;
}

Result<void> Client::configure() {
  handle_ = mosquitto_new(options_.client_id.c_str(), options_.clean_session, this);
  if (handle_ == nullptr)
    return make_error(Errc::io, std::string("cannot create MQTT client: ") + std::strerror(errno));
  int version = options_.protocol == ProtocolVersion::v5 ? MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311;
  mosquitto_int_option(handle_, MOSQ_OPT_PROTOCOL_VERSION, version);
  mosquitto_int_option(handle_, MOSQ_OPT_TCP_NODELAY, 1);
  mosquitto_max_inflight_messages_set(handle_, static_cast<unsigned>(options_.max_inflight));
  mosquitto_connect_callback_set(handle_, &Client::handle_connect);
  mosquitto_disconnect_callback_set(handle_, &Client::handle_disconnect);
  mosquitto_message_callback_set(handle_, &Client::handle_message);
  mosquitto_publish_callback_set(handle_, &Client::handle_publish);
  mosquitto_subscribe_callback_set(handle_, &Client::handle_subscribe);
  forward_library_log(true);

  const auto& tls = options_.tls;
  int rc =
      mosquitto_tls_set(handle_, tls.ca_file.c_str(), nullptr, tls.cert_file.c_str(), tls.key_file.c_str(), nullptr);
  if (rc != MOSQ_ERR_SUCCESS) return mosquitto_failure("cannot load TLS files (" + tls.cert_file.string() + ")", rc);
  // SSL_VERIFY_PEER (1); TLS 1.2 is the floor, and with it only ECDHE with AEAD (tls_policy.hpp).
  // mosquitto_tls_insecure_set is never called, so the broker's host name is always checked
  // against its certificate.
  rc = mosquitto_tls_opts_set(handle_, 1, "tlsv1.2", crypto::kTls12Ciphers);
  if (rc != MOSQ_ERR_SUCCESS) return mosquitto_failure("cannot set TLS options", rc);

  if (options_.will) {
    const auto& will = *options_.will;
    rc = mosquitto_will_set(handle_, will.topic.c_str(), static_cast<int>(will.payload.size()), will.payload.data(), 1,
                            will.retain);
    if (rc != MOSQ_ERR_SUCCESS) return mosquitto_failure("cannot set last will", rc);
  }
  return {};
}

void Client::forward_library_log(bool on) {
  mosquitto_log_callback_set(handle_, on ? &Client::handle_log : nullptr);
}

int Client::open_connection(bool first_attempt) {
  // Why a handshake fails is only told through libmosquitto's log.
  forward_library_log(true);
  // mosquitto_reconnect closes whatever socket an abandoned attempt left behind.
  int rc = first_tls_connect_gate.run([&] {
    if (!first_attempt) return mosquitto_reconnect(handle_);  // with the first attempt's properties
    mosquitto_property* properties = nullptr;
    if (options_.protocol == ProtocolVersion::v5 && !options_.clean_session) {
      // v5 ends a session at disconnect unless asked otherwise; UINT32_MAX means never.
      const int added = mosquitto_property_add_int32(&properties, MQTT_PROP_SESSION_EXPIRY_INTERVAL, UINT32_MAX);
      if (added != MOSQ_ERR_SUCCESS) return added;
    }
    const int connected = mosquitto_connect_bind_v5(handle_, options_.host.c_str(), options_.port, options_.keepalive_s,
                                                    nullptr, properties);
    mosquitto_property_free_all(&properties);
    return connected;
  });
  awaiting_connack_ = rc == MOSQ_ERR_SUCCESS;
  opened_at_ = std::chrono::steady_clock::now();
  // The TLS object exists once the TCP connection does; the handshake is still to come.
  if (rc == MOSQ_ERR_SUCCESS) {
    crypto::enable_tls_read_ahead(mosquitto_ssl_get(handle_));
    // libmosquitto writes every packet with its own write(); process() flushes them together.
    crypto::enable_tls_write_buffer(mosquitto_ssl_get(handle_), kTlsWriteBufferBytes);
  }
  return rc;
}

Result<void> Client::connect() {
  int rc = open_connection(true);
  if (rc != MOSQ_ERR_SUCCESS) {
    return mosquitto_failure("cannot connect to MQTT broker " + options_.host + ":" + std::to_string(options_.port),
                             rc);
  }
  return {};
}

Result<void> Client::loop(int timeout_ms) {
  const int fd = socket();
  if (fd < 0) return mosquitto_failure("MQTT connection", MOSQ_ERR_NO_CONN);
  bool readable = false;
  bool writable = false;
  if (!has_buffered_input()) {
    pollfd watched{fd, static_cast<short>(POLLIN | (wants_write() ? POLLOUT : 0)), 0};
    const int ready = ::poll(&watched, 1, timeout_ms);
    if (ready < 0 && errno != EINTR) return make_error(Errc::io, std::string("poll: ") + std::strerror(errno));
    readable = (watched.revents & (POLLIN | POLLERR | POLLHUP)) != 0;
    writable = (watched.revents & POLLOUT) != 0;
  }
  return process(readable, writable);
}

int Client::socket() const {
  return mosquitto_socket(handle_);
}

bool Client::wants_write() const {
  return mosquitto_want_write(handle_) || crypto::has_pending_tls_output(mosquitto_ssl_get(handle_));
}

bool Client::has_buffered_input() const {
  return crypto::has_buffered_tls_input(mosquitto_ssl_get(handle_));
}

Result<void> Client::process(bool readable, bool writable) {
  // Bounded, so that a flood of incoming messages cannot hold off our own writes and keepalive.
  constexpr int kMaxReadRounds = 64;
  // A writable socket during the TLS handshake also means "continue the handshake", which
  // libmosquitto does in its read step.
  if (readable || writable || has_buffered_input()) {
    for (int round = 0; round < kMaxReadRounds; ++round) {
      // libmosquitto reads as many packets as it has QoS>0 messages in flight, at least one, and
      // on while OpenSSL holds decrypted bytes; read-ahead data of further records needs another
      // call, hence the loop.
      const int rc = mosquitto_loop_read(handle_, 1);
      if (rc != MOSQ_ERR_SUCCESS) return mosquitto_failure("MQTT connection", rc);
      if (!has_buffered_input()) break;
    }
  }
  if (socket() >= 0 && wants_write()) {
    const int rc = mosquitto_loop_write(handle_, 1);
    if (rc != MOSQ_ERR_SUCCESS) return mosquitto_failure("MQTT connection", rc);
  }
  // Keepalive: sends PINGREQ when due and drops a connection whose PINGRESP never came.
  if (const int rc = mosquitto_loop_misc(handle_); rc != MOSQ_ERR_SUCCESS) {
    return mosquitto_failure("MQTT connection", rc);
  }
  // Everything this pass wrote (PUBACKs, publishes, the handshake's continuation) in one write().
  // What the socket does not take now waits for POLLOUT (wants_write). A broken socket is shut
  // down, so that libmosquitto's next read finds the connection lost and reports it as usual.
  if (crypto::flush_tls_output(mosquitto_ssl_get(handle_)) == crypto::TlsFlush::failed && socket() >= 0) {
    ::shutdown(socket(), SHUT_RDWR);
  }
  // libmosquitto 2.0 treats a socket error during the TLS handshake as "try again" and would spin
  // on the dead socket until the process ends; the deadline turns that into an ordinary failure.
  if (awaiting_connack_ &&
      std::chrono::steady_clock::now() - opened_at_ > std::chrono::seconds(options_.connect_timeout_s)) {
    awaiting_connack_ = false;
    return make_error(Errc::timed_out, "no CONNACK from MQTT broker " + options_.host + ":" +
                                           std::to_string(options_.port) + " within " +
                                           std::to_string(options_.connect_timeout_s) +
                                           " s of connecting (TLS handshake or MQTT connect stalled)");
  }
  return {};
}

// libmosquitto's own background thread (mosquitto_loop_start) gives up for good on the first
// TLS-level error, and OpenSSL 3 reports a broker killed mid-connection as one ("unexpected eof"):
// the gateway would never reconnect. So the network thread is ours and always retries.
Result<void> Client::start_background() {
  // Publishes from other threads are then only queued and the network thread writes them: an
  // OpenSSL connection must not be read and written by two threads at once.
  mosquitto_threaded_set(handle_, true);
  if (wake_fd_ < 0) {
    wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wake_fd_ < 0) return make_error(Errc::io, std::string("cannot create an eventfd: ") + std::strerror(errno));
  }
  background_stop_.store(false);
  background_ = true;
  network_thread_ = core::named_thread("mqtt", [this] { run_network_thread(); });
  return {};
}

void Client::run_network_thread() {
  bool open = false;
  bool ever_connected = false;
  int delay_s = options_.reconnect_min_s;
  while (!background_stop_.load()) {
    if (!open) {
      int rc = open_connection(!ever_connected);
      if (rc != MOSQ_ERR_SUCCESS) {
        if (callbacks_.on_log) {
          callbacks_.on_log("cannot connect to " + options_.host + ":" + std::to_string(options_.port) + ": " +
                            describe_error(rc) + "; retrying in " + std::to_string(delay_s) + " s");
        }
        for (int i = 0; i < delay_s * 10 && !background_stop_.load(); ++i) {
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        delay_s = std::min(delay_s * 2, options_.reconnect_max_s);
        continue;
      }
      open = true;
      ever_connected = true;
      delay_s = options_.reconnect_min_s;
    }
    // publish() from other threads only queues (threaded mode) and signals wake_fd_.
    const int fd = socket();
    pollfd watched[2] = {{fd, static_cast<short>(POLLIN | (wants_write() ? POLLOUT : 0)), 0}, {wake_fd_, POLLIN, 0}};
    if (fd >= 0 && !has_buffered_input() && ::poll(watched, 2, 100) > 0 && (watched[1].revents & POLLIN) != 0) {
      std::uint64_t signals = 0;
      (void)!::read(wake_fd_, &signals, sizeof signals);
    }
    // Before process() writes the queue: a publish queued after this signals again.
    wake_signalled_.store(false);
    const auto woke = std::chrono::steady_clock::now();
    const bool readable = (watched[0].revents & (POLLIN | POLLERR | POLLHUP)) != 0;
    // A lost connection has already been reported through the disconnect callback by libmosquitto;
    // a stalled handshake has not, so it is logged here.
    if (auto r = process(readable, (watched[0].revents & POLLOUT) != 0); !r) {
      if (r.error().code == Errc::timed_out && callbacks_.on_log) {
        callbacks_.on_log(r.error().message + "; retrying");
      }
      open = false;
      continue;
    }
    // Messages stream in: let them gather for the rest of the interval (ClientOptions).
    if (readable && options_.min_wake_interval.count() > 0 && !background_stop_.load()) {
      std::this_thread::sleep_until(woke + options_.min_wake_interval);
    }
  }
  if (open) {
    mosquitto_disconnect(handle_);
    for (int i = 0; i < 10 && socket() >= 0 && loop(20); ++i) {
    }
  }
}

void Client::stop_background() {
  if (!background_) return;
  background_stop_.store(true);
  if (network_thread_.joinable()) network_thread_.join();
  background_ = false;
}

Result<void> Client::subscribe(std::string_view filter, int qos, SubscribeOptions subscribe_options) {
  std::string pattern(filter);
  int message_id = 0;
  {
    // Held across the call: the SUBACK cannot be matched before its id is recorded.
    std::lock_guard lock(subscriptions_mutex_);
    int rc = MOSQ_ERR_SUCCESS;
    if (options_.protocol == ProtocolVersion::v5) {
      const int flags = subscribe_options.retain_as_published ? MQTT_SUB_OPT_RETAIN_AS_PUBLISHED : 0;
      rc = mosquitto_subscribe_v5(handle_, &message_id, pattern.c_str(), qos, flags, nullptr);
    } else {
      rc = mosquitto_subscribe(handle_, &message_id, pattern.c_str(), qos);
    }
    if (rc != MOSQ_ERR_SUCCESS) return mosquitto_failure("cannot subscribe to " + pattern, rc);
    pending_subscriptions_[message_id] = pattern;
  }
  wake_network_thread();
  return {};
}

Result<int> Client::publish(std::string_view topic, std::string_view payload, int qos, bool retain) {
  std::string name(topic);
  int message_id = 0;
  int rc = mosquitto_publish(handle_, &message_id, name.c_str(), static_cast<int>(payload.size()), payload.data(), qos,
                             retain);
  if (rc != MOSQ_ERR_SUCCESS) return mosquitto_failure("cannot publish to " + name, rc);
  wake_network_thread();
  return message_id;
}

void Client::wake_network_thread() {
  if (wake_fd_ < 0 || wake_signalled_.exchange(true)) return;
  const std::uint64_t one = 1;
  (void)!::write(wake_fd_, &one, sizeof one);
}

void Client::disconnect() {
  mosquitto_disconnect(handle_);
}

template <typename Call>
void Client::guard(std::string_view callback, Call&& call) noexcept {
  std::string failure;
  try {
    call();
    return;
  } catch (const std::exception& e) {
    failure = e.what();
  } catch (...) {
    failure = "an unknown exception";
  }
  ++callback_failures_;
  try {
    if (callbacks_.on_log) callbacks_.on_log(std::string(callback) + " callback failed: " + failure);
  } catch (...) {
    // Reporting failed too; the count above still says it happened.
  }
}

void Client::handle_connect(mosquitto*, void* self, int rc) {
  auto& client = *static_cast<Client*>(self);
  client.awaiting_connack_ = false;
  if (rc == 0) {
    client.forward_library_log(false);
    client.guard("connect", [&] {
      if (client.callbacks_.on_connected) client.callbacks_.on_connected();
    });
  } else {
    client.guard("connect", [&] {
      if (client.callbacks_.on_refused) client.callbacks_.on_refused(mosquitto_connack_string(rc));
    });
  }
}

void Client::handle_disconnect(mosquitto*, void* self, int rc) {
  auto& client = *static_cast<Client*>(self);
  client.forward_library_log(true);
  {
    // Unanswered requests of the old connection get no SUBACK; the next connection subscribes anew.
    std::lock_guard lock(client.subscriptions_mutex_);
    client.pending_subscriptions_.clear();
  }
  client.guard("disconnect", [&] {
    if (!client.callbacks_.on_disconnected) return;
    // With v5, codes of 0x80 and above are the broker's DISCONNECT reason, not libmosquitto's.
    const char* reason = rc == 0      ? "disconnected on request"
                         : rc >= 0x80 ? mosquitto_reason_string(rc)
                                      : mosquitto_strerror(rc);
    client.callbacks_.on_disconnected(rc, reason);
  });
}

void Client::handle_message(mosquitto*, void* self, const mosquitto_message* message) {
  auto& client = *static_cast<Client*>(self);
  if (!client.callbacks_.on_message) return;
  client.guard("message", [&] {
    Message view{
        message->topic,
        std::string_view(static_cast<const char*>(message->payload), static_cast<std::size_t>(message->payloadlen)),
        message->retain};
    client.callbacks_.on_message(view);
  });
}

void Client::handle_publish(mosquitto*, void* self, int mid) {
  auto& client = *static_cast<Client*>(self);
  if (!client.callbacks_.on_published) return;
  client.guard("publish", [&] { client.callbacks_.on_published(mid); });
}

void Client::handle_subscribe(mosquitto*, void* self, int mid, int count, const int* granted) {
  auto& client = *static_cast<Client*>(self);
  std::string filter;
  {
    std::lock_guard lock(client.subscriptions_mutex_);
    auto found = client.pending_subscriptions_.find(mid);
    if (found == client.pending_subscriptions_.end()) return;
    filter = std::move(found->second);
    client.pending_subscriptions_.erase(found);
  }
  // We subscribe one filter per request: one granted QoS, or a failure code (0x80 and above).
  const int code = count >= 1 && granted != nullptr ? granted[0] : 0x80;
  if (code < 0x80) return;
  client.guard("subscribe", [&] {
    if (client.callbacks_.on_subscribe_refused) client.callbacks_.on_subscribe_refused(filter, code);
  });
}

void Client::handle_log(mosquitto*, void* self, int level, const char* line) {
  auto& client = *static_cast<Client*>(self);
  if ((level & (MOSQ_LOG_ERR | MOSQ_LOG_WARNING)) == 0) return;
  client.guard("log", [&] {
    if (client.callbacks_.on_log) client.callbacks_.on_log(line);
  });
}

}  // namespace kelvin::mqtt
