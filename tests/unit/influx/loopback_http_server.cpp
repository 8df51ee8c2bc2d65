#include "loopback_http_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <stdexcept>

namespace kelvin::influx::testing {
namespace {

// Bounds every wait, so a broken client makes a test fail instead of hang.
constexpr auto kIdleLimit = std::chrono::seconds(10);
constexpr int kPollSliceMs = 20;

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

const char* reason_phrase(int status) {
  switch (status) {
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 307:
      return "Temporary Redirect";
    case 413:
      return "Request Entity Too Large";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Status";
  }
}

bool send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace

std::optional<std::string> RecordedRequest::header(std::string_view name) const {
  const std::string wanted = lower(name);
  for (const auto& [key, value] : headers) {
    if (lower(key) == wanted) return value;
  }
  return std::nullopt;
}

LoopbackHttpServer::LoopbackHttpServer(std::vector<CannedResponse> responses) : responses_(std::move(responses)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) throw std::runtime_error("socket() failed");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;  // ephemeral
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || ::listen(listen_fd_, 8) != 0) {
    ::close(listen_fd_);
    throw std::runtime_error("cannot listen on 127.0.0.1");
  }
  socklen_t length = sizeof address;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length);
  port_ = ntohs(address.sin_port);
  thread_ = std::thread([this] { serve(); });
}

LoopbackHttpServer::~LoopbackHttpServer() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  ::close(listen_fd_);
}

std::vector<RecordedRequest> LoopbackHttpServer::requests() {
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(mutex_);
  return requests_;
}

int LoopbackHttpServer::connections_accepted() {
  std::lock_guard lock(mutex_);
  return connections_;
}

std::size_t LoopbackHttpServer::requests_received() {
  std::lock_guard lock(mutex_);
  return requests_.size();
}

bool LoopbackHttpServer::wait_readable(int fd) {
  const auto deadline = std::chrono::steady_clock::now() + kIdleLimit;
  while (!stop_ && std::chrono::steady_clock::now() < deadline) {
    pollfd entry{fd, POLLIN, 0};
    int ready = ::poll(&entry, 1, kPollSliceMs);
    if (ready > 0) return true;
  }
  return false;
}

void LoopbackHttpServer::serve() {
  while (next_response_ < responses_.size()) {
    if (!wait_readable(listen_fd_)) return;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) return;
    {
      std::lock_guard lock(mutex_);
      ++connections_;
    }
    serve_connection(fd);
    ::close(fd);
  }
}

void LoopbackHttpServer::serve_connection(int fd) {
  std::string buffer;
  while (next_response_ < responses_.size()) {
    // Read the head, then as many body bytes as Content-Length says.
    std::size_t head_end;
    while ((head_end = buffer.find("\r\n\r\n")) == std::string::npos) {
      if (!wait_readable(fd)) return;
      char chunk[4096];
      ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n <= 0) return;  // the client closed the connection
      buffer.append(chunk, static_cast<std::size_t>(n));
    }
    RecordedRequest request;
    std::string_view head(buffer.data(), head_end);
    std::size_t line_end = head.find("\r\n");
    std::string_view request_line = head.substr(0, line_end);
    std::size_t first_space = request_line.find(' ');
    std::size_t second_space = request_line.find(' ', first_space + 1);
    request.method = std::string(request_line.substr(0, first_space));
    request.target = std::string(request_line.substr(first_space + 1, second_space - first_space - 1));
    std::size_t content_length = 0;
    while (line_end != std::string_view::npos) {
      std::size_t start = line_end + 2;
      line_end = head.find("\r\n", start);
      std::string_view line =
          head.substr(start, line_end == std::string_view::npos ? std::string_view::npos : line_end - start);
      std::size_t colon = line.find(':');
      if (colon == std::string_view::npos) continue;
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      request.headers.emplace_back(std::string(line.substr(0, colon)), std::string(value));
      if (lower(line.substr(0, colon)) == "content-length")
        content_length = std::strtoul(std::string(value).c_str(), nullptr, 10);
    }
    buffer.erase(0, head_end + 4);
    while (buffer.size() < content_length) {
      if (!wait_readable(fd)) return;
      char chunk[65536];
      ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n <= 0) return;
      buffer.append(chunk, static_cast<std::size_t>(n));
    }
    request.body = buffer.substr(0, content_length);
    buffer.erase(0, content_length);
    {
      std::lock_guard lock(mutex_);
      requests_.push_back(std::move(request));
    }

    const CannedResponse& response = responses_[next_response_++];
    if (!response.answer) {
      while (!stop_) std::this_thread::sleep_for(std::chrono::milliseconds(kPollSliceMs));
      return;
    }
    std::string answer = "HTTP/1.1 " + std::to_string(response.status) + " " + reason_phrase(response.status) + "\r\n";
    if (!response.body.empty()) answer += "Content-Type: application/json\r\n";
    for (const auto& [name, value] : response.headers) answer += name + ": " + value + "\r\n";
    answer += "Content-Length: " + std::to_string(response.body.size()) + "\r\n\r\n" + response.body;
    if (!send_all(fd, answer)) return;
  }
}

}  // namespace kelvin::influx::testing
