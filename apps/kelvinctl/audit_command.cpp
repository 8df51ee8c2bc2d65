#include "audit_command.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include "failure.hpp"
#include "kelvin/accounts/audit_json.hpp"
#include "kelvin/core/files.hpp"
#include "state_options.hpp"
#include "user_accounts.hpp"

namespace kelvin::ctl {
namespace {

struct AuditExportOptions {
  StateOptions state;
  std::int64_t after = 0;        // export the entries with a greater id
  std::filesystem::path output;  // empty: stdout
};

// Entries read from the database per query: the log is exported in pages, not held whole.
constexpr std::size_t kPage = 1000;

// Where the lines go: stdout, or a new file only its owner can read (the log names people and
// addresses). The file is created exclusively, so an earlier export is never overwritten, and
// removed again when the export fails.
class Sink {
 public:
  static Result<std::unique_ptr<Sink>> open(const std::filesystem::path& file) {
    if (file.empty()) return std::unique_ptr<Sink>(new Sink(STDOUT_FILENO, {}));
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
      const bool exists = errno == EEXIST;
      Error error = files::error_from_errno("cannot create", file);
      if (exists) error.message += " (an export never overwrites a file: name a new one)";
      return error;
    }
    return std::unique_ptr<Sink>(new Sink(fd, file));
  }
  ~Sink() {
    if (!file_.empty()) ::close(fd_);
    if (!file_.empty() && !complete_) std::filesystem::remove(file_);
  }
  Sink(const Sink&) = delete;
  Sink& operator=(const Sink&) = delete;

  Result<void> write(const std::string& text) {
    for (std::size_t done = 0; done < text.size();) {
      const ssize_t n = ::write(fd_, text.data() + done, text.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return files::error_from_errno("cannot write", name());
      done += static_cast<std::size_t>(n);
    }
    return {};
  }
  // The file is complete once it is on disk; stdout needs nothing.
  Result<void> finish() {
    if (!file_.empty() && ::fsync(fd_) != 0) return files::error_from_errno("cannot write", name());
    complete_ = true;
    return {};
  }
  std::string name() const { return file_.empty() ? "stdout" : file_.string(); }
  bool to_file() const { return !file_.empty(); }

 private:
  Sink(int fd, std::filesystem::path file) : fd_(fd), file_(std::move(file)) {}
  int fd_;
  std::filesystem::path file_;
  bool complete_ = false;
};

int run_audit_export(const AuditExportOptions& options) {
  auto accounts = open_existing_accounts(options.state);
  if (!accounts) return report_failure(accounts.error(), options.state.state_dir);
  if (!*accounts) {
    return report_failure(make_error(Errc::not_found, "no audit log in " + options.state.state_dir +
                                                          ": accounts.db does not exist (kelvin-gateway creates it "
                                                          "at its first start; is --state-dir right?)"));
  }
  auto sink = Sink::open(options.output);
  if (!sink) return report_failure(sink.error());

  std::size_t exported = 0;
  std::int64_t first_id = 0;
  std::int64_t last_id = options.after;
  for (;;) {
    auto page = (*accounts)->audit_entries(last_id, kPage);
    if (!page) return report_failure(page.error(), options.state.state_dir);
    std::string lines;
    for (const auto& entry : *page) {
      lines += accounts::audit_entry_json(entry);
      lines += '\n';
      if (first_id == 0) first_id = entry.id;
      last_id = entry.id;
    }
    if (auto written = (*sink)->write(lines); !written) return report_failure(written.error());
    exported += page->size();
    if (page->size() < kPage) break;
  }
  if (auto finished = (*sink)->finish(); !finished) return report_failure(finished.error());
  if ((*sink)->to_file()) {
    std::cerr << "exported " << exported << (exported == 1 ? " audit log entry" : " audit log entries")
              << (exported > 0 ? " (ids " + std::to_string(first_id) + " to " + std::to_string(last_id) + ")" : "")
              << " to " << (*sink)->name() << "\n";
  }
  return 0;
}

}  // namespace

void add_audit_command(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<AuditExportOptions>();
  CLI::App* audit = app.add_subcommand("audit", "The gateway's audit log: export");
  audit->require_subcommand(1);
  audit->fallthrough();  // --state-dir may follow the subcommand
  add_state_options(audit, options->state, /*with_pki=*/false);

  CLI::App* export_command = audit->add_subcommand(
      "export", "Write the audit log as JSON lines, oldest first (docs/api.md, GET /api/v1/audit, for the keys)");
  export_command->add_option("--after", options->after, "Only the entries with a greater id (0: all)")
      ->check(CLI::Validator(
          [](std::string& id) -> std::string {
            std::int64_t value = 0;
            const auto [end, error] = std::from_chars(id.data(), id.data() + id.size(), value);
            return error == std::errc() && end == id.data() + id.size() && value >= 0
                       ? ""
                       : "'" + id + "' is not an entry id (0 or more)";
          },
          "ID", "entry id"))
      ->capture_default_str();
  export_command->add_option("--output,-o", options->output,
                             "A new file to write (mode 0600; never overwritten) instead of stdout");
  export_command->callback([&exit_code, options]() { exit_code = run_audit_export(*options); });
}

}  // namespace kelvin::ctl
