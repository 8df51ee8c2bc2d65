// make bench-ingest's https mode: DEVICES simulated devices posting telemetry to kelvin-gateway
// over HTTPS, as a device without MQTT does (docs/protocol.md, "Telemetry over HTTPS").
//
// Every device has its own client certificate (PKI_DIR/devices/<id>/<id>.{crt,key}) and its own
// connection, kept alive (or, with --no-keep-alive, a new connection and a full TLS handshake for
// every request). It posts ONE reading per request, {"seq":N,"ts":T,"values":{...}}, to
// POST /api/v1/devices/<id>/telemetry and waits for the answer, which the gateway sends only once
// the reading is durably stored, before it takes the next reading: a closed loop, like a device.
// seq starts at 1 and grows by one per reading; a reading's ts is the wall clock when it is taken,
// at least 1 ms after the device's previous one (its readings never share a millisecond).
//
// Every answer is checked: 200 and its ack ("seq") equal to the seq just sent, the reading accepted.
// Anything else (a transport error included) is a failure: counted, the first few shown, and the
// same reading is sent again after 100 ms, as a device keeps a reading until it is acknowledged.
//
// The devices run on --threads threads (a libcurl multi handle each). Once every device's first
// reading is acknowledged (all are connected), they run --warmup seconds more, then --duration
// seconds measured: what is reported covers the answers that arrived in those. Then no new reading
// is taken, the requests in flight are answered, and the tool exits.
//
// stdout, one line:
//   <acknowledged readings/s> <latency p50 ms> <latency p99 ms> <connections opened> <failures>
//   <readings acknowledged in all>
// Latency is a request's: from sending it to its answer's last byte. The readings acknowledged in
// all (warm-up and the end included) are what the gateway must have stored. A summary goes to
// stderr.

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/https_client.hpp"
#include "kelvin/curl/curl_support.hpp"
#include "kelvin/proto/telemetry_codec.hpp"

namespace {

using kelvin::bench::HttpsAnswer;
using kelvin::bench::HttpsClient;
using kelvin::bench::HttpsClientGroup;
using kelvin::bench::HttpsClientOptions;
using SteadyClock = std::chrono::steady_clock;

constexpr auto kRetryDelay = std::chrono::milliseconds(100);
constexpr int kRequestTimeoutSeconds = 30;
constexpr std::size_t kProblemsShown = 5;

struct LoadOptions {
  int port = 0;  // the gateway's HTTPS port on 127.0.0.1
  std::string host = "localhost";
  std::filesystem::path pki_dir;
  std::string prefix = "bench-h-";
  int devices = 10;
  int threads = 2;
  double warmup_seconds = 3;
  double duration_seconds = 15;
  bool keep_alive = true;
};

// The run's clock, shared by the threads. The warm-up begins once every device has had its first
// reading acknowledged (so its connection made: hundreds of TLS handshakes take a while), or
// kConnectAllowance after the start if some device never got there; the measured period follows
// it, and devices stop taking readings when that ends.
class Window {
 public:
  Window(int devices, SteadyClock::duration warmup, SteadyClock::duration duration)
      : devices_without_ack_(devices),
        warmup_(warmup),
        duration_(duration),
        connect_deadline_(SteadyClock::now() + kConnectAllowance) {}

  // A device's first acknowledged reading.
  void device_connected() {
    if (devices_without_ack_.fetch_sub(1) == 1) all_connected_.store(SteadyClock::now().time_since_epoch().count());
  }
  bool measures(SteadyClock::time_point t) const { return t >= measure_from() && t < measure_until(); }
  bool over(SteadyClock::time_point t) const { return t >= measure_until(); }

 private:
  static constexpr auto kConnectAllowance = std::chrono::seconds(60);

  SteadyClock::time_point connected() const {
    const auto all = SteadyClock::time_point(SteadyClock::duration(all_connected_.load()));
    return std::min(all, connect_deadline_);
  }
  SteadyClock::time_point measure_from() const { return connected() + warmup_; }
  SteadyClock::time_point measure_until() const { return measure_from() + duration_; }

  std::atomic<int> devices_without_ack_;
  std::atomic<SteadyClock::rep> all_connected_{SteadyClock::time_point::max().time_since_epoch().count()};
  SteadyClock::duration warmup_;
  SteadyClock::duration duration_;
  SteadyClock::time_point connect_deadline_;
};

std::int64_t wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// One simulated device: its identity, its connection, and the reading it waits to see acknowledged.
struct SimulatedDevice {
  std::string id;
  std::string target;  // "/api/v1/devices/<id>/telemetry"
  int number = 0;      // 1-based, as in the id
  std::unique_ptr<HttpsClient> client;
  std::uint64_t seq = 0;                            // of the reading in flight (or waiting for its retry)
  std::int64_t last_ts = 0;                         // of the reading in flight
  std::optional<SteadyClock::time_point> retry_at;  // set while a refused reading waits to go again
};

std::string device_id(const std::string& prefix, int number) {
  char digits[16];
  std::snprintf(digits, sizeof digits, "%02d", number);
  return prefix + digits;
}

std::unique_ptr<SimulatedDevice> make_device(const LoadOptions& options, int number) {
  auto device = std::make_unique<SimulatedDevice>();
  device->number = number;
  device->id = device_id(options.prefix, number);
  device->target = "/api/v1/devices/" + device->id + "/telemetry";
  const std::filesystem::path dir = options.pki_dir / "devices" / device->id;
  HttpsClientOptions client_options;
  client_options.host = options.host;
  client_options.port = options.port;
  client_options.ca_file = options.pki_dir / "ca.crt";
  client_options.certificate_file = dir / (device->id + ".crt");
  client_options.key_file = dir / (device->id + ".key");
  client_options.keep_alive = options.keep_alive;
  client_options.timeout_seconds = kRequestTimeoutSeconds;
  device->client = std::make_unique<HttpsClient>(std::move(client_options));
  return device;
}

// Takes the device's next reading (seq + 1, now but never in the same millisecond as the last one)
// and prepares its request.
void take_next_reading(SimulatedDevice& device) {
  kelvin::proto::Reading reading;
  reading.seq = ++device.seq;
  reading.ts_ms = std::max(wall_clock_ms(), device.last_ts + 1);
  device.last_ts = reading.ts_ms;
  reading.set(kelvin::proto::Quantity::temperature, 20.0 + static_cast<double>(reading.seq % 100) / 10.0);
  reading.set(kelvin::proto::Quantity::humidity, 40.0 + device.number % 50);
  std::string body;
  kelvin::proto::append_reading_json(reading, body);
  device.client->prepare_post("application/json", body);
}

// Empty when the answer acknowledges exactly the reading `seq`: 200, {"seq":seq,"accepted":1,
// "rejected":[]}. Otherwise what is wrong with it, for the summary.
std::string problem_with(const HttpsAnswer& answer, std::uint64_t seq) {
  if (answer.status == 0) return "no answer: " + answer.error;
  if (answer.status != 200) return "status " + std::to_string(answer.status) + ": " + answer.body;
  const auto json = nlohmann::json::parse(answer.body, nullptr, false);
  if (!json.is_object()) return "200 without a JSON object: " + answer.body;
  const auto ack = json.value("seq", std::uint64_t{0});
  if (ack != seq) return "ack " + std::to_string(ack) + " for seq " + std::to_string(seq) + ": " + answer.body;
  if (json.value("accepted", 0) != 1 || !json.value("rejected", nlohmann::json::array()).empty()) {
    return "reading not accepted: " + answer.body;
  }
  return {};
}

// What one thread saw; merged at the end.
struct Tally {
  std::uint64_t acknowledged_in_window = 0;
  std::uint64_t acknowledged = 0;  // in all
  std::uint64_t failures = 0;
  std::vector<std::uint32_t> latencies_us;  // of the answers in the window
  std::vector<std::string> problems;        // the first kProblemsShown

  void record_problem(std::string problem) {
    ++failures;
    if (problems.size() < kProblemsShown) problems.push_back(std::move(problem));
  }
  void merge(Tally&& other) {
    acknowledged_in_window += other.acknowledged_in_window;
    acknowledged += other.acknowledged;
    failures += other.failures;
    latencies_us.insert(latencies_us.end(), other.latencies_us.begin(), other.latencies_us.end());
    for (auto& problem : other.problems) {
      if (problems.size() < kProblemsShown) problems.push_back(std::move(problem));
    }
  }
};

// Drives one thread's devices until the window is over and their last requests are answered.
class DeviceLoop {
 public:
  DeviceLoop(std::vector<SimulatedDevice*> devices, Window& window) : devices_(std::move(devices)), window_(window) {
    for (SimulatedDevice* device : devices_) by_client_.emplace(device->client.get(), device);
  }

  Tally run() {
    for (SimulatedDevice* device : devices_) {
      take_next_reading(*device);
      send(*device);
    }
    while (group_.in_flight() > 0 || waiting_for_retry_ > 0) {
      for (auto& [client, answer] : group_.wait_for_answers(std::chrono::milliseconds(10))) {
        handle_answer(*by_client_.at(client), answer);
      }
      send_due_retries();
    }
    return std::move(tally_);
  }

 private:
  void send(SimulatedDevice& device) {
    if (!group_.start(*device.client, device.target)) {
      tally_.record_problem("cannot start a request");
      schedule_retry(device);
    }
  }

  void handle_answer(SimulatedDevice& device, const HttpsAnswer& answer) {
    const auto now = SteadyClock::now();
    if (std::string problem = problem_with(answer, device.seq); !problem.empty()) {
      tally_.record_problem(device.id + ": " + problem);
      schedule_retry(device);
      return;
    }
    if (device.seq == 1) window_.device_connected();
    ++tally_.acknowledged;
    if (window_.measures(now)) {
      ++tally_.acknowledged_in_window;
      tally_.latencies_us.push_back(static_cast<std::uint32_t>(std::lround(answer.seconds * 1e6)));
    }
    if (window_.over(now)) return;  // the device stops: its last reading is acknowledged
    take_next_reading(device);
    send(device);
  }

  // The same reading goes again after kRetryDelay, unless the window is over by then.
  void schedule_retry(SimulatedDevice& device) {
    const auto at = SteadyClock::now() + kRetryDelay;
    if (window_.over(at)) return;
    device.retry_at = at;
    ++waiting_for_retry_;
  }

  void send_due_retries() {
    if (waiting_for_retry_ == 0) return;
    const auto now = SteadyClock::now();
    for (SimulatedDevice* device : devices_) {
      if (!device->retry_at || *device->retry_at > now) continue;
      device->retry_at.reset();
      --waiting_for_retry_;
      send(*device);
    }
  }

  std::vector<SimulatedDevice*> devices_;
  std::unordered_map<const HttpsClient*, SimulatedDevice*> by_client_;
  Window& window_;
  HttpsClientGroup group_;
  Tally tally_;
  std::size_t waiting_for_retry_ = 0;
};

// Devices are dealt to the threads in turn.
std::vector<std::vector<SimulatedDevice*>> deal(const std::vector<std::unique_ptr<SimulatedDevice>>& devices,
                                                int threads) {
  std::vector<std::vector<SimulatedDevice*>> hands(static_cast<std::size_t>(threads));
  for (std::size_t i = 0; i < devices.size(); ++i) hands[i % hands.size()].push_back(devices[i].get());
  return hands;
}

Tally run_devices(const std::vector<std::unique_ptr<SimulatedDevice>>& devices, const LoadOptions& options) {
  const auto seconds = [](double s) {
    return std::chrono::duration_cast<SteadyClock::duration>(std::chrono::duration<double>(s));
  };
  Window window(options.devices, seconds(options.warmup_seconds), seconds(options.duration_seconds));
  const auto hands = deal(devices, options.threads);
  std::vector<Tally> tallies(hands.size());
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < hands.size(); ++i) {
    threads.emplace_back([&, i] { tallies[i] = DeviceLoop(hands[i], window).run(); });
  }
  for (auto& thread : threads) thread.join();
  Tally total;
  for (auto& tally : tallies) total.merge(std::move(tally));
  return total;
}

// Nearest rank, in ms (0 without samples).
double percentile_ms(const std::vector<std::uint32_t>& sorted_us, double fraction) {
  if (sorted_us.empty()) return 0;
  const auto rank = static_cast<std::size_t>(std::ceil(fraction * static_cast<double>(sorted_us.size())));
  return sorted_us[std::clamp<std::size_t>(rank, 1, sorted_us.size()) - 1] / 1000.0;
}

std::uint64_t connections_opened(const std::vector<std::unique_ptr<SimulatedDevice>>& devices) {
  std::uint64_t connections = 0;
  for (const auto& device : devices) connections += device->client->connections_opened();
  return connections;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Simulated devices posting one reading per request to kelvin-gateway over HTTPS"};
  LoadOptions options;
  app.add_option("--port", options.port, "the gateway's HTTPS port on 127.0.0.1")->required();
  app.add_option("--host", options.host, "the name the gateway's certificate holds");
  app.add_option("--pki-dir", options.pki_dir, "PKI directory: ca.crt, devices/<id>/<id>.{crt,key}")
      ->required()
      ->check(CLI::ExistingDirectory);
  app.add_option("--prefix", options.prefix, "device ids are <prefix><NN>, from 01");
  app.add_option("--devices", options.devices)->check(CLI::Range(1, 100'000));
  app.add_option("--threads", options.threads, "threads the devices are spread over")->check(CLI::Range(1, 64));
  app.add_option("--warmup", options.warmup_seconds, "seconds before the measured period")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--duration", options.duration_seconds, "seconds measured")->check(CLI::PositiveNumber);
  bool no_keep_alive = false;
  app.add_flag("--no-keep-alive", no_keep_alive, "a new connection and TLS handshake for every request");
  CLI11_PARSE(app, argc, argv);
  options.keep_alive = !no_keep_alive;
  options.threads = std::min(options.threads, options.devices);

  if (auto initialised = kelvin::curl::ensure_initialised(); !initialised) {
    std::fprintf(stderr, "https_ingest_load: %s\n", initialised.error().message.c_str());
    return 1;
  }
  std::vector<std::unique_ptr<SimulatedDevice>> devices;
  for (int number = 1; number <= options.devices; ++number) devices.push_back(make_device(options, number));

  Tally tally = run_devices(devices, options);
  std::sort(tally.latencies_us.begin(), tally.latencies_us.end());
  const double per_second = static_cast<double>(tally.acknowledged_in_window) / options.duration_seconds;
  const double p50 = percentile_ms(tally.latencies_us, 0.50);
  const double p99 = percentile_ms(tally.latencies_us, 0.99);
  const std::uint64_t connections = connections_opened(devices);

  std::fprintf(stderr,
               "https_ingest_load: %d devices (%s), %.0f readings/s acknowledged over %.0f s, request latency p50 "
               "%.2f ms, p99 %.2f ms; %llu connections; %llu failures; %llu readings acknowledged in all\n",
               options.devices, options.keep_alive ? "keep-alive" : "a connection per request", per_second,
               options.duration_seconds, p50, p99, static_cast<unsigned long long>(connections),
               static_cast<unsigned long long>(tally.failures), static_cast<unsigned long long>(tally.acknowledged));
  for (const auto& problem : tally.problems) std::fprintf(stderr, "  failure: %s\n", problem.c_str());
  std::printf("%.0f %.2f %.2f %llu %llu %llu\n", per_second, p50, p99, static_cast<unsigned long long>(connections),
              static_cast<unsigned long long>(tally.failures), static_cast<unsigned long long>(tally.acknowledged));
  return 0;
}
