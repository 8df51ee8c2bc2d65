#pragma once
// Helpers shared by the store tests: readings and batches in one line, checked commits, and a
// second, independent SQLite connection to look at what the store actually wrote.

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "kelvin/store/store.hpp"
#include "kelvin/testing/temp_dir.hpp"

namespace kelvin::store::testing {

inline constexpr std::int64_t kT0 = 1'735'689'600'000;  // 2025-01-01T00:00:00Z: a multiple of an hour
inline constexpr std::int64_t kSecond = 1'000;
inline constexpr std::int64_t kMinute = 60'000;
inline constexpr std::int64_t kHour = 3'600'000;
inline constexpr std::int64_t kDay = 86'400'000;

inline proto::Reading reading(std::uint64_t seq, std::int64_t ts_ms, std::optional<double> temperature,
                              std::optional<double> humidity = std::nullopt) {
  proto::Reading r;
  r.seq = seq;
  r.ts_ms = ts_ms;
  if (temperature) r.set(proto::Quantity::temperature, *temperature);
  if (humidity) r.set(proto::Quantity::humidity, *humidity);
  return r;
}

// Readings seq first..last, one per `interval_ms` from `start_ms`, temperature = 20 + seq / 10.
inline std::vector<proto::Reading> sequence(std::uint64_t first, std::uint64_t last, std::int64_t start_ms,
                                            std::int64_t interval_ms = kSecond) {
  std::vector<proto::Reading> readings;
  for (std::uint64_t seq = first; seq <= last; ++seq) {
    const std::int64_t offset = static_cast<std::int64_t>(seq - first) * interval_ms;
    readings.push_back(reading(seq, start_ms + offset, 20.0 + static_cast<double>(seq) / 10.0));
  }
  return readings;
}

inline IngestBatch batch_of(const std::string& device_id, const std::vector<proto::Reading>& readings) {
  IngestBatch batch;
  for (const auto& r : readings) batch.readings.push_back(DeviceReading{device_id, r});
  return batch;
}

inline ConsumedSeq rejection(const std::string& device_id, std::uint64_t seq, std::int64_t at_ms,
                             proto::RejectReason reason = proto::RejectReason::out_of_range) {
  return ConsumedSeq{device_id, seq, reason, at_ms};
}

// Commits and fails the test (returning an empty summary) if the commit fails.
inline CommitSummary commit_ok(Store& store, const IngestBatch& batch, std::int64_t now_ms) {
  auto summary = store.commit(batch, now_ms);
  if (!summary) {
    ADD_FAILURE() << "commit failed: " << summary.error().message;
    return {};
  }
  return std::move(*summary);
}

inline std::uint64_t ack_of(const CommitSummary& summary, const std::string& device_id) {
  for (const auto& ack : summary.acks) {
    if (ack.device_id == device_id) return ack.contiguous_seq;
  }
  ADD_FAILURE() << "no ack for " << device_id;
  return 0;
}

inline Query query_of(const std::string& device_id, proto::Quantity quantity, std::int64_t from_ms, std::int64_t to_ms,
                      std::int64_t step_ms, std::optional<Resolution> force = std::nullopt) {
  Query q;
  q.device_id = device_id;
  q.quantity = quantity;
  q.from_ms = from_ms;
  q.to_ms = to_ms;
  q.step_ms = step_ms;
  q.force_resolution = force;
  return q;
}

// The same buckets, field by field; `what` names the comparison in a failure.
inline void expect_same_buckets(const std::vector<Bucket>& actual, const std::vector<Bucket>& expected,
                                const std::string& what) {
  ASSERT_EQ(actual.size(), expected.size()) << what;
  for (std::size_t i = 0; i < actual.size(); ++i) {
    SCOPED_TRACE(what + ", bucket " + std::to_string(i));
    EXPECT_EQ(actual[i].start_ms, expected[i].start_ms);
    EXPECT_EQ(actual[i].count, expected[i].count);
    EXPECT_EQ(actual[i].min, expected[i].min);
    EXPECT_EQ(actual[i].max, expected[i].max);
    EXPECT_EQ(actual[i].last, expected[i].last);
    // Sums may be added in a different order (per batch, then per bucket): equal up to rounding.
    EXPECT_NEAR(actual[i].mean, expected[i].mean, 1e-9);
  }
}

// A second connection to the database file, for looking behind the API (and for tampering).
class RawDatabase {
 public:
  explicit RawDatabase(const std::filesystem::path& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
      ADD_FAILURE() << "cannot open " << path << ": " << sqlite3_errmsg(db_);
    }
  }
  RawDatabase(const RawDatabase&) = delete;
  RawDatabase& operator=(const RawDatabase&) = delete;
  ~RawDatabase() { sqlite3_close_v2(db_); }

  // The first column of the first row as an integer (-1 and a test failure on error).
  std::int64_t integer(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
      ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db_);
      return -1;
    }
    std::int64_t value = -1;
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
      value = sqlite3_column_int64(stmt, 0);
    } else {
      ADD_FAILURE() << sql << ": no row (" << sqlite3_errmsg(db_) << ")";
    }
    sqlite3_finalize(stmt);
    return value;
  }

  std::string text(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    std::string value;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW) {
      const unsigned char* raw = sqlite3_column_text(stmt, 0);
      if (raw != nullptr) value = reinterpret_cast<const char*>(raw);
    } else {
      ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db_);
    }
    sqlite3_finalize(stmt);
    return value;
  }

  void exec(const std::string& sql) {
    char* message = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
      ADD_FAILURE() << sql << ": " << (message != nullptr ? message : "?");
    }
    sqlite3_free(message);
  }

 private:
  sqlite3* db_ = nullptr;
};

// A fresh store in a temp dir, reopened with other options on demand.
// The result code of running `sql` on a connection with foreign keys on (for constraint checks).
inline int exec_code(const std::filesystem::path& path, const std::string& sql) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr);
  if (rc == SQLITE_OK) rc = sqlite3_exec(db, "PRAGMA foreign_keys = ON", nullptr, nullptr, nullptr);
  if (rc == SQLITE_OK) rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr);
  sqlite3_close_v2(db);
  return rc;
}

class StoreFixture : public ::testing::Test {
 protected:
  void SetUp() override { reopen(StoreOptions{}); }
  void reopen(const StoreOptions& options) {
    store_.reset();
    auto opened = Store::open(path(), options);
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    store_.emplace(std::move(*opened));
  }
  std::filesystem::path path() const { return tmp_ / "store.db"; }
  Store& store() { return *store_; }

  kelvin::testing::TempDir tmp_;
  std::optional<Store> store_;
};

}  // namespace kelvin::store::testing
