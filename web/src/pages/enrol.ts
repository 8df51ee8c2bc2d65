// Setting up a second factor (TOTP): the gateway makes a secret (POST /api/v1/session/totp), shown
// as a QR code of its otpauth:// link and as text; the user confirms with a code from the app
// (POST /api/v1/session/totp/confirm) and is shown the 10 recovery codes, once.

import { api, ApiError } from '../api';
import type { AppContext, Page } from '../app';
import { h, replace } from '../dom';
import { groupSecret } from '../format';
import { generalMessage } from '../messages';
import { qrSvg } from '../qr';
import type { TotpEnrolment } from '../types';

export function enrolPage(context: AppContext): Page {
  let disposed = false;
  const forced = context.session?.must_enrol_second_factor ?? false;
  const intro = forced
    ? 'This gateway requires a second factor. Set one up to continue: you will need an authenticator app on your phone (any TOTP app).'
    : 'With a second factor, signing in needs your password and a code from an authenticator app on your phone (any TOTP app).';
  const body = h('div', { class: 'enrol-body' }, h('p', { class: 'muted' }, 'Preparing…'));
  replace(context.main,
    h('section', { class: 'card enrol' }, h('h1', {}, 'Set up a second factor'), h('p', {}, intro), body));

  function showError(text: string): void {
    replace(body, h('p', { class: 'message error', role: 'alert' }, text),
      h('div', { class: 'actions' },
        h('button', { type: 'button', onclick: () => void begin() }, 'Try again')));
  }

  async function begin(): Promise<void> {
    let enrolment: TotpEnrolment;
    try {
      enrolment = await api<TotpEnrolment>('POST', '/api/v1/session/totp', { body: {} });
    } catch (error) {
      if (!disposed) showError(generalMessage(error));
      return;
    }
    if (!disposed) showSecret(enrolment);
  }

  function showSecret(enrolment: TotpEnrolment): void {
    const code = h('input', {
      id: 'enrol-code', name: 'code', type: 'text', inputmode: 'numeric', autocomplete: 'one-time-code',
      pattern: '[0-9]{6}', maxlength: '6', required: true,
    });
    const submit = h('button', { type: 'submit' }, 'Confirm');
    const message = h('p', { class: 'message error', role: 'alert', hidden: true });

    async function confirm(event: Event): Promise<void> {
      event.preventDefault();
      submit.disabled = true;
      message.hidden = true;
      try {
        const answer = await api<{ recovery_codes: string[] }>('POST', '/api/v1/session/totp/confirm', {
          body: { code: code.value.trim() },
        });
        if (!disposed) showRecoveryCodes(answer.recovery_codes);
      } catch (error) {
        if (disposed) return;
        message.hidden = false;
        if (error instanceof ApiError && error.code === 'bad_credentials') {
          message.textContent =
            "That code does not match. Check that your phone's clock is right and enter the code the app shows now.";
        } else if (error instanceof ApiError && error.code === 'conflict') {
          message.textContent = 'This set-up was replaced by another one (another tab?). Start again.';
        } else {
          message.textContent = generalMessage(error);
        }
        code.select();
      } finally {
        submit.disabled = false;
      }
    }

    replace(body,
      h('ol', { class: 'steps' },
        h('li', {},
          h('p', {}, 'Scan this QR code with your authenticator app:'),
          h('div', { class: 'qr-box', 'data-testid': 'enrol-qr' }, qrSvg(enrolment.uri, 'QR code of the set-up link')),
          h('p', {}, 'Or enter this key by hand:'),
          h('p', { class: 'secret', 'data-testid': 'enrol-secret' }, groupSecret(enrolment.secret)),
          h('details', {}, h('summary', {}, 'Set-up link'),
            h('code', { class: 'uri', 'data-testid': 'enrol-uri' }, enrolment.uri)),
        ),
        h('li', {},
          h('form', { class: 'inline-form', onsubmit: (e: Event) => void confirm(e) },
            h('label', { for: 'enrol-code' }, 'Enter the 6-digit code the app shows:'),
            h('div', { class: 'row' }, code, submit),
            message,
          ),
        ),
      ),
    );
    code.focus();
  }

  function showRecoveryCodes(codes: string[]): void {
    const done = h('button', { type: 'button' }, 'I have saved them — continue');
    done.addEventListener('click', () => {
      done.disabled = true;
      context.refreshSession().then(
        () => context.navigate('#/fleet'),
        () => context.navigate('#/fleet'),
      );
    });
    replace(body,
      h('p', { class: 'message success', role: 'status' }, 'Your second factor is set up.'),
      h('h2', {}, 'Recovery codes'),
      h('p', { class: 'warning', 'data-testid': 'recovery-warning' },
        'These codes are shown only now. Save them somewhere safe (a password manager, or on paper): each one signs you in once in place of a code if you lose your phone.'),
      h('ul', { class: 'recovery-codes', 'data-testid': 'recovery-codes' }, ...codes.map((c) => h('li', {}, c))),
      h('div', { class: 'actions' }, done),
    );
  }

  void begin();
  return {
    dispose() {
      disposed = true;
    },
  };
}
