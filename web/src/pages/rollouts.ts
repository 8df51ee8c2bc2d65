// Firmware rollouts (docs/dashboard.md, "Rollouts"): the list (GET /api/v1/rollouts) with a
// progress bar per rollout, and one rollout's page (GET /api/v1/rollouts/{id}) with every device's
// state and a bar for its download. Every signed-in user reads them; operators and admins also get
// the start form (the releases of GET /api/v1/releases) and pause, resume and abort, each abort
// after a confirmation. Both pages fetch again every few seconds while the tab is shown.

import { api } from '../api';
import type { AppContext, Page } from '../app';
import { h, replace, setText } from '../dom';
import { formatLocalDateTime } from '../format';
import { generalMessage } from '../messages';
import { poll } from '../poll';
import { releaseOrder } from '../releases_model';
import {
  allowedCommands, DEVICE_STATES, deviceTimeoutText, parseWaves, progressSegments, progressText, ROLLOUT_STATES, startTarget, targetText,
  type RolloutCommand, waveText,
} from '../rollouts_model';
import type { ReleasesAnswer, RolloutDetail, RolloutDevice, RolloutsAnswer, RolloutSummary } from '../types';
import { confirmStep } from '../widgets';

const REFRESH_MS = 3000;

// The rollout's bar: confirmed, failed, under way and waiting, as parts of its width.
function progressBar(rollout: RolloutSummary): HTMLElement {
  const parts = progressSegments(rollout);
  const segment = (kind: string, percent: number) => {
    const span = h('span', { class: `segment ${kind}` });
    span.style.width = `${percent}%`;
    return span;
  };
  return h('div', { class: 'rollout-progress', role: 'img', 'aria-label': progressText(rollout), title: progressText(rollout),
    'data-testid': 'rollout-progress' },
  segment('confirmed', parts.confirmed), segment('failed', parts.failed), segment('active', parts.active),
  segment('pending', parts.pending));
}

function stateBadge(rollout: RolloutSummary): HTMLElement {
  return h('span', { class: `badge rollout-${rollout.state}`, title: rollout.state }, ROLLOUT_STATES[rollout.state]);
}

function rolloutRow(rollout: RolloutSummary): HTMLTableRowElement {
  return h('tr', { 'data-rollout': String(rollout.id) },
    h('td', { 'data-label': 'Rollout', class: 'num' }, h('a', { href: `#/rollouts/${rollout.id}` }, `#${rollout.id}`)),
    h('td', { 'data-label': 'Release' }, `${rollout.product} ${rollout.version}`),
    h('td', { 'data-label': 'State' }, stateBadge(rollout)),
    h('td', { 'data-label': 'Wave' }, waveText(rollout)),
    h('td', { 'data-label': 'Progress', class: 'progress-cell' }, progressBar(rollout),
      h('span', { class: 'muted small' }, progressText(rollout))),
    h('td', { 'data-label': 'Started', class: 'when' },
      h('time', { datetime: rollout.created }, formatLocalDateTime(rollout.created_ms))),
    h('td', { 'data-label': 'By' }, rollout.created_by),
  );
}

// The start form (operators and admins); `started` runs with the new rollout.
function startForm(started: (rollout: RolloutSummary) => void): HTMLElement {
  const release = h('select', { id: 'rollout-release', required: true, 'data-testid': 'rollout-release' });
  const all = h('input', { type: 'radio', name: 'rollout-targets', id: 'rollout-all', value: 'all', checked: true });
  const some = h('input', { type: 'radio', name: 'rollout-targets', id: 'rollout-some', value: 'some' });
  const devices = h('input', { id: 'rollout-devices', type: 'text', placeholder: 'sensor-01, sensor-02', autocomplete: 'off',
    'data-testid': 'rollout-devices' });
  const labelled = h('input', { type: 'radio', name: 'rollout-targets', id: 'rollout-labelled', value: 'label' });
  const label = h('input', { id: 'rollout-label', type: 'text', placeholder: 'greenhouse', autocomplete: 'off',
    spellcheck: 'false', 'aria-label': 'Label', 'data-testid': 'rollout-label' });
  const waves = h('input', { id: 'rollout-waves', type: 'text', value: '5, 25, 100', 'data-testid': 'rollout-waves' });
  const threshold = h('input', { id: 'rollout-threshold', type: 'number', min: '0', max: '100', value: '20',
    'data-testid': 'rollout-threshold' });
  const timeout = h('input', { id: 'rollout-timeout', type: 'number', min: '0', max: '720', step: '1', value: '24',
    'data-testid': 'rollout-timeout' });
  const message = h('p', { class: 'message', role: 'alert', hidden: true, 'data-testid': 'rollout-start-message' });
  const submit = h('button', { type: 'submit', 'data-testid': 'rollout-start' }, 'Start rollout');
  const say = (text: string, level: 'error' | 'success') => {
    message.textContent = text;
    message.className = `message ${level}`;
    message.hidden = false;
  };
  devices.addEventListener('input', () => { some.checked = true; });
  label.addEventListener('input', () => { labelled.checked = true; });

  void (async () => {
    try {
      const answer = await api<ReleasesAnswer>('GET', '/api/v1/releases');
      const releases = [...answer.releases].sort(releaseOrder);
      replace(release, ...releases.map((r) =>
        h('option', { value: `${r.product} ${r.version}` }, `${r.product} ${r.version}`)));
      if (releases.length === 0) {
        submit.disabled = true;
        say('No release is published yet: on the gateway, kelvinctl release publish IMAGE MANIFEST.', 'error');
      }
    } catch (error) {
      say(generalMessage(error), 'error');
    }
  })();

  const form = h('form', { class: 'inline-form rollout-start-form', 'aria-label': 'Start a rollout' },
    h('h2', {}, 'Start a rollout'),
    h('div', { class: 'field' }, h('label', { for: 'rollout-release' }, 'Release'), release),
    h('fieldset', { class: 'field' }, h('legend', {}, 'Devices'),
      h('label', { for: 'rollout-all' }, all, ' every device the gateway knows'),
      h('label', { for: 'rollout-some' }, some, ' these:'), devices,
      h('label', { for: 'rollout-labelled' }, labelled, ' those labelled:'), label,
      h('span', { class: 'hint' }, 'The devices carrying the label when the rollout starts; labelling one later does not add it.')),
    h('div', { class: 'field' }, h('label', { for: 'rollout-waves' }, 'Waves (cumulative % of the devices)'), waves,
      h('span', { class: 'hint' }, 'The next wave starts once every device of the started ones is done.')),
    h('div', { class: 'field' }, h('label', { for: 'rollout-threshold' }, 'Halt above this % of failures'), threshold),
    h('div', { class: 'field' }, h('label', { for: 'rollout-timeout' }, 'A silent device fails after (hours)'), timeout,
      h('span', { class: 'hint' }, 'A device that reports nothing this long counts as failed, so it cannot hold its wave; 0: never.')),
    h('div', { class: 'actions' }, submit),
    message);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    message.hidden = true;
    const parsedWaves = parseWaves(waves.value);
    if (typeof parsedWaves === 'string') {
      waves.setAttribute('aria-invalid', 'true');
      return say(parsedWaves, 'error');
    }
    waves.removeAttribute('aria-invalid');
    const [product, version] = release.value.split(' ');
    const body: Record<string, unknown> = { product, version, waves: parsedWaves,
      max_failure_percent: Number(threshold.value), device_timeout_s: Math.round(Number(timeout.value) * 3600) };
    const target = startTarget(some.checked ? 'some' : labelled.checked ? 'label' : 'all', devices.value, label.value);
    if (typeof target === 'string') return say(target, 'error');
    Object.assign(body, target);
    submit.disabled = true;
    void (async () => {
      try {
        const rollout = await api<RolloutSummary>('POST', '/api/v1/rollouts', { body });
        say(`Started rollout #${rollout.id}: ${rollout.product} ${rollout.version} to ${rollout.device_count} devices.`, 'success');
        started(rollout);
      } catch (error) {
        say(generalMessage(error), 'error');
      } finally {
        submit.disabled = false;
      }
    })();
  });
  return form;
}

export function rolloutsPage(context: AppContext): Page {
  const operator = context.session?.role === 'operator' || context.session?.role === 'admin';
  const status = h('p', { class: 'status', 'data-testid': 'rollouts-status' }, 'Loading…');
  const message = h('p', { class: 'message error', role: 'alert', hidden: true, 'data-testid': 'rollouts-message' });
  const empty = h('p', { class: 'muted', hidden: true, 'data-testid': 'rollouts-empty' }, 'No rollouts yet.');
  const body = h('tbody');
  const table = h('table', { class: 'data stack rollouts', 'data-testid': 'rollouts-table', hidden: true },
    h('caption', { class: 'visually-hidden' }, 'Firmware rollouts'),
    h('thead', {}, h('tr', {}, ...['Rollout', 'Release', 'State', 'Wave', 'Progress', 'Started', 'By'].map((title) =>
      h('th', { scope: 'col' }, title)))),
    body);

  const load = async () => {
    try {
      const answer = await api<RolloutsAnswer>('GET', '/api/v1/rollouts');
      replace(body, ...answer.rollouts.map(rolloutRow));
      table.hidden = answer.rollouts.length === 0;
      empty.hidden = answer.rollouts.length > 0;
      message.hidden = true;
      setText(status, `Updated ${formatLocalDateTime(Date.now())}`);
    } catch (error) {
      setText(message, generalMessage(error));
      message.hidden = false;
    }
  };
  replace(context.main,
    h('section', { class: 'page rollouts-page' },
      h('div', { class: 'toolbar' }, h('h1', {}, 'Rollouts'), status),
      message, empty, table,
      operator ? startForm((rollout) => context.navigate(`#/rollouts/${rollout.id}`)) : null));
  const stop = poll(load, REFRESH_MS);
  return { dispose: stop };
}

function deviceRow(device: RolloutDevice): HTMLTableRowElement {
  const downloading = device.state === 'downloading';
  const progress = h('progress', { max: '100', value: String(device.percent), 'aria-label': `${device.device}: ${device.percent} %` });
  return h('tr', { 'data-device': device.device, 'data-state': device.state },
    h('td', { 'data-label': 'Device' }, h('a', { href: `#/devices/${encodeURIComponent(device.device)}` }, device.device)),
    h('td', { 'data-label': 'Wave', class: 'num' }, String(device.wave)),
    h('td', { 'data-label': 'State' }, h('span', { class: `badge device-${device.state}`, title: device.state },
      DEVICE_STATES[device.state])),
    h('td', { 'data-label': 'Download', class: 'progress-cell' },
      downloading ? progress : null, downloading ? ` ${device.percent} %` : ''),
    h('td', { 'data-label': 'Why', class: 'detail' }, [device.reason, device.detail].filter(Boolean).join(': ') || '–'),
    h('td', { 'data-label': 'Updated', class: 'when' },
      h('time', { datetime: device.updated }, formatLocalDateTime(device.updated_ms))),
  );
}

const COMMAND_LABELS: Record<RolloutCommand, string> = { pause: 'Pause', resume: 'Resume', abort: 'Abort' };

export function rolloutPage(context: AppContext): Page {
  const id = context.route.rolloutId ?? 0;
  const title = h('h1', {}, `Rollout #${id}`);
  const status = h('p', { class: 'status', 'data-testid': 'rollout-status' }, 'Loading…');
  const message = h('p', { class: 'message', role: 'alert', hidden: true, 'data-testid': 'rollout-message' });
  const facts = h('dl', { class: 'facts', 'data-testid': 'rollout-facts' });
  const bar = h('div', { class: 'rollout-bar' });
  const controls = h('div', { class: 'actions rollout-controls', 'data-testid': 'rollout-controls' });
  const body = h('tbody');
  const table = h('table', { class: 'data stack rollout-devices', 'data-testid': 'rollout-devices' },
    h('caption', { class: 'visually-hidden' }, 'The devices of the rollout'),
    h('thead', {}, h('tr', {}, ...['Device', 'Wave', 'State', 'Download', 'Why', 'Updated'].map((t) =>
      h('th', { scope: 'col' }, t)))),
    body);
  let shownState = '';

  const say = (text: string, level: 'error' | 'success') => {
    message.textContent = text;
    message.className = `message ${level}`;
    message.hidden = false;
  };

  const command = async (action: RolloutCommand) => {
    try {
      await api<RolloutSummary>('POST', `/api/v1/rollouts/${id}/${action}`);
      say(`Rollout #${id}: ${action === 'abort' ? 'aborted; the devices\u2019 notices are withdrawn' : `${action}d`}.`, 'success');
    } catch (error) {
      say(generalMessage(error), 'error');
    }
    shownState = '';
    await load();
  };

  const renderControls = (rollout: RolloutDetail) => {
    if (rollout.state === shownState) return;  // keeps an open confirmation
    shownState = rollout.state;
    const buttons = allowedCommands(rollout.state, context.session?.role).map((action) => {
      const slot = h('div', { class: 'action-slot' });
      const button = h('button', { type: 'button', class: action === 'abort' ? 'danger' : 'secondary',
        'data-testid': `rollout-${action}` }, COMMAND_LABELS[action]);
      if (action === 'abort') {
        button.addEventListener('click', () => confirmStep(slot, button, {
          prompt: `Abort rollout #${id}? No device gets it any more and the notices are withdrawn; devices that installed it keep it.`,
          confirm: `Abort #${id}`,
          danger: true,
          onConfirm: () => command('abort'),
        }));
      } else {
        button.addEventListener('click', () => void command(action));
      }
      replace(slot, button);
      return slot;
    });
    replace(controls, ...buttons);
  };

  const load = async () => {
    try {
      const rollout = await api<RolloutDetail>('GET', `/api/v1/rollouts/${id}`);
      setText(title, `Rollout #${id}: ${rollout.product} ${rollout.version}`);
      replace(facts,
        h('dt', {}, 'State'), h('dd', { 'data-testid': 'rollout-state' }, ROLLOUT_STATES[rollout.state]),
        h('dt', {}, 'Waves'), h('dd', {}, `${rollout.waves.join(' %, ')} % \u2013 ${waveText(rollout)}`),
        h('dt', {}, 'Devices'), h('dd', { 'data-testid': 'rollout-target' }, targetText(rollout.target)),
        h('dt', {}, 'Halts above'), h('dd', {}, `${rollout.max_failure_percent} % failures`),
        h('dt', {}, 'Silent devices'), h('dd', { 'data-testid': 'rollout-timeout-text' }, deviceTimeoutText(rollout.device_timeout_s)),
        h('dt', {}, 'Started'), h('dd', {}, `${formatLocalDateTime(rollout.created_ms)} by ${rollout.created_by}`),
        h('dt', {}, 'Progress'), h('dd', {}, progressText(rollout)));
      replace(bar, progressBar(rollout));
      renderControls(rollout);
      replace(body, ...rollout.devices.map(deviceRow));
      setText(status, `Updated ${formatLocalDateTime(Date.now())}`);
    } catch (error) {
      say(generalMessage(error), 'error');
    }
  };
  replace(context.main,
    h('section', { class: 'page rollout-page' },
      h('p', {}, h('a', { href: '#/rollouts' }, '\u2190 All rollouts')),
      h('div', { class: 'toolbar' }, title, status),
      message, facts, bar, controls, table));
  const stop = poll(load, REFRESH_MS);
  return { dispose: stop };
}
