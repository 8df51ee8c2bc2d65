// Answering from a BlockingWork thread, and 503 busy when it is full.

#include "kelvin/gateway/blocking_answer.hpp"

#include <gtest/gtest.h>

#include <future>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <thread>

#include "kelvin/gateway/blocking_work.hpp"

namespace kelvin::gateway {
namespace {

struct Answered {
  std::shared_ptr<std::promise<std::pair<http::Response, std::thread::id>>> promise =
      std::make_shared<std::promise<std::pair<http::Response, std::thread::id>>>();
  std::future<std::pair<http::Response, std::thread::id>> future = promise->get_future();

  http::Responder responder() {
    return http::Responder([promise = promise](http::Response response) {
      promise->set_value({std::move(response), std::this_thread::get_id()});
    });
  }
  std::pair<http::Response, std::thread::id> get() {
    EXPECT_EQ(future.wait_for(std::chrono::seconds(30)), std::future_status::ready);
    return future.get();
  }
};

std::string error_code(const http::Response& response) {
  return nlohmann::json::parse(response.body)["error"]["code"].get<std::string>();
}

TEST(BlockingAnswer, TheWorkAnswersFromItsThread) {
  BlockingWork work(1, 4);
  Answered answered;
  answer_blocking([&work](std::function<void()> job) { return work.post(std::move(job)); }, answered.responder(),
                  [] { return http::json_response(200, R"({"ok":true})"); });
  auto [response, thread] = answered.get();
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, R"({"ok":true})");
  EXPECT_NE(thread, std::this_thread::get_id());
}

TEST(BlockingAnswer, RefusedWorkIsAnsweredBusyAtOnce) {
  Answered answered;
  bool ran = false;
  answer_blocking([](std::function<void()>) { return false; }, answered.responder(),
                  [&ran] {
                    ran = true;
                    return http::json_response(200, "{}");
                  });
  auto [response, thread] = answered.get();
  EXPECT_EQ(response.status, 503);
  EXPECT_EQ(error_code(response), "busy");
  EXPECT_EQ(response.headers, (http::Headers{{"Retry-After", "1"}}));
  EXPECT_EQ(thread, std::this_thread::get_id());
  EXPECT_FALSE(ran);
}

TEST(BlockingAnswer, WorkThatThrowsIsAnsweredInternal) {
  BlockingWork work(1, 4);
  Answered answered;
  answer_blocking([&work](std::function<void()> job) { return work.post(std::move(job)); }, answered.responder(),
                  []() -> http::Response { throw std::runtime_error("disk on fire"); });
  auto [response, thread] = answered.get();
  EXPECT_EQ(response.status, 500);
  EXPECT_EQ(error_code(response), "internal");
}

}  // namespace
}  // namespace kelvin::gateway
