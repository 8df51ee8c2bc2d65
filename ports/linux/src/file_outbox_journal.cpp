#include "kelvin/linux_port/file_outbox_journal.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string_view>
#include <system_error>
#include <utility>

#include "journal_format.hpp"
#include "kelvin/core/files.hpp"

namespace kelvin::linux_port {
namespace fs = std::filesystem;
namespace {

constexpr const char* kJournalName = "outbox.journal";
constexpr const char* kLockName = "outbox.lock";
constexpr std::size_t kMaxJournalBytes = std::size_t{1} << 30;

std::string errno_text(std::string_view what, const fs::path& path) {
  return std::string(what) + " " + path.string() + ": " + std::strerror(errno);
}

// Leftovers of a compaction interrupted before its rename (write_file_atomic's temp files).
void remove_stale_temporaries(const fs::path& dir) {
  std::error_code ec;
  const std::string prefix = std::string(kJournalName) + ".tmp.";
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().filename().string().starts_with(prefix)) fs::remove(it->path(), ec);
  }
}

Result<int> take_lock(const fs::path& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, files::kPrivateFileMode);
  if (fd < 0) return files::error_from_errno("cannot open lock file", path);
  while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EINTR) continue;
    const bool busy = errno == EWOULDBLOCK;
    Error error = busy ? make_error(Errc::conflict, "outbox " + path.parent_path().string() +
                                                        " is in use by another process (kelvin-agent running twice?)")
                       : files::error_from_errno("cannot lock", path);
    ::close(fd);
    return error;
  }
  return fd;
}

}  // namespace

FileOutboxJournal::FileOutboxJournal(fs::path dir, FileOutboxJournalOptions options)
    : dir_(std::move(dir)),
      path_(dir_ / kJournalName),
      options_(options),
      state_(std::make_unique<journal::JournalState>()) {}

FileOutboxJournal::FileOutboxJournal(FileOutboxJournal&& other) noexcept
    : dir_(std::move(other.dir_)),
      path_(std::move(other.path_)),
      options_(other.options_),
      state_(std::move(other.state_)),
      fd_(std::exchange(other.fd_, -1)),
      lock_fd_(std::exchange(other.lock_fd_, -1)),
      file_size_(other.file_size_),
      records_(other.records_),
      needs_rollback_(other.needs_rollback_),
      compaction_retry_at_(other.compaction_retry_at_),
      compactions_(other.compactions_),
      last_error_(std::move(other.last_error_)) {}

FileOutboxJournal& FileOutboxJournal::operator=(FileOutboxJournal&& other) noexcept {
  if (this != &other) {
    close_files();
    dir_ = std::move(other.dir_);
    path_ = std::move(other.path_);
    options_ = other.options_;
    state_ = std::move(other.state_);
    fd_ = std::exchange(other.fd_, -1);
    lock_fd_ = std::exchange(other.lock_fd_, -1);
    file_size_ = other.file_size_;
    records_ = other.records_;
    needs_rollback_ = other.needs_rollback_;
    compaction_retry_at_ = other.compaction_retry_at_;
    compactions_ = other.compactions_;
    last_error_ = std::move(other.last_error_);
  }
  return *this;
}

FileOutboxJournal::~FileOutboxJournal() {
  close_files();
}

void FileOutboxJournal::close_files() noexcept {
  if (fd_ >= 0) {
    ::fdatasync(fd_);  // nothing to report to from a destructor; acks lost here only cause resends
    ::close(fd_);
    fd_ = -1;
  }
  if (lock_fd_ >= 0) {
    ::close(lock_fd_);  // releases the flock
    lock_fd_ = -1;
  }
}

Result<FileOutboxJournal> FileOutboxJournal::open(const fs::path& dir, FileOutboxJournalOptions options) {
  if (auto made = files::ensure_private_dir(dir); !made) return std::move(made).error();
  FileOutboxJournal journal(dir, options);
  auto lock = take_lock(dir / kLockName);
  if (!lock) return std::move(lock).error();
  journal.lock_fd_ = *lock;
  remove_stale_temporaries(dir);

  if (::access(journal.path_.c_str(), F_OK) != 0) {
    if (errno != ENOENT) return files::error_from_errno("cannot inspect", journal.path_);
    const std::string header = journal::encode(journal::Header{});
    if (auto created = files::write_file_atomic(journal.path_, header, files::kPrivateFileMode); !created) {
      return std::move(created).error();
    }
  }
  if (auto replayed = journal.replay(); !replayed) return std::move(replayed).error();
  if (auto opened = journal.open_for_append(); !opened) return std::move(opened).error();
  return journal;
}

Result<void> FileOutboxJournal::replay() {
  auto content = files::read_file(path_, kMaxJournalBytes);
  if (!content) return std::move(content).error();
  const std::string& text = *content;
  auto damaged = [&](std::size_t line_number, std::string_view why) -> Result<void> {
    return make_error(Errc::corrupt, "outbox journal " + path_.string() + " line " + std::to_string(line_number) +
                                         ": " + std::string(why) +
                                         "; the agent will not guess what was lost (see docs/agent.md, "
                                         "\"A damaged outbox\")");
  };

  std::size_t offset = 0;
  std::size_t line_number = 0;
  std::size_t valid_size = 0;
  while (offset < text.size()) {
    const auto newline = text.find('\n', offset);
    if (newline == std::string::npos) break;  // a torn append: never became durable
    ++line_number;
    const std::string_view line(text.data() + offset, newline - offset);
    const bool is_last_line = newline + 1 == text.size();
    auto decoded = journal::decode(line);
    if (!decoded) return damaged(line_number, decoded.error().message);
    if (!decoded->has_value()) {
      if (is_last_line && line_number > 1) break;  // torn final record
      return damaged(line_number, "checksum mismatch");
    }
    const journal::Record& record = **decoded;
    const bool is_header = std::holds_alternative<journal::Header>(record);
    if (is_header != (line_number == 1)) {
      return damaged(line_number, is_header ? "a header after the first line" : "no header; not an outbox journal");
    }
    if (const auto* reading = std::get_if<proto::Reading>(&record)) {
      if (reading->seq < state_->last_reading_seq()) return damaged(line_number, "seq goes backwards");
      state_->apply(*reading);
    } else {
      std::visit([this](const auto& r) { state_->apply(r); }, record);
    }
    if (!is_header) ++records_;
    offset = newline + 1;
    valid_size = offset;
  }
  if (line_number == 0) {
    return make_error(Errc::corrupt, "outbox journal " + path_.string() +
                                         " has no complete header; the agent will not guess what was lost (see "
                                         "docs/agent.md, \"A damaged outbox\")");
  }
  if (valid_size < text.size()) {
    if (auto cut = files::truncate_durably(path_, valid_size); !cut) return cut;
  }
  file_size_ = valid_size;
  return {};
}

Result<void> FileOutboxJournal::open_for_append() {
  int fd = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0) return files::error_from_errno("cannot open", path_);
  // A journal restored from a backup or created by hand may be wider than 0600.
  struct stat st {};
  if (::fstat(fd, &st) == 0 && (st.st_mode & 077) != 0) ::fchmod(fd, files::kPrivateFileMode);
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
  return {};
}

bool FileOutboxJournal::fail(std::string message) {
  last_error_ = std::move(message);
  return false;
}

// Repairs what an earlier failure left behind before anything new is appended: a partial line
// past file_size_ (or a file handle lost in a compaction).
bool FileOutboxJournal::ready_to_append() {
  if (fd_ < 0) {
    if (auto opened = open_for_append(); !opened) return fail(opened.error().message);
  }
  if (needs_rollback_) {
    if (::ftruncate(fd_, static_cast<off_t>(file_size_)) != 0) return fail(errno_text("cannot truncate", path_));
    needs_rollback_ = false;
  }
  return true;
}

bool FileOutboxJournal::append(const std::string& line, bool sync) {
  if (!ready_to_append()) return false;
  std::string_view rest = line;
  while (!rest.empty()) {
    const ssize_t n = ::write(fd_, rest.data(), rest.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      // Whatever part of the line got in must go, or the next record would follow a damaged one.
      needs_rollback_ = true;
      std::string message = errno_text("cannot write", path_);
      ready_to_append();
      return fail(std::move(message));
    }
    rest.remove_prefix(static_cast<std::size_t>(n));
  }
  if (sync && ::fdatasync(fd_) != 0) {
    // The record is not durable and the caller will treat it as refused (and may reuse its
    // seq), so it must not stay in the file either.
    needs_rollback_ = true;
    std::string message = errno_text("cannot sync", path_);
    ready_to_append();
    return fail(std::move(message));
  }
  file_size_ += line.size();
  ++records_;
  return true;
}

bool FileOutboxJournal::record_reading(const proto::Reading& reading) {
  if (reading.seq == 0 || reading.seq < state_->next_seq()) {
    return fail("outbox journal refused seq " + std::to_string(reading.seq) + ": seq " +
                std::to_string(state_->next_seq()) + " or higher expected (a seq is never handed out twice)");
  }
  if (!append(journal::encode(reading), options_.sync_each_reading)) return false;
  state_->apply(reading);
  maybe_compact();
  return true;
}

bool FileOutboxJournal::record_ack(std::uint64_t acked_seq) {
  if (acked_seq <= state_->acked_seq()) return true;
  const journal::Ack ack{acked_seq};
  if (!append(journal::encode(ack), /*sync=*/false)) return false;
  state_->apply(ack);
  maybe_compact();
  return true;
}

bool FileOutboxJournal::record_drop(std::uint64_t up_to_seq, std::uint64_t dropped_total) {
  const journal::Drop drop{up_to_seq, dropped_total};
  if (!append(journal::encode(drop), /*sync=*/false)) return false;
  state_->apply(drop);
  maybe_compact();
  return true;
}

device::OutboxSnapshot FileOutboxJournal::snapshot() const {
  return state_->snapshot();
}

Result<void> FileOutboxJournal::sync() {
  if (fd_ < 0) return make_error(Errc::io, "outbox journal " + path_.string() + " is not open");
  if (::fdatasync(fd_) != 0) return files::error_from_errno("cannot sync", path_);
  return {};
}

void FileOutboxJournal::maybe_compact() {
  const std::size_t pending = state_->pending().size();
  const std::size_t dead = records_ - std::min(records_, pending);
  if (dead <= std::max(options_.min_dead_records, 2 * pending) || records_ < compaction_retry_at_) return;
  if (auto compacted = compact(); !compacted) {
    // Keep appending to the old file (it is still correct, only long) and try again later
    // rather than copying the whole outbox on every record while the disk is full.
    last_error_ = compacted.error().message;
    compaction_retry_at_ = records_ + options_.min_dead_records;
  }
}

Result<void> FileOutboxJournal::compact() {
  std::string content = journal::encode(state_->header());
  for (const auto& reading : state_->pending()) content += journal::encode(reading);
  // write_file_atomic: temp file (0600), fsync, rename over, fsync the directory. A crash at any
  // point leaves either the old journal or the new one.
  if (auto written = files::write_file_atomic(path_, content, files::kPrivateFileMode); !written) return written;
  // The old descriptor now refers to the replaced file; appending to it would lose records.
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  file_size_ = content.size();
  records_ = state_->pending().size();
  needs_rollback_ = false;
  compaction_retry_at_ = 0;
  ++compactions_;
  return open_for_append();  // on failure, ready_to_append() retries before the next record
}

}  // namespace kelvin::linux_port
