#pragma once
// The device's side of a firmware update (docs/ota.md, "The device's update"), from learning of a
// release to the restart into it, and the trial's self-confirmation after it. Portable: the Linux
// agent and a microcontroller port run this one machine over their own ports (update_ports.hpp).
//
// Driven by events and steps, on one thread:
//   notice_received / offer   a release offered (the gateway's notice, MQTT devices/{id}/ota)
//   link_observed             the device's connection and the outbox's ack, for the trial's rule
//   cancel                    the install in progress stops after the step that runs
//   step(now)                 does what is due: at most one exchange with the gateway (one image
//                             range, the manifest, or the periodic "what should I run" check),
//                             besides delivering the statuses waiting; returns when it wants the
//                             next step (`now` while an install is under way)
//
// An install, one step each: fetch the manifest and decide (check_offered_release, with the highest
// security version of the boot record); open the inactive slot's download, resuming a download of
// exactly this envelope after the bytes it holds (read back and hashed again); one range of
// kUpdateRangeBytes per step, a piece longer than asked or past the signed size refused whole
// (image_download.hpp); the SHA-256 and the slot's sync; the image and its manifest put in place;
// then the boot record stages the slot (stage_trial), and restart_wanted() becomes true: the port
// restarts into it. A gateway that cannot be reached, or a port's error, interrupts the install:
// it is tried again kRetryAfterFailure later or at the next offer, resuming where it stopped.
//
// Statuses (proto::UpdateStatus, encoded, to the UpdateStatusSink): downloading at every 10 %,
// installed, failed with the refusal's reason and a detail (the running image and the boot record
// untouched), confirmed (from a trial that confirmed itself, or when offered the running version),
// and, at the first step after a start, how the last trial ended (rolled_back with not_confirmed,
// or confirmed); the boot record keeps that outcome until its status was delivered.
//
// Release timestamps (timestamp_check.hpp): the step after each periodic check fetches the
// product's timestamp and judges it; release_check() gives the verdict's code for the device's
// status ("" before the first one). The newest statement seen is kept (SlotStorage), so a
// statement older than it is noticed after a restart too. A verdict only informs: installs go on.
//
// Rules kept across offers: a release refused or installed is not tried again for the same notice;
// the release this start rolled back from is never installed again by it; a trial image installs
// nothing before it confirmed itself (a failing trial rolls back to the image that was good), and
// it confirms itself the first time it is connected with an ack above the one it started with.

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>

#include "kelvin/device/boot_control.hpp"
#include "kelvin/device/image_download.hpp"
#include "kelvin/device/release_check.hpp"
#include "kelvin/device/timestamp_check.hpp"
#include "kelvin/device/update_ports.hpp"
#include "kelvin/proto/signed_envelope.hpp"
#include "kelvin/proto/update_messages.hpp"

namespace kelvin::device {

// Bytes asked for per image request (the Linux HTTPS client keeps answers of this size).
inline constexpr std::uint64_t kUpdateRangeBytes = 64 * 1024;

struct UpdateClientConfig {
  std::string product;  // what this firmware is: releases of other products are refused
  proto::FirmwareVersion running_version;
  Slot running_slot = Slot::a;                           // the slot this start runs (the boot step says which)
  bool trial = false;                                    // this start is a trial: it must confirm itself
  std::uint64_t acked_seq_at_start = 0;                  // the outbox's ack when this start began
  std::uint64_t slot_bytes = 256ull << 20;               // the largest image a slot takes
  std::uint32_t trial_attempts = kDefaultTrialAttempts;  // starts a staged image gets
  std::int64_t check_interval_ms = 3'600'000;            // asking the gateway for an offer; 0: never
  std::int64_t first_check_after_ms = 5'000;             // after the first step: soon, not at once
  std::int64_t retry_after_failure_ms = 30'000;          // an interrupted install, tried again
  std::int64_t status_retry_ms = 5'000;                  // statuses the sink could not take yet
  std::uint64_t range_bytes = kUpdateRangeBytes;         // per image request
  std::size_t max_waiting_statuses = 32;                 // beyond, the oldest waiting is dropped
  bool check_timestamps = true;                          // judge the release timestamp after each check
};

// Where the machine stands, for callers that show or test it.
enum class UpdatePhase : std::uint8_t {
  idle,               // waiting for an offer, a check or a retry
  fetching_manifest,  // next step: the manifest, and the decision
  opening_slot,       // next step: the slot's download opened (resumed or new)
  downloading,        // next steps: one range each
  checking,           // next step: the SHA-256 and the slot's sync
  staging,            // next step: image and manifest in place, then the boot record
  restart_wanted,     // staged: the port restarts into it; only statuses go out any more
};

const char* to_string(UpdatePhase phase) noexcept;

struct UpdatePorts {
  UpdateServer& server;
  SlotStorage& slots;
  UpdateStatusSink& statuses;
  ImageHasher& hasher;  // SHA-256; reset() before each image
  UpdateLog& log;
  WallClock& clock;
};

class UpdateClient {
 public:
  // `pinned` is the release key built into the device; it and the ports must outlive the client.
  UpdateClient(UpdateClientConfig config, const proto::ReleaseKey& pinned, UpdatePorts ports);

  // The payload of devices/{id}/ota: "" (the gateway cleared its notice) is ignored, a malformed
  // one logged and dropped, a valid one offered.
  void notice_received(std::string_view payload);
  // Remembered until the machine is idle; a later offer replaces one not handled yet.
  void offer(const proto::UpdateNotice& notice);
  void link_observed(bool connected, std::uint64_t acked_seq);
  // Ends the install in progress, if any, between two steps: no status, and what was downloaded
  // stays in the slot, resumed by a later offer of the same release. A staged release stays staged.
  void cancel();

  std::int64_t step(std::int64_t now_ms);

  bool restart_wanted() const noexcept { return phase_ == UpdatePhase::restart_wanted; }
  UpdatePhase phase() const noexcept { return phase_; }
  std::size_t statuses_waiting() const noexcept { return statuses_.size(); }
  // The last release timestamp verdict's code (to_string(TimestampVerdict)); "" before the first.
  std::string_view release_check() const noexcept { return release_check_; }

 private:
  struct Install {
    proto::UpdateNotice notice;
    std::string envelope;
    std::optional<proto::ReleaseManifest> manifest;
    Slot slot = Slot::b;
    std::uint64_t resumed_from = 0;
    int last_reported_percent = -1;  // -1: no progress reported yet
  };

  void begin(std::int64_t now_ms);
  void confirm_if_healthy();
  void deliver_statuses(std::int64_t now_ms);
  void check_gateway();
  void check_timestamp();
  std::int64_t newest_timestamp_seen();
  void consider(const proto::UpdateNotice& notice);
  void advance_install(std::int64_t now_ms);
  void fetch_and_decide(std::int64_t now_ms);
  void open_slot(std::int64_t now_ms);
  void download_range(std::int64_t now_ms);
  void check_image();
  void stage(std::int64_t now_ms);
  bool hash_held_bytes(std::uint64_t bytes);
  void report_progress();
  void interrupted(std::int64_t now_ms, std::string_view why);
  void refused(std::string_view reason, std::string detail);
  void end_install();
  void report(const proto::UpdateNotice& release, proto::UpdateState state, int percent, std::string reason = {},
              std::string detail = {});
  Result<BootRecord> load_boot_record();
  std::int64_t next_step_at(std::int64_t now_ms) const;

  UpdateClientConfig config_;
  const proto::ReleaseKey& pinned_;
  UpdatePorts ports_;
  UpdatePhase phase_ = UpdatePhase::idle;
  bool begun_ = false;

  std::optional<Install> install_;
  std::optional<ImageDownload> download_;           // from opening_slot on
  std::optional<proto::UpdateNotice> offered_;      // the latest offer not handled yet
  std::optional<proto::UpdateNotice> unfinished_;   // an interrupted install: tried again at retry_at_ms_
  std::optional<proto::UpdateNotice> answered_;     // the last notice installed or refused: not again
  std::optional<proto::UpdateNotice> rolled_back_;  // the release this start rolled back from
  std::int64_t retry_at_ms_ = 0;
  std::int64_t next_check_ms_ = 0;
  bool timestamp_due_ = false;                      // the step after a check judges the timestamp
  std::optional<std::int64_t> newest_issued_seen_;  // loaded at the first judgement
  std::string release_check_;

  bool connected_ = false;
  std::uint64_t acked_seq_ = 0;
  bool trial_over_ = false;   // the trial's rule was applied (confirmed, or it could not be)
  bool may_install_ = false;  // not on trial, or the trial confirmed itself

  std::deque<std::string> statuses_;  // encoded, oldest first
  std::int64_t status_retry_at_ms_ = 0;
  bool outcome_unsent_ = false;  // the boot record's last outcome is among statuses_
};

}  // namespace kelvin::device
