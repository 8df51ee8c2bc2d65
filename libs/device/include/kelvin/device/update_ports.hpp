#pragma once
// The ports the device's update (update_client.hpp) runs through, which each platform implements:
// the gateway's update routes, the slots' storage, where statuses go, and a log for people. The
// Linux port implements them over its HTTPS client and files (ports/linux update_gateway.hpp,
// slot_files.hpp); a microcontroller port over its HTTP client and flash partitions.
//
// Every call is synchronous and ends in bounded time (the port's timeouts, and on Linux the agent's
// stop flag): the update makes at most one call to the gateway per step, besides delivering the
// statuses waiting, so a single-threaded main loop can run it between its other work.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "kelvin/core/result.hpp"
#include "kelvin/device/boot_control.hpp"
#include "kelvin/device/image_download.hpp"
#include "kelvin/proto/release_manifest.hpp"

namespace kelvin::device {

// The gateway's update routes, as this device sees them (docs/api.md; the device's own id is the
// port's business). An Error means no usable answer: unreachable, TLS, a timeout, the port stopped,
// or an HTTP status other than the ones named. The update then resumes later; nothing is refused
// for it.
class UpdateServer {
 public:
  virtual ~UpdateServer() = default;
  // The signed envelope of `product` `version`, the bytes as published (200).
  virtual Result<std::string> fetch_manifest(std::string_view product, const proto::FirmwareVersion& version) = 0;
  // Bytes first..last (inclusive) of the release's image (206; or 200 for a request from byte 0, a
  // server that ignores ranges). The bytes as they came: the update checks how many there are.
  virtual Result<std::string> fetch_image_range(std::string_view product, const proto::FirmwareVersion& version,
                                                std::uint64_t first, std::uint64_t last) = 0;
  // What the gateway wants this device to run: the update notice's JSON (200), or "" when there is
  // nothing to do (204).
  virtual Result<std::string> fetch_offer() = 0;
  // The signed release timestamp of `product` (200), the bytes as published, or "" when the
  // gateway has none (404).
  virtual Result<std::string> fetch_timestamp(std::string_view product) = 0;
};

// The device's time of day, for the expiry of release timestamps (timestamp_check.hpp).
class WallClock {
 public:
  virtual ~WallClock() = default;
  // Seconds since 1970, UTC; nullopt while the device has no time it trusts (a microcontroller
  // before its first time sync).
  virtual std::optional<std::int64_t> utc_seconds() = 0;
};

enum class StatusDelivery : std::uint8_t {
  delivered,  // gone to the gateway (or handed to what publishes it while connected)
  refused,    // the gateway refused it for what it is: sending it again would not help
  later,      // not now (not connected, the gateway unreachable or busy): keep it and try again
};

struct StatusDeliveryAnswer {
  StatusDelivery delivery = StatusDelivery::later;
  std::string problem;  // for the log with refused and later; "" when there is nothing to say
};

// Where the update's statuses go (devices/{id}/ota/status over MQTT, or POST
// /api/v1/devices/{id}/ota/status over HTTPS): each is an encoded proto::UpdateStatus.
class UpdateStatusSink {
 public:
  virtual ~UpdateStatusSink() = default;
  virtual StatusDeliveryAnswer deliver(std::string_view encoded_status) = 0;
};

// A download interrupted in a slot: the signed envelope it is for and how many bytes it holds.
struct HeldDownload {
  std::string envelope;  // "" when the slot holds none
  std::uint64_t bytes = 0;
};

// The inactive slot's storage and the boot record. Writes (SlotWriter::write, sync) go to the
// download opened last (open_download).
class SlotStorage : public SlotWriter {
 public:
  // The boot record; `fresh` when none was ever written. An Error when it cannot be read or does
  // not parse: the update must not guess.
  virtual Result<BootRecord> load_boot_record(const BootRecord& fresh) = 0;
  // Replaces the boot record atomically: a power cut leaves the old record or the new one.
  virtual Result<void> save_boot_record(const BootRecord& record) = 0;

  virtual HeldDownload held_download(Slot slot) = 0;
  // Opens `slot`'s download of `envelope` keeping its first `keep` bytes (then the slot holds a
  // download of exactly this envelope, with at least `keep` bytes); keep == 0 starts a new one,
  // whatever the slot held before. What the slot holds past `keep` is cut off.
  virtual Result<void> open_download(Slot slot, std::string_view envelope, std::uint64_t keep) = 0;
  // Reads bytes of the open download from `offset` into `into`; how many (0 at its end).
  virtual Result<std::size_t> read_download(std::uint64_t offset, std::span<char> into) = 0;
  // Makes the open download of `slot`, complete, checked and synced, the slot's image beside its
  // envelope as the slot's manifest; both are durably in place when this returns, for the boot
  // record names the slot next. The download is gone then.
  virtual Result<void> install_download(Slot slot) = 0;
  // Drops `slot`'s download: a refused image is not worth resuming.
  virtual void discard_download(Slot slot) = 0;

  // The newest release timestamp the device saw (its signed envelope), "" when it saw none: kept
  // apart from the boot record, whose format an older image must still read after a rollback.
  virtual Result<std::string> load_newest_timestamp() = 0;
  // Replaces it atomically.
  virtual Result<void> save_newest_timestamp(std::string_view envelope) = 0;
};

enum class UpdateLogLevel : std::uint8_t { info, warn, error };

// What the update tells people (one line each; the port adds the device's id and a time).
class UpdateLog {
 public:
  virtual ~UpdateLog() = default;
  virtual void write(UpdateLogLevel level, std::string_view line) = 0;
};

}  // namespace kelvin::device
