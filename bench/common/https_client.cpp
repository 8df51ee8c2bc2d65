#include "common/https_client.hpp"

#include <curl/curl.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>

namespace kelvin::bench {
namespace {

constexpr long kMaxIdleConnections = 100'000;

size_t append_body(char* data, size_t size, size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

}  // namespace

struct HttpsClient::Handle {
  CURL* curl = nullptr;
  curl_slist* resolve = nullptr;
  curl_slist* post_headers = nullptr;

  ~Handle() {
    if (curl != nullptr) curl_easy_cleanup(curl);
    curl_slist_free_all(resolve);
    curl_slist_free_all(post_headers);
  }
};

HttpsClient::HttpsClient(HttpsClientOptions options)
    : handle_(std::make_unique<Handle>()), options_(std::move(options)) {
  CURL* curl = curl_easy_init();
  handle_->curl = curl;
  if (curl == nullptr) return;  // every request then fails with an error
  const std::string pin = options_.host + ":" + std::to_string(options_.port) + ":127.0.0.1";
  handle_->resolve = curl_slist_append(nullptr, pin.c_str());
  curl_easy_setopt(curl, CURLOPT_RESOLVE, handle_->resolve);
  curl_easy_setopt(curl, CURLOPT_CAINFO, options_.ca_file.c_str());
  curl_easy_setopt(curl, CURLOPT_CAPATH, static_cast<const char*>(nullptr));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, options_.timeout_seconds);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &append_body);
  if (options_.username && options_.password) {
    curl_easy_setopt(curl, CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC));
    curl_easy_setopt(curl, CURLOPT_USERNAME, options_.username->c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, options_.password->c_str());
  }
  if (options_.keep_cookies) curl_easy_setopt(curl, CURLOPT_COOKIEFILE, "");  // in-memory cookie engine
  if (options_.certificate_file && options_.key_file) {
    curl_easy_setopt(curl, CURLOPT_SSLCERT, options_.certificate_file->c_str());
    curl_easy_setopt(curl, CURLOPT_SSLKEY, options_.key_file->c_str());
  }
  if (options_.local_address) {
    // "host!": an address to bind to, never an interface name to look up.
    curl_easy_setopt(curl, CURLOPT_INTERFACE, ("host!" + *options_.local_address).c_str());
  }
  if (!options_.keep_alive) {
    curl_easy_setopt(curl, CURLOPT_FORBID_REUSE, 1L);
    curl_easy_setopt(curl, CURLOPT_SSL_SESSIONID_CACHE, 0L);
  }
}

HttpsClient::~HttpsClient() = default;

HttpsAnswer HttpsClient::get(const std::string& target) {
  prepare_get();
  return perform(target);
}

void HttpsClient::prepare_get(const std::string& range) {
  if (handle_->curl == nullptr) return;
  curl_easy_setopt(handle_->curl, CURLOPT_HTTPGET, 1L);
  curl_easy_setopt(handle_->curl, CURLOPT_HTTPHEADER, static_cast<curl_slist*>(nullptr));
  curl_easy_setopt(handle_->curl, CURLOPT_RANGE, range.empty() ? nullptr : range.c_str());  // libcurl copies it
}

HttpsAnswer HttpsClient::post(const std::string& target, const std::string& content_type, const std::string& body) {
  prepare_post(content_type, body);
  return perform(target);
}

void HttpsClient::prepare_post(const std::string& content_type, const std::string& body) {
  if (handle_->curl == nullptr) return;
  curl_slist_free_all(handle_->post_headers);
  handle_->post_headers = curl_slist_append(nullptr, ("Content-Type: " + content_type).c_str());
  curl_easy_setopt(handle_->curl, CURLOPT_RANGE, static_cast<const char*>(nullptr));  // a GET's, if any
  curl_easy_setopt(handle_->curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  curl_easy_setopt(handle_->curl, CURLOPT_COPYPOSTFIELDS, body.c_str());
  curl_easy_setopt(handle_->curl, CURLOPT_HTTPHEADER, handle_->post_headers);
}

std::string HttpsClient::escape(const std::string& text) {
  char* escaped =
      handle_->curl != nullptr ? curl_easy_escape(handle_->curl, text.c_str(), static_cast<int>(text.size())) : nullptr;
  std::string out = escaped != nullptr ? escaped : "";
  curl_free(escaped);
  return out;
}

void HttpsClient::begin(const std::string& target) {
  answer_ = HttpsAnswer{};
  const std::string url = "https://" + options_.host + ":" + std::to_string(options_.port) + target;
  curl_easy_setopt(handle_->curl, CURLOPT_URL, url.c_str());  // libcurl copies it
  curl_easy_setopt(handle_->curl, CURLOPT_WRITEDATA, &answer_.body);
  started_ = std::chrono::steady_clock::now();
}

HttpsAnswer HttpsClient::finish(int curl_code) {
  HttpsAnswer answer = std::move(answer_);
  answer_ = HttpsAnswer{};
  answer.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  CURL* curl = handle_->curl;
  long connects = 0;
  curl_easy_getinfo(curl, CURLINFO_NUM_CONNECTS, &connects);
  answer.new_connection = connects > 0;
  connections_ += static_cast<std::uint64_t>(connects);
  const auto rc = static_cast<CURLcode>(curl_code);
  if (rc != CURLE_OK) {
    answer.error = curl_easy_strerror(rc);
    return answer;
  }
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &answer.status);
  return answer;
}

HttpsAnswer HttpsClient::perform(const std::string& target) {
  if (handle_->curl == nullptr) {
    HttpsAnswer answer;
    answer.error = "curl_easy_init failed";
    return answer;
  }
  begin(target);
  return finish(curl_easy_perform(handle_->curl));
}

// --- HttpsClientGroup ------------------------------------------------------------------------
// libcurl's socket interface with epoll: libcurl says which sockets to watch for what
// (on_socket) and when it needs to run whatever the sockets do (on_timer), and is then driven for
// the ready sockets only. (curl_multi_perform would try every connection at each wake: with
// hundreds of clients on a thread that costs more than the requests.)

struct HttpsClientGroup::Multi {
  CURLM* multi = curl_multi_init();
  int epoll = epoll_create1(EPOLL_CLOEXEC);
  std::optional<std::chrono::steady_clock::time_point> timer_due;  // libcurl's timeout, when set

  Multi() {
    if (multi == nullptr) return;
    // Every client's idle connection stays open for its next request, however few requests are
    // in flight (libcurl would otherwise keep at most four per client currently added).
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, kMaxIdleConnections);
    curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, &Multi::on_socket);
    curl_multi_setopt(multi, CURLMOPT_SOCKETDATA, this);
    curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, &Multi::on_timer);
    curl_multi_setopt(multi, CURLMOPT_TIMERDATA, this);
  }
  ~Multi() {
    if (multi != nullptr) curl_multi_cleanup(multi);
    if (epoll >= 0) close(epoll);
  }
  Multi(const Multi&) = delete;
  Multi& operator=(const Multi&) = delete;

  bool usable() const { return multi != nullptr && epoll >= 0; }

  static int on_socket(CURL*, curl_socket_t socket, int what, void* self, void*) {
    const int epoll = static_cast<Multi*>(self)->epoll;
    if (what == CURL_POLL_REMOVE) {
      epoll_ctl(epoll, EPOLL_CTL_DEL, socket, nullptr);
      return 0;
    }
    epoll_event event{};
    event.events = (what & CURL_POLL_IN ? EPOLLIN : 0u) | (what & CURL_POLL_OUT ? EPOLLOUT : 0u);
    event.data.fd = socket;
    if (epoll_ctl(epoll, EPOLL_CTL_MOD, socket, &event) != 0 && errno == ENOENT) {
      epoll_ctl(epoll, EPOLL_CTL_ADD, socket, &event);
    }
    return 0;
  }

  static int on_timer(CURLM*, long timeout_ms, void* self) {
    auto& due = static_cast<Multi*>(self)->timer_due;
    if (timeout_ms < 0) {
      due.reset();
    } else {
      due = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    }
    return 0;
  }

  // Waits up to `timeout` (less when libcurl's timer is due sooner) and lets libcurl act on the
  // sockets that became ready, or on its timer.
  void drive(std::chrono::milliseconds timeout) {
    int wait_ms = static_cast<int>(timeout.count());
    if (timer_due) {
      const auto until_due =
          std::chrono::ceil<std::chrono::milliseconds>(*timer_due - std::chrono::steady_clock::now());
      wait_ms = std::clamp(static_cast<int>(until_due.count()), 0, wait_ms);
    }
    std::array<epoll_event, 64> events{};
    const int ready = epoll_wait(epoll, events.data(), static_cast<int>(events.size()), wait_ms);
    int running = 0;
    for (int i = 0; i < ready; ++i) {
      const std::uint32_t happened = events[static_cast<std::size_t>(i)].events;
      const int flags = (happened & (EPOLLIN | EPOLLHUP | EPOLLERR) ? CURL_CSELECT_IN : 0) |
                        (happened & (EPOLLOUT | EPOLLERR) ? CURL_CSELECT_OUT : 0) |
                        (happened & EPOLLERR ? CURL_CSELECT_ERR : 0);
      curl_multi_socket_action(multi, events[static_cast<std::size_t>(i)].data.fd, flags, &running);
    }
    if (timer_due && *timer_due <= std::chrono::steady_clock::now()) {
      timer_due.reset();  // libcurl sets it again if it needs to
      curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running);
    }
  }
};

HttpsClientGroup::HttpsClientGroup() : multi_(std::make_unique<Multi>()) {}

HttpsClientGroup::~HttpsClientGroup() = default;

bool HttpsClientGroup::start(HttpsClient& client, const std::string& target) {
  CURL* curl = client.handle_->curl;
  if (!multi_->usable() || curl == nullptr) return false;
  client.begin(target);
  curl_easy_setopt(curl, CURLOPT_PRIVATE, &client);
  if (curl_multi_add_handle(multi_->multi, curl) != CURLM_OK) return false;
  ++in_flight_;
  return true;
}

std::vector<std::pair<HttpsClient*, HttpsAnswer>> HttpsClientGroup::wait_for_answers(
    std::chrono::milliseconds timeout) {
  std::vector<std::pair<HttpsClient*, HttpsAnswer>> ended;
  if (!multi_->usable()) return ended;
  multi_->drive(timeout);
  int queued = 0;
  while (CURLMsg* message = curl_multi_info_read(multi_->multi, &queued)) {
    if (message->msg != CURLMSG_DONE) continue;
    CURL* curl = message->easy_handle;
    const CURLcode result = message->data.result;  // read before the handle is removed
    HttpsClient* client = nullptr;
    curl_easy_getinfo(curl, CURLINFO_PRIVATE, &client);
    curl_multi_remove_handle(multi_->multi, curl);
    --in_flight_;
    ended.emplace_back(client, client->finish(result));
  }
  return ended;
}

}  // namespace kelvin::bench
