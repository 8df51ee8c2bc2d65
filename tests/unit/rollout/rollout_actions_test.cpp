// Starting rollouts as kelvinctl and the gateway's routes both do (rollout_actions.hpp), against a
// real store, rollouts.db and release catalog in a temp dir: the three ways of choosing devices,
// a label's devices taken as they are when the rollout starts, and the refusals' kinds.

#include "kelvin/rollout/rollout_actions.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "kelvin/release/release_image.hpp"
#include "kelvin/release/release_keys.hpp"
#include "kelvin/testing/temp_dir.hpp"

namespace kelvin::rollout {
namespace {

namespace fs = std::filesystem;
using Ids = std::vector<std::string>;

constexpr std::int64_t kNowMs = 1'800'000'000'000;

class RolloutActionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = store::Store::open(dir_ / "telemetry.db");
    ASSERT_TRUE(store.ok()) << store.error().message;
    store_.emplace(std::move(*store));
    ASSERT_TRUE(store_->register_device("sensor-1", kNowMs, {"greenhouse"}).ok());
    ASSERT_TRUE(store_->register_device("sensor-2", kNowMs, {"greenhouse", "west"}).ok());
    ASSERT_TRUE(store_->register_device("sensor-3", kNowMs, {"west"}).ok());
    ASSERT_TRUE(store_->register_device("sensor-4", kNowMs).ok());
    auto db = store::RolloutDb::open(dir_ / "rollouts.db");
    ASSERT_TRUE(db.ok()) << db.error().message;
    db_.emplace(std::move(*db));
    publish_release();
  }

  // thermo 1.1.0, signed with a key of the test's and published in the catalog that trusts it.
  void publish_release() {
    auto keys = release::create_release_key_pair(dir_ / "keys", std::nullopt);
    ASSERT_TRUE(keys.ok()) << keys.error().message;
    const fs::path image = dir_ / "thermo.bin";
    std::ofstream(image, std::ios::binary) << std::string(3000, 't');
    auto facts = release::measure_image(image);
    ASSERT_TRUE(facts.ok());
    proto::ReleaseManifest manifest;
    manifest.product = "thermo";
    manifest.version = {1, 1, 0};
    manifest.security_version = 1;
    manifest.size = facts->size;
    manifest.sha256 = facts->sha256;
    manifest.created = "2027-01-15T08:00:00Z";
    auto envelope =
        release::sign_release(manifest, *release::load_release_signing_key(keys->private_key, std::nullopt));
    ASSERT_TRUE(envelope.ok());
    catalog_.emplace(release::ReleaseCatalog(dir_ / "releases", *release::load_release_public_key(keys->public_key)));
    auto published = catalog_->publish(image, *envelope);
    ASSERT_TRUE(published.ok()) << published.error().message;
  }

  StartRequest request(std::string label) {
    return StartRequest{.product = "thermo", .version = "1.1.0", .label = std::move(label), .waves = {50, 100}};
  }

  // Starts `start` with the candidates the store gives now; the refusal's kind in `refusal`.
  Result<store::RolloutRecord> start(const StartRequest& start, StartRefusal* refusal = nullptr) {
    auto candidates = candidates_for(*store_, start);
    EXPECT_TRUE(candidates.ok());
    return start_rollout(*db_, catalog_, *candidates, start, kNowMs, refusal);
  }

  Ids devices_of(std::int64_t id) {
    auto devices = db_->devices(id);
    EXPECT_TRUE(devices.ok());
    Ids ids;
    if (devices) {
      for (const auto& device : *devices) ids.push_back(device.device);
    }
    return ids;
  }

  testing::TempDir dir_;
  std::optional<store::Store> store_;
  std::optional<store::RolloutDb> db_;
  std::optional<release::ReleaseCatalog> catalog_;
};

TEST_F(RolloutActionsTest, CandidatesAreTheKnownDevicesAndThoseCarryingTheLabel) {
  auto candidates = candidates_for(*store_, request("west"));
  ASSERT_TRUE(candidates.ok());
  EXPECT_EQ(candidates->known, (Ids{"sensor-1", "sensor-2", "sensor-3", "sensor-4"}));
  EXPECT_EQ(candidates->labelled, (Ids{"sensor-2", "sensor-3"}));
  StartRequest all{.product = "thermo", .version = "1.1.0", .all = true};
  EXPECT_TRUE(candidates_for(*store_, all)->labelled.empty());
}

TEST_F(RolloutActionsTest, ALabelSelectsExactlyTheDevicesCarryingItWhenTheRolloutStarts) {
  auto started = start(request("greenhouse"));
  ASSERT_TRUE(started.ok()) << started.error().message;
  EXPECT_EQ(started->target, store::RolloutTarget::label);
  EXPECT_EQ(started->target_label, "greenhouse");
  EXPECT_EQ(devices_of(started->id), (Ids{"sensor-1", "sensor-2"}));
  const auto devices = *db_->devices(started->id);
  EXPECT_EQ(devices[0].wave, 1);
  EXPECT_EQ(devices[1].wave, 2) << "by id, in the waves asked for";
  EXPECT_EQ(describe_start(*started, devices.size()),
            "thermo 1.1.0 to 2 devices labelled greenhouse in waves 50,100, halting above 20 % failures, a device "
            "silent for 1d fails");
  EXPECT_EQ(describe_target(**db_->rollout(started->id)), "label greenhouse");

  // A snapshot: labelling another device, or taking the label away, changes nothing in it.
  ASSERT_TRUE(store_->change_device_labels("sensor-4", {"greenhouse"}, {}).ok());
  ASSERT_TRUE(store_->change_device_labels("sensor-1", {}, {"greenhouse"}).ok());
  EXPECT_EQ(devices_of(started->id), (Ids{"sensor-1", "sensor-2"}));
}

TEST_F(RolloutActionsTest, EveryTargetIsRecorded) {
  StartRequest all{.product = "thermo", .version = "1.1.0", .all = true, .waves = {100}};
  auto everyone = start(all);
  ASSERT_TRUE(everyone.ok()) << everyone.error().message;
  EXPECT_EQ(devices_of(everyone->id), (Ids{"sensor-1", "sensor-2", "sensor-3", "sensor-4"}));
  EXPECT_EQ(describe_target(**db_->rollout(everyone->id)), "all devices");
  ASSERT_TRUE(command_rollout(*db_, everyone->id, RolloutCommand::abort, kNowMs).ok());
  StartRequest listed{.product = "thermo", .version = "1.1.0", .devices = {"sensor-3"}, .waves = {100}};
  auto some = start(listed);
  ASSERT_TRUE(some.ok()) << some.error().message;
  EXPECT_EQ((*db_->rollout(some->id))->target, store::RolloutTarget::devices);
  EXPECT_EQ(describe_target(**db_->rollout(some->id)), "listed devices");
}

TEST_F(RolloutActionsTest, RefusalsSayWhichKind) {
  StartRefusal refusal = StartRefusal::failed;
  auto nobody = start(request("east"), &refusal);
  ASSERT_FALSE(nobody.ok());
  EXPECT_EQ(refusal, StartRefusal::label_not_found);
  EXPECT_EQ(nobody.error().code, Errc::not_found);
  EXPECT_NE(nobody.error().message.find("no device carries the label 'east'"), std::string::npos);

  for (const std::string& bad :
       {std::string("Greenhouse"), std::string("a b"), std::string(".x"), std::string(65, 'x')}) {
    auto malformed = start(request(bad), &refusal);
    ASSERT_FALSE(malformed.ok()) << bad;
    EXPECT_EQ(refusal, StartRefusal::invalid_label) << bad;
    EXPECT_EQ(malformed.error().code, Errc::invalid_argument) << bad;
  }

  StartRequest two = request("greenhouse");
  two.all = true;
  ASSERT_FALSE(start(two, &refusal).ok());
  EXPECT_EQ(refusal, StartRefusal::invalid_request);
  two.all = false;
  two.devices = {"sensor-1"};
  ASSERT_FALSE(start(two, &refusal).ok());
  EXPECT_EQ(refusal, StartRefusal::invalid_request);
  StartRequest none{.product = "thermo", .version = "1.1.0"};
  ASSERT_FALSE(start(none, &refusal).ok());
  EXPECT_EQ(refusal, StartRefusal::invalid_request);
  EXPECT_TRUE(db_->rollouts()->empty()) << "nothing refused was started";
}

}  // namespace
}  // namespace kelvin::rollout
