// A device's page, for operators and admins: revoke the device's certificate, or remove the device
// (POST /api/v1/devices/{id}/revoke, DELETE /api/v1/devices/{id}), each after a confirmation that
// says what it does. Deleting the device's readings is not offered: that stays with kelvinctl on
// the gateway's host (docs/api.md).

import { api } from '../api';
import type { AppContext } from '../app';
import { h, replace } from '../dom';
import { formatCount } from '../format';
import { type DeviceAction, deviceActionMessage } from '../messages';
import type { DeviceRemoval, DeviceRevocation, RevokedCertificate } from '../types';
import { confirmStep } from '../widgets';

export interface DeviceActionsView {
  element: HTMLElement;
}

function serials(revoked: RevokedCertificate[]): string {
  return revoked.map((certificate) => certificate.serial).join(', ');
}

// The section, or null for a viewer. `changed` runs after an action went through, for the page to
// fetch the device again (a removed device with no stored data is not found any more).
export function deviceActions(context: AppContext, id: string, changed: () => void): DeviceActionsView | null {
  const role = context.session?.role;
  if (role !== 'operator' && role !== 'admin') return null;

  const message = h('p', { class: 'message', role: 'status', tabindex: '-1', hidden: true, 'data-testid': 'device-action-message' });
  const say = (text: string, level: 'success' | 'error') => {
    message.textContent = text;
    message.className = `message ${level}`;
    message.hidden = false;
    message.focus();
  };

  async function act(action: DeviceAction, request: () => Promise<void>): Promise<void> {
    message.hidden = true;
    try {
      await request();
    } catch (error) {
      say(deviceActionMessage(action, error, id), 'error');
    }
  }

  const path = `/api/v1/devices/${encodeURIComponent(id)}`;
  const revokeSlot = h('div', { class: 'action-slot' });
  const removeSlot = h('div', { class: 'action-slot' });
  const revokeButton = h('button', { type: 'button', class: 'danger', 'data-testid': 'device-revoke' }, 'Revoke certificate');
  const removeButton = h('button', { type: 'button', class: 'danger', 'data-testid': 'device-remove' }, 'Remove device');
  replace(revokeSlot, revokeButton);
  replace(removeSlot, removeButton);

  revokeButton.addEventListener('click', () =>
    confirmStep(revokeSlot, revokeButton, {
      prompt: `Revoke ${id}'s certificate? Within about a second the gateway refuses it: ${id} can no longer connect or send readings. What it stored stays. Only kelvinctl device add on the gateway's host can give it a new certificate.`,
      confirm: `Revoke ${id}`,
      danger: true,
      onConfirm: () =>
        act('revoke', async () => {
          const answer = await api<DeviceRevocation>('POST', `${path}/revoke`);
          say(`Revoked ${id}'s certificate (serial ${serials(answer.revoked)}). The gateway refuses it from now on.`, 'success');
          changed();
        }),
    }));

  removeButton.addEventListener('click', () =>
    confirmStep(removeSlot, removeButton, {
      prompt: `Remove ${id}? Its certificate is revoked and its registration removed; its stored readings stay (kelvinctl device remove --purge on the gateway's host deletes them).`,
      confirm: `Remove ${id}`,
      danger: true,
      onConfirm: () =>
        act('remove', async () => {
          const answer = await api<DeviceRemoval>('DELETE', path);
          const revoked = answer.revoked.length ? `revoked its certificate (serial ${serials(answer.revoked)}), ` : '';
          const kept = `${formatCount(answer.readings_kept)} stored reading${answer.readings_kept === 1 ? '' : 's'}`;
          say(`Removed ${id}: ${revoked}${answer.registration_removed ? 'removed its registration, ' : ''}kept its ${kept}.`, 'success');
          changed();
        }),
    }));

  const element = h('section', { class: 'device-actions', 'aria-labelledby': 'device-actions-title', 'data-testid': 'device-actions' },
    h('h2', { id: 'device-actions-title' }, 'Manage'),
    message,
    h('div', { class: 'actions' }, revokeSlot, removeSlot));
  return { element };
}
