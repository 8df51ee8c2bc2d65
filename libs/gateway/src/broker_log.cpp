#include "kelvin/gateway/broker_log.hpp"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <utility>

#include "kelvin/broker_acl/denial_tally.hpp"
#include "kelvin/core/thread_name.hpp"
#include "kelvin/log/log.hpp"

namespace kelvin::gateway {
namespace {

// A line longer than this is logged in pieces: the broker never writes one, but the pipe is not
// trusted to end its lines.
constexpr std::size_t kMaxLineBytes = 4096;
constexpr int kPollMs = 200;
constexpr int kMaxReadsWhileStopping = 256;
// The broker plugin's report line: the count follows its prefix at once.
constexpr std::string_view kAclDenialsPrefix = broker_acl::DenialTally::kLinePrefix;
// More than a broker could refuse between two reports: a larger count is not believed.
constexpr std::uint64_t kMaxAclDenialsPerLine = 1'000'000'000;

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

// N of "ACL denials: N (...)" (0 for any other line), and the client of "(client 'X' ...)".
void read_acl_denials(std::string_view line, BrokerLine& out) {
  if (!starts_with(line, kAclDenialsPrefix)) return;
  line.remove_prefix(kAclDenialsPrefix.size());
  std::uint64_t count = 0;
  const auto [end, error] = std::from_chars(line.data(), line.data() + line.size(), count);
  std::string_view rest(end, static_cast<std::size_t>(line.data() + line.size() - end));
  if (error != std::errc() || count > kMaxAclDenialsPerLine || !rest.starts_with(" (")) return;
  out.acl_denials = count;
  // An escaped client id holds no quote: the next one ends it.
  constexpr std::string_view kClient = " (client '";
  if (!rest.starts_with(kClient)) return;
  rest.remove_prefix(kClient.size());
  const std::size_t quote = rest.find('\'');
  if (quote != 0 && quote != std::string_view::npos) out.acl_denials_client = std::string(rest.substr(0, quote));
}

}  // namespace

BrokerLine read_broker_line(std::string_view line) {
  // "<Unix time>: " (log_timestamp, Mosquitto's default) goes: the gateway's lines carry the time.
  std::size_t digits = 0;
  while (digits < line.size() && line[digits] >= '0' && line[digits] <= '9') ++digits;
  if (digits > 0 && line.substr(digits, 2) == ": ") line.remove_prefix(digits + 2);
  BrokerLine out{.text = std::string(line)};
  // A refused handshake logs "OpenSSL Error[0]: ..." (and [1], ... for its further causes), then
  // "Client <unknown> disconnected". A connection closed before its handshake began (a port probe,
  // the gateway's own readiness check) logs "Client connection from ... failed" instead: not counted.
  out.tls_refusal = starts_with(line, "OpenSSL Error[0]:");
  read_acl_denials(line, out);
  out.client_certificate = broker_acl::read_client_certificate_line(line);
  out.warning = starts_with(line, "OpenSSL Error") || starts_with(line, "Error") || starts_with(line, "Warning") ||
                out.acl_denials > 0;
  return out;
}

Result<std::unique_ptr<BrokerLog>> BrokerLog::open(ClientLineListener on_client_line) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    return make_error(Errc::io, std::string("cannot create the broker's log pipe: ") + std::strerror(errno));
  }
  return std::unique_ptr<BrokerLog>(new BrokerLog(fds[0], fds[1], std::move(on_client_line)));
}

BrokerLog::BrokerLog(int read_fd, int write_fd, ClientLineListener on_client_line)
    : read_fd_(read_fd), write_fd_(write_fd), on_client_line_(std::move(on_client_line)) {
  reader_ = core::named_thread("broker-log", [this] { run(); });
}

BrokerLog::~BrokerLog() {
  stopping_ = true;
  if (reader_.joinable()) reader_.join();
  ::close(write_fd_);
  ::close(read_fd_);
}

void BrokerLog::run() {
  std::string pending;
  char buffer[4096];
  int reads_while_stopping = 0;
  for (;;) {
    pollfd readable{.fd = read_fd_, .events = POLLIN, .revents = 0};
    // Stopping, the lines already in the pipe are read, without waiting for more.
    const int ready = ::poll(&readable, 1, stopping_ ? 0 : kPollMs);
    if (ready < 0 && errno != EINTR) {
      log::component("mosquitto").error("cannot read the broker's log: {}", std::strerror(errno));
      return;
    }
    if (ready <= 0) {
      if (stopping_) break;
      continue;
    }
    if (stopping_ && ++reads_while_stopping > kMaxReadsWhileStopping) break;  // a broker still writing
    const ssize_t got = ::read(read_fd_, buffer, sizeof buffer);
    if (got <= 0) {
      if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      break;  // the write end is the gateway's own: no end of file while it lives
    }
    pending.append(buffer, static_cast<std::size_t>(got));
    std::size_t start = 0;
    for (std::size_t end; (end = pending.find('\n', start)) != std::string::npos; start = end + 1) {
      take(std::string_view(pending).substr(start, end - start));
    }
    pending.erase(0, start);
    if (pending.size() > kMaxLineBytes) {
      take(pending);
      pending.clear();
    }
  }
  if (!pending.empty()) take(pending);
}

void BrokerLog::take(std::string_view line) {
  if (line.empty()) return;
  const BrokerLine read = read_broker_line(line);
  lines_.fetch_add(1);
  if (read.tls_refusal) tls_refusals_.fetch_add(1);
  if (read.acl_denials > 0) acl_denials_.fetch_add(read.acl_denials);
  if ((read.client_certificate || read.acl_denials_client) && on_client_line_) on_client_line_(read);
  if (read.client_certificate) {
    // One line per connection: the gateway's own log at debug level only.
    log::component("mosquitto").debug("{}", read.text);
    return;
  }
  if (read.warning) {
    log::component("mosquitto").warn("{}", read.text);
  } else {
    log::component("mosquitto").info("{}", read.text);
  }
}

}  // namespace kelvin::gateway
