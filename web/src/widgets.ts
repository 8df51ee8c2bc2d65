// Pieces several pages share: what a page that needs the admin role shows anyone else, a generated
// password shown once, and a confirmation step before a change that cannot be undone.

import type { AppContext } from './app';
import { h, replace } from './dom';
import { adminOnlyMessage } from './messages';

// Shown instead of an admin page when the gateway answers 403 forbidden (a viewer or operator, or an
// admin whose role was lowered since signing in).
export function adminOnlyNotice(context: AppContext, title: string): HTMLElement {
  return h('section', { class: 'page admin-only' },
    h('h1', {}, title),
    h('p', { class: 'message error', role: 'alert', 'data-testid': 'admin-only' },
      adminOnlyMessage(context.session?.user, context.session?.role)),
    h('p', {}, 'An admin can give you another role on the Users page, or with ',
      h('code', {}, 'kelvinctl user role'), ' on the gateway.'),
    h('p', {}, h('a', { href: '#/fleet' }, 'Go to the fleet')),
  );
}

export interface OneTimePassword {
  element: HTMLElement;
  // Moves the focus to the panel's heading, so a screen reader reads it out.
  focus(): void;
}

// A generated password (a new user's, or a reset one), shown once with a copy button. `onDone`
// removes it.
export function oneTimePassword(title: string, name: string, password: string, onDone: () => void): OneTimePassword {
  const value = h('code', { class: 'secret one-time-value', 'data-testid': 'one-time-password' }, password);
  const copied = h('span', { class: 'copy-status', role: 'status' });
  const copy = h('button', { type: 'button', class: 'secondary' }, 'Copy');
  copy.addEventListener('click', () => {
    const writing = navigator.clipboard ? navigator.clipboard.writeText(password) : Promise.reject(new Error('no clipboard'));
    writing.then(
      () => {
        copied.textContent = 'Copied.';
      },
      () => {
        // No clipboard access (permissions, an old browser): select it for Ctrl+C.
        window.getSelection()?.selectAllChildren(value);
        copied.textContent = 'Selected: press Ctrl+C to copy it.';
      },
    );
  });
  const heading = h('h3', { tabindex: '-1' }, title);
  const element = h('div', { class: 'one-time', 'data-testid': 'one-time' },
    heading,
    h('p', {}, `The password for ${name}:`),
    h('div', { class: 'one-time-row' }, value, copy, copied),
    h('p', { class: 'warning', 'data-testid': 'one-time-warning' },
      `Copy it now: it is not shown again. Give it to ${name} by a safe way; they should change it on their Account page after signing in.`),
    h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'secondary', onclick: onDone }, 'Done, I have copied it')),
  );
  return { element, focus: () => heading.focus() };
}

export interface ConfirmOptions {
  prompt: string;
  confirm: string; // the confirming button's label: says what happens ("Remove vera")
  danger?: boolean;
  onConfirm: () => Promise<void>;
  // After the action, once the opener is back: for a slot whose contents depend on what changed.
  onDone?: () => void;
}

// Puts a confirmation step in `slot` in place of `opener` (the button that asked for it): the
// prompt, the confirming button and Cancel. Cancel, Escape or a finished action bring the opener
// back and focus it.
export function confirmStep(slot: HTMLElement, opener: HTMLButtonElement, options: ConfirmOptions): void {
  const restore = () => {
    replace(slot, opener);
    opener.focus();
  };
  const yes = h('button', { type: 'button', class: options.danger ? 'danger' : null }, options.confirm);
  const no = h('button', { type: 'button', class: 'secondary' }, 'Cancel');
  yes.addEventListener('click', () => {
    yes.disabled = true;
    no.disabled = true;
    yes.textContent = `${options.confirm}…`;
    void options.onConfirm().finally(() => {
      // The action may have moved the focus (to what it shows); otherwise back to the opener.
      const focusHere = box.contains(document.activeElement) || document.activeElement === document.body;
      if (box.parentNode === slot) replace(slot, opener);
      if (focusHere && opener.isConnected) opener.focus();
      options.onDone?.();
    });
  });
  no.addEventListener('click', restore);
  const box = h('div', { class: 'confirm', role: 'group', 'aria-label': options.confirm },
    h('p', {}, options.prompt), h('div', { class: 'actions' }, yes, no));
  box.addEventListener('keydown', (event: Event) => {
    if ((event as KeyboardEvent).key === 'Escape' && !no.disabled) restore();
  });
  replace(slot, box);
  no.focus();
}
