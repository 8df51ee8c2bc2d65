// kelvin-agent: the Linux device program.
//   kelvin-agent run --config agent.toml          one device with real (or simulated) sensors,
//                                                  over MQTT or HTTPS (the config's transport)
//   kelvin-agent boot --config agent.toml         the boot step of a device with firmware updates:
//                                                  starts and supervises the slot the boot record
//                                                  names (boot_step.hpp; run by systemd)
//   kelvin-agent simulate --devices N ...          N simulated devices, each with its own TLS
//                                                  connection and certificate, for demo and load
//                                                  (MQTT only)

#include <signal.h>
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <cstdio>
#include <thread>

#include "boot_step.hpp"
#include "device_fleet.hpp"
#include "device_runner.hpp"
#include "https_device_runner.hpp"
#include "kelvin/core/identity.hpp"
#include "kelvin/device/memory_outbox_journal.hpp"
#include "kelvin/device/simulated_sensor.hpp"
#include "kelvin/linux_port/agent_config.hpp"
#include "kelvin/linux_port/file_outbox_journal.hpp"
#include "kelvin/linux_port/sensor_factory.hpp"
#include "kelvin/linux_port/sensor_set.hpp"
#include "kelvin/log/log.hpp"
#include "update_agent.hpp"

namespace {

namespace fs = std::filesystem;
using namespace kelvin;
using namespace std::chrono_literals;

std::atomic<bool> g_stop{false};

void request_stop(int) {
  g_stop.store(true);
}

void install_signal_handlers() {
  struct sigaction action {};
  action.sa_handler = request_stop;
  sigemptyset(&action.sa_mask);
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

int fail(const std::string& message) {
  log::error_lines("agent", message);
  return 1;
}

// The update agent of this start, or null: updates off ([update] missing, or not started by the
// boot step). Fails only a trial start: an image that cannot update itself any further must not
// confirm itself, so the boot step rolls it back.
Result<std::unique_ptr<agent::UpdateAgent>> start_updates(const linux_port::AgentConfig& config,
                                                          const device::Outbox& outbox) {
  if (!config.update.enabled) return std::unique_ptr<agent::UpdateAgent>();
  const char* slot = std::getenv(agent::kBootSlotVariable);
  if (!slot) {
    log::component("agent", config.device_id)
        .warn("[update] is set, but updates need the boot step: run kelvin-agent boot --config {}",
              config.source.string());
    return std::unique_ptr<agent::UpdateAgent>();
  }
  const char* trial = std::getenv(agent::kBootTrialVariable);
  agent::UpdateAgentOptions options;
  options.device_id = config.device_id;
  options.settings = config.update;
  const bool https = config.transport == linux_port::TransportKind::https;
  options.https.host = config.update.host;
  options.https.port = config.update.port;
  options.https.ca_file = https ? config.https.ca_file : config.broker.ca_file;
  options.https.cert_file = https ? config.https.cert_file : config.broker.cert_file;
  options.https.key_file = https ? config.https.key_file : config.broker.key_file;
  options.running_version = *proto::parse_firmware_version(KELVIN_VERSION);
  options.running_slot = std::string_view(slot) == "b" ? device::Slot::b : device::Slot::a;
  options.trial = trial && std::string_view(trial) == "1";
  options.statuses_over_https = https;
  options.acked_seq_at_start = outbox.acked_seq();
  const bool on_trial = options.trial;
  auto updates = agent::UpdateAgent::start(std::move(options));
  if (updates) {
    log::component("agent", config.device_id)
        .info("{} {} in slot {}{}; updates from {}:{}", config.update.product, KELVIN_VERSION, slot,
              on_trial ? " on trial: it confirms itself once connected with a reading acknowledged" : "",
              config.update.host, config.update.port);
    return updates;
  }
  if (on_trial) return std::move(updates).error();
  log::component("agent", config.device_id).error("updates are off: {}", updates.error().message);
  return std::unique_ptr<agent::UpdateAgent>();
}

int run_device(const fs::path& config_file) {
  auto config = linux_port::load_agent_config(config_file);
  if (!config) return fail(config.error().message);
  log::set_level(config->log_level);  // a name the config checked
  auto sources = linux_port::make_sensor_sources(*config, "/", [](const linux_port::SensorSettings& s) {
    return std::make_unique<device::SimulatedSensor>(s.seed);
  });
  if (!sources) return fail(sources.error().message);
  linux_port::SensorSet sensors(std::move(*sources));

  auto journal = linux_port::FileOutboxJournal::open(config->outbox.dir);
  if (!journal) return fail(journal.error().message);
  device::Outbox outbox(*journal, journal->snapshot(), config->outbox.capacity);
  log::component("agent", config->device_id)
      .info("outbox {} holds {} unacknowledged readings; next seq {}", config->outbox.dir.string(),
            outbox.pending_count(), outbox.next_seq());

  device::SessionConfig session;
  session.device_id = config->device_id;
  session.fw_version = KELVIN_VERSION;
  const auto interval_ms = static_cast<std::int64_t>(config->interval_s * 1000.0);
  agent::ReadSensors read_sensors = [&sensors, &config](std::int64_t now_ms) -> Result<device::SensorValues> {
    auto reading = sensors.read(now_ms);
    for (const auto& [source, error] : reading.failures) {
      log::component("agent", config->device_id).warn("sensor {}: {}", source, error.message);
    }
    if (reading.empty()) return make_error(Errc::io, "no sensor produced a value");
    return reading.values;
  };

  auto updates = start_updates(*config, outbox);
  if (!updates) return fail(updates.error().message);

  std::uint64_t readings_taken = 0;
  if (config->transport == linux_port::TransportKind::https) {
    agent::HttpsRunnerOptions options;
    options.session = std::move(session);
    options.readings.interval_ms = interval_ms;
    options.https.host = config->https.host;
    options.https.port = config->https.port;
    options.https.ca_file = config->https.ca_file;
    options.https.cert_file = config->https.cert_file;
    options.https.key_file = config->https.key_file;
    options.https.request_timeout = std::chrono::seconds(config->https.timeout_s);
    options.https.connect_timeout = std::min<std::chrono::milliseconds>(options.https.request_timeout, 10s);
    options.updates = updates->get();
    agent::HttpsDeviceRunner runner(std::move(options), outbox, std::move(read_sensors));
    if (auto r = runner.prepare(); !r) return fail(r.error().message);
    install_signal_handlers();
    runner.run(g_stop);
    readings_taken = runner.counters().readings_taken;
  } else {
    agent::DeviceRunnerOptions options;
    options.session = std::move(session);
    options.interval_ms = interval_ms;
    options.mqtt.client_id = config->device_id;
    options.mqtt.host = config->broker.host;
    options.mqtt.port = config->broker.port;
    options.mqtt.keepalive_s = static_cast<int>(config->broker.keepalive_s);
    options.mqtt.tls = {config->broker.ca_file, config->broker.cert_file, config->broker.key_file};
    options.updates = updates->get();
    agent::DeviceRunner runner(std::move(options), outbox, std::move(read_sensors));
    if (auto r = runner.prepare(); !r) return fail(r.error().message);
    install_signal_handlers();
    runner.run(g_stop);
    readings_taken = runner.counters().readings_taken;
  }
  if (auto r = journal->sync(); !r) log::component("agent", config->device_id).error("{}", r.error().message);
  log::component("agent", config->device_id)
      .info("stopped; {} readings taken, {} unacknowledged kept in the outbox for the next start", readings_taken,
            outbox.pending_count());
  if (*updates && (*updates)->restart_wanted()) return agent::kRestartIntoStagedImage;
  return 0;
}

int run_boot(const fs::path& config_file) {
  auto config = linux_port::load_agent_config(config_file);
  if (!config) return fail(config.error().message);
  log::set_level(config->log_level);  // a name the config checked
  std::error_code error;
  agent::BootStepOptions options;
  options.config_file = fs::absolute(config_file, error);
  options.factory_program = fs::read_symlink("/proc/self/exe", error);
  if (error) return fail("cannot find this program's own file: " + error.message());
  options.factory_version = *proto::parse_firmware_version(KELVIN_VERSION);
  if (config->update.enabled) {
    options.update_dir = config->update.dir;
    options.trial_timeout = std::chrono::seconds(config->update.trial_timeout_s);
  } else {
    options.update_dir = config_file.parent_path() / "update";
    log::component("agent", config->device_id)
        .info("updates are off (no [update] in {}); supervising the installed agent", config_file.string());
  }
  install_signal_handlers();
  return agent::run_boot_step(options, g_stop);
}

struct SimulateOptions {
  int devices = 5;
  double interval_s = 1.0;
  fs::path pki_dir = "/var/lib/kelvin/pki";
  std::string host = "localhost";
  int port = 8883;
  std::string prefix = "sim-";
  int first = 1;
  std::int64_t coalesce_ms = 20;
  std::size_t outbox_capacity = 100'000;
  std::size_t max_in_flight = 2000;
  int burst = 1;
  double duration_s = 0;  // 0: until SIGTERM/Ctrl-C
  int threads = 2;
  fs::path state_dir;  // empty: outboxes in memory
  int connect_timeout_s = 10;
};

std::string simulated_device_id(const SimulateOptions& o, int index) {
  char number[16];
  std::snprintf(number, sizeof number, "%02d", index);
  return o.prefix + number;
}

// Each device holds a TLS connection (one descriptor), libmosquitto's wake-up socket pair (two)
// and, with a state dir, its journal and lock file (two more). Raises the soft limit as far as the
// hard one (root may raise that too) and says plainly when it is still too low.
Result<void> ensure_descriptors_for(const SimulateOptions& o) {
  const rlim_t per_device = o.state_dir.empty() ? 3 : 5;
  const rlim_t needed = static_cast<rlim_t>(o.devices) * per_device + 64;
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return make_error(Errc::io, "getrlimit(RLIMIT_NOFILE) failed");
  if (limit.rlim_cur >= needed) return {};
  rlimit wanted{std::max(limit.rlim_cur, needed), std::max(limit.rlim_max, needed)};
  if (::setrlimit(RLIMIT_NOFILE, &wanted) == 0) return {};
  wanted.rlim_max = limit.rlim_max;
  wanted.rlim_cur = limit.rlim_max;
  (void)::setrlimit(RLIMIT_NOFILE, &wanted);
  if (limit.rlim_max >= needed) return {};
  return make_error(Errc::invalid_argument,
                    std::to_string(o.devices) + " devices need about " + std::to_string(needed) +
                        " file descriptors, and this process may open at most " + std::to_string(limit.rlim_max) +
                        "; raise the limit (ulimit -n, or LimitNOFILE= in a systemd unit) or run fewer devices "
                        "per process");
}

// One simulated device: a simulated sensor, an outbox (in memory, or a journal under the state
// dir as the real agent keeps it) and the runner that delivers it.
struct SimulatedDevice {
  std::unique_ptr<device::MemoryOutboxJournal> memory_journal;
  std::optional<linux_port::FileOutboxJournal> file_journal;
  std::unique_ptr<device::Outbox> outbox;
  std::unique_ptr<device::SimulatedSensor> sensor;
  std::unique_ptr<agent::DeviceRunner> runner;
};

Result<std::unique_ptr<SimulatedDevice>> make_simulated_device(const SimulateOptions& o, int number,
                                                               std::int64_t first_reading_delay_ms) {
  std::string id = simulated_device_id(o, number);
  if (auto valid = validate_device_id(id); !valid) return std::move(valid).error();
  auto sim = std::make_unique<SimulatedDevice>();
  if (o.state_dir.empty()) {
    sim->memory_journal = std::make_unique<device::MemoryOutboxJournal>();
    sim->outbox = std::make_unique<device::Outbox>(*sim->memory_journal, device::OutboxSnapshot{}, o.outbox_capacity);
  } else {
    linux_port::FileOutboxJournalOptions journal_options;
    journal_options.sync_each_reading = false;
    auto journal = linux_port::FileOutboxJournal::open(o.state_dir / id, journal_options);
    if (!journal) return make_error(journal.error().code, id + ": " + journal.error().message);
    sim->file_journal.emplace(std::move(*journal));
    sim->outbox =
        std::make_unique<device::Outbox>(*sim->file_journal, sim->file_journal->snapshot(), o.outbox_capacity);
  }
  sim->sensor = std::make_unique<device::SimulatedSensor>(static_cast<std::uint64_t>(number));
  agent::DeviceRunnerOptions options;
  options.session.device_id = id;
  options.session.fw_version = KELVIN_VERSION;
  options.interval_ms = std::max<std::int64_t>(1, static_cast<std::int64_t>(o.interval_s * 1000));
  options.first_reading_delay_ms = first_reading_delay_ms;
  options.coalesce_ms = o.coalesce_ms;
  options.readings_per_interval = o.burst;
  options.session.max_in_flight_readings = o.max_in_flight;
  options.mqtt.client_id = id;
  options.mqtt.host = o.host;
  options.mqtt.port = o.port;
  options.mqtt.connect_timeout_s = o.connect_timeout_s;
  fs::path dir = o.pki_dir / "devices" / id;
  options.mqtt.tls = {o.pki_dir / "ca.crt", dir / (id + ".crt"), dir / (id + ".key")};
  auto* sensor = sim->sensor.get();
  sim->runner = std::make_unique<agent::DeviceRunner>(std::move(options), *sim->outbox,
                                                      [sensor](std::int64_t now_ms) { return sensor->read(now_ms); });
  if (auto r = sim->runner->prepare(); !r) {
    return make_error(r.error().code,
                      id + ": " + r.error().message + " (add the device first: kelvinctl device add " + id + ")");
  }
  return sim;
}

// The devices run on a few threads (device_fleet.hpp), their readings spread over the interval.
int run_simulation(const SimulateOptions& o) {
  if (auto r = ensure_descriptors_for(o); !r) return fail(r.error().message);
  std::vector<std::unique_ptr<SimulatedDevice>> devices;
  std::vector<agent::DeviceRunner*> runners;
  const auto interval_ms = static_cast<std::int64_t>(o.interval_s * 1000);
  for (int i = 0; i < o.devices; ++i) {
    auto sim = make_simulated_device(o, o.first + i, interval_ms * i / o.devices);
    if (!sim) return fail(sim.error().message);
    runners.push_back((*sim)->runner.get());
    devices.push_back(std::move(*sim));
  }
  std::uint64_t resumed = 0;
  for (auto& sim : devices) resumed += sim->outbox->pending_count();
  install_signal_handlers();
  log::component("simulator")
      .info("simulating {} devices ({}..{}) on {} threads, a reading every {} s each; outboxes {}", o.devices,
            simulated_device_id(o, o.first), simulated_device_id(o, o.first + o.devices - 1),
            std::min(o.threads, o.devices), o.interval_s,
            o.state_dir.empty()
                ? std::string("in memory (lost at exit; a later run repeats seqs the gateway "
                              "already stored: give --state-dir to keep them)")
                : "in " + o.state_dir.string() + " (" + std::to_string(resumed) + " unacknowledged readings resumed)");
  std::thread timer([&o] {
    const auto started = std::chrono::steady_clock::now();
    while (!g_stop.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      if (o.duration_s > 0 &&
          std::chrono::steady_clock::now() - started >= std::chrono::duration<double>(o.duration_s)) {
        g_stop.store(true);
      }
    }
  });
  agent::FleetOptions fleet;
  fleet.threads = o.threads;
  agent::run_fleet(runners, fleet, g_stop);
  timer.join();
  std::uint64_t taken = 0, pending = 0;
  for (auto& sim : devices) {
    taken += sim->runner->counters().readings_taken;
    pending += sim->outbox->pending_count();
    if (sim->file_journal) {
      if (auto r = sim->file_journal->sync(); !r) log::component("simulator").error("{}", r.error().message);
    }
  }
  if (o.state_dir.empty()) {
    log::component("simulator")
        .info("simulation stopped: {} readings taken, {} unacknowledged and dropped with the in-memory outboxes", taken,
              pending);
  } else {
    log::component("simulator")
        .info("simulation stopped: {} readings taken, {} unacknowledged kept in {} for the next run", taken, pending,
              o.state_dir.string());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"kelvin-agent: reads sensors and delivers every reading to the kelvin gateway"};
  app.require_subcommand(1);
  kelvin::log::write_json_lines();

  fs::path config_file = "/etc/kelvin/agent.toml";
  auto* run = app.add_subcommand("run", "Run one device from its config file");
  run->add_option("-c,--config", config_file, "Configuration file (TOML)")->capture_default_str();
  auto* boot = app.add_subcommand(
      "boot", "Start the firmware slot the boot record names and supervise it (devices with updates; systemd runs it)");
  boot->add_option("-c,--config", config_file, "Configuration file (TOML)")->capture_default_str();

  SimulateOptions sim;
  auto* simulate = app.add_subcommand("simulate", "Run N simulated devices, each with its own certificate");
  simulate->add_option("--devices", sim.devices, "Number of devices")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  simulate->add_option("--interval", sim.interval_s, "Seconds between readings of each device")
      ->capture_default_str()
      ->check(CLI::Range(0.001, 86400.0));
  simulate->add_option("--pki-dir", sim.pki_dir, "PKI directory holding devices/<id>/<id>.{crt,key}")
      ->capture_default_str();
  simulate->add_option("--host", sim.host, "Broker host (must match its certificate)")->capture_default_str();
  simulate->add_option("--port", sim.port, "Broker port")->capture_default_str()->check(CLI::Range(1, 65535));
  simulate->add_option("--prefix", sim.prefix, "Device ids are <prefix><NN>")->capture_default_str();
  simulate->add_option("--first", sim.first, "Number of the first device")
      ->capture_default_str()
      ->check(CLI::Range(0, 1000000));
  simulate->add_option("--coalesce-ms", sim.coalesce_ms, "Readings within this window go out in one batch")
      ->capture_default_str()
      ->check(CLI::Range(0, 10000));
  simulate->add_option("--outbox-capacity", sim.outbox_capacity, "Readings each device keeps until acknowledged")
      ->capture_default_str();
  simulate->add_option("--burst", sim.burst, "Readings each device takes per interval (load generation)")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000));
  simulate
      ->add_option("--max-in-flight", sim.max_in_flight,
                   "Readings each device sends ahead of the gateway's ack (benchmarks of a broker alone raise it)")
      ->capture_default_str();
  simulate->add_option("--duration", sim.duration_s, "Stop after this many seconds (0: run until stopped)")
      ->capture_default_str();
  simulate->add_option("--threads", sim.threads, "Threads the devices' connections are spread over")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  simulate->add_option("--state-dir", sim.state_dir,
                       "Keep each device's outbox (unacknowledged readings and its next seq) in <dir>/<id>, so a "
                       "later run resumes them; without it they live in memory");
  simulate
      ->add_option("--connect-timeout", sim.connect_timeout_s,
                   "Seconds a device waits for its TLS handshake and CONNACK before it retries")
      ->capture_default_str()
      ->check(CLI::Range(1, 600));
  std::string simulator_log_level = "info";
  simulate->add_option("--log-level", simulator_log_level, "The least severe log lines written")
      ->capture_default_str()
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  CLI11_PARSE(app, argc, argv);

  if (run->parsed()) return run_device(config_file);
  if (boot->parsed()) return run_boot(config_file);
  log::set_level(simulator_log_level);
  return run_simulation(sim);
}
