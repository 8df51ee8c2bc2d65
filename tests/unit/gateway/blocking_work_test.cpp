#include "kelvin/gateway/blocking_work.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <memory>

namespace kelvin::gateway {
namespace {

TEST(BlockingWork, RunsPostedWorkOnItsThreads) {
  BlockingWork work(2, 8);
  std::atomic<int> done{0};
  std::promise<void> all;
  for (int i = 0; i < 8; ++i) {
    ASSERT_TRUE(work.post([&] {
      if (++done == 8) all.set_value();
    }));
  }
  ASSERT_EQ(all.get_future().wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_EQ(done.load(), 8);
}

TEST(BlockingWork, RefusesWorkBeyondItsCapacityAndDropsWaitingWorkAtStop) {
  BlockingWork work(1, 2);
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<void> started;
  ASSERT_TRUE(work.post([&] {
    started.set_value();
    released.wait();
  }));
  started.get_future().wait();  // the one thread is busy: what follows waits
  auto dropped = std::make_shared<int>(0);
  std::atomic<bool> ran{false};
  ASSERT_TRUE(work.post([dropped, &ran] { ran = true; }));
  ASSERT_TRUE(work.post([&ran] { ran = true; }));
  EXPECT_FALSE(work.post([] {}));  // two wait: full
  std::thread stopper([&] { work.stop(); });
  // stop() destroyed the waiting work (its captures are released) before joining the thread.
  while (dropped.use_count() > 1) std::this_thread::yield();
  release.set_value();
  stopper.join();
  EXPECT_FALSE(ran.load());
  EXPECT_FALSE(work.post([] {}));  // stopped
}

TEST(BlockingWork, SurvivesWorkThatThrows) {
  BlockingWork work(1, 4);
  std::promise<void> after;
  ASSERT_TRUE(work.post([] { throw std::runtime_error("bad work"); }));
  ASSERT_TRUE(work.post([&] { after.set_value(); }));
  EXPECT_EQ(after.get_future().wait_for(std::chrono::seconds(10)), std::future_status::ready);
}

}  // namespace
}  // namespace kelvin::gateway
