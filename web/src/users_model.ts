// The users page's table model (GET /api/v1/users), apart from the DOM so it can be tested on its
// own (test/pages_model.test.mjs): the rows in name order with what each cell says, and who still
// lacks a second factor (what requiring one for everyone would affect).

import { formatLocalDateTime } from './format';
import type { Role, User } from './types';

export const ROLES: Role[] = ['viewer', 'operator', 'admin'];

// What each role may, as docs/users.md says it.
export const ROLE_DESCRIPTIONS: Record<Role, string> = {
  viewer: 'reads the fleet, its data and the gateway status',
  operator: 'a viewer who also manages devices and firmware rollouts',
  admin: 'an operator who also manages users and security settings and reads the audit log',
};

export interface UserRow {
  name: string;
  role: Role;
  isMe: boolean;
  secondFactor: string; // "yes, 10 recovery codes left", "yes, no recovery codes left", "no"
  secondFactorLevel: 'ok' | 'warn' | 'none';
  created: string; // in the browser's time zone
  passwordChanged: string;
}

const collator = new Intl.Collator('en', { numeric: true });

export function secondFactorText(user: User): Pick<UserRow, 'secondFactor' | 'secondFactorLevel'> {
  if (!user.second_factor_enrolled) return { secondFactor: 'no', secondFactorLevel: 'none' };
  const left = user.recovery_codes_left;
  if (typeof left !== 'number') return { secondFactor: 'yes', secondFactorLevel: 'ok' };
  if (left === 0) return { secondFactor: 'yes, no recovery codes left', secondFactorLevel: 'warn' };
  return {
    secondFactor: `yes, ${left} recovery code${left === 1 ? '' : 's'} left`,
    secondFactorLevel: left < 3 ? 'warn' : 'ok',
  };
}

// One row per user, by name; `me` is the signed-in user.
export function userRows(users: User[], me: string): UserRow[] {
  return users
    .filter((user) => typeof user?.name === 'string')
    .map((user) => ({
      name: user.name,
      role: user.role,
      isMe: user.name === me,
      ...secondFactorText(user),
      created: formatLocalDateTime(user.created_ms),
      passwordChanged: formatLocalDateTime(user.password_changed_ms),
    }))
    .sort((a, b) => collator.compare(a.name, b.name));
}

// The users without a second factor, by name: who must set one up when it becomes required.
export function usersWithoutSecondFactor(users: User[]): string[] {
  return users
    .filter((user) => !user.second_factor_enrolled)
    .map((user) => user.name)
    .sort(collator.compare);
}

// "vera", "vera and olaf", "vera, olaf and 3 others".
export function listNames(names: string[], shown = 5): string {
  if (names.length === 0) return '';
  if (names.length === 1) return names[0];
  if (names.length <= shown) return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
  const rest = names.length - shown;
  return `${names.slice(0, shown).join(', ')} and ${rest} other${rest === 1 ? '' : 's'}`;
}
