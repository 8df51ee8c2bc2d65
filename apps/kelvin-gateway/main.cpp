// kelvin-gateway: runs the managed broker, the ingest and the store until SIGTERM or SIGINT.
// Usage: kelvin-gateway [--config FILE]

#include <signal.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>

#include "kelvin/gateway/gateway.hpp"
#include "kelvin/gateway/gateway_config.hpp"
#include "kelvin/log/log.hpp"

int main(int argc, char** argv) {
  CLI::App app{"kelvin-gateway " KELVIN_VERSION ": broker, ingest and store of a kelvin installation"};
  app.set_version_flag("--version", "kelvin-gateway " KELVIN_VERSION);
  std::string config_file = "/etc/kelvin/gateway.toml";
  app.add_option("-c,--config", config_file, "Configuration file (TOML)")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  kelvin::log::write_json_lines();
  auto settings = kelvin::gateway::load_gateway_config(config_file);
  if (!settings) {
    kelvin::log::error_lines("gateway", settings.error().message);
    return 1;
  }

  kelvin::log::set_level(settings->log_level);  // a name the config checked
  if (const char* passphrase = std::getenv("KELVIN_CA_PASSPHRASE")) settings->ca_passphrase = passphrase;

  // Signals are taken synchronously by this thread; every thread started later inherits the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  kelvin::gateway::Gateway gateway(std::move(*settings));
  if (auto started = gateway.start(); !started) {
    kelvin::log::error_lines("gateway", started.error().message);
    return 1;
  }
  if (auto password = gateway.take_first_admin_password()) {
    // On stdout, not in the log: shown once, to whoever started the first run (`make demo` shows
    // it; under systemd, `journalctl -u kelvin-gateway` has it until rotated: change it at once).
    std::printf(
        "kelvin-gateway: first start: created user \"admin\" (role admin) with password\n\n    %s\n\n"
        "It is shown only now and stored only as a hash. Sign in to the dashboard and change it, or set\n"
        "one with `kelvinctl user passwd admin`.\n",
        password->c_str());
    std::fflush(stdout);
  }
  kelvin::log::component("gateway").info("kelvin-gateway running; SIGTERM or Ctrl-C stops it");
  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  kelvin::log::component("gateway").info("stopping (signal {})", signal_number);
  gateway.stop();
  auto counters = gateway.counters();
  kelvin::log::component("gateway").info("stopped: {} readings stored, {} duplicates, {} rejected",
                                         counters.readings_stored, counters.duplicates, counters.rejected_total);
  return 0;
}
