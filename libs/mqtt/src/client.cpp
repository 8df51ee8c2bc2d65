#include "kelvin/mqtt/client.hpp"

#include <mosquitto.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>
#include <thread>

namespace kelvin::mqtt {
namespace {

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
  if (handle_ == nullptr) return;
  if (background_) stop_background();
  mosquitto_destroy(handle_);
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
  mosquitto_log_callback_set(handle_, &Client::handle_log);

  const auto& tls = options_.tls;
  int rc =
      mosquitto_tls_set(handle_, tls.ca_file.c_str(), nullptr, tls.cert_file.c_str(), tls.key_file.c_str(), nullptr);
  if (rc != MOSQ_ERR_SUCCESS) return mosquitto_failure("cannot load TLS files (" + tls.cert_file.string() + ")", rc);
  // SSL_VERIFY_PEER (1); TLS 1.2 is the floor. mosquitto_tls_insecure_set is never called, so the
  // broker's host name is always checked against its certificate.
  rc = mosquitto_tls_opts_set(handle_, 1, "tlsv1.2", nullptr);
  if (rc != MOSQ_ERR_SUCCESS) return mosquitto_failure("cannot set TLS options", rc);

  if (options_.will) {
    const auto& will = *options_.will;
    rc = mosquitto_will_set(handle_, will.topic.c_str(), static_cast<int>(will.payload.size()), will.payload.data(), 1,
                            will.retain);
    if (rc != MOSQ_ERR_SUCCESS) return mosquitto_failure("cannot set last will", rc);
  }
  return {};
}

int Client::open_connection(bool first_attempt) {
  // mosquitto_reconnect closes whatever socket an abandoned attempt left behind.
  int rc = first_tls_connect_gate.run([&] {
    return first_attempt ? mosquitto_connect(handle_, options_.host.c_str(), options_.port, options_.keepalive_s)
                         : mosquitto_reconnect(handle_);
  });
  awaiting_connack_ = rc == MOSQ_ERR_SUCCESS;
  opened_at_ = std::chrono::steady_clock::now();
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
  int rc = mosquitto_loop(handle_, timeout_ms, 1);
  if (rc != MOSQ_ERR_SUCCESS) return mosquitto_failure("MQTT connection", rc);
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
  background_stop_.store(false);
  background_ = true;
  network_thread_ = std::thread([this] { run_network_thread(); });
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
    // A lost connection has already been reported through the disconnect callback by libmosquitto;
    // a stalled handshake has not, so it is logged here.
    if (auto r = loop(100); !r) {
      if (r.error().code == Errc::timed_out && callbacks_.on_log) {
        callbacks_.on_log(r.error().message + "; retrying");
      }
      open = false;
    }
  }
  if (open) {
    mosquitto_disconnect(handle_);
    for (int i = 0; i < 10 && mosquitto_loop(handle_, 20, 1) == MOSQ_ERR_SUCCESS; ++i) {
    }
  }
}

void Client::stop_background() {
  if (!background_) return;
  background_stop_.store(true);
  if (network_thread_.joinable()) network_thread_.join();
  background_ = false;
}

Result<void> Client::subscribe(std::string_view filter, int qos) {
  std::string pattern(filter);
  int rc = mosquitto_subscribe(handle_, nullptr, pattern.c_str(), qos);
  if (rc != MOSQ_ERR_SUCCESS) return mosquitto_failure("cannot subscribe to " + pattern, rc);
  return {};
}

Result<int> Client::publish(std::string_view topic, std::string_view payload, int qos, bool retain) {
  std::string name(topic);
  int message_id = 0;
  int rc = mosquitto_publish(handle_, &message_id, name.c_str(), static_cast<int>(payload.size()), payload.data(), qos,
                             retain);
  if (rc != MOSQ_ERR_SUCCESS) return mosquitto_failure("cannot publish to " + name, rc);
  return message_id;
}

void Client::disconnect() {
  mosquitto_disconnect(handle_);
}

void Client::handle_connect(mosquitto*, void* self, int rc) {
  auto& client = *static_cast<Client*>(self);
  client.awaiting_connack_ = false;
  if (rc == 0) {
    if (client.callbacks_.on_connected) client.callbacks_.on_connected();
  } else if (client.callbacks_.on_refused) {
    client.callbacks_.on_refused(mosquitto_connack_string(rc));
  }
}

void Client::handle_disconnect(mosquitto*, void* self, int rc) {
  auto& client = *static_cast<Client*>(self);
  if (client.callbacks_.on_disconnected) {
    client.callbacks_.on_disconnected(rc, rc == 0 ? "disconnected on request" : mosquitto_strerror(rc));
  }
}

void Client::handle_message(mosquitto*, void* self, const mosquitto_message* message) {
  auto& client = *static_cast<Client*>(self);
  if (!client.callbacks_.on_message) return;
  Message view{
      message->topic,
      std::string_view(static_cast<const char*>(message->payload), static_cast<std::size_t>(message->payloadlen)),
      message->retain};
  client.callbacks_.on_message(view);
}

void Client::handle_log(mosquitto*, void* self, int level, const char* line) {
  auto& client = *static_cast<Client*>(self);
  if (client.callbacks_.on_log && (level & (MOSQ_LOG_ERR | MOSQ_LOG_WARNING)) != 0) client.callbacks_.on_log(line);
}

}  // namespace kelvin::mqtt
