#include "kelvin/influx/credentials.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string_view>
#include <utility>

#include "kelvin/core/files.hpp"

namespace kelvin::influx {
namespace fs = std::filesystem;

namespace {

// Two short lines; anything much larger is the wrong file.
constexpr std::size_t kMaxCredentialsFileBytes = 64u << 10;

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

std::string octal_mode(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

// Opens `path` and checks the opened file itself (fstat), so nothing can be swapped in between
// the check and the read.
Result<std::string> read_private_file(const fs::path& path) {
  // O_NONBLOCK: a FIFO named by mistake must not hang start-up; it is refused below.
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (fd.get() < 0) return files::error_from_errno("cannot open InfluxDB credentials file", path);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return files::error_from_errno("cannot inspect InfluxDB credentials file", path);
  const std::string name = path.string();
  if (!S_ISREG(st.st_mode)) {
    return make_error(Errc::permission_denied, "InfluxDB credentials file " + name + " is not a regular file");
  }
  if (st.st_uid != ::geteuid()) {
    return make_error(Errc::permission_denied, "InfluxDB credentials file " + name + " is owned by uid " +
                                                   std::to_string(st.st_uid) + ", not by this process's uid " +
                                                   std::to_string(::geteuid()) + "; run chown " +
                                                   std::to_string(::geteuid()) + " " + name);
  }
  if ((st.st_mode & 077) != 0) {
    return make_error(Errc::permission_denied, "InfluxDB credentials file " + name + " has mode " +
                                                   octal_mode(st.st_mode) + ": others may read it; run chmod 600 " +
                                                   name);
  }
  if (static_cast<std::size_t>(st.st_size) > kMaxCredentialsFileBytes) {
    return make_error(Errc::invalid_argument,
                      "InfluxDB credentials file " + name + " is larger than 64 KiB; it should hold two lines");
  }
  std::string content;
  char buffer[4096];
  for (;;) {
    ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      return files::error_from_errno("cannot read InfluxDB credentials file", path);
    }
    if (n == 0) break;
    content.append(buffer, static_cast<std::size_t>(n));
    if (content.size() > kMaxCredentialsFileBytes) {
      return make_error(Errc::invalid_argument,
                        "InfluxDB credentials file " + name + " is larger than 64 KiB; it should hold two lines");
    }
  }
  return content;
}

bool is_blank(char c) {
  return c == ' ' || c == '\t';
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && is_blank(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_blank(text.back())) text.remove_suffix(1);
  return text;
}

// Checks shared by both sources; `source` names where the values came from.
Result<void> check_credentials(const Credentials& credentials, const std::string& source) {
  if (credentials.username.empty()) return make_error(Errc::invalid_argument, source + ": the username is empty");
  if (credentials.password.empty()) return make_error(Errc::invalid_argument, source + ": the password is empty");
  if (credentials.username.find(':') != std::string::npos) {
    return make_error(Errc::invalid_argument,
                      source + ": the username contains ':', which HTTP Basic authentication cannot carry");
  }
  return {};
}

Result<Credentials> parse_credentials_file(std::string_view content, const std::string& name) {
  std::optional<std::string> username;
  std::optional<std::string> password;
  std::size_t line_number = 0;
  while (!content.empty()) {
    ++line_number;
    const std::size_t end = content.find('\n');
    std::string_view line = content.substr(0, end);
    content.remove_prefix(end == std::string_view::npos ? content.size() : end + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);

    const std::string_view trimmed = trim(line);
    if (trimmed.empty() || trimmed.front() == '#') continue;
    const std::size_t equals = line.find('=');
    const std::string_view key = equals == std::string_view::npos ? std::string_view{} : trim(line.substr(0, equals));
    std::optional<std::string>* slot = key == "username" ? &username : key == "password" ? &password : nullptr;
    const std::string where = "line " + std::to_string(line_number) + " of InfluxDB credentials file " + name;
    // Never quote the line: it may be a password with a typo in its key.
    if (slot == nullptr) {
      return make_error(Errc::invalid_argument, where + " is not `username=...`, `password=...`, a comment or blank");
    }
    if (slot->has_value()) {
      return make_error(Errc::invalid_argument, where + " sets " + std::string(key) + " a second time");
    }
    *slot = std::string(line.substr(equals + 1));
  }
  if (!username) {
    return make_error(Errc::invalid_argument, "InfluxDB credentials file " + name + " has no `username=...` line");
  }
  if (!password) {
    return make_error(Errc::invalid_argument, "InfluxDB credentials file " + name + " has no `password=...` line");
  }
  return Credentials{std::move(*username), std::move(*password)};
}

Result<std::optional<Credentials>> load_from_file(const fs::path& path) {
  auto content = read_private_file(path);
  if (!content) return std::move(content).error();
  const std::string name = path.string();
  auto credentials = parse_credentials_file(*content, name);
  if (!credentials) return std::move(credentials).error();
  if (auto checked = check_credentials(*credentials, "InfluxDB credentials file " + name); !checked) {
    return std::move(checked).error();
  }
  return std::optional<Credentials>(std::move(credentials).value());
}

Result<std::optional<Credentials>> load_from_environment(const std::function<const char*(const char*)>& getenv) {
  const char* username = getenv(kUsernameEnv);
  const char* password = getenv(kPasswordEnv);
  const bool has_username = username != nullptr && *username != '\0';
  const bool has_password = password != nullptr && *password != '\0';
  if (!has_username && !has_password) return std::optional<Credentials>();
  if (!has_password) {
    return make_error(Errc::invalid_argument, std::string(kUsernameEnv) + " is set but " + kPasswordEnv +
                                                  " is not; set both (or neither, for no authentication)");
  }
  if (!has_username) {
    return make_error(Errc::invalid_argument, std::string(kPasswordEnv) + " is set but " + kUsernameEnv +
                                                  " is not; set both (or neither, for no authentication)");
  }
  Credentials credentials{username, password};
  if (auto checked = check_credentials(credentials, std::string("environment variable ") + kUsernameEnv); !checked) {
    return std::move(checked).error();
  }
  return std::optional<Credentials>(std::move(credentials));
}

}  // namespace

Result<std::optional<Credentials>> load_credentials(const std::optional<fs::path>& file,
                                                    const std::function<const char*(const char*)>& getenv) {
  if (file) return load_from_file(*file);
  return load_from_environment(getenv);
}

}  // namespace kelvin::influx
