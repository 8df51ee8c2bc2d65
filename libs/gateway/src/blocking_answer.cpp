#include "kelvin/gateway/blocking_answer.hpp"

#include <memory>
#include <utility>

namespace kelvin::gateway {

void answer_blocking(const BlockingExecutor& run_blocking, http::Responder respond,
                     std::function<http::Response()> answer) {
  // std::function must be copyable and a Responder is move-only: the work shares it, and it is
  // kept here too, to answer 503 with it when the work is refused (and destroyed unrun).
  auto responder = std::make_shared<http::Responder>(std::move(respond));
  const bool queued = run_blocking([responder, answer = std::move(answer)] { (*responder)(answer()); });
  if (!queued) {
    http::Response busy =
        http::error_response(503, "busy", "the gateway has too many requests in hand; try again in a moment");
    busy.headers.emplace_back("Retry-After", "1");
    (*responder)(std::move(busy));
  }
}

}  // namespace kelvin::gateway
