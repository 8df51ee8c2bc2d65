// The pure logic of the rollouts pages, apart from the DOM so it can be tested on its own
// (test/pages_model.test.mjs): how a rollout's progress is drawn, what each state reads as, which
// commands an operator has in which state, how a rollout's devices were chosen, and reading the
// start form's fields.

import type { DeviceRolloutState, RolloutState, RolloutSummary, RolloutTarget } from './types';

export const ROLLOUT_STATES: Record<RolloutState, string> = {
  running: 'Running',
  paused: 'Paused',
  halted: 'Halted: too many failures',
  aborted: 'Aborted',
  completed: 'Completed',
};

export const DEVICE_STATES: Record<DeviceRolloutState, string> = {
  pending: 'Waiting for its wave',
  notified: 'Notified',
  downloading: 'Downloading',
  installed: 'Installed, restarting',
  confirmed: 'Confirmed',
  failed: 'Failed',
  rolled_back: 'Rolled back',
};

// A progress bar's parts, in percent of the rollout's devices (they add up to 100 when there are
// devices): done and healthy, done and failed (failed or rolled back), under way (notified,
// downloading, installed), waiting for their wave.
export interface ProgressSegments {
  confirmed: number;
  failed: number;
  active: number;
  pending: number;
}

export function progressSegments(rollout: Pick<RolloutSummary, 'counts' | 'device_count'>): ProgressSegments {
  const c = rollout.counts;
  const total = rollout.device_count;
  if (total <= 0) return { confirmed: 0, failed: 0, active: 0, pending: 0 };
  const share = (n: number) => (100 * n) / total;
  return {
    confirmed: share(c.confirmed ?? 0),
    failed: share((c.failed ?? 0) + (c.rolled_back ?? 0)),
    active: share((c.notified ?? 0) + (c.downloading ?? 0) + (c.installed ?? 0)),
    pending: share(c.pending ?? 0),
  };
}

// "2 of 5 confirmed, 1 failed, 1 under way, 1 waiting": what the bar shows, in words (its label).
export function progressText(rollout: Pick<RolloutSummary, 'counts' | 'device_count'>): string {
  const c = rollout.counts;
  const failed = (c.failed ?? 0) + (c.rolled_back ?? 0);
  const active = (c.notified ?? 0) + (c.downloading ?? 0) + (c.installed ?? 0);
  const parts = [`${c.confirmed ?? 0} of ${rollout.device_count} confirmed`];
  if (failed) parts.push(`${failed} failed`);
  if (active) parts.push(`${active} under way`);
  if (c.pending) parts.push(`${c.pending} waiting`);
  return parts.join(', ');
}

// "Wave 2 of 3 (25 %)"; "Not started" before the first.
export function waveText(rollout: Pick<RolloutSummary, 'waves' | 'current_wave'>): string {
  if (rollout.current_wave <= 0) return 'Not started';
  const wave = Math.min(rollout.current_wave, rollout.waves.length);
  return `Wave ${wave} of ${rollout.waves.length} (${rollout.waves[wave - 1]} %)`;
}

export type RolloutCommand = 'pause' | 'resume' | 'abort';

// What an operator or admin may do to a rollout in `state` (the gateway decides again).
export function allowedCommands(state: RolloutState, role: string | undefined): RolloutCommand[] {
  if (role !== 'operator' && role !== 'admin') return [];
  switch (state) {
    case 'running':
      return ['pause', 'abort'];
    case 'paused':
    case 'halted':
      return ['resume', 'abort'];
    default:
      return [];
  }
}

export function isActive(state: RolloutState): boolean {
  return state === 'running' || state === 'paused' || state === 'halted';
}

// The waves field ("5, 25, 100"): the percentages, or why not.
export function parseWaves(text: string): number[] | string {
  const parts = text.split(/[\s,]+/).filter(Boolean);
  if (parts.length === 0) return 'Give the waves as percentages, e.g. 5, 25, 100.';
  const waves = parts.map((part) => (/^\d+$/.test(part) ? Number(part) : Number.NaN));
  if (waves.some((wave) => !Number.isInteger(wave) || wave < 1 || wave > 100)) {
    return 'Each wave is a whole percentage from 1 to 100.';
  }
  for (let i = 1; i < waves.length; i += 1) {
    if (waves[i] <= waves[i - 1]) return 'Each wave must be larger than the one before: they add devices up to 100 %.';
  }
  if (waves[waves.length - 1] !== 100) return 'The last wave must be 100 (every device).';
  return waves;
}

// The devices field: ids separated by commas, spaces or new lines, each once, in their order.
export function parseDeviceList(text: string): string[] {
  const seen = new Set<string>();
  for (const id of text.split(/[\s,]+/).filter(Boolean)) seen.add(id);
  return [...seen];
}

// A device label (docs/registry.md, "Labels"): 1 to 64 of a-z, 0-9, '.', '_', '-', starting with
// a letter or digit. The gateway checks again.
export function isLabel(text: string): boolean {
  return /^[a-z0-9][a-z0-9._-]{0,63}$/.test(text);
}

// "Devices labelled greenhouse": how the rollout's devices were chosen, for its page.
export function targetText(target: RolloutTarget | null | undefined): string {
  switch (target?.kind) {
    case 'all':
      return 'Every device the gateway knew';
    case 'devices':
      return 'Listed devices';
    case 'label':
      return `Devices labelled ${target.label} when it started`;
    default:
      return 'Not recorded';
  }
}

export type TargetChoice = 'all' | 'some' | 'label';

// The start form's choice of devices as the members of the request's body, or why not.
export function startTarget(choice: TargetChoice, devicesText: string, labelText: string):
  { all: true } | { devices: string[] } | { label: string } | string {
  if (choice === 'all') return { all: true };
  if (choice === 'some') {
    const ids = parseDeviceList(devicesText);
    return ids.length ? { devices: ids } : 'Name the devices, or choose every device.';
  }
  const label = labelText.trim();
  if (!label) return 'Name the label whose devices get the release.';
  if (!isLabel(label)) {
    return 'A label is 1 to 64 lowercase letters, digits, dots, dashes and underscores, starting with a letter or digit.';
  }
  return { label };
}

// Newest first, as the API answers; kept here so a page that merges answers sorts the same way.
export function rolloutOrder(a: RolloutSummary, b: RolloutSummary): number {
  return b.id - a.id;
}

// What a rollout does with a device that stays silent (device_timeout_s; 0: nothing).
export function deviceTimeoutText(seconds: number | undefined): string {
  if (!seconds) return 'may stay silent: only an operator ends their part';
  const hours = seconds / 3600;
  const span = Number.isInteger(hours) ? `${hours} h` : `${Math.round(seconds / 60)} min`;
  return `fail as timed_out after ${span} without a report`;
}
