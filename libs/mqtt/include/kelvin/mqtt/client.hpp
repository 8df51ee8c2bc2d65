#pragma once
// An MQTT client over mutual TLS (libmosquitto). The server certificate is always verified against
// the installation CA and the host name it was reached by; there is no switch to turn that off.
//
// Three ways to drive it, all on our own poll()/epoll loops (libmosquitto's mosquitto_loop() uses
// select() and fails on any descriptor numbered 1024 or higher):
//  - manual: connect() then loop() from one thread; callbacks run inside loop(). Used by the agent,
//    which schedules its own reconnects (backoff with jitter, kelvin/device/backoff.hpp).
//  - event loop: connect(), then wait on socket() yourself among many clients and call process();
//    used by the simulator, which holds thousands of connections on a few threads.
//  - background: start_background() runs our own network thread, which also reconnects;
//    callbacks run on that thread and publish() may be called from any thread. Used by the gateway.
//
// No exception thrown by a callback ever reaches libmosquitto's C frames: it is caught, counted
// (callback_failures()) and reported through on_log.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "kelvin/core/result.hpp"

struct mosquitto;
struct mosquitto_message;

namespace kelvin::mqtt {

struct TlsFiles {
  std::filesystem::path ca_file;    // trust anchor for the broker's certificate
  std::filesystem::path cert_file;  // this client's certificate (its CN is its MQTT identity)
  std::filesystem::path key_file;
};

struct Will {
  std::string topic;
  std::string payload;
  bool retain = true;
};

enum class ProtocolVersion { v311, v5 };

// MQTT v5 DISCONNECT reason: another connection with our client id replaced this one. Given to
// on_disconnected as rc (libmosquitto's own codes are all below 0x80).
constexpr int kSessionTakenOver = 0x8E;

struct SubscribeOptions {
  // MQTT v5 only: deliver the retain flag as the publisher set it, so retained publishes can be
  // told from live ones also on an established subscription (ignored with 3.1.1).
  bool retain_as_published = false;
};

struct ClientOptions {
  // The broker maps the certificate's CN to the client id (use_username_as_clientid); the id given
  // here still names the persistent session and must equal the CN.
  std::string client_id;
  std::string host;  // verified against the broker certificate's subjectAltName
  int port = 8883;
  int keepalive_s = 30;
  // false: a persistent session, QoS 1 messages for us are queued while away (with MQTT v5 the
  // session is asked never to expire, as in 3.1.1).
  bool clean_session = false;
  TlsFiles tls;
  std::optional<Will> will;
  ProtocolVersion protocol = ProtocolVersion::v311;
  int max_inflight = 20;  // outgoing QoS 1 messages awaiting PUBACK (0 = unlimited)
  // An opened connection whose TLS handshake and CONNACK have not completed within this time is
  // abandoned: loop() fails and the next attempt starts afresh. Without it a broker that dies
  // during our handshake can leave libmosquitto 2.0 retrying a broken socket forever.
  int connect_timeout_s = 10;
  // Background mode only: the reconnect delay doubles from min to max.
  int reconnect_min_s = 1;
  int reconnect_max_s = 30;
  // Background mode only: while messages stream in, the network thread wakes at most once per this
  // interval and handles everything that arrived meanwhile (0: at every arrival). A wake costs a
  // context switch, which on a busy gateway costs more than the message itself; waking once a
  // millisecond adds at most a millisecond of latency. An idle connection is still served at once.
  std::chrono::microseconds min_wake_interval{0};
};

struct Message {
  std::string_view topic;
  std::string_view payload;
  bool retain = false;
};

struct Callbacks {
  // CONNACK accepted.
  std::function<void()> on_connected;
  // CONNACK refused (reason text) or the connection ended (rc != 0 means unexpected; with MQTT v5
  // a DISCONNECT's reason code from the broker, e.g. kSessionTakenOver).
  std::function<void(std::string_view reason)> on_refused;
  std::function<void(int rc, std::string_view reason)> on_disconnected;
  std::function<void(const Message&)> on_message;
  // A QoS 1 publish (the id publish() returned) was acknowledged by the broker (PUBACK).
  std::function<void(int mid)> on_published;
  // The broker refused a subscription in its SUBACK (reason: MQTT's code, 0x80 or a v5 code >=
  // 0x80): the connection stays up but nothing arrives for `filter`. An ACL that lacks a rule is
  // the usual cause.
  std::function<void(std::string_view filter, int reason_code)> on_subscribe_refused;
  // libmosquitto's own warnings and errors while a connection is being set up (TLS failures carry
  // OpenSSL's reason here), and our reports of failed callbacks. Once connected, libmosquitto's
  // logging is switched off: it formats a line for every packet whatever level is kept.
  std::function<void(std::string_view line)> on_log;
};

class Client {
 public:
  // Validates options and loads TLS material; Errc::invalid_argument / not_found / crypto.
  static Result<std::unique_ptr<Client>> create(ClientOptions options, Callbacks callbacks);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Manual mode. connect() opens TCP, does the TLS handshake and sends CONNECT (blocking);
  // on_connected/on_refused follow from loop(). loop() fails with Errc::io when the connection is
  // lost and with Errc::timed_out when no CONNACK arrived within connect_timeout_s of connect().
  Result<void> connect();
  Result<void> loop(int timeout_ms);

  // Event-loop mode. socket() is the connection's descriptor (-1 while there is none); wait for it
  // to be readable, and writable while wants_write(). process() then reads and writes what it can,
  // runs the callbacks, keeps the connection alive and enforces connect_timeout_s; call it also
  // when has_buffered_input() (without waiting) and at least once a second. It fails like loop().
  int socket() const;
  bool wants_write() const;
  bool has_buffered_input() const;
  Result<void> process(bool readable, bool writable);

  // Background mode: our network thread, reconnecting with backoff (reconnect_min_s doubling up
  // to reconnect_max_s) until stop_background(); a clean DISCONNECT at the end.
  Result<void> start_background();
  void stop_background();

  // Failures the broker reports in its SUBACK come later, through on_subscribe_refused.
  Result<void> subscribe(std::string_view filter, int qos, SubscribeOptions subscribe_options = {});
  // Returns the message id. Fails (Errc::io) when not connected.
  Result<int> publish(std::string_view topic, std::string_view payload, int qos, bool retain);
  // Clean DISCONNECT: the broker does not publish the will.
  void disconnect();

  const ClientOptions& options() const { return options_; }
  // Exceptions thrown by callbacks and caught here (each one is also reported through on_log).
  std::uint64_t callback_failures() const { return callback_failures_.load(); }

 private:
  Client(ClientOptions options, Callbacks callbacks);
  Result<void> configure();

  static void handle_connect(mosquitto*, void* self, int rc);
  static void handle_disconnect(mosquitto*, void* self, int rc);
  static void handle_message(mosquitto*, void* self, const mosquitto_message* message);
  static void handle_publish(mosquitto*, void* self, int mid);
  static void handle_subscribe(mosquitto*, void* self, int mid, int count, const int* granted);
  static void handle_log(mosquitto*, void* self, int level, const char* line);
  // Runs a callback; an exception is caught, counted and reported instead of unwinding into C.
  template <typename Call>
  void guard(std::string_view callback, Call&& call) noexcept;
  void forward_library_log(bool on);
  void wake_network_thread();

  ClientOptions options_;
  Callbacks callbacks_;
  mosquitto* handle_ = nullptr;
  void run_network_thread();
  // The network thread's (re)connect attempt: a blocking TCP connect that starts the handshake.
  int open_connection(bool first_attempt);

  // Touched only by the thread that calls loop() (the network thread in background mode), which is
  // also the thread libmosquitto runs handle_connect/handle_disconnect on.
  std::chrono::steady_clock::time_point opened_at_{};
  bool awaiting_connack_ = false;

  // Subscriptions awaiting their SUBACK, by message id: the refused filter is named in the report.
  std::mutex subscriptions_mutex_;
  std::map<int, std::string> pending_subscriptions_;

  std::atomic<std::uint64_t> callback_failures_{0};
  bool background_ = false;
  std::atomic<bool> background_stop_{false};
  int wake_fd_ = -1;  // eventfd: publish() from another thread wakes the network thread's poll()
  // Set by the publish that signalled wake_fd_, cleared by the network thread before it writes
  // what is queued: the publishes in between need no signal of their own (one per wake, not one
  // per ack of a commit).
  std::atomic<bool> wake_signalled_{false};
  std::thread network_thread_;
};

// A readable name for a libmosquitto return code or CONNACK code.
std::string describe_error(int rc);

}  // namespace kelvin::mqtt
