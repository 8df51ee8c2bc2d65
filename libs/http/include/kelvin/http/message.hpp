#pragma once
// What a request handler sees and answers, free of Boost types: the server (server.hpp) turns
// Beast's messages into these and back, so handlers and the router can be tested without a socket.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace kelvin::http {

using Headers = std::vector<std::pair<std::string, std::string>>;

// A request's body that the server wrote to a file as it arrived instead of holding it in memory
// (an upload: BodyToFile). The server made the file, 0600 under a name of its own, and removes it
// when the last handle to it goes: a handler that keeps the bytes copies them elsewhere first.
class BodyFile {
 public:
  explicit BodyFile(std::filesystem::path path) : path_(std::move(path)) {}
  ~BodyFile();  // removes the file; a failure is ignored (nothing can be done about it here)
  BodyFile(const BodyFile&) = delete;
  BodyFile& operator=(const BodyFile&) = delete;

  const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
};

// One request, read completely (headers and body) and with a target that passed parse_target
// (target.hpp). Owns all its data, so a handler may move it to another thread.
struct Request {
  std::string method;                         // as sent, e.g. "GET" (methods are case-sensitive)
  std::string target;                         // as sent: path and query, still percent-encoded
  std::string path;                           // the target's path, still percent-encoded
  std::vector<std::string> segments;          // the path's segments, percent-decoded ("/a/b%20c" → a, "b c")
  std::string query;                          // after '?', still percent-encoded; "" when none
  Headers headers;                            // in arrival order, names as sent
  std::string body;                           // empty when the body went to body_file
  std::shared_ptr<const BodyFile> body_file;  // the body, for a request admitted with BodyToFile
  std::string peer_address;                   // the client's IP address
  // The CN of the client certificate, when one was presented and verified (against the CA and its
  // CRL) during the handshake; nullopt for a connection without one.
  std::optional<std::string> client_common_name;
  // That certificate's serial number (uppercase hex, as the PKI index writes it), under the same
  // conditions.
  std::optional<std::string> client_certificate_serial;
  // Values of the route's {param} segments, filled in by the Router (decoded).
  std::map<std::string, std::string, std::less<>> path_params;

  // The first header with this name, compared case-insensitively (HTTP field names are).
  std::optional<std::string_view> header(std::string_view name) const;
  // A {param} of the matched route; "" when the route has none of that name.
  std::string_view param(std::string_view name) const;
};

// A body the server reads from a file while it writes it, instead of one held in memory (firmware
// images): `length` bytes from `offset`. The server opens the file when it starts the answer (a
// file it cannot open then is answered 500) and closes the connection should the file end early.
struct FileSlice {
  std::filesystem::path path;
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";  // "" for a body-less response
  Headers headers;  // extra headers; the server adds the security headers (response_headers.hpp)
  std::string body;
  std::optional<FileSlice> file;  // when set, the body (and `body` is ignored)
};

// Where a request's body goes, decided from its head before any of the body is read
// (ServerOptions::admit_body, Router::admit_body): so a large upload is written to disk as it
// arrives instead of held in memory, and a request that would be refused anyway (no session, a
// wrong size) is refused before its body is taken in.
struct BodyInMemory {};  // into Request::body, under the server's max_body_bytes: every request's default
struct BodyToFile {
  std::filesystem::path directory;  // the file is made here (the directory must exist)
  std::uint64_t max_bytes = 0;      // a larger Content-Length is answered 413 unread
  // For the whole body, in place of the server's request_timeout: a large upload takes longer.
  std::chrono::milliseconds timeout{0};
};
// A Response refuses the request with that answer, unread; the connection is closed after it.
using BodyAdmission = std::variant<BodyInMemory, BodyToFile, Response>;
// Called with the request as the handler will see it, but for its body (empty). Must not block
// for long: it runs on an I/O thread.
using AdmitBody = std::function<BodyAdmission(const Request& head)>;

// A JSON response (the body must already be JSON).
Response json_response(int status, std::string json_body);
// 204 No Content: no body and no Content-Type.
Response no_content_response();
// kelvin's error shape: {"error":{"code":"<code>","message":"<message>"}}. `code` is a stable
// snake_case name clients may branch on; `message` is for people.
Response error_response(int status, std::string_view code, std::string_view message);

// The writing end of a streamed response, such as Server-Sent Events: its head went out with
// "Transfer-Encoding: chunked" and each send() becomes one chunk of the body, in order. Shared by
// the handler's side (which may hold it on any thread) and the connection. The connection closes
// it when the client goes away or sends anything more, when the server stops, when a chunk cannot
// be written within the server's request_timeout, and when a send() would leave more than the
// stream's bound waiting to be written: a slow reader is cut off instead of growing the buffer.
class ResponseStream {
 public:
  virtual ~ResponseStream() = default;
  // Thread-safe, never blocks. Queues `data` as the next chunk (empty data is ignored). False, with
  // nothing queued, when the stream is closed or this send() closed it for passing the bound.
  virtual bool send(std::string data) = 0;
  // Ends the body (after what is queued) and closes the connection. Thread-safe, idempotent.
  virtual void close() = 0;
  virtual bool is_open() const = 0;
};

// How a handler answers: exactly once, from any thread, now or later. The server hands each
// request a Responder bound to its connection; calling it queues the response on that
// connection's strand, so the handler never touches the connection itself. Move-only. A Responder
// destroyed without having been called (a handler that threw, forgot, or dropped it) answers
// 500 "internal", so a connection never hangs. Calling it a second time does nothing.
class Responder {
 public:
  using Deliver = std::function<void(Response)>;
  // Sends `head` (its body ignored) as the start of a streamed response and returns the stream,
  // which holds at most `max_buffered_bytes` unwritten; nullptr when the connection is gone.
  using OpenStream = std::function<std::shared_ptr<ResponseStream>(Response head, std::size_t max_buffered_bytes)>;

  // `deliver` receives the one response; it must be callable from any thread. Without
  // `open_stream` (a Responder made for a test), stream() answers 500 and returns nullptr.
  explicit Responder(Deliver deliver, OpenStream open_stream = nullptr)
      : deliver_(std::move(deliver)), open_stream_(std::move(open_stream)) {}
  Responder(Responder&& other) noexcept
      : deliver_(std::exchange(other.deliver_, nullptr)), open_stream_(std::exchange(other.open_stream_, nullptr)) {}
  Responder& operator=(Responder&& other) noexcept;
  Responder(const Responder&) = delete;
  Responder& operator=(const Responder&) = delete;
  ~Responder();

  void operator()(Response response);
  // Answers with a streamed response instead (see ResponseStream): this is the Responder's one
  // answer. nullptr when the connection is gone or this Responder was used already.
  std::shared_ptr<ResponseStream> stream(Response head, std::size_t max_buffered_bytes);
  // Whether this Responder still has to be called.
  bool pending() const noexcept { return static_cast<bool>(deliver_); }
  // `observer` hears the status of the one answer (a streamed one's head, or the 500 of a
  // Responder dropped unanswered) just before it goes out, on the thread that answers: for
  // counting. Call before handing the Responder on.
  void observe(std::function<void(int status)> observer);

 private:
  void answer_unanswered() noexcept;

  Deliver deliver_;
  OpenStream open_stream_;
};

// A request handler. It may answer before returning or keep the Responder for later. An exception
// it throws is caught by the server, logged, and answered with 500 (by the Responder's destructor)
// if it had not answered yet.
using Handler = std::function<void(Request, Responder)>;

}  // namespace kelvin::http
