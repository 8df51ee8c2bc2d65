#pragma once
// The HTTPS API's own connection to the gateway's store, for reads, shared by its handlers one at
// a time.
//
// Why one connection under a mutex rather than a pool: a Store is one SQLite connection for one
// thread at a time. The API's reads are short and bounded (the device list, one device, one series
// of at most kMaxSeriesPoints buckets) and run on a BlockingWork thread. Readers in parallel would
// compete with the ingest's commit thread for the few cores and the storage of a Raspberry
// Pi-class gateway, and each connection keeps its own 16 MiB page cache; one connection queues
// them instead. The mutex makes that queue: a BlockingWork has several threads, and other routes
// may share the connection. WAL lets these reads run beside the ingest's commits, neither
// waiting for the other.

#include <mutex>
#include <utility>

#include "kelvin/store/store.hpp"

namespace kelvin::gateway {

class SharedStore {
 public:
  // `store` is a connection of its own (Store::open), not the ingest's.
  explicit SharedStore(store::Store store) : store_(std::move(store)) {}
  SharedStore(const SharedStore&) = delete;
  SharedStore& operator=(const SharedStore&) = delete;

  // Runs `read(store::Store&)` under the mutex and returns what it returns. The mutex is a leaf:
  // take no other lock and wait for nothing else inside.
  template <class Read>
  auto with(Read&& read) {
    std::lock_guard lock(mutex_);
    return std::forward<Read>(read)(store_);
  }

 private:
  std::mutex mutex_;
  store::Store store_;
};

}  // namespace kelvin::gateway
