// kelvin::http::Server on Boost.Beast/Asio 1.74. One Session per connection, each on its own
// strand; everything a Session touches after construction happens on that strand, except the
// Responder's delivery, which only posts to it. Sessions are owned by their pending operations
// (and, while a handler works, by themselves: self_while_handling_); the Server's registry holds
// weak references only.

#include "kelvin/http/server.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <condition_variable>
#include <limits>
#include <mutex>
#include <optional>
#include <random>
#include <thread>
#include <unordered_map>
#include <vector>

#include "file_slice_body.hpp"
#include "kelvin/core/thread_name.hpp"
#include "kelvin/crypto/tls_server.hpp"
#include "kelvin/http/response_headers.hpp"
#include "kelvin/http/target.hpp"

namespace kelvin::http {

namespace beast = boost::beast;
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace bhttp = boost::beast::http;
using tcp = boost::asio::ip::tcp;
using error_code = boost::system::error_code;

namespace {

// A TLS close_notify exchange after the last response may take this long before the socket is
// simply closed.
constexpr std::chrono::milliseconds kTlsShutdownTimeout{1'000};
// After an accept error (out of file descriptors, typically) the next accept waits this long, so
// the loop does not spin while the condition lasts.
constexpr std::chrono::milliseconds kAcceptRetryDelay{100};
// Bytes read at once while waiting for the next request on a kept-alive connection.
constexpr std::size_t kIdleReadBytes = 4096;

// Shared between the Server and every Responder it handed out: once closed, a late Responder
// does nothing (its connection and io_context may be gone).
struct ResponderGate {
  std::mutex mutex;
  bool open = true;
};

// Posts `work` to a session's strand unless the server has stopped (its io_context may be gone)
// or the session has ended. Callable from any thread.
template <typename Target, typename Work>
void post_to_session(const std::shared_ptr<ResponderGate>& gate, const std::weak_ptr<Target>& weak, Work work) {
  std::lock_guard lock(gate->mutex);
  if (!gate->open) return;
  auto target = weak.lock();  // destroyed before the lock is released
  if (!target) return;
  auto executor = target->executor();
  net::post(executor, [target = std::move(target), work = std::move(work)]() mutable { work(*target); });
}

Result<std::shared_ptr<ssl::context>> make_tls_context(const ServerOptions& options) {
  try {
    auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
    crypto::TlsServerFiles files{options.certificate_file, options.private_key_file, options.client_ca_file,
                                 options.client_crl_file};
    if (auto configured = crypto::configure_tls_server(context->native_handle(), files); !configured) {
      return std::move(configured).error();
    }
    return context;
  } catch (const std::exception& e) {
    return make_error(Errc::crypto, std::string("cannot create the TLS context: ") + e.what());
  }
}

// Sockets must not leak into programs the process starts (kelvin-gateway restarts Mosquitto): a
// leaked listening socket would hold the port after the gateway is gone, a leaked connection would
// stay open after the server closed it. Asio 1.74 opens and accepts without SOCK_CLOEXEC, so this
// is set right after; a fork in the instant between would still inherit that one socket.
void close_on_exec(int fd) {
  if (fd < 0) return;
  const int flags = ::fcntl(fd, F_GETFD);
  if (flags >= 0) ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
}

// 64 random bits in hex: names a body's file (BodyToFile) so that no two requests share one.
std::string random_file_tag() {
  std::random_device random;
  const std::uint64_t value = (std::uint64_t{random()} << 32) | random();
  static constexpr char kHex[] = "0123456789abcdef";
  std::string tag(16, '0');
  for (int i = 0; i < 16; ++i) tag[static_cast<std::size_t>(i)] = kHex[(value >> (60 - 4 * i)) & 0xf];
  return tag;
}

bool is_http_parse_error(const error_code& ec) {
  return ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category();
}

}  // namespace

class Session;

// The queue between a streamed response's producer (ResponseStream, any thread) and its Session
// (the strand). What is sent between two writes is written as one chunk.
class StreamChannel final : public ResponseStream {
 public:
  StreamChannel(std::weak_ptr<Session> session, std::shared_ptr<ResponderGate> gate, std::size_t max_buffered_bytes)
      : session_(std::move(session)), gate_(std::move(gate)), max_buffered_bytes_(max_buffered_bytes) {}

  bool send(std::string data) override;
  void close() override;
  bool is_open() const override {
    std::lock_guard lock(mutex_);
    return open_;
  }

  // The Session's side, on its strand.
  std::string take() {  // everything queued; the next send() posts a flush again
    std::lock_guard lock(mutex_);
    flush_posted_ = false;
    return std::exchange(queued_, {});
  }
  bool close_requested() const {
    std::lock_guard lock(mutex_);
    return close_requested_;
  }
  void mark_closed() {  // the connection ended: later sends are refused
    std::lock_guard lock(mutex_);
    open_ = false;
  }

 private:
  std::weak_ptr<Session> session_;
  std::shared_ptr<ResponderGate> gate_;
  const std::size_t max_buffered_bytes_;
  mutable std::mutex mutex_;
  std::string queued_;
  bool open_ = true;
  bool close_requested_ = false;
  bool flush_posted_ = false;
};

class Server::Impl {
 public:
  Impl(ServerOptions options, Handler handler)
      : options_(std::move(options)), handler_(std::move(handler)), gate_(std::make_shared<ResponderGate>()) {}

  Result<void> open();
  void run();
  void stop();
  Result<void> reload_tls();
  ServerCounters counters() const noexcept;
  std::uint16_t port() const noexcept { return port_; }

  // For sessions.
  const ServerOptions& options() const { return options_; }
  const Handler& handler() const { return handler_; }
  const std::shared_ptr<ResponderGate>& gate() const { return gate_; }
  bool stopping() const noexcept { return stopping_.load(); }
  // Whether reload_tls() replaced `tls` (a connection's context) since that connection began.
  bool tls_reloaded_since(const std::shared_ptr<ssl::context>& tls) { return current_tls() != tls; }
  // Called by a session's destructor with the address it was accepted from.
  void session_ended(Session* session, const std::string& peer_address);
  void log(LogLevel level, std::string_view message) const {
    if (!options_.log) return;
    try {
      options_.log(level, message);
    } catch (...) {
      // A logger that throws must not take a connection with it.
    }
  }

  std::atomic<std::uint64_t> accepted{0}, refused{0}, refused_per_address{0}, handshake_failures{0}, timeouts{0},
      requests{0}, responses_2xx{0}, responses_3xx{0}, responses_4xx{0}, responses_5xx{0}, handler_exceptions{0},
      streams_opened{0}, streams_active{0}, streams_overflowed{0};

 private:
  void accept();
  void on_accept(const error_code& ec, tcp::socket socket);
  std::shared_ptr<ssl::context> current_tls();
  std::vector<std::shared_ptr<Session>> live_sessions();
  void run_io();

  ServerOptions options_;
  Handler handler_;
  std::shared_ptr<ResponderGate> gate_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> stopped_{false};
  std::uint16_t port_ = 0;

  std::mutex tls_mutex_;
  std::shared_ptr<ssl::context> tls_;

  // Sessions alive now; guarded by sessions_mutex_, which is also what makes "stopping_ set" and
  // "a session registered" ordered (on_accept registers under it, stop() sets stopping_ under it).
  mutable std::mutex sessions_mutex_;
  std::condition_variable sessions_changed_;
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions_;
  std::unordered_map<std::string, std::size_t> sessions_per_address_;  // under sessions_mutex_ too

  // Declared after everything a Session's destructor touches: the io_context's destruction
  // destroys the sessions its pending handlers still own.
  std::optional<net::io_context> io_;
  // Keeps run() going while no operation is pending: during stop() a connection whose handler has
  // not answered yet has none, and its answer must still find a running thread.
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work_;
  std::optional<tcp::acceptor> acceptor_;                // on its own strand
  std::optional<net::any_io_executor> acceptor_strand_;  // set once in open(): for stop() to post to
  std::optional<net::steady_timer> accept_retry_;        // on the acceptor's strand
  std::vector<std::thread> threads_;
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(Server::Impl& server, tcp::socket socket, std::shared_ptr<ssl::context> tls, std::string peer_address)
      : server_(server),
        tls_(std::move(tls)),
        stream_(std::move(socket), *tls_),
        executor_(stream_.get_executor()),
        peer_address_(std::move(peer_address)) {}

  ~Session() {
    if (channel_) end_stream();
    // A refused upload's file goes before the server hears that the session ended: whoever waits
    // for no session left (a stop, a test) finds no file left either.
    file_parser_.reset();
    body_file_.reset();
    server_.session_ended(this, peer_address_);
  }

  const net::any_io_executor& executor() const { return executor_; }

  void start() {
    net::dispatch(executor_, [self = shared_from_this()] { self->handshake(); });
  }

  // On the strand: the server is stopping. Connections not working on a request close now; the
  // others close after their response (write_response checks stopping()).
  void on_server_stop() {
    if (state_ == State::handshaking || state_ == State::idle || state_ == State::reading ||
        state_ == State::streaming) {
      close_now();
    }
  }

  // Only once no I/O thread runs (Server::stop): lets a session whose handler never answered go.
  void abandon() { self_while_handling_.reset(); }

  // From any thread: the Responder's delivery.
  static Responder::Deliver deliver_to(const std::shared_ptr<Session>& session) {
    return [weak = std::weak_ptr<Session>(session), gate = session->server_.gate()](Response response) {
      post_to_session(gate, weak, [response = std::move(response)](Session& target) mutable {
        target.on_response(std::move(response));
      });
    };
  }

  // From any thread: the Responder's streamed answer.
  static Responder::OpenStream open_stream_to(const std::shared_ptr<Session>& session) {
    return [weak = std::weak_ptr<Session>(session), gate = session->server_.gate()](
               Response head, std::size_t max_buffered_bytes) -> std::shared_ptr<ResponseStream> {
      auto channel = std::make_shared<StreamChannel>(weak, gate, max_buffered_bytes);
      if (weak.expired()) return nullptr;
      post_to_session(gate, weak, [head = std::move(head), channel](Session& target) mutable {
        target.on_stream_start(std::move(head), channel);
      });
      return channel;
    };
  }

  // On the strand, from the StreamChannel.
  void flush_stream() {
    if (state_ != State::streaming || writing_stream_) return;
    chunk_out_ = channel_->take();
    if (!chunk_out_.empty()) {
      writing_stream_ = true;
      tcp().expires_after(options().request_timeout);
      net::async_write(stream_, bhttp::make_chunk(net::buffer(chunk_out_)),
                       [self = shared_from_this()](const error_code& ec, std::size_t) { self->on_stream_written(ec); });
    } else if (channel_->close_requested()) {
      writing_stream_ = true;
      tcp().expires_after(options().request_timeout);
      net::async_write(stream_, bhttp::make_chunk_last(), [self = shared_from_this()](const error_code&, std::size_t) {
        if (self->state_ == State::closed) return;
        // No TLS close_notify: the read still pending would race it. The last chunk already
        // tells the client the body is complete.
        self->close_now();
      });
    } else {
      tcp().expires_never();  // nothing to write: only the client's closing is awaited
    }
  }
  void on_stream_overflow() {
    if (state_ != State::streaming) return;
    ++server_.streams_overflowed;
    server_.log(LogLevel::warn,
                "closed a streamed response to " + peer_address_ + ": the client reads more slowly than events arrive");
    close_now();
  }

 private:
  enum class State { handshaking, reading, handling, writing, idle, streaming, closing, closed };

  beast::tcp_stream& tcp() { return beast::get_lowest_layer(stream_); }
  const ServerOptions& options() const { return server_.options(); }

  void handshake() {
    state_ = State::handshaking;
    if (server_.stopping()) return close_now();
    tcp().expires_after(options().handshake_timeout);
    stream_.async_handshake(ssl::stream_base::server,
                            [self = shared_from_this()](const error_code& ec) { self->on_handshake(ec); });
  }

  void on_handshake(const error_code& ec) {
    if (state_ == State::closed) return;
    if (ec) {
      if (ec == beast::error::timeout) {
        ++server_.timeouts;
      } else if (ec != net::error::operation_aborted) {
        ++server_.handshake_failures;
        if (options().handshake_failed) {
          try {
            std::string reason = ec.message();
            if (auto why = crypto::peer_verification_failure(stream_.native_handle()); !why.empty()) {
              reason += ": " + why;
            }
            options().handshake_failed(peer_address_, reason);
          } catch (...) {
            // A listener that throws must not take the I/O thread with it.
          }
        }
      }
      return close_now();
    }
    client_common_name_ = crypto::verified_peer_common_name(stream_.native_handle());
    client_certificate_serial_ = crypto::verified_peer_serial(stream_.native_handle());
    read_request();
  }

  // The request's deadline runs from here: from the handshake for the first request, from its
  // first byte for the next ones (wait_for_next_request).
  void read_request() {
    state_ = State::reading;
    parser_.emplace();
    file_parser_.reset();
    body_file_.reset();
    head_ = {};
    head_only_ = false;  // refusals before the head is read send their body (and close)
    parser_->header_limit(static_cast<std::uint32_t>(
        std::min<std::size_t>(options().max_header_bytes, std::numeric_limits<std::uint32_t>::max())));
    // The body's limit depends on the route (admit_body), known only once the head is read. Beast
    // 1.74 treats "no limit" as a limit of zero, hence the largest number instead.
    parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
    tcp().expires_after(options().request_timeout);
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             [self = shared_from_this()](const error_code& ec, std::size_t) { self->on_header(ec); });
  }

  void on_header(const error_code& ec) {
    if (state_ == State::closed) return;
    if (ec) return on_read_error(ec);
    const auto& header = parser_->get();
    keep_alive_ = header.keep_alive();
    // HEAD is GET without the body (RFC 9110, 9.3.2): routed and answered as GET, and only the head
    // of the answer is sent (write_response, on_stream_start). Handlers never see HEAD.
    head_only_ = header.method() == bhttp::verb::head;
    auto target = parse_target(header.target());
    if (!target) {
      ++server_.requests;
      return refuse(400, "bad_request", target.error().message);
    }
    head_.method = head_only_ ? "GET" : std::string(header.method_string());
    head_.target = std::string(header.target());
    head_.path = std::move(target->path);
    head_.segments = std::move(target->segments);
    head_.query = std::move(target->query);
    for (const auto& field : header) head_.headers.emplace_back(field.name_string(), field.value());
    head_.peer_address = peer_address_;
    head_.client_common_name = client_common_name_;
    head_.client_certificate_serial = client_certificate_serial_;

    BodyAdmission admission = BodyInMemory{};
    if (options().admit_body) {
      try {
        admission = options().admit_body(head_);
      } catch (const std::exception& e) {
        server_.log(LogLevel::error,
                    "deciding where the body of " + head_.method + " " + head_.target + " goes threw: " + e.what());
        admission = error_response(500, "internal", "the server could not answer this request");
      }
    }
    if (auto* refusal = std::get_if<Response>(&admission)) {
      ++server_.requests;
      return write_response(std::move(*refusal), true);
    }
    if (auto* to_file = std::get_if<BodyToFile>(&admission)) {
      if (!begin_file_body(*to_file)) return;
    } else {
      body_limit_ = options().max_body_bytes;
      // Beast would refuse a larger Content-Length only as the body arrives: refused here, unread.
      if (auto length = parser_->content_length(); length && *length > body_limit_) {
        return on_read_error(bhttp::error::body_limit);
      }
      parser_->body_limit(body_limit_);
    }
    // A client that asked to hear first (Expect: 100-continue) is told to send its body, which
    // passed the checks above; otherwise it would wait a second or so before sending it anyway.
    if (!parser_done() && field_name_equals(header[bhttp::field::expect], "100-continue")) {
      interim_ = {bhttp::status::continue_, header.version()};
      bhttp::async_write(stream_, interim_, [self = shared_from_this()](const error_code& write_ec, std::size_t) {
        if (self->state_ == State::closed) return;
        if (write_ec) return self->on_read_error(write_ec);
        self->read_body();
      });
      return;
    }
    read_body();
  }

  // The body is to go into a new file (admit_body): makes it, under a name no one else uses, and
  // moves the parsing over to a parser that writes there. False when the request was refused.
  bool begin_file_body(const BodyToFile& to_file) {
    body_limit_ = to_file.max_bytes;
    if (auto length = parser_->content_length(); length && *length > body_limit_) {
      on_read_error(bhttp::error::body_limit);
      return false;
    }
    const auto path = to_file.directory / ("upload-" + random_file_tag() + ".partial");
    file_parser_.emplace(std::move(*parser_));
    file_parser_->body_limit(body_limit_);
    error_code ec;
    file_parser_->get().body().open(path.c_str(), beast::file_mode::write_new, ec);
    if (ec) {
      server_.log(LogLevel::error, "cannot make the file for the body of " + head_.method + " " + head_.target + " (" +
                                       path.string() + "): " + ec.message());
      ++server_.requests;
      refuse(500, "internal", "the server could not take this request's body");
      return false;
    }
    ::fchmod(file_parser_->get().body().file().native_handle(), 0600);
    body_file_ = std::make_shared<BodyFile>(path);
    tcp().expires_after(to_file.timeout);
    return true;
  }

  bool parser_done() const { return file_parser_ ? file_parser_->is_done() : parser_->is_done(); }

  void read_body() {
    auto done = [self = shared_from_this()](const error_code& read_ec, std::size_t) { self->on_body(read_ec); };
    if (file_parser_) return bhttp::async_read(stream_, buffer_, *file_parser_, std::move(done));
    bhttp::async_read(stream_, buffer_, *parser_, std::move(done));
  }

  void on_read_error(const error_code& ec) {
    if (ec == beast::error::timeout) {
      ++server_.timeouts;
      return close_now();
    }
    if (ec == bhttp::error::header_limit) {
      ++server_.requests;
      return refuse(431, "header_too_large",
                    "the request's header is larger than " + std::to_string(options().max_header_bytes) + " bytes");
    }
    if (ec == bhttp::error::body_limit) {
      ++server_.requests;
      return refuse(413, "body_too_large",
                    "the request's body is larger than " + std::to_string(body_limit_) + " bytes");
    }
    if (is_http_parse_error(ec) && ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message) {
      ++server_.requests;
      return refuse(400, "bad_request", "malformed HTTP request");
    }
    close_now();  // the client went away, or the server is stopping
  }

  void on_body(const error_code& ec) {
    if (state_ == State::closed) return;
    if (ec) return on_read_error(ec);
    ++server_.requests;
    Request request = std::move(head_);
    if (file_parser_) {
      file_parser_->get().body().close();
      request.body_file = std::move(body_file_);
    } else {
      request.body = std::move(parser_->get().body());
    }
    dispatch_request(std::move(request));
  }

  void dispatch_request(Request request) {
    state_ = State::handling;
    tcp().expires_never();  // the handler's time is its own; stop() bounds it
    auto self = shared_from_this();
    self_while_handling_ = self;
    Responder responder(deliver_to(self), open_stream_to(self));
    const std::string what = request.method + " " + request.target;
    try {
      server_.handler()(std::move(request), std::move(responder));
    } catch (const std::exception& e) {
      ++server_.handler_exceptions;
      server_.log(LogLevel::error, "the handler of " + what + " threw: " + e.what());
    } catch (...) {
      ++server_.handler_exceptions;
      server_.log(LogLevel::error, "the handler of " + what + " threw a non-standard exception");
    }
  }

  void on_response(Response response) {
    if (state_ != State::handling) return;  // closed meanwhile (stop() after its grace)
    self_while_handling_.reset();           // the caller's copy keeps this session alive
    write_response(std::move(response), !keep_alive_);
  }

  // Answers a request that is refused before any handler saw it, and closes the connection after.
  void refuse(int status, std::string_view code, const std::string& message) {
    write_response(error_response(status, code, message), true);
  }

  void write_response(Response response, bool close) {
    if (response.status < 100 || response.status > 599) {
      server_.log(LogLevel::error, "a handler answered with status " + std::to_string(response.status));
      response = error_response(500, "internal", "the server could not answer this request");
    }
    close_after_write_ = close || server_.stopping();
    if (response.file && !head_only_) return write_file_response(std::move(response));
    response_ = {};
    start_head(response_, response);
    response_.body() = std::move(response.body);
    response_.prepare_payload();
    if (head_only_) {
      // The GET answer's Content-Length, without its body.
      const auto length = response.file ? response.file->length : response_.body().size();
      response_.body().clear();
      response_.content_length(length);
    }
    start_writing(response.status);
    bhttp::async_write(stream_, response_,
                       [self = shared_from_this()](const error_code& ec, std::size_t) { self->on_write(ec); });
  }

  // A response whose body is a FileSlice, read from the file as the connection takes it.
  void write_file_response(Response response) {
    const FileSlice slice = std::move(*response.file);
    const int fd = ::open(slice.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      server_.log(LogLevel::error, "cannot open " + slice.path.string() + " to answer with it");
      return write_response(error_response(500, "internal", "the server could not read what it was to send"), true);
    }
    file_response_ = {};
    start_head(file_response_, response);
    file_response_.body() = FileSliceBody::value_type(fd, slice.offset, slice.length);
    file_response_.prepare_payload();
    start_writing(response.status);
    bhttp::async_write(stream_, file_response_, [self = shared_from_this()](const error_code& ec, std::size_t) {
      self->file_response_.body() = {};  // closes the file now, not at the next answer
      self->on_write(ec);
    });
  }

  // The head every answer shares: HTTP/1.1, the status, the handler's and the security headers,
  // and whether the connection stays open.
  template <class Body>
  void start_head(bhttp::response<Body>& message, const Response& response) const {
    message.version(11);
    message.result(static_cast<unsigned>(response.status));
    for (const auto& [name, value] : response_headers(response)) message.insert(name, value);
    message.keep_alive(!close_after_write_);
  }

  // Counts the answer and gives its write the request timeout.
  void start_writing(int status) {
    count_status(status);
    state_ = State::writing;
    tcp().expires_after(options().request_timeout);
  }

  void count_status(int status) {
    switch (status / 100) {
      case 2:
        ++server_.responses_2xx;
        break;
      case 3:
        ++server_.responses_3xx;
        break;
      case 4:
        ++server_.responses_4xx;
        break;
      case 5:
        ++server_.responses_5xx;
        break;
      default:
        break;
    }
  }

  // A streamed response: the head now, then chunks as the channel fills (flush_stream). The
  // client says nothing more on this connection, so whatever it sends, or its closing, ends it.
  void on_stream_start(Response head, std::shared_ptr<StreamChannel> channel) {
    if (state_ != State::handling) {  // closed meanwhile (stop() after its grace)
      channel->mark_closed();
      return;
    }
    self_while_handling_.reset();
    if (head_only_) {
      // A HEAD of a stream: its head alone, and no stream.
      channel->mark_closed();
      head.body.clear();
      return write_response(std::move(head), true);
    }
    channel_ = std::move(channel);
    ++server_.streams_opened;
    ++server_.streams_active;
    if (server_.stopping()) return close_now();
    stream_head_ = {};
    stream_head_.version(11);
    stream_head_.result(static_cast<unsigned>(head.status));
    for (const auto& [name, value] : response_headers(head)) stream_head_.insert(name, value);
    stream_head_.keep_alive(false);  // the stream ends with the connection
    stream_head_.chunked(true);
    count_status(head.status);
    state_ = State::streaming;
    // The read first and without a deadline: tcp_stream's expires_after() applies only to the
    // side (read or write) that has no operation pending, so the writes below get theirs alone.
    tcp().expires_never();
    stream_.async_read_some(buffer_.prepare(kIdleReadBytes),
                            [self = shared_from_this()](const error_code&, std::size_t) {
                              self->close_now();  // the client closed, sent something, or the stream was closed: done
                            });
    writing_stream_ = true;
    tcp().expires_after(options().request_timeout);
    head_serializer_.emplace(stream_head_);
    bhttp::async_write_header(
        stream_, *head_serializer_,
        [self = shared_from_this()](const error_code& ec, std::size_t) { self->on_stream_written(ec); });
  }

  void on_stream_written(const error_code& ec) {
    if (state_ == State::closed) return;
    writing_stream_ = false;
    if (ec) {
      if (ec == beast::error::timeout) ++server_.timeouts;
      return close_now();
    }
    flush_stream();
  }

  // The channel learns that the connection is gone (once).
  void end_stream() {
    if (!channel_) return;
    channel_->mark_closed();
    channel_.reset();
    --server_.streams_active;
  }

  void on_write(const error_code& ec) {
    if (state_ == State::closed) return;
    if (ec) {
      if (ec == beast::error::timeout) ++server_.timeouts;
      return close_now();
    }
    if (close_after_write_ || server_.stopping()) return shutdown_tls();
    wait_for_next_request();
  }

  // Between requests: bytes already buffered (a pipelined request) are read at once; otherwise
  // the connection may stay silent for idle_timeout, and the next request's deadline starts with
  // its first byte.
  void wait_for_next_request() {
    if (identity_outdated()) return shutdown_tls();
    if (buffer_.size() > 0) return read_request();
    state_ = State::idle;
    tcp().expires_after(options().idle_timeout);
    stream_.async_read_some(
        buffer_.prepare(kIdleReadBytes),
        [self = shared_from_this()](const error_code& ec, std::size_t bytes) { self->on_idle_read(ec, bytes); });
  }

  void on_idle_read(const error_code& ec, std::size_t bytes) {
    if (state_ == State::closed) return;
    if (ec) return close_now();  // idle timeout, the client closed, or the server is stopping
    if (identity_outdated()) return close_now();
    buffer_.commit(bytes);
    read_request();
  }

  // A client certificate was checked against the CRL of the handshake only. Once the CRL (or the
  // server's identity) is reloaded, a kept-alive connection with a client identity takes no further
  // request: the client reconnects, and the new handshake checks its certificate against the new
  // CRL, so a revoked device cannot go on posting over a connection opened before its revocation.
  bool identity_outdated() { return client_common_name_.has_value() && server_.tls_reloaded_since(tls_); }

  void shutdown_tls() {
    state_ = State::closing;
    tcp().expires_after(kTlsShutdownTimeout);
    stream_.async_shutdown([self = shared_from_this()](const error_code&) { self->close_now(); });
  }

  void close_now() {
    if (state_ == State::closed) return;
    state_ = State::closed;
    end_stream();
    error_code ignored;
    tcp().socket().shutdown(tcp::socket::shutdown_both, ignored);
    tcp().close();
  }

  Server::Impl& server_;               // outlives every session: Server::stop() destroys them before it returns
  std::shared_ptr<ssl::context> tls_;  // the context this connection was accepted with
  beast::ssl_stream<beast::tcp_stream> stream_;
  net::any_io_executor executor_;  // the connection's strand
  std::string peer_address_;
  std::optional<std::string> client_common_name_;
  std::optional<std::string> client_certificate_serial_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  // The request being read: its head (from on_header) and, for a body admitted to a file, the
  // parser that writes it there and the file, removed unless a handler gets it.
  Request head_;
  std::optional<bhttp::request_parser<bhttp::file_body>> file_parser_;
  std::shared_ptr<BodyFile> body_file_;
  std::uint64_t body_limit_ = 0;  // the body's limit for the request being read
  bhttp::response<bhttp::string_body> response_;
  bhttp::response<FileSliceBody> file_response_;  // an answer from a file (Response::file)
  bhttp::response<bhttp::empty_body> interim_;    // 100 Continue
  // A streamed response (State::streaming): its head, the chunk being written, its channel.
  bhttp::response<bhttp::empty_body> stream_head_;
  std::optional<bhttp::response_serializer<bhttp::empty_body>> head_serializer_;
  std::string chunk_out_;
  std::shared_ptr<StreamChannel> channel_;
  bool writing_stream_ = false;
  State state_ = State::handshaking;
  bool keep_alive_ = false;
  bool head_only_ = false;  // the request being answered is a HEAD
  bool close_after_write_ = false;
  std::shared_ptr<Session> self_while_handling_;
};

bool StreamChannel::send(std::string data) {
  if (data.empty()) return is_open();
  bool post_flush = false;
  bool overflowed = false;
  {
    std::lock_guard lock(mutex_);
    if (!open_ || close_requested_) return false;
    if (queued_.size() + data.size() > max_buffered_bytes_) {
      open_ = false;
      overflowed = true;
    } else {
      queued_ += data;
      post_flush = !std::exchange(flush_posted_, true);
    }
  }
  if (overflowed) {
    post_to_session(gate_, session_, [](Session& target) { target.on_stream_overflow(); });
    return false;
  }
  if (post_flush) post_to_session(gate_, session_, [](Session& target) { target.flush_stream(); });
  return true;
}

void StreamChannel::close() {
  {
    std::lock_guard lock(mutex_);
    if (!open_ || close_requested_) return;
    close_requested_ = true;
    open_ = false;
    flush_posted_ = true;
  }
  post_to_session(gate_, session_, [](Session& target) { target.flush_stream(); });
}

Result<void> Server::Impl::open() {
  if (options_.io_threads < 1 || options_.max_connections < 1 || options_.max_connections_per_address < 1 ||
      options_.max_header_bytes < 1) {
    return make_error(Errc::invalid_argument, "the HTTPS server needs at least one I/O thread and connection");
  }
  auto tls = make_tls_context(options_);
  if (!tls) return std::move(tls).error();
  tls_ = std::move(*tls);

  error_code ec;
  const auto address = net::ip::make_address(options_.bind_address, ec);
  if (ec) return make_error(Errc::invalid_argument, "'" + options_.bind_address + "' is not an IP address to bind");
  const tcp::endpoint endpoint(address, options_.port);
  const std::string where = options_.bind_address + ":" + std::to_string(options_.port);
  io_.emplace(options_.io_threads);
  work_.emplace(io_->get_executor());
  acceptor_.emplace(net::make_strand(*io_));
  acceptor_strand_.emplace(acceptor_->get_executor());
  accept_retry_.emplace(*acceptor_strand_);
  if (acceptor_->open(endpoint.protocol(), ec); ec) {
    return make_error(Errc::io, "cannot open a socket for " + where + ": " + ec.message());
  }
  close_on_exec(acceptor_->native_handle());
  if (acceptor_->set_option(net::socket_base::reuse_address(true), ec); ec) {
    return make_error(Errc::io, "cannot set SO_REUSEADDR for " + where + ": " + ec.message());
  }
  if (acceptor_->bind(endpoint, ec); ec) return make_error(Errc::io, "cannot bind " + where + ": " + ec.message());
  if (acceptor_->listen(net::socket_base::max_listen_connections, ec); ec) {
    return make_error(Errc::io, "cannot listen on " + where + ": " + ec.message());
  }
  port_ = acceptor_->local_endpoint(ec).port();
  return {};
}

void Server::Impl::run() {
  net::dispatch(*acceptor_strand_, [this] { accept(); });
  threads_.reserve(static_cast<std::size_t>(options_.io_threads));
  for (int i = 0; i < options_.io_threads; ++i)
    threads_.emplace_back(core::named_thread("https-io", [this] { run_io(); }));
  log(LogLevel::info, "listening on " + options_.bind_address + ":" + std::to_string(port_));
}

void Server::Impl::run_io() {
  // Handlers catch what they throw; this is the last line, so an I/O thread never dies of one.
  for (;;) {
    try {
      io_->run();
      return;
    } catch (const std::exception& e) {
      log(LogLevel::error, std::string("an I/O handler threw: ") + e.what());
    } catch (...) {
      log(LogLevel::error, "an I/O handler threw a non-standard exception");
    }
  }
}

void Server::Impl::accept() {
  acceptor_->async_accept(net::make_strand(*io_),
                          [this](const error_code& ec, tcp::socket socket) { on_accept(ec, std::move(socket)); });
}

void Server::Impl::on_accept(const error_code& ec, tcp::socket socket) {
  if (ec == net::error::operation_aborted || !acceptor_->is_open()) return;
  if (ec) {
    log(LogLevel::warn, "accept failed: " + ec.message());
    accept_retry_->expires_after(kAcceptRetryDelay);
    accept_retry_->async_wait([this](const error_code& wait_ec) {
      if (!wait_ec && acceptor_->is_open()) accept();
    });
    return;
  }
  close_on_exec(socket.native_handle());
  error_code ignored;
  // Responses are written whole (or as one chunk per flush): Nagle's algorithm would only hold
  // their last segment back until the client's delayed ACK, 40 ms and more per answer.
  socket.set_option(tcp::no_delay(true), ignored);
  std::string peer = socket.remote_endpoint(ignored).address().to_string();
  std::shared_ptr<Session> session;
  {
    std::lock_guard lock(sessions_mutex_);
    if (stopping_.load()) {
      socket.close(ignored);
      return;
    }
    std::size_t& from_peer = sessions_per_address_[peer];
    if (sessions_.size() >= options_.max_connections || from_peer >= options_.max_connections_per_address) {
      ++refused;
      if (from_peer >= options_.max_connections_per_address) ++refused_per_address;
      if (from_peer == 0) sessions_per_address_.erase(peer);
      socket.close(ignored);
    } else {
      ++accepted;
      ++from_peer;
      session = std::make_shared<Session>(*this, std::move(socket), current_tls(), std::move(peer));
      sessions_.emplace(session.get(), session);
    }
  }
  if (session) session->start();
  accept();
}

std::shared_ptr<ssl::context> Server::Impl::current_tls() {
  std::lock_guard lock(tls_mutex_);
  return tls_;
}

Result<void> Server::Impl::reload_tls() {
  auto tls = make_tls_context(options_);
  if (!tls) return std::move(tls).error();
  std::lock_guard lock(tls_mutex_);
  tls_ = std::move(*tls);
  return {};
}

void Server::Impl::session_ended(Session* session, const std::string& peer_address) {
  std::lock_guard lock(sessions_mutex_);
  sessions_.erase(session);
  if (auto found = sessions_per_address_.find(peer_address); found != sessions_per_address_.end()) {
    if (--found->second == 0) sessions_per_address_.erase(found);
  }
  sessions_changed_.notify_all();
}

std::vector<std::shared_ptr<Session>> Server::Impl::live_sessions() {
  std::vector<std::shared_ptr<Session>> out;
  std::lock_guard lock(sessions_mutex_);
  out.reserve(sessions_.size());
  for (const auto& [raw, weak] : sessions_) {
    if (auto session = weak.lock()) out.push_back(std::move(session));
  }
  return out;  // released outside the lock: a session's destructor takes it
}

ServerCounters Server::Impl::counters() const noexcept {
  ServerCounters c;
  c.connections_accepted = accepted.load();
  c.connections_refused = refused.load();
  c.connections_refused_per_address = refused_per_address.load();
  {
    std::lock_guard lock(sessions_mutex_);
    c.connections_active = sessions_.size();
  }
  c.handshake_failures = handshake_failures.load();
  c.timeouts = timeouts.load();
  c.requests = requests.load();
  c.responses_2xx = responses_2xx.load();
  c.responses_3xx = responses_3xx.load();
  c.responses_4xx = responses_4xx.load();
  c.responses_5xx = responses_5xx.load();
  c.handler_exceptions = handler_exceptions.load();
  c.streams_opened = streams_opened.load();
  c.streams_active = streams_active.load();
  c.streams_overflowed = streams_overflowed.load();
  return c;
}

void Server::Impl::stop() {
  if (stopped_.exchange(true)) return;
  if (!io_) return;  // never opened
  {
    std::lock_guard lock(sessions_mutex_);
    stopping_.store(true);
  }
  net::post(*acceptor_strand_, [this] {
    error_code ignored;
    acceptor_->close(ignored);
    accept_retry_->cancel();
  });
  for (const auto& session : live_sessions()) {
    net::post(session->executor(), [session] { session->on_server_stop(); });
  }
  {
    std::unique_lock lock(sessions_mutex_);
    const bool drained = sessions_changed_.wait_for(lock, options_.stop_grace, [this] { return sessions_.empty(); });
    if (!drained) {
      log(LogLevel::warn,
          std::to_string(sessions_.size()) + " connections still busy after the stop grace period; closing them");
    }
  }
  {
    std::lock_guard lock(gate_->mutex);
    gate_->open = false;  // from now on a Responder posts nothing
  }
  work_.reset();
  io_->stop();
  const bool ran = !threads_.empty();
  for (auto& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
  threads_.clear();
  // No I/O thread runs any more: what the sessions hold can be released from here.
  for (const auto& session : live_sessions()) session->abandon();
  accept_retry_.reset();
  acceptor_.reset();
  acceptor_strand_.reset();
  io_.reset();  // destroys the pending handlers and with them every remaining session
  if (ran) log(LogLevel::info, "stopped");
}

Server::Server(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() {
  stop();
}

Result<std::unique_ptr<Server>> Server::start(ServerOptions options, Handler handler) {
  if (!handler) return make_error(Errc::invalid_argument, "the HTTPS server needs a request handler");
  auto impl = std::make_shared<Impl>(std::move(options), std::move(handler));
  if (auto opened = impl->open(); !opened) {
    impl->stop();
    return std::move(opened).error();
  }
  impl->run();
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

std::uint16_t Server::port() const noexcept {
  return impl_->port();
}

ServerCounters Server::counters() const noexcept {
  return impl_->counters();
}

Result<void> Server::reload_tls() {
  return impl_->reload_tls();
}

void Server::stop() {
  impl_->stop();
}

}  // namespace kelvin::http
