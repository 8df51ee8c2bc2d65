// Users (admins): every user of GET /api/v1/users — role, second factor, when added and when the
// password was last set — and adding one (the generated password shown once). Per user, behind
// "Manage": another role, a new generated password (shown once), the second factor reset, and
// removal, each with a confirmation step where it cannot be undone, and each refusal said in place.
// Below, the security setting: require a second factor for everyone (/api/v1/settings/security).
//
// Rows are built once per user and updated in place (as on the fleet page), so an open "Manage"
// panel, and a password shown in it, stay while the list is fetched again after a change.

import { api, ApiError } from '../api';
import type { AppContext, Page } from '../app';
import { h, replace, setText } from '../dom';
import { generalMessage, type UserAction, userActionMessage, type UserActionContext } from '../messages';
import type { AddedUser, PasswordReset, Role, SecuritySettings, User, UserList } from '../types';
import { listNames, ROLE_DESCRIPTIONS, ROLES, type UserRow, userRows, usersWithoutSecondFactor } from '../users_model';
import { adminOnlyNotice, confirmStep, oneTimePassword } from '../widgets';

const COLUMNS = ['Name', 'Role', 'Second factor', 'Created', 'Password changed', 'Manage'];

interface PanelView {
  select: HTMLSelectElement;
  totpSlot: HTMLElement;
  message: HTMLElement;
  result: HTMLElement;
}

interface RowView {
  tr: HTMLTableRowElement;
  panelRow: HTMLTableRowElement;
  panel: HTMLElement;
  role: HTMLElement;
  secondFactor: HTMLElement;
  created: HTMLElement;
  changed: HTMLElement;
  manage: HTMLButtonElement;
  row: UserRow;
  user: User;
  controls: PanelView | null; // built when "Manage" is first opened
}

function roleOptions(selected: Role): HTMLOptionElement[] {
  return ROLES.map((role) => h('option', { value: role, selected: role === selected }, role));
}

function path(name: string, rest = ''): string {
  return `/api/v1/users/${encodeURIComponent(name)}${rest}`;
}

export function usersPage(context: AppContext): Page {
  let disposed = false;
  const me = context.session?.user ?? '';
  const rows = new Map<string, RowView>();
  let order: string[] = [];
  let users: User[] = [];
  let savedRequired: boolean | null = null;

  // The page's own status: loading, a failed load, what a finished change did.
  const status = h('p', { class: 'muted', role: 'status', tabindex: '-1', 'data-testid': 'users-status' }, 'Loading…');
  const count = h('span', { class: 'count', 'data-testid': 'users-count' });

  // Adding a user.
  const nameInput = h('input', {
    id: 'user-add-name', name: 'new-user', type: 'text', required: true, autocomplete: 'off', autocapitalize: 'none',
    spellcheck: 'false', maxlength: '64', 'aria-describedby': 'user-add-name-hint user-add-message',
  });
  const roleSelect = h('select', { id: 'user-add-role', name: 'role', 'aria-describedby': 'user-add-role-hint' },
    ...roleOptions('viewer'));
  const roleHint = h('p', { class: 'hint', id: 'user-add-role-hint' }, `viewer: ${ROLE_DESCRIPTIONS.viewer}`);
  roleSelect.addEventListener('change', () => {
    const role = roleSelect.value as Role;
    roleHint.textContent = `${role}: ${ROLE_DESCRIPTIONS[role]}`;
  });
  const addButton = h('button', { type: 'submit' }, 'Add user');
  const addMessage = h('p', { class: 'message error', id: 'user-add-message', role: 'alert', hidden: true, 'data-testid': 'user-add-message' });
  const addResult = h('div', { 'data-testid': 'user-add-result' });
  nameInput.addEventListener('input', () => {
    // A refusal was about the name as it was.
    addMessage.hidden = true;
    nameInput.removeAttribute('aria-invalid');
  });

  // The table.
  const tbody = h('tbody', {});
  const table = h('table', { class: 'data stack users', 'data-testid': 'users-table', hidden: true },
    h('thead', {}, h('tr', {}, ...COLUMNS.map((title) => h('th', { scope: 'col' }, title)))), tbody);

  // The security setting.
  const requireBox = h('input', {
    type: 'checkbox', id: 'require-second-factor', disabled: true, 'aria-describedby': 'require-second-factor-hint',
  });
  const requireHint = h('p', { class: 'hint', id: 'require-second-factor-hint' });
  const saveSetting = h('button', { type: 'submit', disabled: true }, 'Save');
  const settingMessage = h('p', { class: 'message', role: 'alert', hidden: true, 'data-testid': 'setting-message' });

  replace(context.main,
    h('section', { class: 'page users-page' },
      h('div', { class: 'toolbar' }, h('h1', {}, 'Users'), count),
      status,
      h('form', { class: 'card add-user', 'aria-labelledby': 'user-add-title', onsubmit: (e: Event) => void addUser(e) },
        h('h2', { id: 'user-add-title' }, 'Add a user'),
        h('div', { class: 'form-row' },
          h('div', { class: 'field' },
            h('label', { for: 'user-add-name' }, 'User name'), nameInput,
            h('p', { class: 'hint', id: 'user-add-name-hint' },
              '1 to 64 characters: a–z, 0–9, ".", "_" and "-", starting with a letter.')),
          h('div', { class: 'field' }, h('label', { for: 'user-add-role' }, 'Role'), roleSelect, roleHint),
          h('div', { class: 'field field-button' }, addButton),
        ),
        addMessage,
        addResult,
      ),
      h('div', { class: 'table-wrap' }, table),
      h('form', { class: 'card security', 'aria-labelledby': 'security-title', onsubmit: (e: Event) => void saveSecurity(e) },
        h('h2', { id: 'security-title' }, 'Security'),
        h('div', { class: 'checkbox-field' },
          requireBox, h('label', { for: 'require-second-factor' }, 'Require a second factor for everyone')),
        requireHint,
        settingMessage,
        h('div', { class: 'actions' }, saveSetting),
      ),
    ));

  function forbidden(): void {
    // The session may say admin still (the role was lowered since): ask again, then say why.
    context.refreshSession().catch(() => {}).finally(() => {
      if (!disposed) replace(context.main, adminOnlyNotice(context, 'Users'));
    });
  }

  function showStatus(text: string, kind: 'muted' | 'error' | 'success', focus = false): void {
    status.className = kind === 'muted' ? 'muted' : `message ${kind}`;
    status.textContent = text;
    status.hidden = text === '';
    if (focus) status.focus();
  }

  // ---- the list --------------------------------------------------------------------------------

  function buildRow(user: User): RowView {
    const name = user.name;
    const panelId = `user-panel-${name}`;
    // The signed-in user's own row says so.
    const you = name === me ? h('span', { class: 'badge you' }, 'you') : null;
    const role = h('span', { class: 'badge' });
    const secondFactor = h('span', {});
    const created = h('td', { 'data-label': 'Created' });
    const changed = h('td', { 'data-label': 'Password changed' });
    const manage = h('button', {
      type: 'button', class: 'secondary', 'aria-expanded': 'false', 'aria-controls': panelId, 'aria-label': `Manage ${name}`,
    }, 'Manage');
    const panel = h('div', { class: 'manage' });
    const panelRow = h('tr', { class: 'user-panel', id: panelId, hidden: true, 'data-testid': 'user-panel', 'data-user': name },
      h('td', { colspan: String(COLUMNS.length) }, panel));
    const tr = h('tr', { 'data-user': name },
      h('th', { scope: 'row', 'data-label': 'Name' }, h('span', { class: 'user-name' }, name), you && ' ', you),
      h('td', { 'data-label': 'Role' }, role),
      h('td', { 'data-label': 'Second factor' }, secondFactor),
      created, changed,
      h('td', { class: 'manage-cell' }, manage));
    const view: RowView = {
      tr, panelRow, panel, role, secondFactor, created, changed, manage, user, controls: null,
      row: userRows([user], me)[0],
    };
    manage.addEventListener('click', () => {
      const open = panelRow.hidden;
      panelRow.hidden = !open;
      manage.setAttribute('aria-expanded', String(open));
      if (open && !view.controls) view.controls = buildPanel(view);
    });
    return view;
  }

  function fillRow(view: RowView, row: UserRow, user: User): void {
    view.row = row;
    view.user = user;
    setText(view.role, row.role);
    view.role.className = `badge role-${row.role}`;
    setText(view.secondFactor, row.secondFactor);
    view.secondFactor.className = `level-${row.secondFactorLevel}`;
    setText(view.created, row.created);
    setText(view.changed, row.passwordChanged);
    if (view.controls) fillTotpSlot(view);
  }

  function update(list: User[]): void {
    users = list;
    const byName = new Map(list.map((user) => [user.name, user]));
    const shown = userRows(list, me);
    for (const row of shown) {
      const user = byName.get(row.name) as User;
      let view = rows.get(row.name);
      if (!view) {
        view = buildRow(user);
        rows.set(row.name, view);
      }
      fillRow(view, row, user);
    }
    for (const [name, view] of [...rows]) {
      if (!byName.has(name)) {
        view.tr.remove();
        view.panelRow.remove();
        rows.delete(name);
      }
    }
    const names = shown.map((row) => row.name);
    if (names.length !== order.length || names.some((name, i) => name !== order[i])) {
      // Only when the order changed: moving a row would take the focus out of it.
      order = names;
      tbody.replaceChildren(...names.flatMap((name) => {
        const view = rows.get(name) as RowView;
        return [view.tr, view.panelRow];
      }));
    }
    table.hidden = false;
    setText(count, `${names.length} user${names.length === 1 ? '' : 's'}`);
    renderRequireHint();
  }

  async function load(): Promise<void> {
    try {
      const list = await api<UserList>('GET', '/api/v1/users');
      const settings = await api<SecuritySettings>('GET', '/api/v1/settings/security');
      if (disposed) return;
      // Made an admin since signing in: the header gains the admin links.
      if (context.session?.role !== 'admin') context.refreshSession().catch(() => {});
      update(Array.isArray(list?.users) ? list.users : []);
      showSetting(settings.require_second_factor === true);
      if (status.textContent === 'Loading…') showStatus('', 'muted');
    } catch (error) {
      if (disposed) return;
      if (error instanceof ApiError && error.code === 'forbidden') return forbidden();
      showStatus(`The list could not be loaded: ${generalMessage(error)}`, 'error');
    }
  }

  // ---- adding a user -------------------------------------------------------------------------

  async function addUser(event: Event): Promise<void> {
    event.preventDefault();
    if (addButton.disabled) return;
    const name = nameInput.value.trim();
    const role = roleSelect.value as Role;
    addMessage.hidden = true;
    nameInput.removeAttribute('aria-invalid');
    addButton.disabled = true;
    addButton.textContent = 'Adding…';
    try {
      const added = await api<AddedUser>('POST', '/api/v1/users', { body: { name, role } });
      if (disposed) return;
      nameInput.value = '';
      const shown = oneTimePassword(`Added ${added.name} with the role ${added.role}`, added.name, added.password,
        () => {
          replace(addResult);
          nameInput.focus();
        });
      replace(addResult, shown.element);
      shown.focus();
      await load();
    } catch (error) {
      if (disposed) return;
      if (error instanceof ApiError && error.code === 'forbidden') return forbidden();
      replace(addResult);
      addMessage.hidden = false;
      addMessage.textContent = userActionMessage('add', error, { name });
      nameInput.setAttribute('aria-invalid', 'true');
      nameInput.focus();
      nameInput.select();
    } finally {
      addButton.disabled = false;
      addButton.textContent = 'Add user';
    }
  }

  // ---- one user's panel ----------------------------------------------------------------------

  function panelMessage(view: RowView, text: string, kind: 'error' | 'success' | 'info'): void {
    const controls = view.controls as PanelView;
    controls.message.hidden = false;
    controls.message.className = `message ${kind}`;
    controls.message.textContent = text;
  }

  // Runs one change of the panel: what it says on success, or the refusal in place; the list is
  // fetched again either way (a refusal may be because someone else changed it).
  async function change(view: RowView, action: UserAction, details: UserActionContext, run: () => Promise<string | null>): Promise<void> {
    const controls = view.controls as PanelView;
    controls.message.hidden = true;
    try {
      const done = await run();
      if (disposed) return;
      if (done) panelMessage(view, done, 'success');
    } catch (error) {
      if (disposed) return;
      if (error instanceof ApiError && error.code === 'forbidden') return forbidden();
      panelMessage(view, userActionMessage(action, error, details), 'error');
    }
    await load();
  }

  function changeRole(view: RowView, button: HTMLButtonElement, slot: HTMLElement): void {
    const controls = view.controls as PanelView;
    const name = view.row.name;
    const currentRole = view.row.role;
    const newRole = controls.select.value as Role;
    const details = { name, currentRole, newRole };
    if (newRole === currentRole) {
      panelMessage(view, `${name} has the role ${newRole} already. Choose another one first.`, 'info');
      return;
    }
    const run = () =>
      change(view, 'role', details, async () => {
        await api<void>('PUT', path(name, '/role'), { body: { role: newRole } });
        if (view.row.isMe) await context.refreshSession();
        return `${name} now has the role ${newRole} (was ${currentRole}), from their next request on.`;
      });
    if (view.row.isMe && newRole !== 'admin') {
      confirmStep(slot, button, {
        prompt: `You would no longer be an admin: this page and the audit log would close to you. Give yourself the role ${newRole}?`,
        confirm: `Make me ${newRole}`,
        danger: true,
        onConfirm: run,
      });
      return;
    }
    button.disabled = true;
    void run().finally(() => {
      button.disabled = false;
    });
  }

  function resetPassword(view: RowView, button: HTMLButtonElement, slot: HTMLElement): void {
    const name = view.row.name;
    confirmStep(slot, button, {
      prompt: `Reset ${name}'s password? A new one is generated and shown here once; ${name} is signed out everywhere and signs in with the new one.`,
      confirm: 'Reset password',
      onConfirm: () =>
        change(view, 'password', { name }, async () => {
          const answer = await api<PasswordReset>('POST', path(name, '/password'), { body: {} });
          const controls = view.controls as PanelView;
          const shown = oneTimePassword(`New password for ${answer.name}`, answer.name, answer.password, () => {
            replace(controls.result);
            button.focus();
          });
          replace(controls.result, shown.element);
          shown.focus();
          return null;
        }),
    });
  }

  function resetSecondFactor(view: RowView, button: HTMLButtonElement): void {
    const name = view.row.name;
    const isMe = view.row.isMe;
    confirmStep((view.controls as PanelView).totpSlot, button, {
      prompt: isMe
        ? 'Remove your own second factor? You are signed out at once and sign in with your password alone.'
        : `Remove ${name}'s second factor and recovery codes (a lost phone)? ${name} is signed out everywhere, signs in with the password alone and may set up a new one.`,
      confirm: 'Reset second factor',
      danger: true,
      onConfirm: () =>
        change(view, 'second_factor', { name }, async () => {
          await api<void>('DELETE', path(name, '/second-factor'));
          if (isMe) await context.signOut();
          return `${name}'s second factor is removed: they sign in with the password alone until they set up a new one.`;
        }),
      onDone: () => {
        // The list was fetched again while the confirmation was open: the slot says what is now.
        const focused = button === document.activeElement;
        fillTotpSlot(view);
        if (focused && !button.isConnected) (view.controls as PanelView).message.focus();
      },
    });
  }

  function removeUser(view: RowView, button: HTMLButtonElement, slot: HTMLElement): void {
    const name = view.row.name;
    const isMe = view.row.isMe;
    confirmStep(slot, button, {
      prompt: isMe
        ? 'Remove your own account? You are signed out at once and cannot sign in again. This cannot be undone.'
        : `Remove ${name}? The account and its sessions go at once; the audit log keeps what ${name} did. This cannot be undone.`,
      confirm: `Remove ${name}`,
      danger: true,
      onConfirm: async () => {
        const controls = view.controls as PanelView;
        controls.message.hidden = true;
        try {
          await api<void>('DELETE', path(name));
          if (disposed) return;
          if (isMe) {
            await context.signOut();
            return;
          }
          showStatus(`Removed ${name}.`, 'success', true);
        } catch (error) {
          if (disposed) return;
          if (error instanceof ApiError && error.code === 'forbidden') return forbidden();
          panelMessage(view, userActionMessage('remove', error, { name }), 'error');
        }
        await load();
      },
    });
  }

  function fillTotpSlot(view: RowView): void {
    const controls = view.controls as PanelView;
    if (controls.totpSlot.querySelector('.confirm')) return; // a confirmation is open: leave it
    if (!view.user.second_factor_enrolled) {
      replace(controls.totpSlot, h('p', { class: 'hint' }, 'None set up: nothing to reset.'));
      return;
    }
    const button = h('button', { type: 'button', class: 'secondary' }, 'Reset second factor');
    button.addEventListener('click', () => resetSecondFactor(view, button));
    replace(controls.totpSlot, button);
  }

  function buildPanel(view: RowView): PanelView {
    const name = view.row.name;
    const select = h('select', { id: `role-${name}` }, ...roleOptions(view.row.role));
    const roleButton = h('button', { type: 'button' }, 'Change role');
    const roleSlot = h('div', { class: 'slot' }, roleButton);
    roleButton.addEventListener('click', () => changeRole(view, roleButton, roleSlot));

    const passwordButton = h('button', { type: 'button', class: 'secondary' }, 'Reset password');
    const passwordSlot = h('div', { class: 'slot' }, view.row.isMe
      ? h('p', { class: 'hint' }, 'Your own: change it on ', h('a', { href: '#/account' }, 'your account page'), '.')
      : passwordButton);
    passwordButton.addEventListener('click', () => resetPassword(view, passwordButton, passwordSlot));

    const totpSlot = h('div', { class: 'slot' });

    const removeButton = h('button', { type: 'button', class: 'danger' }, `Remove ${name}`);
    const removeSlot = h('div', { class: 'slot' }, removeButton);
    removeButton.addEventListener('click', () => removeUser(view, removeButton, removeSlot));

    const message = h('p', { class: 'message', role: 'alert', tabindex: '-1', hidden: true, 'data-testid': 'user-panel-message' });
    const result = h('div', {});
    replace(view.panel,
      h('div', { class: 'manage-grid' },
        h('div', { class: 'manage-item' },
          h('label', { for: `role-${name}` }, `Role of ${name}`), h('div', { class: 'manage-row' }, select, roleSlot)),
        h('div', { class: 'manage-item' }, h('span', { class: 'manage-label' }, 'Password'), passwordSlot),
        h('div', { class: 'manage-item' }, h('span', { class: 'manage-label' }, 'Second factor'), totpSlot),
        h('div', { class: 'manage-item' }, h('span', { class: 'manage-label' }, 'Account'), removeSlot),
      ),
      message,
      result,
    );
    // A new step begins: what the last one said no longer applies.
    view.panel.addEventListener('click', (event: Event) => {
      if ((event.target as Element).closest('.manage-grid button')) message.hidden = true;
    });
    const controls: PanelView = { select, totpSlot, message, result };
    view.controls = controls;
    fillTotpSlot(view);
    return controls;
  }

  // ---- the security setting ------------------------------------------------------------------

  function renderRequireHint(): void {
    const without = usersWithoutSecondFactor(users);
    const meToo = without.includes(me);
    const lacking = without.length === 0
      ? 'Every user has one.'
      : `Without one so far: ${listNames(without)}${meToo ? ' (you too: you would have to set one up at once)' : ''}.`;
    requireHint.textContent = requireBox.checked
      ? `A user without a second factor can, after signing in, only set one up. ${lacking}`
      : `Each user may set up a second factor or not. ${lacking}`;
  }

  function showSetting(required: boolean): void {
    const dirty = savedRequired !== null && requireBox.checked !== savedRequired;
    savedRequired = required;
    if (!dirty) requireBox.checked = required;
    requireBox.disabled = false;
    saveSetting.disabled = requireBox.checked === savedRequired;
    renderRequireHint();
  }

  requireBox.addEventListener('change', () => {
    saveSetting.disabled = requireBox.checked === savedRequired;
    settingMessage.hidden = true;
    renderRequireHint();
  });

  async function saveSecurity(event: Event): Promise<void> {
    event.preventDefault();
    if (saveSetting.disabled) return;
    const required = requireBox.checked;
    saveSetting.disabled = true;
    settingMessage.hidden = true;
    try {
      await api<void>('PUT', '/api/v1/settings/security', { body: { require_second_factor: required } });
      if (disposed) return;
      savedRequired = required;
      settingMessage.hidden = false;
      settingMessage.className = 'message success';
      settingMessage.textContent = required
        ? 'Saved: every user must now have a second factor.'
        : 'Saved: a second factor is now up to each user.';
      await load();
    } catch (error) {
      if (disposed) return;
      if (error instanceof ApiError && error.code === 'forbidden') return forbidden();
      settingMessage.hidden = false;
      settingMessage.className = 'message error';
      settingMessage.textContent = `Not saved: ${generalMessage(error)}`;
      saveSetting.disabled = false;
    }
  }

  void load();
  return {
    dispose() {
      disposed = true;
    },
  };
}
