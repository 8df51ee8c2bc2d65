// The broker's ceiling for `make bench-ingest`: a consumer that does nothing with telemetry but
// count its readings, so what limits the rate is Mosquitto (and TLS), not the consumer. It
// subscribes like the gateway (same identity, QoS 1, kelvin's MQTT client) and rewrites the
// running count to a file every 100 ms until SIGTERM.
//
//   broker_ceiling_consumer HOST PORT CA CERT KEY COUNT_FILE

#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <string_view>
#include <thread>

#include "kelvin/mqtt/client.hpp"

namespace {

std::atomic<bool> g_stop{false};
void request_stop(int) { g_stop.store(true); }

std::uint64_t count_readings(std::string_view payload) {
  std::uint64_t n = 0;
  for (auto at = payload.find("\"seq\""); at != std::string_view::npos; at = payload.find("\"seq\"", at + 5)) ++n;
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 7) {
    std::fprintf(stderr, "usage: %s HOST PORT CA CERT KEY COUNT_FILE\n", argv[0]);
    return 2;
  }
  signal(SIGTERM, request_stop);
  signal(SIGINT, request_stop);
  std::atomic<std::uint64_t> readings{0};
  std::unique_ptr<kelvin::mqtt::Client> client;
  kelvin::mqtt::Callbacks callbacks;
  callbacks.on_connected = [&] { (void)client->subscribe("devices/+/telemetry", 1); };
  callbacks.on_message = [&](const kelvin::mqtt::Message& m) { readings.fetch_add(count_readings(m.payload)); };
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
  while (!g_stop.load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    std::ofstream(count_file + ".tmp") << readings.load() << "\n";
    std::rename((count_file + ".tmp").c_str(), count_file.c_str());
  }
  client->stop_background();
  return 0;
}
