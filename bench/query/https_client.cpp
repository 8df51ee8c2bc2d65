#include "https_client.hpp"

#include <curl/curl.h>

#include <chrono>

namespace kelvin::bench {
namespace {

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
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 300L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &append_body);
  if (options_.username && options_.password) {
    curl_easy_setopt(curl, CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC));
    curl_easy_setopt(curl, CURLOPT_USERNAME, options_.username->c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, options_.password->c_str());
  }
  if (options_.keep_cookies) curl_easy_setopt(curl, CURLOPT_COOKIEFILE, "");  // in-memory cookie engine
}

HttpsClient::~HttpsClient() = default;

HttpsAnswer HttpsClient::get(const std::string& target) {
  if (handle_->curl != nullptr) {
    curl_easy_setopt(handle_->curl, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(handle_->curl, CURLOPT_HTTPHEADER, static_cast<curl_slist*>(nullptr));
  }
  return perform(target);
}

HttpsAnswer HttpsClient::post(const std::string& target, const std::string& content_type, const std::string& body) {
  if (handle_->curl != nullptr) {
    curl_slist_free_all(handle_->post_headers);
    handle_->post_headers = curl_slist_append(nullptr, ("Content-Type: " + content_type).c_str());
    curl_easy_setopt(handle_->curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    curl_easy_setopt(handle_->curl, CURLOPT_COPYPOSTFIELDS, body.c_str());
    curl_easy_setopt(handle_->curl, CURLOPT_HTTPHEADER, handle_->post_headers);
  }
  return perform(target);
}

std::string HttpsClient::escape(const std::string& text) {
  char* escaped =
      handle_->curl != nullptr ? curl_easy_escape(handle_->curl, text.c_str(), static_cast<int>(text.size())) : nullptr;
  std::string out = escaped != nullptr ? escaped : "";
  curl_free(escaped);
  return out;
}

HttpsAnswer HttpsClient::perform(const std::string& target) {
  HttpsAnswer answer;
  CURL* curl = handle_->curl;
  if (curl == nullptr) {
    answer.error = "curl_easy_init failed";
    return answer;
  }
  const std::string url = "https://" + options_.host + ":" + std::to_string(options_.port) + target;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer.body);
  const auto start = std::chrono::steady_clock::now();
  const CURLcode rc = curl_easy_perform(curl);
  answer.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  long connects = 0;
  curl_easy_getinfo(curl, CURLINFO_NUM_CONNECTS, &connects);
  answer.new_connection = connects > 0;
  connections_ += static_cast<std::uint64_t>(connects);
  if (rc != CURLE_OK) {
    answer.error = curl_easy_strerror(rc);
    return answer;
  }
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &answer.status);
  return answer;
}

}  // namespace kelvin::bench
