// The firmware releases the gateway holds (any signed-in user): GET /api/v1/releases, the trusted
// release key's id and one row per release, newest version first within a product, times in the
// browser's zone, and each product's release timestamp (flagged when missing, expired, expiring
// within a week or naming an older release). Operators and admins also publish here: a signed manifest and its image (signed
// offline with kelvinctl release sign), uploaded with a progress bar (PUT …/manifest, then
// PUT …/image: docs/api.md, "Publishing a release"); on the gateway's host kelvinctl release
// publish does the same.

import { api, upload } from '../api';
import type { AppContext, Page } from '../app';
import { h, replace, setText } from '../dom';
import { formatCount, formatLocalDateTime } from '../format';
import { generalMessage, releaseUploadMessage } from '../messages';
import { formatBytes, imageSizeProblem, manifestFacts, releaseOrder, timestampLines, uploadProgressText } from '../releases_model';
import type { ReleasesAnswer, ReleaseSummary, ReleaseUploadAnswer } from '../types';

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

// The publish form (operators and admins); `published` runs after a release was published.
function publishForm(published: () => void): HTMLElement {
  const manifest = h('input', { type: 'file', id: 'release-manifest', accept: '.manifest,application/json', required: true,
    'data-testid': 'release-manifest' });
  const image = h('input', { type: 'file', id: 'release-image', required: true, 'data-testid': 'release-image' });
  const bar = h('progress', { max: '100', value: '0', hidden: true, 'data-testid': 'release-upload-progress' });
  const status = h('p', { class: 'muted small', hidden: true, 'aria-live': 'polite', 'data-testid': 'release-upload-status' });
  const message = h('p', { class: 'message', role: 'alert', hidden: true, 'data-testid': 'release-publish-message' });
  const submit = h('button', { type: 'submit', 'data-testid': 'release-publish' }, 'Publish');
  const say = (text: string, level: 'error' | 'success') => {
    message.textContent = text;
    message.className = `message ${level}`;
    message.hidden = false;
  };

  const form = h('form', { class: 'inline-form release-publish-form', 'aria-label': 'Publish a release' },
    h('h2', {}, 'Publish a release'),
    h('div', { class: 'field' }, h('label', { for: 'release-manifest' }, 'Signed manifest'), manifest,
      h('span', { class: 'hint' }, 'kelvinctl release sign writes it beside the image (IMAGE.manifest).')),
    h('div', { class: 'field' }, h('label', { for: 'release-image' }, 'Image'), image),
    h('div', { class: 'actions' }, submit),
    bar, status, message);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    message.hidden = true;
    const manifestFile = manifest.files?.[0];
    const imageFile = image.files?.[0];
    if (!manifestFile || !imageFile) return say('Choose the signed manifest and its image.', 'error');
    submit.disabled = true;
    void (async () => {
      try {
        const facts = manifestFacts(await manifestFile.text());
        if (typeof facts === 'string') return say(facts, 'error');
        const sizeProblem = imageSizeProblem(facts, imageFile.size);
        if (sizeProblem !== null) return say(sizeProblem, 'error');
        const base = `/api/v1/releases/${encodeURIComponent(facts.product)}/${encodeURIComponent(facts.version)}`;
        const pending = await api<ReleaseUploadAnswer>('PUT', `${base}/manifest`,
          { raw: { contentType: 'application/json', data: await manifestFile.text() } });
        if (pending.state === 'published') {
          return say(`${facts.product} ${facts.version} is published already (the same release); nothing changed.`, 'success');
        }
        bar.hidden = false;
        status.hidden = false;
        const show = (sent: number, total: number) => {
          bar.value = total > 0 ? (sent * 100) / total : 100;
          status.textContent = uploadProgressText(facts, sent, total);
        };
        show(0, imageFile.size);
        const done = await upload<ReleaseUploadAnswer>('PUT', `${base}/image`, imageFile, show);
        show(imageFile.size, imageFile.size);
        say(`Published ${done.product} ${done.version} (${formatBytes(done.size)}).`, 'success');
        form.reset();
        published();
      } catch (error) {
        say(releaseUploadMessage(error), 'error');
      } finally {
        submit.disabled = false;
      }
    })();
  });
  return form;
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
  const stampList = h('ul', { class: 'timestamps', 'data-testid': 'release-timestamps' });
  const stamps = h('section', { class: 'release-timestamps', hidden: true },
    h('h2', {}, 'Release timestamps'),
    h('p', { class: 'muted' },
      'What devices are told is the newest release, signed with the release key and valid until it expires: a device shown none, or only an expired one, reports that it cannot tell whether its gateway withholds updates.'),
    stampList);

  const operator = context.session?.role === 'operator' || context.session?.role === 'admin';
  const load = async () => {
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
      const lines = timestampLines(releases, answer.timestamps ?? [], Date.now(), formatLocalDateTime);
      replace(stampList, ...lines.map((line) =>
        h('li', { class: line.warn ? 'warn' : '', 'data-product': line.product }, line.text)));
      stamps.hidden = lines.length === 0;
      setText(empty, answer.release_key
        ? 'No releases published yet. Sign one with kelvinctl release sign, then publish it here (operators) or on the gateway with kelvinctl release publish IMAGE MANIFEST.'
        : 'On the gateway: kelvinctl release trust release.pub, then publish releases here or with kelvinctl release publish IMAGE MANIFEST.');
    } catch (error) {
      if (disposed) return;
      setText(key, '');
      setText(message, generalMessage(error));
      message.hidden = false;
    }
  };

  replace(context.main,
    h('section', { class: 'page releases-page' },
      h('div', { class: 'toolbar' }, h('h1', {}, 'Releases'), key),
      message,
      empty,
      table,
      stamps,
      operator ? publishForm(() => { if (!disposed) void load(); }) : null));
  void load();

  return {
    dispose() {
      disposed = true;
    },
  };
}
