// Sign in: user and password, and the code field once the gateway answers second_factor_required.
// After too many failures (429) the button stays disabled for the Retry-After the gateway gave,
// counting down.

import { api, ApiError } from '../api';
import type { AppContext, Page } from '../app';
import { h, replace } from '../dom';
import { signInMessage, tooManyAttempts } from '../messages';
import type { Session } from '../types';

export function signInPage(context: AppContext): Page {
  let countdown: number | undefined;
  let busy = false;

  const user = h('input', {
    id: 'signin-user', name: 'username', type: 'text', autocomplete: 'username', required: true,
    autocapitalize: 'none', spellcheck: 'false',
  });
  const password = h('input', {
    id: 'signin-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true,
  });
  const code = h('input', {
    id: 'signin-code', name: 'code', type: 'text', autocomplete: 'one-time-code', inputmode: 'text',
    autocapitalize: 'none', spellcheck: 'false', maxlength: '16',
  });
  const codeField = h('div', { class: 'field', hidden: true },
    h('label', { for: 'signin-code' }, 'Code'),
    code,
    h('p', { class: 'hint' }, 'From your authenticator app (6 digits), or a recovery code such as k3mzq-7tw2a.'),
  );
  const submit = h('button', { type: 'submit' }, 'Sign in');
  const message = h('p', { class: 'message', role: 'alert', 'data-testid': 'signin-message', hidden: true });
  const notice = context.notice
    ? h('p', { class: 'notice', role: 'status', 'data-testid': 'signin-notice' }, context.notice)
    : null;

  function show(text: string, kind: 'error' | 'info'): void {
    message.hidden = false;
    message.className = `message ${kind}`;
    message.textContent = text;
  }

  function lockFor(seconds: number): void {
    window.clearInterval(countdown);
    let left = seconds;
    submit.disabled = true;
    show(tooManyAttempts(left), 'error');
    countdown = window.setInterval(() => {
      left -= 1;
      if (left > 0) {
        show(tooManyAttempts(left), 'error');
        return;
      }
      window.clearInterval(countdown);
      submit.disabled = false;
      show(tooManyAttempts(0), 'info');
    }, 1000);
  }

  async function signIn(event: Event): Promise<void> {
    event.preventDefault();
    if (busy || submit.disabled) return;
    busy = true;
    submit.disabled = true;
    submit.textContent = 'Signing in…';
    message.hidden = true;
    const body: Record<string, string> = { user: user.value.trim(), password: password.value };
    if (!codeField.hidden && code.value.trim() !== '') body.code = code.value.trim();
    let locked = false;
    try {
      const session = await api<Session>('POST', '/api/v1/session', { body, quiet: true });
      password.value = '';
      code.value = '';
      context.signedIn(session);
      return;
    } catch (error) {
      if (error instanceof ApiError && error.code === 'second_factor_required') {
        codeField.hidden = false;
        code.required = true;
        show(signInMessage(error), 'info');
        code.focus();
      } else if (error instanceof ApiError && error.code === 'too_many_attempts') {
        locked = true;
        lockFor(error.retryAfterS ?? 60);
      } else {
        show(signInMessage(error), 'error');
        if (error instanceof ApiError && error.code === 'bad_second_factor') {
          code.value = '';
          code.focus();
        } else if (error instanceof ApiError && error.code === 'bad_credentials') {
          password.value = '';
          password.focus();
        }
      }
    } finally {
      busy = false;
      submit.textContent = 'Sign in';
      if (!locked) submit.disabled = false;
    }
  }

  const form = h('form', { class: 'card signin', novalidate: false, onsubmit: (e: Event) => void signIn(e) },
    h('h1', {}, 'Sign in to kelvin'),
    notice,
    h('div', { class: 'field' }, h('label', { for: 'signin-user' }, 'User name'), user),
    h('div', { class: 'field' }, h('label', { for: 'signin-password' }, 'Password'), password),
    codeField,
    message,
    h('div', { class: 'actions' }, submit),
  );
  replace(context.main, h('section', { class: 'centered' }, form));
  user.focus();

  return {
    dispose() {
      window.clearInterval(countdown);
    },
  };
}
