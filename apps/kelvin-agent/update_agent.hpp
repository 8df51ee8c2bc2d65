#pragma once
// The running agent's side of firmware updates (docs/ota.md, "The device's update"), beside the
// transport runner that delivers readings: a worker thread that drives the portable update machine
// (device::UpdateClient: notices, the periodic check, the checked and resumable install, the
// statuses, the trial's self-confirmation) over the Linux ports (linux_port::HttpsUpdateGateway,
// FileSlotStorage), and asks the agent to exit with kRestartIntoStagedImage once a release is
// staged, so the boot step starts it.
//
// Statuses: an HTTPS agent's worker posts them itself (POST /api/v1/devices/{id}/ota/status); an
// MQTT agent's runner publishes them on devices/{id}/ota/status (statuses_to_publish()), and the
// machine hands them over only while the runner is connected, so the boot record's outcome is
// cleared only once its status could go out.
// Thread contract: notice_received, observe, statuses_to_publish, release_check and restart_wanted are called on
// the runner's thread; the machine and its ports belong to the worker; they share the queues
// below, under a mutex.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "kelvin/core/result.hpp"
#include "kelvin/device/boot_control.hpp"
#include "kelvin/linux_port/agent_config.hpp"
#include "kelvin/linux_port/https_client.hpp"
#include "kelvin/proto/release_manifest.hpp"

namespace kelvin::agent {

struct UpdateAgentOptions {
  std::string device_id;
  linux_port::UpdateSettings settings;   // product, dir, check interval, trial attempts
  linux_port::HttpsClientOptions https;  // the gateway's HTTPS server, the device's TLS files
  proto::FirmwareVersion running_version;
  device::Slot running_slot = device::Slot::a;  // from the boot step (KELVIN_BOOT_SLOT)
  bool trial = false;                           // this start is a trial (KELVIN_BOOT_TRIAL=1)
  bool statuses_over_https = false;             // the worker posts statuses (transport = "https")
  std::uint64_t acked_seq_at_start = 0;         // the outbox's ack when the agent started
};

class UpdateAgent {
 public:
  // Loads the pinned key, creates the HTTPS client and the machine, and starts the worker.
  static Result<std::unique_ptr<UpdateAgent>> start(UpdateAgentOptions options);
  ~UpdateAgent();  // stops the worker: an exchange in progress gives up within about a second

  UpdateAgent(const UpdateAgent&) = delete;
  UpdateAgent& operator=(const UpdateAgent&) = delete;

  // A notice's payload (devices/{id}/ota), for the machine (update_client.hpp says what it does
  // with an empty or malformed one).
  void notice_received(std::string_view payload);
  // The runner's state at each turn: the trial's rule, and whether MQTT statuses can go out.
  void observe(bool connected, std::uint64_t acked_seq);
  // The statuses waiting for MQTT, oldest first (the queue is emptied); call it when they can be
  // published at once (connected).
  std::vector<std::string> statuses_to_publish();
  // The release timestamp's verdict for the device's status (device::UpdateClient::release_check).
  std::string release_check();
  // A release was staged: stop the runner and exit with kRestartIntoStagedImage.
  bool restart_wanted() const { return restart_wanted_.load(); }

  struct Machine;  // the machine and its ports, the worker's

 private:
  explicit UpdateAgent(UpdateAgentOptions options);
  void run_worker();

  UpdateAgentOptions options_;
  std::unique_ptr<Machine> machine_;

  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<std::string> notices_;       // payloads not given to the machine yet
  std::deque<std::string> mqtt_statuses_;  // handed over by the machine, for the runner to publish
  bool link_changed_ = false;
  bool connected_ = false;     // the runner's latest observation
  std::string release_check_;  // the machine's, after its latest step
  std::uint64_t acked_seq_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> restart_wanted_{false};
  std::thread worker_;
};

}  // namespace kelvin::agent
