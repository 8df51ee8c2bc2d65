#include "kelvin/http/message.hpp"

#include <nlohmann/json.hpp>

#include "kelvin/http/response_headers.hpp"

namespace kelvin::http {

BodyFile::~BodyFile() {
  std::error_code ignored;
  std::filesystem::remove(path_, ignored);
}

std::optional<std::string_view> Request::header(std::string_view name) const {
  for (const auto& [field, value] : headers) {
    if (field_name_equals(field, name)) return std::string_view(value);
  }
  return std::nullopt;
}

std::string_view Request::param(std::string_view name) const {
  auto found = path_params.find(name);
  return found == path_params.end() ? std::string_view() : std::string_view(found->second);
}

Response json_response(int status, std::string json_body) {
  Response response;
  response.status = status;
  response.content_type = "application/json";
  response.body = std::move(json_body);
  return response;
}

Response no_content_response() {
  Response response;
  response.status = 204;
  response.content_type.clear();
  return response;
}

Response error_response(int status, std::string_view code, std::string_view message) {
  nlohmann::json body = {{"error", {{"code", code}, {"message", message}}}};
  // A message may quote what a client sent; replacing bad UTF-8 keeps the answer valid JSON.
  return json_response(status, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

Responder& Responder::operator=(Responder&& other) noexcept {
  if (this != &other) {
    answer_unanswered();
    deliver_ = std::exchange(other.deliver_, nullptr);
    open_stream_ = std::exchange(other.open_stream_, nullptr);
  }
  return *this;
}

Responder::~Responder() {
  answer_unanswered();
}

void Responder::operator()(Response response) {
  Deliver deliver = std::exchange(deliver_, nullptr);
  if (deliver) deliver(std::move(response));
}

std::shared_ptr<ResponseStream> Responder::stream(Response head, std::size_t max_buffered_bytes) {
  if (!deliver_) return nullptr;
  OpenStream open = std::exchange(open_stream_, nullptr);
  if (!open) {
    answer_unanswered();
    return nullptr;
  }
  deliver_ = nullptr;
  return open(std::move(head), max_buffered_bytes);
}

void Responder::observe(std::function<void(int status)> observer) {
  if (deliver_) {
    deliver_ = [inner = std::move(deliver_), observer](Response response) {
      observer(response.status);
      inner(std::move(response));
    };
  }
  if (open_stream_) {
    open_stream_ = [inner = std::move(open_stream_), observer](Response head, std::size_t max_buffered_bytes) {
      observer(head.status);
      return inner(std::move(head), max_buffered_bytes);
    };
  }
}

void Responder::answer_unanswered() noexcept {
  Deliver deliver = std::exchange(deliver_, nullptr);
  if (!deliver) return;
  try {
    deliver(error_response(500, "internal", "the server could not answer this request"));
  } catch (...) {
    // Out of memory while answering: the connection's own timeouts close it.
  }
}

}  // namespace kelvin::http
