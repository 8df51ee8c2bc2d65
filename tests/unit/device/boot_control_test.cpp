#include "kelvin/device/boot_control.hpp"

#include <gtest/gtest.h>

namespace kelvin::device {
namespace {

// A device that runs 1.0.0 from slot a, confirmed, after accepting security version 2 once.
BootRecord running_v1() {
  BootRecord record;
  record.confirmed = Slot::a;
  record.confirmed_version = {1, 0, 0};
  record.highest_security_version = 2;
  return record;
}

TEST(BootControlTest, WithoutATrialTheConfirmedSlotStartsAndNothingChanges) {
  const BootRecord record = running_v1();
  const BootChoice choice = choose_boot_slot(record);
  EXPECT_EQ(choice.slot, Slot::a);
  EXPECT_FALSE(choice.trial);
  EXPECT_EQ(choice.record, record);
}

TEST(BootControlTest, AStagedImageStartsInTheOtherSlotAndUsesAnAttemptBeforeItStarts) {
  const BootRecord staged = stage_trial(running_v1(), {1, 1, 0}, 3, 2);
  EXPECT_EQ(staged.trial, Slot::b);
  EXPECT_EQ(staged.attempts_left, 2u);
  const BootChoice first = choose_boot_slot(staged);
  EXPECT_EQ(first.slot, Slot::b);
  EXPECT_TRUE(first.trial);
  EXPECT_EQ(first.record.attempts_left, 1u) << "the attempt is used up before the start";
  EXPECT_EQ(first.record.highest_security_version, 2u) << "not raised before confirmation";
}

TEST(BootControlTest, AHealthyTrialBecomesTheConfirmedSlot) {
  const BootChoice start = choose_boot_slot(stage_trial(running_v1(), {1, 1, 0}, 3));
  const BootRecord confirmed = confirm_trial(start.record, start.slot);
  EXPECT_EQ(confirmed.confirmed, Slot::b);
  EXPECT_EQ(confirmed.confirmed_version, (proto::FirmwareVersion{1, 1, 0}));
  EXPECT_FALSE(confirmed.trial.has_value());
  EXPECT_EQ(confirmed.highest_security_version, 3u);
  EXPECT_EQ(confirmed.last_outcome, TrialOutcome::confirmed);
  // It now starts every time, with no attempt counted.
  const BootChoice next = choose_boot_slot(confirmed);
  EXPECT_EQ(next.slot, Slot::b);
  EXPECT_FALSE(next.trial);
  // The next update goes to slot a.
  EXPECT_EQ(stage_trial(confirmed, {1, 2, 0}, 3).trial, Slot::a);
  EXPECT_EQ(outcome_reported(confirmed).last_outcome, TrialOutcome::none);
}

TEST(BootControlTest, ATrialThatNeverConfirmsIsRolledBackAfterItsAttempts) {
  BootRecord record = stage_trial(running_v1(), {1, 1, 0}, 3, 3);
  int trial_starts = 0;
  for (int start = 0; start < 10; ++start) {
    const BootChoice choice = choose_boot_slot(record);
    record = choice.record;  // persisted before the start; the start then crashes or hangs
    if (choice.trial) {
      ++trial_starts;
      EXPECT_EQ(choice.slot, Slot::b);
    } else {
      EXPECT_EQ(choice.slot, Slot::a);
    }
  }
  EXPECT_EQ(trial_starts, 3);
  EXPECT_FALSE(record.trial.has_value());
  EXPECT_EQ(record.confirmed, Slot::a);
  EXPECT_EQ(record.confirmed_version, (proto::FirmwareVersion{1, 0, 0}));
  EXPECT_EQ(record.last_outcome, TrialOutcome::rolled_back);
  EXPECT_EQ(record.last_outcome_version, (proto::FirmwareVersion{1, 1, 0}));
  EXPECT_EQ(record.highest_security_version, 2u) << "a rolled-back release raises nothing";
}

TEST(BootControlTest, ConfirmingFromAnotherSlotThanTheTrialChangesNothing) {
  const BootRecord staged = stage_trial(running_v1(), {1, 1, 0}, 3);
  EXPECT_EQ(confirm_trial(staged, Slot::a), staged) << "the old image confirming itself is no confirmation of b";
  EXPECT_EQ(confirm_trial(running_v1(), Slot::a), running_v1());
}

TEST(BootControlTest, StagingNeverGivesZeroAttempts) {
  EXPECT_EQ(stage_trial(running_v1(), {1, 1, 0}, 3, 0).attempts_left, 1u);
  EXPECT_STREQ(to_string(Slot::b), "b");
  EXPECT_STREQ(to_string(TrialOutcome::rolled_back), "rolled_back");
}

}  // namespace
}  // namespace kelvin::device
