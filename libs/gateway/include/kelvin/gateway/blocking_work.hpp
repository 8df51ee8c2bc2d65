#pragma once
// A few threads for the HTTPS routes' slow work (Argon2id password checks, long store queries), so
// the server's I/O thread never waits for it: a route posts the work, returns, and the work answers
// through the route's Responder when done. Bounded: post() refuses when `capacity` items wait
// already, and the route answers 503 busy instead of queueing without end.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string_view>
#include <thread>
#include <vector>

namespace kelvin::gateway {

class BlockingWork {
 public:
  // Precondition: threads >= 1, capacity >= 1. The threads are named `thread_name` (what
  // `top -H` shows; at most 15 bytes).
  BlockingWork(std::size_t threads, std::size_t capacity, std::string_view thread_name = "blocking-work");
  ~BlockingWork();  // stop()s
  BlockingWork(const BlockingWork&) = delete;
  BlockingWork& operator=(const BlockingWork&) = delete;

  // Thread-safe. Queues `work`; false (and `work` is destroyed unrun) when `capacity` items wait or
  // after stop(). Work must not throw (an exception is caught and logged).
  bool post(std::function<void()> work);

  // Lets running work finish, destroys what still waits (a Responder destroyed unanswered answers
  // 500 itself), joins the threads. Idempotent.
  void stop();

 private:
  void run();

  const std::size_t capacity_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> waiting_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace kelvin::gateway
