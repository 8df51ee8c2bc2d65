// make bench-ota's load (bench/ota/run): DEVICES devices downloading one firmware image at the
// same moment, each over its own mutual-TLS connection with its own client certificate
// (PKI_DIR/devices/<id>/<id>.{crt,key}), as a fleet does when a release goes out. The server may be
// kelvin-gateway or anything else serving the same bytes at the same path (nginx, in the run).
//
// A round starts every device's download at once and ends when the last download ended. A
// download is one GET of the whole image, or with --range-kib N a GET of N KiB after another on
// the same connection (Range: bytes=…, 206 each), as kelvin-agent fetches an image (64 KiB pieces,
// kelvin/device/update_client.hpp, kUpdateRangeBytes). Round 1 opens the connections (TCP, the TLS handshake
// with the client certificate), later rounds reuse them (keep-alive): round 1 shows what a fleet
// that was idle costs, the others the transfer alone. Per download: its completion time (from
// starting its first request to the last byte, the connection's setup included in round 1), and
// afterwards, with the clock stopped, its size and SHA-256 against the image's. A 503 answer (the
// gateway's "busy") is asked again after its Retry-After of 1 s, at most kMaxBusyRetries times per
// download; the completion time then spans every attempt, and the round counts the busy answers.
// Any other status, a transport error, or a body that is not the image is a failed download.
// (kelvin-agent itself gives an update up on a 503 and tries again at its next check.)
//
// Every client connects from a loopback address of its own (127.0.1.1 onwards), as devices of a
// fleet do: the gateway limits the connections of one client address
// ([http] max_connections_per_address), and one address for all would measure that limit.
//
// stdout, one line per round of key=value pairs (the run script reads them):
//   round=N downloads=… ok=… failed=… busy=… requests=… bytes=… wall_s=… mib_s=… downloads_s=…
//   p50_ms=… p99_ms=… max_ms=… connections=… client_cpu_s=…
// Throughput counts verified downloads only. A summary and the first failures go to stderr.

#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <barrier>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/https_client.hpp"
#include "common/percentile.hpp"
#include "kelvin/crypto/digest.hpp"
#include "kelvin/curl/curl_support.hpp"

namespace {

using kelvin::bench::HttpsClient;
using kelvin::bench::HttpsClientGroup;
using kelvin::bench::HttpsClientOptions;
using SteadyClock = std::chrono::steady_clock;

constexpr auto kBusyRetryDelay = std::chrono::seconds(1);  // the gateway's Retry-After
constexpr int kMaxBusyRetries = 30;
constexpr long kRequestTimeoutSeconds = 120;
constexpr std::size_t kProblemsShown = 5;

struct LoadOptions {
  int port = 0;
  std::string host = "localhost";
  std::filesystem::path pki_dir;
  std::string prefix = "ota-";
  int devices = 500;
  int rounds = 2;
  int threads = 2;
  // The download's path; "{id}" is replaced by the device's id.
  std::string path = "/api/v1/devices/{id}/releases/bench/1.0.0/image";
  std::filesystem::path image;
  std::uint64_t range_bytes = 0;  // 0: one GET of the whole image
};

struct Device {
  std::string id;
  std::string target;
  std::unique_ptr<HttpsClient> client;
  // This round's download.
  SteadyClock::time_point started;
  std::optional<SteadyClock::time_point> retry_at;
  int busy_retries = 0;
  std::string body;     // what arrived so far
  bool done = false;    // the download ended: whole, or failed (problem)
  std::string problem;  // why it failed
  double seconds = 0;   // from the first request's start to the last answer's last byte
};

// What one thread's devices did in one round.
struct RoundTally {
  SteadyClock::time_point first_start = SteadyClock::time_point::max();
  SteadyClock::time_point last_end = SteadyClock::time_point::min();
  std::uint64_t busy = 0;
  std::uint64_t requests = 0;
};

std::string device_id(const std::string& prefix, int number) {
  char digits[16];
  std::snprintf(digits, sizeof digits, "%02d", number);  // as fleet_tool issue names them
  return prefix + digits;
}

// 127.0.1.1, 127.0.1.2, … 127.0.1.250, 127.0.2.1, …: one address per device.
std::string loopback_address(int index) {
  return "127.0." + std::to_string(1 + index / 250) + "." + std::to_string(1 + index % 250);
}

// Runs one round for one thread's devices: every download started at once, each to its end.
// `image_size` is what a download must reach; `range_bytes` 0 asks for it in one GET.
RoundTally run_round(const std::vector<Device*>& devices, std::uint64_t image_size, std::uint64_t range_bytes) {
  RoundTally tally;
  HttpsClientGroup group;
  std::unordered_map<const HttpsClient*, Device*> by_client;
  std::size_t waiting = 0;  // devices whose busy answer is to be asked again
  const auto end = [&](Device& device, std::string problem) {
    const auto now = SteadyClock::now();
    device.done = true;
    device.problem = std::move(problem);
    device.seconds = std::chrono::duration<double>(now - device.started).count();
    tally.last_end = std::max(tally.last_end, now);
  };
  // The next request of the device's download: the whole image, or the next piece.
  const auto request_next = [&](Device& device) {
    std::string range;
    if (range_bytes > 0) {
      const std::uint64_t first = device.body.size();
      range = std::to_string(first) + "-" + std::to_string(std::min(first + range_bytes, image_size) - 1);
    }
    device.client->prepare_get(range);
    ++tally.requests;
    if (!group.start(*device.client, device.target)) end(device, "cannot start a request");
  };
  for (Device* device : devices) {
    by_client.emplace(device->client.get(), device);
    device->body.clear();
    device->done = false;
    device->problem.clear();
    device->retry_at.reset();
    device->busy_retries = 0;
    device->started = SteadyClock::now();
    tally.first_start = std::min(tally.first_start, device->started);
    request_next(*device);
  }
  while (group.in_flight() > 0 || waiting > 0) {
    for (auto& [client, answer] : group.wait_for_answers(std::chrono::milliseconds(10))) {
      Device& device = *by_client.at(client);
      if (answer.status == 503 && device.busy_retries < kMaxBusyRetries) {
        ++tally.busy;
        ++device.busy_retries;
        device.retry_at = SteadyClock::now() + kBusyRetryDelay;
        ++waiting;
        continue;
      }
      const int expected = range_bytes > 0 ? 206 : 200;
      if (answer.status != expected) {
        end(device, answer.status == 0 ? answer.error
                                       : "status " + std::to_string(answer.status) + ": " + answer.body.substr(0, 200));
        continue;
      }
      if (answer.body.empty()) {
        end(device, "an answer without bytes");
        continue;
      }
      if (device.body.empty()) {
        device.body = std::move(answer.body);  // a whole image is not copied
      } else {
        device.body += answer.body;
      }
      if (range_bytes > 0 && device.body.size() < image_size) {
        request_next(device);
      } else {
        end(device, "");
      }
    }
    if (waiting == 0) continue;
    const auto now = SteadyClock::now();
    for (Device* device : devices) {
      if (!device->retry_at || *device->retry_at > now) continue;
      device->retry_at.reset();
      --waiting;
      request_next(*device);
    }
  }
  return tally;
}

double cpu_seconds_of_process() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Devices downloading one firmware image at once over mutual TLS (make bench-ota)"};
  LoadOptions options;
  app.add_option("--port", options.port, "the server's HTTPS port on 127.0.0.1")->required();
  app.add_option("--host", options.host, "the name the server's certificate holds");
  app.add_option("--pki-dir", options.pki_dir, "PKI directory: ca.crt, devices/<id>/<id>.{crt,key}")
      ->required()
      ->check(CLI::ExistingDirectory);
  app.add_option("--prefix", options.prefix, "device ids are <prefix><NN>, from 01");
  app.add_option("--devices", options.devices)->check(CLI::Range(1, 60'000));
  app.add_option("--rounds", options.rounds, "rounds of downloads; the first opens the connections")
      ->check(CLI::Range(1, 100));
  app.add_option("--threads", options.threads, "threads the devices are spread over")->check(CLI::Range(1, 64));
  app.add_option("--path", options.path, "the image's path; {id} is the device's id");
  app.add_option("--image", options.image, "the image the downloads must equal")->required()->check(CLI::ExistingFile);
  std::uint64_t range_kib = 0;
  app.add_option("--range-kib", range_kib, "download in pieces of this many KiB (0: one GET of the whole image)")
      ->check(CLI::Range(0, 1'048'576));
  CLI11_PARSE(app, argc, argv);
  options.range_bytes = range_kib * 1024;

  if (auto ready = kelvin::curl::ensure_initialised(); !ready) {
    std::fprintf(stderr, "ota_load: %s\n", ready.error().message.c_str());
    return 1;
  }
  std::ifstream image_file(options.image, std::ios::binary);
  const std::string image((std::istreambuf_iterator<char>(image_file)), std::istreambuf_iterator<char>());
  const std::string image_sha256 = kelvin::crypto::sha256_hex(image);

  std::vector<std::unique_ptr<Device>> devices;
  for (int i = 0; i < options.devices; ++i) {
    auto device = std::make_unique<Device>();
    device->id = device_id(options.prefix, i + 1);
    device->target = options.path;
    if (auto at = device->target.find("{id}"); at != std::string::npos) device->target.replace(at, 4, device->id);
    const auto identity = options.pki_dir / "devices" / device->id;
    HttpsClientOptions client;
    client.host = options.host;
    client.port = options.port;
    client.ca_file = options.pki_dir / "ca.crt";
    client.certificate_file = identity / (device->id + ".crt");
    client.key_file = identity / (device->id + ".key");
    client.timeout_seconds = kRequestTimeoutSeconds;
    client.local_address = loopback_address(i);
    device->client = std::make_unique<HttpsClient>(std::move(client));
    devices.push_back(std::move(device));
  }
  // Devices are dealt to the threads in turn; each thread has its own group (libcurl multi handle).
  std::vector<std::vector<Device*>> hands(static_cast<std::size_t>(options.threads));
  for (std::size_t i = 0; i < devices.size(); ++i) hands[i % hands.size()].push_back(devices[i].get());

  std::uint64_t connections_before = 0;
  for (int round = 1; round <= options.rounds; ++round) {
    const double cpu_before = cpu_seconds_of_process();
    std::vector<RoundTally> tallies(hands.size());
    std::barrier ready(static_cast<std::ptrdiff_t>(hands.size()));  // every thread set up: go together
    std::vector<std::thread> threads;
    for (std::size_t t = 0; t < hands.size(); ++t) {
      threads.emplace_back([&, t] {
        ready.arrive_and_wait();
        tallies[t] = run_round(hands[t], image.size(), options.range_bytes);
      });
    }
    for (auto& thread : threads) thread.join();
    const double client_cpu = cpu_seconds_of_process() - cpu_before;

    // The clock has stopped: check every body against the image.
    RoundTally total;
    std::vector<double> ms;
    std::uint64_t ok = 0, failed = 0, bytes = 0, connections = 0;
    std::vector<std::string> problems;
    for (const auto& tally : tallies) {
      total.first_start = std::min(total.first_start, tally.first_start);
      total.last_end = std::max(total.last_end, tally.last_end);
      total.busy += tally.busy;
      total.requests += tally.requests;
    }
    for (auto& device : devices) {
      connections += device->client->connections_opened();
      std::string problem = device->problem;
      if (problem.empty() && device->body.size() != image.size()) {
        problem = std::to_string(device->body.size()) + " bytes, not " + std::to_string(image.size());
      } else if (problem.empty() && kelvin::crypto::sha256_hex(device->body) != image_sha256) {
        problem = "the body is not the image (SHA-256)";
      }
      if (problem.empty()) {
        ++ok;
        bytes += device->body.size();
        ms.push_back(device->seconds * 1000.0);
      } else {
        ++failed;
        if (problems.size() < kProblemsShown) problems.push_back(device->id + ": " + problem);
      }
      device->body = std::string();  // the memory back before the next round
    }
    const double wall = total.last_end > total.first_start
                            ? std::chrono::duration<double>(total.last_end - total.first_start).count()
                            : 0;
    const std::uint64_t new_connections = connections - connections_before;
    connections_before = connections;
    std::printf(
        "round=%d downloads=%d ok=%llu failed=%llu busy=%llu requests=%llu bytes=%llu wall_s=%.3f mib_s=%.1f "
        "downloads_s=%.1f "
        "p50_ms=%.1f p99_ms=%.1f max_ms=%.1f connections=%llu client_cpu_s=%.2f\n",
        round, options.devices, static_cast<unsigned long long>(ok), static_cast<unsigned long long>(failed),
        static_cast<unsigned long long>(total.busy), static_cast<unsigned long long>(total.requests),
        static_cast<unsigned long long>(bytes), wall, wall > 0 ? static_cast<double>(bytes) / 1048576.0 / wall : 0.0,
        wall > 0 ? static_cast<double>(ok) / wall : 0.0, kelvin::bench::percentile(ms, 0.50),
        kelvin::bench::percentile(ms, 0.99), kelvin::bench::percentile(ms, 1.0),
        static_cast<unsigned long long>(new_connections), client_cpu);
    std::fflush(stdout);
    std::fprintf(stderr, "ota_load: round %d: %llu of %d downloads verified in %.2f s, %llu busy answers\n", round,
                 static_cast<unsigned long long>(ok), options.devices, wall,
                 static_cast<unsigned long long>(total.busy));
    for (const auto& problem : problems) std::fprintf(stderr, "ota_load:   %s\n", problem.c_str());
  }
  return 0;
}
