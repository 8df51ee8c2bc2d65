#include "rollout_command.hpp"

#include <chrono>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "arguments.hpp"
#include "failure.hpp"
#include "kelvin/core/time_arguments.hpp"
#include "kelvin/core/time_format.hpp"
#include "kelvin/gateway/state_layout.hpp"
#include "kelvin/rollout/rollout_actions.hpp"
#include "state_options.hpp"
#include "text_table.hpp"
#include "user_accounts.hpp"

namespace kelvin::ctl {
namespace {

struct RolloutOptions {
  StateOptions state;
  // start
  std::string product;
  std::string version;
  bool all = false;
  std::vector<std::string> devices;
  std::string label;
  std::vector<int> waves = rollout::kDefaultWaves;
  int max_failure_percent = rollout::kDefaultMaxFailurePercent;
  std::string device_timeout = "1d";  // a step ("12h", "2d") or "none"
  // status, pause, resume, abort
  std::int64_t id = 0;
};

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::filesystem::path rollouts_file(const StateOptions& state) {
  return gateway::rollouts_path(state.state_dir);
}

// rollouts.db, created if missing (and then handed to the state dir's owner, the gateway's account).
Result<store::RolloutDb> open_or_create_db(const StateOptions& state) {
  return open_or_create_owned(state, rollouts_file(state),
                              [](const std::filesystem::path& file) { return store::RolloutDb::open(file); });
}

// rollouts.db if it exists: reading commands leave no file behind.
Result<std::optional<store::RolloutDb>> open_existing_db(const StateOptions& state) {
  auto exists = file_exists(rollouts_file(state));
  if (!exists) return std::move(exists).error();
  if (!*exists) return std::optional<store::RolloutDb>();
  auto db = store::RolloutDb::open(rollouts_file(state));
  if (!db) return std::move(db).error();
  return std::optional<store::RolloutDb>(std::move(*db));
}

std::string when(std::int64_t ms) {
  return format_utc_timestamp(static_cast<std::time_t>(ms / 1000));
}

// "2 confirmed, 1 downloading": the counts that are not zero, in state order.
std::string counts_text(const store::RolloutSummary& summary) {
  std::string out;
  for (std::size_t i = 0; i < summary.counts.size(); ++i) {
    if (summary.counts[i] == 0) continue;
    if (!out.empty()) out += ", ";
    out += std::to_string(summary.counts[i]) + " " +
           std::string(store::to_string(static_cast<store::DeviceRolloutState>(i)));
  }
  return out.empty() ? "no devices" : out;
}

std::string waves_text(const store::RolloutRecord& rollout) {
  std::string out;
  for (int wave : rollout.waves) out += (out.empty() ? "" : ",") + std::to_string(wave);
  return out;
}

int run_start(const RolloutOptions& options) {
  auto catalog = release::ReleaseCatalog::open(gateway::releases_path(options.state.state_dir),
                                               gateway::release_public_key_path(options.state.state_dir));
  if (!catalog) return report_failure(catalog.error());
  auto store = open_existing_store(options.state);
  if (!store) return report_failure(store.error(), options.state.state_dir);
  rollout::StartRequest request{.product = options.product,
                                .version = options.version,
                                .all = options.all,
                                .devices = options.devices,
                                .label = options.label,
                                .waves = options.waves,
                                .max_failure_percent = options.max_failure_percent,
                                .device_timeout_ms = 0,
                                .created_by = "kelvinctl"};
  if (options.device_timeout != "none") {
    auto timeout = parse_step(options.device_timeout);
    if (!timeout) return report_usage_error("--device-timeout: " + timeout.error().message, "rollout start");
    request.device_timeout_ms = *timeout;
  }
  rollout::Candidates candidates;
  if (*store) {
    auto read = rollout::candidates_for(**store, request);
    if (!read) return report_failure(read.error());
    candidates = std::move(*read);
  }
  auto db = open_or_create_db(options.state);
  if (!db) return report_failure(db.error(), options.state.state_dir);
  auto started = rollout::start_rollout(*db, *catalog, candidates, request, now_ms());
  if (!started) return report_failure(started.error());
  auto devices = db->devices(started->id);
  if (!devices) return report_failure(devices.error());
  const std::string description = rollout::describe_start(*started, devices->size());
  audit_host_action(options.state, "rollout_start", "rollout " + std::to_string(started->id), description);
  std::cout << "Started rollout " << started->id << ": " << description << ".\n"
            << "The gateway notifies the first wave within a second (kelvinctl rollout status " << started->id
            << ").\n";
  return 0;
}

int run_list(const RolloutOptions& options) {
  auto db = open_existing_db(options.state);
  if (!db) return report_failure(db.error(), options.state.state_dir);
  std::vector<store::RolloutSummary> rollouts;
  if (*db) {
    auto listed = (*db)->rollouts();
    if (!listed) return report_failure(listed.error());
    rollouts = std::move(*listed);
  }
  if (rollouts.empty()) {
    std::cout << "No rollouts.\n";
    return 0;
  }
  TextTable table({{"ID", Align::right}, {"PRODUCT"}, {"VERSION"}, {"STATE"}, {"WAVE"}, {"STARTED"}, {"DEVICES"}});
  for (const auto& summary : rollouts) {
    const auto& r = summary.rollout;
    table.add_row({std::to_string(r.id), r.product, r.version, std::string(store::to_string(r.state)),
                   std::to_string(r.current_wave) + "/" + std::to_string(r.waves.size()), when(r.created_ms),
                   counts_text(summary)});
  }
  table.print(std::cout);
  return 0;
}

// The rollout and its devices, or the failure reported.
struct Loaded {
  store::RolloutRecord rollout;
  std::vector<store::RolloutDeviceRecord> devices;
};
Result<Loaded> load(const StateOptions& state, std::int64_t id) {
  auto db = open_existing_db(state);
  if (!db) return std::move(db).error();
  if (!*db) return make_error(Errc::not_found, "no rollout " + std::to_string(id) + ": there are no rollouts yet");
  auto rollout = (*db)->rollout(id);
  if (!rollout) return std::move(rollout).error();
  if (!*rollout) return make_error(Errc::not_found, "no rollout " + std::to_string(id) + " (kelvinctl rollout list)");
  auto devices = (*db)->devices(id);
  if (!devices) return std::move(devices).error();
  return Loaded{std::move(**rollout), std::move(*devices)};
}

int run_status(const RolloutOptions& options) {
  auto loaded = load(options.state, options.id);
  if (!loaded) return report_failure(loaded.error(), options.state.state_dir);
  const auto& r = loaded->rollout;
  store::RolloutSummary summary{.rollout = r, .counts = {}};
  for (const auto& d : loaded->devices) ++summary.counts[static_cast<std::size_t>(d.state)];
  std::cout << "Rollout " << r.id << ": " << r.product << " " << r.version << ", " << store::to_string(r.state)
            << "\n  waves " << waves_text(r) << " (started " << r.current_wave << " of " << r.waves.size()
            << "), halts above " << r.max_failure_percent << " % failures" << rollout::device_timeout_text(r)
            << "\n  target " << rollout::describe_target(r) << "\n  started " << when(r.created_ms) << " by "
            << r.created_by << ", changed " << when(r.updated_ms) << "\n  " << counts_text(summary) << "\n\n";
  TextTable table(
      {{"DEVICE"}, {"WAVE", Align::right}, {"STATE"}, {"%", Align::right}, {"UPDATED"}, {"REASON"}, {"DETAIL"}});
  for (const auto& d : loaded->devices) {
    table.add_row({d.device, std::to_string(d.wave), std::string(store::to_string(d.state)),
                   d.state == store::DeviceRolloutState::downloading || d.percent > 0 ? std::to_string(d.percent) : "",
                   when(d.updated_ms), d.reason, d.detail});
  }
  table.print(std::cout);
  return 0;
}

int run_command(const RolloutOptions& options, rollout::RolloutCommand command) {
  auto db = open_existing_db(options.state);
  if (!db) return report_failure(db.error(), options.state.state_dir);
  if (!*db) {
    return report_failure(
        make_error(Errc::not_found, "no rollout " + std::to_string(options.id) + ": there are no rollouts yet"));
  }
  auto changed = rollout::command_rollout(**db, options.id, command, now_ms());
  if (!changed) return report_failure(changed.error());
  audit_host_action(options.state, "rollout_" + std::string(rollout::to_string(command)),
                    "rollout " + std::to_string(options.id), changed->product + " " + changed->version);
  std::cout << "Rollout " << options.id << " (" << changed->product << " " << changed->version << ") is now "
            << store::to_string(changed->state) << ".\n";
  return 0;
}

}  // namespace

void add_rollout_command(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<RolloutOptions>();
  CLI::App* group = app.add_subcommand("rollout", "Firmware rollouts: a release to devices in waves");
  group->require_subcommand(1);

  CLI::App* start = group->add_subcommand("start", "Start rolling a published release out to devices");
  start->add_option("product", options->product, "The release's product")->required();
  start->add_option("version", options->version, "The release's version")->required();
  auto* all = start->add_flag("--all", options->all, "Every device the gateway knows");
  auto* devices =
      start->add_option("--devices", options->devices, "These devices (comma-separated ids)")->delimiter(',');
  auto* label = start
                    ->add_option("--label", options->label,
                                 "The devices carrying this label now (later labelling does not add devices)")
                    ->check(label_check());
  all->excludes(devices, label);
  devices->excludes(label);
  start
      ->add_option("--waves", options->waves,
                   "Cumulative percentages of the devices per wave, ending at 100 (comma-separated)")
      ->delimiter(',')
      ->capture_default_str();
  start
      ->add_option("--max-failure-percent", options->max_failure_percent,
                   "Halt when more than this percent of the started waves' devices failed or rolled back")
      ->capture_default_str();
  start
      ->add_option("--device-timeout", options->device_timeout,
                   "A device that reports nothing for this long fails as timed_out (1m to 30d, e.g. 12h), or none")
      ->capture_default_str();
  add_state_options(start, options->state, /*with_pki=*/false);
  start->callback([&exit_code, options] {
    if (!options->all && options->devices.empty() && options->label.empty()) {
      exit_code = report_usage_error(
          "name the devices with --devices a,b, a label with --label L, or take them all with --all", "rollout start");
      return;
    }
    exit_code = run_start(*options);
  });

  CLI::App* list = group->add_subcommand("list", "List the rollouts, newest first");
  add_state_options(list, options->state, /*with_pki=*/false);
  list->callback([&exit_code, options] { exit_code = run_list(*options); });

  CLI::App* status = group->add_subcommand("status", "Show a rollout and the state of each of its devices");
  status->add_option("id", options->id, "The rollout's id")->required();
  add_state_options(status, options->state, /*with_pki=*/false);
  status->callback([&exit_code, options] { exit_code = run_status(*options); });

  for (auto command :
       {rollout::RolloutCommand::pause, rollout::RolloutCommand::resume, rollout::RolloutCommand::abort}) {
    const char* help = command == rollout::RolloutCommand::pause    ? "Pause a running rollout: no new notices"
                       : command == rollout::RolloutCommand::resume ? "Resume a paused or halted rollout"
                                                                    : "Abort a rollout: its notices are withdrawn";
    CLI::App* sub = group->add_subcommand(std::string(rollout::to_string(command)), help);
    sub->add_option("id", options->id, "The rollout's id")->required();
    add_state_options(sub, options->state, /*with_pki=*/false);
    sub->callback([&exit_code, options, command] { exit_code = run_command(*options, command); });
  }
}

}  // namespace kelvin::ctl
