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
}

// One element of GET /api/v1/devices, and GET /api/v1/devices/{id} (with rejected_by_reason).
export interface Device {
  id: string;
  state: 'online' | 'offline' | 'unknown' | 'never seen' | string;
  registered?: boolean;
  registered_at?: string | null;
  last_seen?: string | null;
  last_seen_ms?: number | null;
  last_reading?: LastReading | null;
  firmware?: string | null;
  acked_seq?: number;
  readings_stored?: number;
  rejected?: number;
  dropped?: number | null;
  certificate?: Certificate | null;
  rejected_by_reason?: Record<string, number>;
}

export interface DeviceList {
  devices: Device[];
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
export interface TotpEnrolment {
  secret: string;
  uri: string;
}
