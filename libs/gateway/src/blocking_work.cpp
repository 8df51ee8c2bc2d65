#include "kelvin/gateway/blocking_work.hpp"

#include <exception>

#include "kelvin/core/thread_name.hpp"
#include "kelvin/log/log.hpp"

namespace kelvin::gateway {

BlockingWork::BlockingWork(std::size_t threads, std::size_t capacity, std::string_view thread_name)
    : capacity_(capacity) {
  threads_.reserve(threads);
  for (std::size_t i = 0; i < threads; ++i) threads_.emplace_back(core::named_thread(thread_name, [this] { run(); }));
}

BlockingWork::~BlockingWork() {
  stop();
}

bool BlockingWork::post(std::function<void()> work) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || waiting_.size() >= capacity_) return false;
    waiting_.push_back(std::move(work));
  }
  ready_.notify_one();
  return true;
}

void BlockingWork::stop() {
  std::deque<std::function<void()>> dropped;
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
    dropped.swap(waiting_);
  }
  ready_.notify_all();
  dropped.clear();  // outside the lock: destroying a Responder answers its request
  for (auto& thread : threads_) thread.join();
  threads_.clear();
}

void BlockingWork::run() {
  for (;;) {
    std::function<void()> work;
    {
      std::unique_lock lock(mutex_);
      ready_.wait(lock, [this] { return stopping_ || !waiting_.empty(); });
      if (stopping_) return;
      work = std::move(waiting_.front());
      waiting_.pop_front();
    }
    try {
      work();
    } catch (const std::exception& e) {
      log::component("https").error("background work failed: {}", e.what());
    } catch (...) {
      log::component("https").error("background work failed");
    }
  }
}

}  // namespace kelvin::gateway
