// The broker's ceiling for `make bench-ingest`: a consumer that stores nothing. It subscribes like
// the gateway (same identity, QoS 1, kelvin's MQTT client), counts readings, and acknowledges each
// device's highest seq every 5 ms (QoS 0), as the gateway does after each commit, so the simulated
// devices behave exactly as they do against the gateway (without acks their outboxes would grow
// without bound and slow the load generator down, not the broker). It rewrites the running count to a file every 100 ms
// until SIGTERM, with the latency from each reading's timestamp to its arrival here (p50 and p99 in ms): the floor the
// simulator and the broker leave the gateway. SIGUSR1 starts the latency over (at the end of the
// benchmark's warm-up), so the connection burst at start is left out.
//
// COUNT_FILE holds one line: "<readings> <p50 ms> <p99 ms>".
//
//   broker_ceiling_consumer HOST PORT CA CERT KEY COUNT_FILE

#include <signal.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "kelvin/gateway/latency_histogram.hpp"
#include "kelvin/mqtt/client.hpp"

namespace {

std::atomic<bool> g_stop{false};
std::atomic<bool> g_restart_latency{false};
void request_stop(int) {
  g_stop.store(true);
}
void request_latency_restart(int) {
  g_restart_latency.store(true);
}

std::uint64_t count_readings(std::string_view payload) {
  std::uint64_t n = 0;
  for (auto at = payload.find("\"seq\""); at != std::string_view::npos; at = payload.find("\"seq\"", at + 5)) ++n;
  return n;
}

// The seq of the last reading in a payload (the simulator sends them in ascending order).
std::uint64_t last_seq(std::string_view payload) {
  auto at = payload.rfind("\"seq\":");
  if (at == std::string_view::npos) return 0;
  std::uint64_t seq = 0;
  const char* begin = payload.data() + at + 6;
  std::from_chars(begin, payload.data() + payload.size(), seq);
  return seq;
}

// Records now - ts for every reading in a payload (the simulator's JSON: `"ts":<ms>`).
void record_latencies(std::string_view payload, std::int64_t now_ms, kelvin::gateway::LatencyHistogram& latency) {
  constexpr std::string_view kTs = "\"ts\":";
  for (auto at = payload.find(kTs); at != std::string_view::npos; at = payload.find(kTs, at + kTs.size())) {
    std::int64_t ts = 0;
    const char* begin = payload.data() + at + kTs.size();
    if (std::from_chars(begin, payload.data() + payload.size(), ts).ec == std::errc{}) latency.record(now_ms - ts);
  }
}

std::int64_t wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// "devices/<id>/telemetry" -> "<id>".
std::string_view device_of(std::string_view topic) {
  topic.remove_prefix(std::string_view("devices/").size());
  return topic.substr(0, topic.find('/'));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 7) {
    std::fprintf(stderr, "usage: %s HOST PORT CA CERT KEY COUNT_FILE\n", argv[0]);
    return 2;
  }
  signal(SIGTERM, request_stop);
  signal(SIGINT, request_stop);
  signal(SIGUSR1, request_latency_restart);
  std::atomic<std::uint64_t> readings{0};
  std::unique_ptr<kelvin::mqtt::Client> client;
  kelvin::mqtt::Callbacks callbacks;
  callbacks.on_connected = [&] { (void)client->subscribe("devices/+/telemetry", 1); };
  std::mutex acks_mutex;
  std::map<std::string, std::uint64_t, std::less<>> highest_seq;  // device -> seq not yet acknowledged
  kelvin::gateway::LatencyHistogram latency;                      // guarded by acks_mutex
  callbacks.on_message = [&](const kelvin::mqtt::Message& m) {
    readings.fetch_add(count_readings(m.payload));
    const auto now_ms = wall_clock_ms();
    std::lock_guard lock(acks_mutex);
    record_latencies(m.payload, now_ms, latency);
    auto& seq = highest_seq[std::string(device_of(m.topic))];
    seq = std::max(seq, last_seq(m.payload));
  };
  kelvin::mqtt::ClientOptions options;
  options.client_id = "svc-gateway";
  options.host = argv[1];
  options.port = std::stoi(argv[2]);
  options.tls = {argv[3], argv[4], argv[5]};
  options.max_inflight = 1000;
  auto created = kelvin::mqtt::Client::create(options, callbacks);
  if (!created) {
    std::fprintf(stderr, "broker_ceiling_consumer: %s\n", created.error().message.c_str());
    return 1;
  }
  client = std::move(*created);
  if (auto started = client->start_background(); !started) {
    std::fprintf(stderr, "broker_ceiling_consumer: %s\n", started.error().message.c_str());
    return 1;
  }
  const std::string count_file = argv[6];
  for (int tick = 0; !g_stop.load(); ++tick) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    std::map<std::string, std::uint64_t, std::less<>> due;
    {
      std::lock_guard lock(acks_mutex);
      due.swap(highest_seq);
      if (g_restart_latency.exchange(false)) latency.reset();
    }
    for (const auto& [device, seq] : due) {
      (void)client->publish("devices/" + device + "/ack", "{\"seq\":" + std::to_string(seq) + "}", 0, false);
    }
    if (tick % 20 == 0) {
      std::int64_t p50 = 0, p99 = 0;
      {
        std::lock_guard lock(acks_mutex);
        p50 = latency.percentile(0.50);
        p99 = latency.percentile(0.99);
      }
      std::ofstream(count_file + ".tmp") << readings.load() << " " << p50 << " " << p99 << "\n";
      std::rename((count_file + ".tmp").c_str(), count_file.c_str());
    }
  }
  client->stop_background();
  return 0;
}
