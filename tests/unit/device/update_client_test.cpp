// The device's update state machine (update_client.hpp) over fake ports: a gateway in memory, slots
// in memory, a recording status sink and a clock the test moves. Releases are signed with real
// Ed25519 keys and images hashed with the platform's SHA-256, as on a device.

#include "kelvin/device/update_client.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "kelvin/crypto/digest.hpp"
#include "kelvin/crypto/ed25519.hpp"
#include "kelvin/linux_port/slot_files.hpp"
#include "kelvin/release/release_image.hpp"
#include "kelvin/release/release_keys.hpp"

namespace kelvin::device {
namespace {

using proto::FirmwareVersion;
using ::testing::HasSubstr;

std::string sha256_hex(std::string_view bytes) {
  crypto::Sha256 digest;
  digest.update(bytes);
  return digest.finish_hex();
}

std::string release_key(std::string_view product, const FirmwareVersion& version) {
  return std::string(product) + "/" + version.to_string();
}

// The gateway's update routes in memory. Each release: the envelope served and the image bytes.
class FakeServer final : public UpdateServer {
 public:
  struct Served {
    std::string envelope;
    std::string image;
  };

  Result<std::string> fetch_manifest(std::string_view product, const FirmwareVersion& version) override {
    manifest_requests.push_back(release_key(product, version));
    if (unreachable) return make_error(Errc::io, "connection refused (test)");
    auto found = releases.find(release_key(product, version));
    if (found == releases.end()) return make_error(Errc::io, "fetching the manifest: the gateway answered 404");
    return found->second.envelope;
  }

  Result<std::string> fetch_image_range(std::string_view product, const FirmwareVersion& version, std::uint64_t first,
                                        std::uint64_t last) override {
    ranges.emplace_back(first, last);
    if (unreachable || (cut_after_ranges >= 0 && static_cast<int>(ranges.size()) > cut_after_ranges)) {
      return make_error(Errc::io, "connection cut (test)");
    }
    const std::string& image = releases.at(release_key(product, version)).image;
    if (first >= image.size()) return make_error(Errc::io, "the gateway answered 416");
    const std::uint64_t length = answers_to_the_image_end ? image.size() - first : last - first + 1;
    return image.substr(first, length) + extra_bytes_per_range;
  }

  Result<std::string> fetch_offer() override {
    ++offer_requests;
    return offer_answer;
  }

  Result<std::string> fetch_timestamp(std::string_view product) override {
    timestamp_requests.emplace_back(product);
    if (unreachable) return make_error(Errc::io, "connection refused (test)");
    return timestamp_answer;
  }

  std::map<std::string, Served> releases;
  std::vector<std::string> manifest_requests;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> ranges;
  int offer_requests = 0;
  std::string offer_answer;
  std::vector<std::string> timestamp_requests;
  std::string timestamp_answer;  // "" answers 404: none published
  bool unreachable = false;
  int cut_after_ranges = -1;              // fail every range request after this many (-1: never)
  std::string extra_bytes_per_range;      // appended to every range answer: a server sending more than asked
  bool answers_to_the_image_end = false;  // each range answered up to the end of the image it holds
};

// Both slots and the boot record in memory; what a flash-partition port would keep.
class MemorySlots final : public SlotStorage {
 public:
  struct SlotContent {
    std::string image;
    std::string manifest;
    std::string download_envelope;
    std::string download;
  };

  Result<BootRecord> load_boot_record(const BootRecord& fresh) override {
    if (unreadable_record) return make_error(Errc::corrupt, "boot record unreadable (test)");
    return record.value_or(fresh);
  }
  Result<void> save_boot_record(const BootRecord& next) override {
    ++record_writes;
    record = next;
    return {};
  }
  HeldDownload held_download(Slot slot) override {
    const SlotContent& content = slots[slot];
    return {content.download_envelope, content.download.size()};
  }
  Result<void> open_download(Slot slot, std::string_view envelope, std::uint64_t keep) override {
    SlotContent& content = slots[slot];
    if (keep == 0) content.download.clear();
    content.download.resize(std::min<std::size_t>(content.download.size(), keep));
    content.download_envelope = envelope;
    open_ = slot;
    return {};
  }
  Result<std::size_t> read_download(std::uint64_t offset, std::span<char> into) override {
    const std::string& bytes = slots[open_].download;
    if (offset >= bytes.size()) return std::size_t{0};
    const std::size_t n = std::min(into.size(), static_cast<std::size_t>(bytes.size() - offset));
    bytes.copy(into.data(), n, offset);
    return n;
  }
  bool write(std::uint64_t offset, std::string_view bytes) override {
    std::string& download = slots[open_].download;
    if (offset != download.size()) return false;  // the machine appends
    download.append(bytes);
    return true;
  }
  bool sync() override {
    ++syncs;
    return true;
  }
  Result<void> install_download(Slot slot) override {
    SlotContent& content = slots[slot];
    content.image = std::exchange(content.download, {});
    content.manifest = std::exchange(content.download_envelope, {});
    return {};
  }
  void discard_download(Slot slot) override {
    slots[slot].download.clear();
    slots[slot].download_envelope.clear();
  }
  Result<std::string> load_newest_timestamp() override { return newest_timestamp; }
  Result<void> save_newest_timestamp(std::string_view envelope) override {
    newest_timestamp = envelope;
    return {};
  }

  std::optional<BootRecord> record;
  std::map<Slot, SlotContent> slots;
  std::string newest_timestamp;
  int record_writes = 0;
  int syncs = 0;
  bool unreadable_record = false;

 private:
  Slot open_ = Slot::b;
};

class RecordingSink final : public UpdateStatusSink {
 public:
  StatusDeliveryAnswer deliver(std::string_view status) override {
    ++attempts;
    if (accepting) {
      delivered.emplace_back(status);
      return {StatusDelivery::delivered, {}};
    }
    return {StatusDelivery::later, {}};
  }
  std::vector<std::string> delivered;
  bool accepting = true;
  int attempts = 0;
};

class RecordingLog final : public UpdateLog {
 public:
  void write(UpdateLogLevel, std::string_view line) override { lines.emplace_back(line); }
  std::string all() const {
    std::string out;
    for (const auto& line : lines) out += line + "\n";
    return out;
  }
  std::vector<std::string> lines;
};

class SettableClock final : public WallClock {
 public:
  std::optional<std::int64_t> utc_seconds() override { return now; }
  std::optional<std::int64_t> now;
};

constexpr std::uint64_t kRange = 1000;
constexpr std::int64_t kDay = 86'400;

// Public: the refusal table's arrangements reach into it.
class UpdateClientTest : public ::testing::Test {
 public:
  UpdateClientTest()
      : key_(std::move(crypto::Ed25519PrivateKey::generate()).value()),
        other_key_(std::move(crypto::Ed25519PrivateKey::generate()).value()),
        pinned_(key_.public_key()) {
    for (int i = 0; i < 10'500; ++i) image_ += static_cast<char>(i * 7 % 253);
    publish(manifest_for(image_), image_);
    slots_.slots[Slot::a].image = "the running v1";
    config_.product = "thermo-linux";
    config_.running_version = {1, 0, 0};
    config_.slot_bytes = 1'000'000;
    config_.range_bytes = kRange;
    config_.check_interval_ms = 0;
  }

  proto::ReleaseManifest manifest_for(const std::string& image, std::string product = "thermo-linux",
                                      FirmwareVersion version = {1, 1, 0}) const {
    proto::ReleaseManifest m;
    m.product = std::move(product);
    m.version = version;
    m.security_version = 2;
    m.size = image.size();
    m.sha256 = sha256_hex(image);
    m.created = "2026-12-04T21:00:00Z";
    return m;
  }

  std::string sign(const proto::ReleaseManifest& m, const crypto::Ed25519PrivateKey& key) const {
    auto envelope = release::sign_release(m, key);
    EXPECT_TRUE(envelope.ok());
    return envelope.ok() ? *envelope : std::string();
  }

  // Serves `m` signed by the pinned key (or `envelope` as given) with `image` under the notice's
  // product and version (thermo-linux 1.1.0 unless said).
  void publish(const proto::ReleaseManifest& m, std::string image, std::string envelope = {},
               const std::string& as = "thermo-linux/1.1.0") {
    server_.releases[as] = {envelope.empty() ? sign(m, key_) : std::move(envelope), std::move(image)};
  }

  UpdateClient& client() {
    if (!client_) {
      client_.emplace(config_, pinned_, UpdatePorts{server_, slots_, sink_, *hasher_, log_, clock_});
    }
    return *client_;
  }

  // A release timestamp of `product` naming 1.1.0, issued `issued` and valid for `days`.
  std::string timestamp(std::int64_t issued, std::int64_t days = 30, std::string product = "thermo-linux",
                        const crypto::Ed25519PrivateKey* by = nullptr) const {
    proto::ReleaseTimestamp t;
    t.product = std::move(product);
    t.version = {1, 1, 0};
    t.security_version = 2;
    t.issued = issued;
    t.expires = issued + days * kDay;
    auto envelope = release::sign_release_timestamp(t, by != nullptr ? *by : key_);
    EXPECT_TRUE(envelope.ok());
    return envelope.ok() ? *envelope : std::string();
  }

  // One periodic check and the step after it, which judges the timestamp; the verdict's code.
  std::string_view check_timestamp_now() {
    client().step(now_);  // a new client begins: its first check is due first_check_after_ms later
    now_ += config_.check_interval_ms + config_.first_check_after_ms;
    client().step(now_);
    client().step(now_);
    return client().release_check();
  }

  static proto::UpdateNotice notice(FirmwareVersion version = {1, 1, 0}, std::string product = "thermo-linux") {
    return {17, std::move(product), version};
  }

  // Steps until the machine rests (idle or restart wanted) or `limit` steps were made; how many.
  int run(int limit = 1000) {
    int steps = 0;
    while (steps < limit) {
      const std::int64_t next = client().step(now_);
      ++steps;
      if (client().phase() == UpdatePhase::idle || client().restart_wanted()) break;
      now_ = std::max(now_, next);
    }
    return steps;
  }

  std::vector<std::string> statuses_with(const std::string& text) const {
    std::vector<std::string> out;
    for (const auto& status : sink_.delivered) {
      if (status.find(text) != std::string::npos) out.push_back(status);
    }
    return out;
  }

  std::vector<int> reported_percents() const {
    std::vector<int> out;
    for (const auto& status : statuses_with(R"("state":"downloading")")) {
      const auto at = status.find(R"("percent":)") + 10;
      out.push_back(std::stoi(status.substr(at)));
    }
    return out;
  }

  // The refusal's proof: one failed status with `reason`, the boot record and the running slot as
  // they were, nothing installed in the other slot, no restart.
  void expect_refused(const std::string& reason, const std::optional<BootRecord>& record_before) {
    const auto failed = statuses_with(R"("state":"failed")");
    ASSERT_EQ(failed.size(), 1u) << reason << "\n" << log_.all();
    EXPECT_THAT(failed[0], HasSubstr(R"("reason":")" + reason + "\"")) << failed[0];
    EXPECT_THAT(failed[0], HasSubstr(R"("rollout":17,"product":"thermo-linux","version":"1.1.0")")) << failed[0];
    EXPECT_THAT(failed[0], HasSubstr(R"("running_version":")" + config_.running_version.to_string() + "\""));
    EXPECT_TRUE(statuses_with(R"("state":"installed")").empty()) << reason;
    EXPECT_EQ(slots_.record, record_before) << reason;
    EXPECT_EQ(slots_.slots[Slot::a].image, "the running v1") << reason;
    EXPECT_TRUE(slots_.slots[Slot::b].image.empty()) << reason;
    EXPECT_FALSE(client().restart_wanted()) << reason;
    EXPECT_EQ(client().phase(), UpdatePhase::idle) << reason;
    EXPECT_THAT(log_.all(), HasSubstr("refused (" + reason + ")"));
  }

  crypto::Ed25519PrivateKey key_;
  crypto::Ed25519PrivateKey other_key_;
  release::PinnedReleaseKey pinned_;
  std::string image_;
  FakeServer server_;
  MemorySlots slots_;
  RecordingSink sink_;
  std::unique_ptr<ImageHasher> hasher_ = linux_port::make_sha256_image_hasher();
  RecordingLog log_;
  SettableClock clock_;
  UpdateClientConfig config_;
  std::optional<UpdateClient> client_;
  std::int64_t now_ = 1'000'000;
  static constexpr std::int64_t kToday = 1'796'457'600;  // 2026-12-05T08:00:00Z
};

TEST_F(UpdateClientTest, ANoticeIsDownloadedInRangesStagedAndAsksForARestart) {
  client().notice_received(R"({"rollout":17,"product":"thermo-linux","version":"1.1.0"})");
  const int steps = run();

  ASSERT_TRUE(client().restart_wanted()) << log_.all();
  // manifest, slot, 11 ranges, check, stage: one exchange with the gateway at most per step.
  EXPECT_EQ(server_.ranges.size(), 11u);
  EXPECT_GE(steps, 15);
  for (std::size_t i = 0; i < server_.ranges.size(); ++i) {
    EXPECT_EQ(server_.ranges[i].first, i * kRange);
    EXPECT_EQ(server_.ranges[i].second, std::min<std::uint64_t>((i + 1) * kRange, image_.size()) - 1);
  }
  EXPECT_EQ(slots_.slots[Slot::b].image, image_);
  EXPECT_EQ(slots_.slots[Slot::b].manifest, server_.releases["thermo-linux/1.1.0"].envelope);
  EXPECT_EQ(slots_.slots[Slot::a].image, "the running v1");
  EXPECT_GE(slots_.syncs, 1) << "the image is synced before it is installed";
  ASSERT_TRUE(slots_.record.has_value());
  EXPECT_EQ(slots_.record->trial, Slot::b);
  EXPECT_EQ(slots_.record->trial_version, (FirmwareVersion{1, 1, 0}));
  EXPECT_EQ(slots_.record->trial_security_version, 2u);
  EXPECT_EQ(slots_.record->attempts_left, kDefaultTrialAttempts);
  EXPECT_EQ(slots_.record->confirmed, Slot::a);
  EXPECT_EQ(slots_.record->confirmed_version, (FirmwareVersion{1, 0, 0}));
  const auto installed = statuses_with(R"("state":"installed")");
  ASSERT_EQ(installed.size(), 1u);
  EXPECT_THAT(installed[0], HasSubstr(R"("rollout":17,"product":"thermo-linux","version":"1.1.0")"));
  EXPECT_THAT(installed[0], HasSubstr("staged in slot b"));
  EXPECT_EQ(sink_.delivered.back(), installed[0]) << "installed is the last word before the restart";

  // Staged: nothing more is installed, whatever is offered.
  publish(manifest_for(image_, "thermo-linux", {1, 2, 0}), image_, {}, "thermo-linux/1.2.0");
  client().offer(notice({1, 2, 0}));
  run(5);
  EXPECT_EQ(server_.manifest_requests.size(), 1u);
}

TEST_F(UpdateClientTest, ProgressIsReportedAtEveryTenPercent) {
  client().offer(notice());
  run();
  ASSERT_TRUE(client().restart_wanted());
  const std::vector<int> percents = reported_percents();
  ASSERT_FALSE(percents.empty());
  EXPECT_EQ(percents.front(), 0);
  EXPECT_EQ(percents.back(), 100);
  for (std::size_t i = 1; i < percents.size(); ++i) {
    EXPECT_GT(percents[i] / 10, percents[i - 1] / 10) << "one status per tenth at most";
  }
  EXPECT_EQ(percents.size(), 11u) << "every tenth is reported: 0, 9, 19, ... 100";
}

TEST_F(UpdateClientTest, AnInterruptedDownloadResumesFromTheBytesHeld) {
  server_.cut_after_ranges = 4;
  client().offer(notice());
  run();
  EXPECT_EQ(client().phase(), UpdatePhase::idle);
  EXPECT_EQ(slots_.slots[Slot::b].download.size(), 4 * kRange);
  EXPECT_FALSE(slots_.record.has_value()) << "nothing staged";
  EXPECT_TRUE(statuses_with(R"("state":"failed")").empty()) << "a cut is no refusal";
  EXPECT_THAT(log_.all(), HasSubstr("connection cut (test); it resumes later"));

  // Nothing before the retry time, then the download goes on after the bytes held.
  server_.cut_after_ranges = -1;
  const std::size_t ranges_before = server_.ranges.size();
  const std::size_t percents_before = reported_percents().size();
  EXPECT_EQ(client().step(now_ + 1'000), now_ + 30'000);
  EXPECT_EQ(server_.ranges.size(), ranges_before);
  now_ += 30'000;
  run();
  ASSERT_TRUE(client().restart_wanted()) << log_.all();
  EXPECT_EQ(server_.ranges[ranges_before].first, 4 * kRange) << "resumed, not started over";
  EXPECT_EQ(slots_.slots[Slot::b].image, image_) << "the held bytes were hashed again with the rest";
  EXPECT_THAT(log_.all(), HasSubstr("download resumed after 4000 bytes"));
  EXPECT_EQ(reported_percents().at(percents_before), 38) << "progress goes on from the bytes held";
}

TEST_F(UpdateClientTest, AHeldDownloadOfAnotherReleaseIsDroppedAndAWrongHeldByteIsCaught) {
  // Bytes of another release's download: not resumed.
  slots_.slots[Slot::b].download_envelope = "another envelope";
  slots_.slots[Slot::b].download = std::string(3000, 'x');
  client().offer(notice());
  run();
  ASSERT_TRUE(client().restart_wanted()) << log_.all();
  EXPECT_EQ(server_.ranges.front().first, 0u);
  EXPECT_EQ(slots_.slots[Slot::b].image, image_);
}

TEST_F(UpdateClientTest, ANoticeArrivingAgainResumesAtOnce) {
  server_.cut_after_ranges = 2;
  client().offer(notice());
  run();
  server_.cut_after_ranges = -1;
  client().offer(notice());
  run();
  EXPECT_TRUE(client().restart_wanted()) << log_.all();
}

TEST_F(UpdateClientTest, CancelBetweenStepsStopsTheInstallAndKeepsTheBytesToResume) {
  client().offer(notice());
  for (int i = 0; i < 6; ++i) client().step(now_);  // the offer, manifest, slot, 3 ranges
  ASSERT_EQ(client().phase(), UpdatePhase::downloading);
  ASSERT_EQ(server_.ranges.size(), 3u);
  client().cancel();
  EXPECT_EQ(client().phase(), UpdatePhase::idle);
  for (int i = 0; i < 5; ++i) client().step(now_ += 60'000);
  EXPECT_EQ(server_.ranges.size(), 3u) << "a cancelled install is not retried by itself";
  EXPECT_TRUE(statuses_with(R"("state":"failed")").empty());
  EXPECT_FALSE(slots_.record.has_value());
  EXPECT_EQ(slots_.slots[Slot::b].download.size(), 3 * kRange);

  client().offer(notice());
  run();
  ASSERT_TRUE(client().restart_wanted());
  EXPECT_EQ(server_.ranges[3].first, 3 * kRange);
  EXPECT_EQ(slots_.slots[Slot::b].image, image_);
}

TEST_F(UpdateClientTest, EachRefusalIsReportedWithItsReasonAndChangesNothing) {
  struct Case {
    std::string what;
    std::string reason;
    std::function<void(UpdateClientTest&)> arrange;
  };
  const std::vector<Case> cases = {
      {"bad signature: the signed bytes altered", "bad_signature",
       [](UpdateClientTest& t) {
         auto envelope = proto::decode_envelope(t.sign(t.manifest_for(t.image_), t.key_));
         auto& payload = envelope->payload;
         payload.replace(payload.find("\"security_version\":2"), 20, "\"security_version\":9");
         t.publish({}, t.image_, proto::encode_envelope(*envelope));
       }},
      {"another key", "bad_signature",
       [](UpdateClientTest& t) { t.publish({}, t.image_, t.sign(t.manifest_for(t.image_), t.other_key_)); }},
      {"not an envelope", "malformed", [](UpdateClientTest& t) { t.publish({}, t.image_, "{not json"); }},
      {"a manifest of another device's product replayed", "other_product",
       [](UpdateClientTest& t) { t.publish({}, t.image_, t.sign(t.manifest_for(t.image_, "thermo-esp32"), t.key_)); }},
      {"the device runs another product", "other_product",
       [](UpdateClientTest& t) { t.config_.product = "thermo-esp32"; }},
      {"the manifest of another release", "malformed",
       [](UpdateClientTest& t) {
         t.publish({}, t.image_, t.sign(t.manifest_for(t.image_, "thermo-linux", {1, 3, 0}), t.key_));
       }},
      {"a downgrade", "not_newer",
       [](UpdateClientTest& t) {
         t.config_.running_version = {1, 2, 0};
       }},
      {"a lower security version", "security_version_too_low",
       [](UpdateClientTest& t) {
         BootRecord record;
         record.confirmed_version = {1, 0, 0};
         record.highest_security_version = 3;
         t.slots_.record = record;
       }},
      {"too large for the slot", "too_large", [](UpdateClientTest& t) { t.config_.slot_bytes = 10'000; }},
      {"hash mismatch", "hash_mismatch",
       [](UpdateClientTest& t) {
         std::string altered = t.image_;
         altered[5'555] ^= 0x40;
         t.server_.releases["thermo-linux/1.1.0"].image = altered;
       }},
      {"an image longer than the manifest", "too_long",
       [](UpdateClientTest& t) {
         t.server_.releases["thermo-linux/1.1.0"].image = t.image_ + "MORE BYTES THAN SIGNED";
         t.server_.answers_to_the_image_end = true;
       }},
      {"a server streaming past what was asked", "too_long",
       [](UpdateClientTest& t) { t.server_.extra_bytes_per_range = "MORE"; }},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    server_ = FakeServer();
    publish(manifest_for(image_), image_);
    slots_ = MemorySlots();
    slots_.slots[Slot::a].image = "the running v1";
    sink_ = RecordingSink();
    log_ = RecordingLog();
    config_.product = "thermo-linux";
    config_.running_version = {1, 0, 0};
    config_.slot_bytes = 1'000'000;
    client_.reset();
    c.arrange(*this);
    const std::optional<BootRecord> record_before = slots_.record;
    client().offer(notice());
    run();
    expect_refused(c.reason, record_before);
    // The same notice again is not tried again.
    const std::size_t requests = server_.manifest_requests.size();
    client().offer(notice());
    run();
    EXPECT_EQ(server_.manifest_requests.size(), requests);
  }
}

TEST_F(UpdateClientTest, AServerSendingMoreThanAskedGetsNothingOfItIntoTheSlot) {
  // Correct bytes for two ranges, then an answer with more than asked: refused whole.
  client().offer(notice());
  for (int i = 0; i < 5; ++i) client().step(now_);  // the offer, manifest, slot, 2 ranges
  ASSERT_EQ(slots_.slots[Slot::b].download.size(), 2 * kRange);
  server_.extra_bytes_per_range = "X";
  run();
  const auto failed = statuses_with(R"("state":"failed")");
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_THAT(failed[0], HasSubstr(R"("reason":"too_long")"));
  EXPECT_THAT(failed[0], HasSubstr("1001 bytes where 1000 were asked"));
  EXPECT_THAT(failed[0], HasSubstr(R"("percent":19)")) << "the progress it had reached";
  EXPECT_EQ(slots_.slots[Slot::b].download, image_.substr(0, 2 * kRange));
  EXPECT_FALSE(slots_.record.has_value());
}

TEST_F(UpdateClientTest, ATrialConfirmsItselfOnlyConnectedWithAnAckAboveTheStartsOne) {
  BootRecord record;
  record.confirmed = Slot::a;
  record.confirmed_version = {1, 0, 0};
  record.trial = Slot::b;
  record.trial_version = {1, 1, 0};
  record.trial_security_version = 2;
  record.attempts_left = 2;
  slots_.record = record;
  config_.running_version = {1, 1, 0};
  config_.running_slot = Slot::b;
  config_.trial = true;
  config_.acked_seq_at_start = 40;
  publish(manifest_for(image_, "thermo-linux", {1, 2, 0}), image_, {}, "thermo-linux/1.2.0");

  client().link_observed(false, 45);  // an ack above, but not connected
  client().step(now_);
  client().link_observed(true, 40);  // connected, but no reading acknowledged since the start
  client().step(now_);
  client().offer(notice({1, 2, 0}));  // a trial installs nothing before it confirmed itself
  run();
  EXPECT_EQ(slots_.record, record);
  EXPECT_TRUE(sink_.delivered.empty());
  EXPECT_TRUE(server_.manifest_requests.empty());

  client().link_observed(true, 41);
  client().step(now_);
  ASSERT_TRUE(slots_.record.has_value());
  EXPECT_EQ(slots_.record->confirmed, Slot::b);
  EXPECT_EQ(slots_.record->confirmed_version, (FirmwareVersion{1, 1, 0}));
  EXPECT_EQ(slots_.record->highest_security_version, 2u);
  EXPECT_FALSE(slots_.record->trial.has_value());
  EXPECT_EQ(slots_.record->last_outcome, TrialOutcome::none) << "reported by this run itself";
  const auto confirmed = statuses_with(R"("state":"confirmed")");
  ASSERT_EQ(confirmed.size(), 1u);
  EXPECT_THAT(confirmed[0], HasSubstr(R"("rollout":0,"product":"thermo-linux","version":"1.1.0")"));

  // Once only; and now it may install.
  const int writes = slots_.record_writes;
  client().link_observed(true, 50);
  client().step(now_);
  EXPECT_EQ(slots_.record_writes, writes);
  client().offer(notice({1, 2, 0}));
  run();
  EXPECT_TRUE(client().restart_wanted()) << log_.all();
}

TEST_F(UpdateClientTest, ATrialRolledBackMeanwhileDoesNotConfirmItself) {
  BootRecord record;  // the boot step already rolled back to slot a
  record.confirmed_version = {1, 0, 0};
  slots_.record = record;
  config_.running_slot = Slot::b;
  config_.trial = true;
  client().link_observed(true, 1);
  client().step(now_);
  EXPECT_EQ(slots_.record, record);
  EXPECT_TRUE(statuses_with(R"("state":"confirmed")").empty());
}

TEST_F(UpdateClientTest, TheRolledBackReleaseIsReportedAndNotInstalledAgain) {
  BootRecord record;
  record.confirmed_version = {1, 0, 0};
  record.last_outcome = TrialOutcome::rolled_back;
  record.last_outcome_version = {1, 1, 0};
  slots_.record = record;
  sink_.accepting = false;  // not connected yet: the outcome waits, and the record keeps it
  client().step(now_);
  EXPECT_EQ(slots_.record->last_outcome, TrialOutcome::rolled_back);
  client().offer(notice());  // the gateway's retained notice still offers it
  run();
  EXPECT_TRUE(server_.manifest_requests.empty()) << "not installed again";

  sink_.accepting = true;
  client().link_observed(true, 0);
  client().step(now_);
  const auto rolled_back = statuses_with(R"("state":"rolled_back")");
  ASSERT_EQ(rolled_back.size(), 1u);
  EXPECT_THAT(rolled_back[0], HasSubstr(R"("version":"1.1.0")"));
  EXPECT_THAT(rolled_back[0], HasSubstr(R"("reason":"not_confirmed")"));
  EXPECT_EQ(slots_.record->last_outcome, TrialOutcome::none) << "reported once";

  client().offer(notice());
  run();
  EXPECT_TRUE(server_.manifest_requests.empty());
  publish(manifest_for(image_, "thermo-linux", {1, 2, 0}), image_, {}, "thermo-linux/1.2.0");
  client().offer(notice({1, 2, 0}));
  run();
  EXPECT_TRUE(client().restart_wanted()) << "a newer release is installed: " << log_.all();
}

TEST_F(UpdateClientTest, AnOfferOfTheRunningVersionIsConfirmedWithoutAnInstall) {
  client().offer(notice({1, 0, 0}));
  client().step(now_);
  EXPECT_TRUE(server_.manifest_requests.empty());
  const auto confirmed = statuses_with(R"("state":"confirmed")");
  ASSERT_EQ(confirmed.size(), 1u);
  EXPECT_THAT(confirmed[0], HasSubstr(R"("rollout":17)"));
}

TEST_F(UpdateClientTest, TheGatewayIsAskedForAnOfferAtItsInterval) {
  config_.check_interval_ms = 60'000;
  server_.offer_answer = "";  // 204: nothing to do
  EXPECT_EQ(client().step(now_), now_ + 5'000);
  EXPECT_EQ(server_.offer_requests, 0) << "not in the first second";
  client().step(now_ + 5'000);
  EXPECT_EQ(server_.offer_requests, 1);
  client().step(now_ + 30'000);
  EXPECT_EQ(server_.offer_requests, 1);
  server_.offer_answer = R"({"rollout":17,"product":"thermo-linux","version":"1.1.0"})";
  now_ += 65'000;
  client().step(now_);
  EXPECT_EQ(server_.offer_requests, 2);
  run();
  EXPECT_TRUE(client().restart_wanted()) << log_.all();
}

TEST_F(UpdateClientTest, StatusesWaitForTheSinkAndAMalformedNoticeIsDropped) {
  client().notice_received(R"({"rollout":17})");
  client().notice_received("");
  client().step(now_);
  EXPECT_THAT(log_.all(), HasSubstr("update notice dropped"));
  EXPECT_EQ(client().phase(), UpdatePhase::idle);

  sink_.accepting = false;
  config_.running_version = {1, 2, 0};
  client_.reset();
  client().offer(notice());
  client().step(now_);  // the offer
  client().step(now_);  // the manifest, refused
  EXPECT_EQ(client().statuses_waiting(), 1u);
  const int attempts = sink_.attempts;
  client().step(now_ + 1'000);
  EXPECT_EQ(sink_.attempts, attempts) << "tried again after status_retry_ms, or at a connection";
  sink_.accepting = true;
  client().link_observed(true, 0);
  client().step(now_ + 1'000);
  EXPECT_EQ(client().statuses_waiting(), 0u);
  EXPECT_EQ(statuses_with(R"("reason":"not_newer")").size(), 1u);
}

TEST_F(UpdateClientTest, TheReleaseTimestampIsJudgedTheStepAfterEachCheck) {
  config_.check_interval_ms = 60'000;
  clock_.now = kToday;
  server_.timestamp_answer = timestamp(kToday - kDay);
  client().step(now_);
  EXPECT_EQ(client().release_check(), "") << "no verdict before the first check";
  now_ += 5'000;
  const std::int64_t next = client().step(now_);
  EXPECT_EQ(server_.offer_requests, 1);
  EXPECT_TRUE(server_.timestamp_requests.empty()) << "one exchange with the gateway per step";
  EXPECT_EQ(next, now_) << "the timestamp is due at once";
  client().step(now_);
  EXPECT_THAT(server_.timestamp_requests, ::testing::ElementsAre("thermo-linux"));
  EXPECT_EQ(client().release_check(), "current");
  EXPECT_EQ(slots_.newest_timestamp, server_.timestamp_answer) << "the newest statement seen is kept";

  clock_.now = kToday + 29 * kDay;  // past the expiry of a statement issued yesterday for 30 days
  EXPECT_EQ(check_timestamp_now(), "timestamp_expired");
  EXPECT_THAT(log_.all(), HasSubstr("release timestamp: timestamp_expired: the release timestamp issued "
                                    "2026-12-04T08:00:00Z (naming 1.1.0, expiring 2027-01-03T08:00:00Z) has expired; "
                                    "this device cannot tell whether its gateway withholds releases"));

  server_.timestamp_answer = timestamp(kToday + 28 * kDay);  // a new one, signed offline and published
  EXPECT_EQ(check_timestamp_now(), "current");

  server_.timestamp_answer = timestamp(kToday - kDay, 60);  // the old one again, not expired yet
  EXPECT_EQ(check_timestamp_now(), "timestamp_rolled_back");

  server_.timestamp_answer = "";
  EXPECT_EQ(check_timestamp_now(), "timestamp_missing");
  server_.timestamp_answer = timestamp(kToday + 29 * kDay, 30, "thermo-linux", &other_key_);
  EXPECT_EQ(check_timestamp_now(), "timestamp_invalid");
  server_.timestamp_answer = timestamp(kToday + 29 * kDay, 30, "other-product");
  EXPECT_EQ(check_timestamp_now(), "timestamp_invalid");
  server_.timestamp_answer = sign(manifest_for(image_), key_);  // a manifest is no timestamp
  EXPECT_EQ(check_timestamp_now(), "timestamp_invalid");
  EXPECT_EQ(slots_.newest_timestamp, timestamp(kToday + 28 * kDay)) << "only a newer valid statement is kept";

  server_.unreachable = true;
  EXPECT_EQ(check_timestamp_now(), "timestamp_invalid") << "no answer changes no verdict";
  EXPECT_THAT(log_.all(), HasSubstr("release timestamp check: connection refused"));
}

TEST_F(UpdateClientTest, TheNewestTimestampSeenOutlivesARestartAndTheClockMayBeUnknown) {
  config_.check_interval_ms = 60'000;
  clock_.now = kToday;
  server_.timestamp_answer = timestamp(kToday - kDay);
  EXPECT_EQ(check_timestamp_now(), "current");

  client_.reset();  // a restart: the gateway now serves a statement older than the one seen
  server_.timestamp_answer = timestamp(kToday - 2 * kDay);
  EXPECT_EQ(check_timestamp_now(), "timestamp_rolled_back");

  client_.reset();
  clock_.now.reset();  // a board that has not synced its clock yet
  server_.timestamp_answer = timestamp(kToday);
  EXPECT_EQ(check_timestamp_now(), "clock_unknown");
  EXPECT_EQ(slots_.newest_timestamp, server_.timestamp_answer) << "a newer statement is kept whatever the clock";
}

TEST_F(UpdateClientTest, TimestampsAreNotFetchedWhenTheDeviceDoesNotCheckThem) {
  config_.check_interval_ms = 60'000;
  config_.check_timestamps = false;
  EXPECT_EQ(check_timestamp_now(), "");
  EXPECT_EQ(check_timestamp_now(), "");
  EXPECT_EQ(server_.offer_requests, 2);
  EXPECT_TRUE(server_.timestamp_requests.empty());
}

}  // namespace
}  // namespace kelvin::device
