#pragma once
// A webhook receiver kelvin did not write, for integration tests: webhook_receiver.mjs under Node
// (from PATH), an HTTPS server with the installation's server certificate that records every
// request it gets as a JSON line, never answers its first `hold_first` ones, answers 500 to the
// next `fail_first` ones, then 204.

#include <charconv>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "installation.hpp"
#include "kelvin/testing/background_process.hpp"
#include "kelvin/testing/temp_dir.hpp"

namespace kelvin::testing {

// webhook_receiver.mjs under node (from PATH) with the installation's server certificate; its
// files live in their own directory under the installation's.
class WebhookReceiver {
 public:
  WebhookReceiver(const Installation& install, const std::string& name, int fail_first = 0, int hold_first = 0)
      : dir_(install.root() / name) {
    std::filesystem::create_directories(dir_);
    const auto tls = install.server_tls();
    process_ = std::make_unique<BackgroundProcess>(
        std::vector<std::string>{"node", KELVIN_WEBHOOK_RECEIVER, "--cert", tls.cert_file.string(), "--key",
                                 tls.key_file.string(), "--out", out_file().string(), "--port-file",
                                 (dir_ / "port").string(), "--fail-first", std::to_string(fail_first), "--hold-first",
                                 std::to_string(hold_first)},
        dir_ / "receiver.log");
    // The receiver writes the port file whole (a rename), once it listens.
    if (!kelvin::testing::wait_until([this] { return !read_text(dir_ / "port").empty() || !process_->running(); },
                                     std::chrono::seconds(20))) {
      throw std::runtime_error("the webhook receiver did not start listening: " + process_->log());
    }
    const std::string text = read_text(dir_ / "port");
    if (std::from_chars(text.data(), text.data() + text.size(), port_).ec != std::errc() || port_ <= 0) {
      throw std::runtime_error("the webhook receiver wrote no port: " + process_->log());
    }
  }

  int port() const { return port_; }
  std::string url(const std::string& path_and_query) const {
    return "https://localhost:" + std::to_string(port_) + path_and_query;
  }
  std::filesystem::path out_file() const { return dir_ / "requests.jsonl"; }
  BackgroundProcess& process() { return *process_; }

  // The requests recorded so far, in order of arrival.
  std::vector<nlohmann::json> requests() const {
    std::vector<nlohmann::json> lines;
    std::istringstream in(read_text(out_file()));
    for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
    return lines;
  }

 private:
  std::filesystem::path dir_;
  std::unique_ptr<BackgroundProcess> process_;
  int port_ = 0;
};

}  // namespace kelvin::testing
