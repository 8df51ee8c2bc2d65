// kelvinctl: the administrator's command line (PKI, device registry, queries, gateway status,
// dashboard users, firmware releases and rollouts).

#include <CLI/CLI.hpp>
#include <iostream>

#include "audit_command.hpp"
#include "device_command.hpp"
#include "pki_command.hpp"
#include "query_command.hpp"
#include "release_command.hpp"
#include "rollout_command.hpp"
#include "status_command.hpp"
#include "user_command.hpp"

int main(int argc, char** argv) {
  CLI::App app{"kelvinctl " KELVIN_VERSION " - administer a kelvin installation"};
  app.set_version_flag("--version", "kelvinctl " KELVIN_VERSION);
  app.require_subcommand(1);

  int exit_code = 0;
  kelvin::ctl::add_pki_command(app, exit_code);
  kelvin::ctl::add_device_command(app, exit_code);
  kelvin::ctl::add_query_command(app, exit_code);
  kelvin::ctl::add_status_command(app, exit_code);
  kelvin::ctl::add_user_command(app, exit_code);
  kelvin::ctl::add_release_command(app, exit_code);
  kelvin::ctl::add_rollout_command(app, exit_code);
  kelvin::ctl::add_audit_command(app, exit_code);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "kelvinctl: " << e.what() << " (see kelvinctl --help)\n";
    return 2;
  }
  return exit_code;
}
