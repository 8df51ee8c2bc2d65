#pragma once
// The agent's persistent outbox journal on Linux: an append-only text file in a private
// directory, replayed at start-up (kelvin/device/outbox_journal.hpp has the contract).
//
// Files in `dir` (0700): `outbox.journal` (0600) and `outbox.lock` (held with flock while open,
// so two agents can never share an outbox).
//
// Format: one record per line, fields separated by TAB, the last field a checksum: CRC-32 (IEEE,
// as zlib's crc32) of everything before that last TAB, as 8 lowercase hex digits.
//   kelvin-outbox  1  <next_seq>  <acked_seq>  <dropped_total>    header, always line 1
//   r  <seq>  <ts_ms>  <temperature>  <humidity>                   a reading
//   a  <acked_seq>                                                  an acknowledgement
//   d  <up_to_seq>  <dropped_total>                                 a drop (outbox full)
// Values are in kQuantities order, written in the shortest form that reads back to the same
// double ("-" for a quantity the reading lacks). A new quantity means format version 2.
//
// Durability: record_reading() returns true only after write + fdatasync (unless
// sync_each_reading is off), so a reading that was "taken" survives a crash or power loss. Acks and drops are written
// without a sync (the contract allows it: losing one only causes a resend or a repeated drop); the next reading's
// fdatasync, compaction, sync() and the destructor make them durable.
//
// Replay: a torn or checksum-failing LAST line is what a crash in the middle of an append leaves;
// it is ignored and cut off at open. Damage anywhere before the last line is not a crash
// artefact: open() refuses with Errc::corrupt naming the line rather than silently lose readings
// (or, worse, hand out seq numbers again). docs/agent.md says what an operator can do then.
//
// Compaction: when the file holds more than max(min_dead_records, 2 x pending) records that no
// longer matter (acknowledged or dropped readings, acks, drops), a new file with a header holding
// next_seq, acked_seq, dropped_total and then the pending readings is written, fsynced and renamed
// over the old one, and the directory fsynced. next_seq lives in the header, so seq numbers never
// repeat across restarts even when nothing is pending.
//
// Not thread-safe: the agent loop owns it.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "kelvin/core/result.hpp"
#include "kelvin/device/outbox_journal.hpp"

namespace kelvin::linux_port {

namespace journal {
class JournalState;
}

struct FileOutboxJournalOptions {
  std::size_t min_dead_records = 4096;  // compaction never runs for fewer dead records than this
  // false: readings are written without fdatasync, like acks, and made durable by sync(), the
  // destructor and compaction. They survive a clean stop and a crash of the process, not a power
  // loss. Only for simulated devices, whose thousands of syncs per second would measure the disk.
  bool sync_each_reading = true;
};

class FileOutboxJournal final : public device::OutboxJournal {
 public:
  // Creates `dir` (0700) and a fresh journal if needed, takes the lock, replays the journal and
  // cuts off a torn tail. Errors: Errc::conflict when another process holds the lock,
  // Errc::corrupt for damage before the last line, file system errors as they come.
  static Result<FileOutboxJournal> open(const std::filesystem::path& dir, FileOutboxJournalOptions options = {});

  FileOutboxJournal(FileOutboxJournal&& other) noexcept;
  FileOutboxJournal& operator=(FileOutboxJournal&& other) noexcept;
  FileOutboxJournal(const FileOutboxJournal&) = delete;
  FileOutboxJournal& operator=(const FileOutboxJournal&) = delete;
  ~FileOutboxJournal() override;  // syncs what was written lazily, releases the lock

  // The state replayed at open plus everything recorded since: what the outbox starts from.
  device::OutboxSnapshot snapshot() const;

  // Refuses (returns false) a seq below next_seq: accepting it would hand a seq out twice.
  bool record_reading(const proto::Reading& reading) override;
  // An ack at or below the current acked_seq changes nothing and writes nothing.
  bool record_ack(std::uint64_t acked_seq) override;
  bool record_drop(std::uint64_t up_to_seq, std::uint64_t dropped_total) override;

  // Makes lazily written records durable now (e.g. before a planned shutdown).
  Result<void> sync();
  // Rewrites the file now, whatever the dead-record count.
  Result<void> compact();

  const std::filesystem::path& path() const { return path_; }
  std::uint64_t file_size() const { return file_size_; }
  std::size_t records_in_file() const { return records_; }  // header not counted
  std::uint64_t compactions() const { return compactions_; }
  // Why the latest record_* call returned false or the latest compaction failed ("" if none).
  const std::string& last_error() const { return last_error_; }

 private:
  FileOutboxJournal(std::filesystem::path dir, FileOutboxJournalOptions options);
  Result<void> replay();
  Result<void> open_for_append();
  bool ready_to_append();
  bool append(const std::string& line, bool sync);
  void maybe_compact();
  void close_files() noexcept;
  bool fail(std::string message);

  std::filesystem::path dir_;
  std::filesystem::path path_;
  FileOutboxJournalOptions options_;
  std::unique_ptr<journal::JournalState> state_;
  int fd_ = -1;
  int lock_fd_ = -1;
  std::uint64_t file_size_ = 0;  // bytes of complete, valid records
  std::size_t records_ = 0;
  bool needs_rollback_ = false;          // a failed append left bytes past file_size_ that must go first
  std::size_t compaction_retry_at_ = 0;  // after a failed compaction: records_ to wait for
  std::uint64_t compactions_ = 0;
  std::string last_error_;
};

}  // namespace kelvin::linux_port
