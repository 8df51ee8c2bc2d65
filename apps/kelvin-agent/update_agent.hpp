#pragma once
// The running agent's side of firmware updates (docs/ota.md, "The agent's updates"), beside the
// transport runner that delivers readings:
//   - it learns of a release from the gateway's notice (MQTT devices/{id}/ota, handed over by the
//     runner) and by asking GET /api/v1/devices/{id}/update every check interval;
//   - a worker thread installs it (linux_port::ReleaseInstaller: signed manifest checked against
//     the pinned key, image downloaded into the inactive slot, resumable, checked, staged) and
//     then asks the agent to exit with kRestartIntoStagedImage, so the boot step starts it;
//   - a trial image confirms itself in the boot record once the runner is connected and the
//     gateway acknowledged a reading it took (observe());
//   - progress and results become statuses (proto::UpdateStatus) for devices/{id}/ota/status: the
//     MQTT runner publishes them (take_statuses()), an HTTPS agent's worker posts them to
//     POST /api/v1/devices/{id}/ota/status. A start after a rollback reports it.
// Thread contract: notice_received, observe, take_statuses and restart_wanted are called on the
// runner's thread; the worker only shares the queues below, under a mutex.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "kelvin/core/result.hpp"
#include "kelvin/device/boot_control.hpp"
#include "kelvin/linux_port/agent_config.hpp"
#include "kelvin/linux_port/https_client.hpp"
#include "kelvin/proto/signed_envelope.hpp"
#include "kelvin/proto/update_messages.hpp"

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
  // Loads the pinned key and the boot record (queueing the report of a trial's outcome), creates
  // the HTTPS client and starts the worker.
  static Result<std::unique_ptr<UpdateAgent>> start(UpdateAgentOptions options);
  ~UpdateAgent();  // stops the worker: an install in progress gives up within about a second

  UpdateAgent(const UpdateAgent&) = delete;
  UpdateAgent& operator=(const UpdateAgent&) = delete;

  // A notice's payload (devices/{id}/ota); an empty one (the gateway cleared it) is ignored, a
  // malformed one logged and dropped.
  void notice_received(std::string_view payload);
  // The runner's state at each turn: a trial image confirms itself the first time it is connected
  // with an ack above acked_seq_at_start.
  void observe(bool connected, std::uint64_t acked_seq);
  // The statuses waiting for MQTT, oldest first (the queue is emptied); call it when they can be
  // published at once (connected).
  std::vector<std::string> statuses_to_publish();
  // A release was staged: stop the runner and exit with kRestartIntoStagedImage.
  bool restart_wanted() const { return restart_wanted_.load(); }

 private:
  UpdateAgent(UpdateAgentOptions options, std::unique_ptr<proto::ReleaseKey> pinned,
              std::unique_ptr<linux_port::HttpsClient> client);

  void run_worker();
  void check_gateway();
  // True when the notice got its answer (staged, or refused: not worth trying again); false when
  // the install stopped early (gateway unreachable, stopping) and should resume later.
  bool install(const proto::UpdateNotice& notice);
  void post_statuses();
  void report(const proto::UpdateNotice& release, proto::UpdateState state, int percent = 0, std::string reason = {},
              std::string detail = {});
  void report_last_outcome();
  void outcome_sent();
  std::vector<std::string> take_statuses();

  UpdateAgentOptions options_;
  std::unique_ptr<proto::ReleaseKey> pinned_;
  std::unique_ptr<linux_port::HttpsClient> client_;  // the worker's only
  std::optional<proto::UpdateNotice> rolled_back_;   // the release this start rolled back from (rollout 0)
  bool confirmed_ = false;                           // runner thread: the trial is over
  std::atomic<bool> confirmed_flag_{false};          // the same, for the worker

  std::mutex mutex_;
  std::condition_variable wake_;
  std::optional<proto::UpdateNotice> notice_;  // the latest notice not handled yet
  std::deque<std::string> statuses_;           // encoded, oldest first
  std::atomic<bool> stopping_{false};
  std::atomic<bool> restart_wanted_{false};
  std::atomic<bool> outcome_unsent_{false};  // the boot record's last outcome is queued, not sent
  std::thread worker_;
};

}  // namespace kelvin::agent
