// Responder: exactly one answer, from any thread; 500 when dropped unanswered. Request's lookups.

#include <gtest/gtest.h>

#include <atomic>
#include <optional>
#include <thread>
#include <vector>

#include "kelvin/http/message.hpp"

namespace kelvin::http {
namespace {

TEST(Responder, DeliversOnceAndIgnoresASecondCall) {
  std::vector<int> delivered;
  {
    Responder respond([&](Response r) { delivered.push_back(r.status); });
    EXPECT_TRUE(respond.pending());
    respond(json_response(201, "{}"));
    EXPECT_FALSE(respond.pending());
    respond(json_response(202, "{}"));
  }
  EXPECT_EQ(delivered, std::vector<int>{201});
}

TEST(Responder, DroppedUnansweredAnswers500Once) {
  std::vector<int> delivered;
  {
    Responder respond([&](Response r) { delivered.push_back(r.status); });
    Responder moved = std::move(respond);
    EXPECT_FALSE(respond.pending());  // NOLINT(bugprone-use-after-move): the moved-from state is the point
    EXPECT_TRUE(moved.pending());
  }
  EXPECT_EQ(delivered, std::vector<int>{500});
}

TEST(Responder, AssigningOverAnUnansweredOneAnswersIt500) {
  std::vector<int> first;
  std::vector<int> second;
  Responder a([&](Response r) { first.push_back(r.status); });
  a = Responder([&](Response r) { second.push_back(r.status); });
  EXPECT_EQ(first, std::vector<int>{500});
  a(json_response(200, "{}"));
  EXPECT_EQ(second, std::vector<int>{200});
}

TEST(Responder, MayBeCalledFromAnotherThread) {
  std::atomic<int> status{0};
  Responder respond([&](Response r) { status = r.status; });
  std::thread worker([respond = std::move(respond)]() mutable { respond(json_response(204, "")); });
  worker.join();
  EXPECT_EQ(status.load(), 204);
}

TEST(Request, HeaderLookupIgnoresCaseAndReturnsTheFirst) {
  Request request;
  request.headers = {{"Content-Type", "application/json"}, {"X-Twice", "1"}, {"x-twice", "2"}};
  EXPECT_EQ(request.header("content-type"), "application/json");
  EXPECT_EQ(request.header("CONTENT-TYPE"), "application/json");
  EXPECT_EQ(request.header("X-TWICE"), "1");
  EXPECT_FALSE(request.header("Content-Length").has_value());
  EXPECT_FALSE(request.header("Content-Typ").has_value());
}

TEST(Request, ParamIsEmptyWhenTheRouteHasNone) {
  Request request;
  request.path_params["id"] = "sensor-01";
  EXPECT_EQ(request.param("id"), "sensor-01");
  EXPECT_EQ(request.param("quantity"), "");
}

}  // namespace
}  // namespace kelvin::http
