// One's own account: who and what one is signed in as, and changing one's password
// (POST /api/v1/session/password, which ends one's other sessions and keeps this one).

import { api, ApiError } from '../api';
import type { AppContext, Page } from '../app';
import { h, replace } from '../dom';
import { formatLocalTime } from '../format';
import { passwordChangeMessage } from '../messages';
import { ROLE_DESCRIPTIONS } from '../users_model';

export function accountPage(context: AppContext): Page {
  let disposed = false;
  const session = context.session;
  if (!session) return { dispose() {} };

  const current = h('input', {
    id: 'password-current', name: 'current-password', type: 'password', autocomplete: 'current-password', required: true,
  });
  const replacement = h('input', {
    id: 'password-new', name: 'new-password', type: 'password', autocomplete: 'new-password', required: true,
    'aria-describedby': 'password-new-hint',
  });
  const repeat = h('input', {
    id: 'password-repeat', name: 'repeat-password', type: 'password', autocomplete: 'new-password', required: true,
  });
  const submit = h('button', { type: 'submit' }, 'Change password');
  const message = h('p', { class: 'message', role: 'alert', hidden: true, 'data-testid': 'password-message' });

  function show(text: string, kind: 'error' | 'success'): void {
    message.hidden = false;
    message.className = `message ${kind}`;
    message.textContent = text;
  }

  async function change(event: Event): Promise<void> {
    event.preventDefault();
    if (submit.disabled) return;
    message.hidden = true;
    if (replacement.value !== repeat.value) {
      show('The two new passwords differ: type the same one twice.', 'error');
      repeat.value = '';
      repeat.focus();
      return;
    }
    submit.disabled = true;
    submit.textContent = 'Changing…';
    try {
      await api<void>('POST', '/api/v1/session/password', { body: { current: current.value, new: replacement.value } });
      if (disposed) return;
      for (const input of [current, replacement, repeat]) input.value = '';
      show('Your password is changed. Your other sessions were signed out; this one goes on.', 'success');
    } catch (error) {
      if (disposed) return;
      show(passwordChangeMessage(error), 'error');
      if (error instanceof ApiError && error.code === 'bad_credentials') {
        current.value = '';
        current.focus();
      } else {
        replacement.focus();
      }
    } finally {
      submit.disabled = false;
      submit.textContent = 'Change password';
    }
  }

  const secondFactor = session.second_factor_enrolled
    ? 'set up'
    : h('span', {}, 'none — ', h('a', { href: '#/enrol' }, 'set one up'));

  replace(context.main,
    h('section', { class: 'page account-page' },
      h('h1', {}, 'Your account'),
      h('dl', { class: 'facts', 'data-testid': 'account-facts' },
        h('dt', {}, 'User name'), h('dd', {}, session.user),
        h('dt', {}, 'Role'), h('dd', {}, `${session.role}: ${ROLE_DESCRIPTIONS[session.role] ?? ''}`),
        h('dt', {}, 'Second factor'), h('dd', {}, secondFactor),
        h('dt', {}, 'This session ends'), h('dd', {}, `${formatLocalTime(session.expires_ms)} at the latest, or sooner without activity`),
      ),
      h('form', { class: 'card narrow-form', 'aria-labelledby': 'password-title', onsubmit: (e: Event) => void change(e) },
        h('h2', { id: 'password-title' }, 'Change your password'),
        // For password managers: which account the new password belongs to.
        h('input', { type: 'text', name: 'username', autocomplete: 'username', value: session.user, hidden: true, readonly: true }),
        h('div', { class: 'field' }, h('label', { for: 'password-current' }, 'Current password'), current),
        h('div', { class: 'field' },
          h('label', { for: 'password-new' }, 'New password'), replacement,
          h('p', { class: 'hint', id: 'password-new-hint' },
            'At least 12 characters and not your user name. A few unrelated words make a strong one.')),
        h('div', { class: 'field' }, h('label', { for: 'password-repeat' }, 'New password again'), repeat),
        message,
        h('div', { class: 'actions' }, submit),
      ),
    ));

  return {
    dispose() {
      disposed = true;
    },
  };
}
