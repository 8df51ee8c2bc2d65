// The firmware releases the gateway holds (any signed-in user): GET /api/v1/releases, the trusted
// release key's id and one row per release, newest version first within a product, times in the
// browser's zone. Publishing happens on the gateway's host (kelvinctl release publish, docs/ota.md);
// the page says how when there is nothing yet.

import { api } from '../api';
import type { AppContext, Page } from '../app';
import { h, replace, setText } from '../dom';
import { formatCount, formatLocalDateTime } from '../format';
import { generalMessage } from '../messages';
import { formatBytes, releaseOrder } from '../releases_model';
import type { ReleasesAnswer, ReleaseSummary } from '../types';

const COLUMNS = ['Product', 'Version', 'Security version', 'Size', 'Created', 'SHA-256', 'Notes'];

function buildRow(release: ReleaseSummary): HTMLTableRowElement {
  return h('tr', { 'data-release': `${release.product}/${release.version}` },
    h('td', { 'data-label': 'Product' }, release.product),
    h('td', { 'data-label': 'Version' }, release.version),
    h('td', { 'data-label': 'Security version', class: 'num' }, String(release.security_version)),
    h('td', { 'data-label': 'Size', class: 'num', title: `${formatCount(release.size)} bytes` }, formatBytes(release.size)),
    h('td', { 'data-label': 'Created', class: 'when' },
      h('time', { datetime: release.created }, formatLocalDateTime(Date.parse(release.created)))),
    h('td', { 'data-label': 'SHA-256', class: 'detail', title: release.sha256 }, h('code', {}, `${release.sha256.slice(0, 16)}…`)),
    h('td', { 'data-label': 'Notes', class: 'detail' }, release.notes || '–'),
  );
}

export function releasesPage(context: AppContext): Page {
  let disposed = false;
  const key = h('p', { class: 'status', 'data-testid': 'release-key' }, 'Loading…');
  const message = h('p', { class: 'message error', role: 'alert', hidden: true, 'data-testid': 'releases-message' });
  const empty = h('p', { class: 'muted', hidden: true, 'data-testid': 'releases-empty' });
  const body = h('tbody');
  const table = h('table', { class: 'data stack releases', 'data-testid': 'releases-table', hidden: true },
    h('caption', { class: 'visually-hidden' }, 'Firmware releases'),
    h('thead', {}, h('tr', {}, ...COLUMNS.map((title) => h('th', { scope: 'col' }, title)))),
    body);

  replace(context.main,
    h('section', { class: 'page releases-page' },
      h('div', { class: 'toolbar' }, h('h1', {}, 'Releases'), key),
      message,
      empty,
      table));

  void (async () => {
    try {
      const answer = await api<ReleasesAnswer>('GET', '/api/v1/releases');
      if (disposed) return;
      setText(key, answer.release_key
        ? `Releases signed by release key ${answer.release_key}`
        : 'No release key is trusted yet');
      const releases = [...answer.releases].sort(releaseOrder);
      replace(body, ...releases.map(buildRow));
      table.hidden = releases.length === 0;
      empty.hidden = releases.length > 0;
      setText(empty, answer.release_key
        ? 'No releases published yet. On the gateway: kelvinctl release sign, then kelvinctl release publish IMAGE MANIFEST.'
        : 'On the gateway: kelvinctl release trust release.pub, then kelvinctl release publish IMAGE MANIFEST.');
    } catch (error) {
      if (disposed) return;
      setText(key, '');
      setText(message, generalMessage(error));
      message.hidden = false;
    }
  })();

  return {
    dispose() {
      disposed = true;
    },
  };
}
