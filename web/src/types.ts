// The JSON the gateway answers (docs/api.md). Every key the dashboard reads is optional or nullable
// where the API says so; new keys may appear and are ignored.

export type Role = 'viewer' | 'operator' | 'admin';

// POST /api/v1/session and GET /api/v1/session.
export interface Session {
  user: string;
  role: Role;
  csrf_token: string;
  expires_ms: number;
  second_factor_enrolled: boolean;
  must_enrol_second_factor: boolean;
}

export interface LastReading {
  seq: number;
  ts: string;
  ts_ms: number;
  temperature?: number | null;
  humidity?: number | null;
}

export interface Certificate {
  state: 'valid' | 'not_yet_valid' | 'expired' | 'revoked' | 'none' | string;
  serial: string | null;
  expires: string | null;
  expires_ms?: number | null;
}

// One element of GET /api/v1/devices, and GET /api/v1/devices/{id} (with rejected_by_reason).
export interface Device {
  id: string;
  state: 'online' | 'offline' | 'unknown' | 'never seen' | string;
  registered?: boolean;
  registered_at?: string | null;
  registered_at_ms?: number | null;
  last_seen?: string | null;
  last_seen_ms?: number | null;
  last_reading?: LastReading | null;
  firmware?: string | null;
  acked_seq?: number;
  readings_stored?: number;
  rejected?: number;
  dropped?: number | null;
  release_check?: string | null; // the verdict of its release timestamp check; null: never reported
  certificate?: Certificate | null;
  labels?: string[]; // sorted; docs/registry.md, "Labels"
  rejected_by_reason?: Record<string, number>;
}

export interface DeviceList {
  devices: Device[];
}

// GET /api/v1/events: a reading as it was stored, and a status as a device reported it.
export interface LiveReading extends LastReading {
  device: string;
}

export interface LiveStatus {
  device: string;
  state: string;
  firmware: string | null;
  dropped: number;
  release_check?: string | null; // null when the status carried none
  at: string;
  at_ms: number;
}

export type Quantity = 'temperature' | 'humidity';

export interface Bucket {
  start_ms: number;
  min: number;
  mean: number;
  max: number;
  count: number;
}

// GET /api/v1/devices/{id}/series
export interface Series {
  device: string;
  quantity: Quantity;
  unit: string;
  from_ms: number;
  to_ms: number;
  step_ms: number;
  resolution?: string;
  buckets: Bucket[];
}

// POST /api/v1/session/totp
// GET /api/v1/fleet/series: every device's hourly means of one quantity, oldest first.
export interface FleetSeries {
  quantity: Quantity;
  unit: string;
  from_ms: number;
  to_ms: number;
  step_ms: number;
  devices: { id: string; mean: (number | null)[] }[];
}

// POST /api/v1/devices/{id}/revoke and DELETE /api/v1/devices/{id}.
export interface RevokedCertificate {
  serial: string;
  expires: string;
  expires_ms: number;
}

export interface DeviceRevocation {
  device: string;
  revoked: RevokedCertificate[];
}

export interface DeviceRemoval extends DeviceRevocation {
  registration_removed: boolean;
  readings_kept: number;
}

export interface TotpEnrolment {
  secret: string;
  uri: string;
}

// One element of GET /api/v1/users. The API keeps no time of the last sign-in (the audit log has
// the sign-ins).
export interface User {
  name: string;
  role: Role;
  second_factor_enrolled: boolean;
  recovery_codes_left?: number;
  created?: string;
  created_ms?: number;
  password_changed?: string;
  password_changed_ms?: number;
}

export interface UserList {
  users: User[];
}

// POST /api/v1/users (201): the generated password, shown once.
export interface AddedUser {
  name: string;
  role: Role;
  password: string;
}

// POST /api/v1/users/{name}/password: a new generated password, shown once.
export interface PasswordReset {
  name: string;
  password: string;
}

// GET and PUT /api/v1/settings/security
export interface SecuritySettings {
  require_second_factor: boolean;
}

// One element of GET /api/v1/audit (oldest first, paged with after and limit).
export interface AuditEntry {
  id: number;
  at?: string;
  at_ms: number;
  actor: string;
  address: string;
  action: string;
  target: string;
  result: 'ok' | 'failed' | 'denied' | string;
  detail: string;
}

export interface AuditPage {
  entries: AuditEntry[];
}

// GET /api/v1/gateway/status: gateway-stats.json (docs/gateway.md, "Statistics"). Counters are
// since the gateway started; the objects are there only when that part runs.
export interface GatewayStatus {
  time_ms: number;
  rejected?: Record<string, number>;
  export?: Record<string, number | boolean | string | null>;
  http?: Record<string, number>;
  peers?: Record<string, number | boolean>;
  [key: string]: unknown;
}

// GET /api/v1/releases (docs/api.md, "Releases"; docs/ota.md).
export interface ReleaseSummary {
  product: string;
  version: string;
  security_version: number;
  size: number;
  sha256: string;
  created: string; // UTC, YYYY-MM-DDTHH:MM:SSZ
  notes: string;
}

// A product's release timestamp (docs/ota.md, "Freeze: release timestamps").
export interface ReleaseTimestampSummary {
  product: string;
  version: string; // the release it names as the newest
  security_version: number;
  issued: string; // UTC, YYYY-MM-DDTHH:MM:SSZ
  expires: string;
}

export interface ReleasesAnswer {
  release_key: string | null; // the trusted release key's id; null: none trusted yet
  releases: ReleaseSummary[];
  timestamps: ReleaseTimestampSummary[]; // one per product that has releases and a timestamp
}

// PUT /api/v1/releases/{product}/{version}/manifest and …/image (docs/api.md, "Publishing a release").
export interface ReleaseUploadAnswer {
  state: 'awaiting_image' | 'published';
  product: string;
  version: string;
  size: number;
  sha256: string;
}

// GET /api/v1/rollouts and /api/v1/rollouts/{id} (docs/api.md, "Rollouts"; docs/ota.md).
export type RolloutState = 'running' | 'paused' | 'halted' | 'aborted' | 'completed';
export type DeviceRolloutState =
  | 'pending' | 'notified' | 'downloading' | 'installed' | 'confirmed' | 'failed' | 'rolled_back';

// How a rollout's devices were chosen; null for a rollout started before the gateway recorded it.
export type RolloutTarget = { kind: 'all' } | { kind: 'devices' } | { kind: 'label'; label: string };

export interface RolloutSummary {
  id: number;
  product: string;
  version: string;
  state: RolloutState;
  waves: number[]; // cumulative percentages of the devices
  current_wave: number; // waves started so far
  max_failure_percent: number;
  device_timeout_s?: number; // a device silent this long fails as timed_out; 0: no limit
  target?: RolloutTarget | null;
  created_by: string;
  device_count: number;
  counts: Record<DeviceRolloutState, number>;
  created: string;
  created_ms: number;
  updated: string;
  updated_ms: number;
}

export interface RolloutDevice {
  device: string;
  wave: number;
  state: DeviceRolloutState;
  percent: number;
  reason: string;
  detail: string;
  updated: string;
  updated_ms: number;
}

export interface RolloutDetail extends RolloutSummary {
  devices: RolloutDevice[];
}

export interface RolloutsAnswer {
  rollouts: RolloutSummary[];
}

// GET /api/v1/alerts, POST /api/v1/alerts/{id}/acknowledge and /silence, DELETE
// /api/v1/silences/{id} (docs/api.md, "Alerts"; docs/alerts.md).
export type AlertKind =
  | 'threshold' | 'device_offline' | 'certificate_expiry' | 'crl_expiry' | 'disk_space' | 'export_backlog' | 'export_lag'
  | 'event_rate' | 'update_failed' | 'rollout_halted' | 'outbox_drops' | 'superseded_certificate' | 'device_acl_denials';

export interface Alert {
  id: number;
  rule: string;
  kind: AlertKind | string;
  subject: string; // a device, a certificate's common name, or "gateway"
  state: 'firing' | 'resolved';
  value: number | null;
  summary: string;
  resolution: string; // resolved: why; "" while firing
  acknowledged_by: string | null;
  started: string;
  started_ms: number;
  ended: string | null;
  ended_ms: number | null;
  acknowledged: string | null;
  acknowledged_ms: number | null;
  // The active silence covering the alert's rule and subject now; null (or missing, from a gateway
  // without silences) when its notifications are not held back.
  silence?: Silence | null;
}

// Notifications of one rule on one subject held back until a time; the alert still fires and
// resolves.
export interface Silence {
  id: number;
  rule: string;
  subject: string;
  until: string;
  until_ms: number;
  created_by: string;
  created: string;
  created_ms: number;
  comment: string; // "" without one
}

export interface AlertsAnswer {
  alerts: Alert[]; // newest (largest id) first
  next_before: number | null; // a full page: ask again with before = this
}
