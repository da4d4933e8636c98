// Snapshots: per collection and full-storage — list, create, download,
// verify, restore, delete.
// Endpoints: GET/POST /collections/{c}/snapshots, GET/DELETE
// /collections/{c}/snapshots/{s}, POST /collections/{c}/snapshots/{s}/verify,
// POST /collections/{c}/snapshots/{s}/restore, and the same under /snapshots
// (restoring a full-storage snapshot replaces everything).

import { api, collectionPath, collectionNames, canWrite, canManage } from './app.js';
import { h, table, formatBytes, notify, confirmDialog, busy, saveBlob, clear } from './ui.js';

export async function render(main) {
  main.append(h('h2', {}, 'Snapshots'));
  const names = await collectionNames();
  if (names.length === 0) main.append(h('p', { class: 'muted' }, 'No collections yet.'));
  for (const name of names) {
    const panel = h('section', { class: 'panel', 'data-snapshots-of': name });
    main.append(panel);
    await showCollection(panel, name);
  }
  if (canManage()) {
    const panel = h('section', { class: 'panel', id: 'full-snapshots' });
    main.append(panel);
    await showFull(panel);
  }
}

function base(name) {
  return name === null ? '/snapshots' : collectionPath(name, '/snapshots');
}

function snapshotTable(name, snapshots, refresh, { restore, writable }) {
  const rows = snapshots
    .slice()
    .sort((a, b) => String(b.creation_time).localeCompare(String(a.creation_time)))
    .map((s) => {
      const path = base(name) + '/' + encodeURIComponent(s.name);
      const result = h('span', { class: 'verify-result', 'aria-live': 'polite' });
      const buttons = [
        h('button', { type: 'button', 'data-action': 'download', onclick: (e) => busy(e.target, () => download(path, s.name)) }, 'Download'),
        h('button', { type: 'button', 'data-action': 'verify', onclick: (e) => busy(e.target, () => verify(path, result)) }, 'Verify'),
      ];
      if (restore) {
        buttons.push(h('button', { type: 'button', 'data-action': 'restore', onclick: (e) => restoreSnapshot(path, name, s.name, e.target) }, 'Restore'));
      }
      if (writable) {
        buttons.push(h('button', { type: 'button', class: 'danger', 'data-action': 'delete', onclick: (e) => deleteSnapshot(path, s.name, e.target, refresh) }, 'Delete'));
      }
      const cells = [h('code', {}, s.name), s.creation_time || '', formatBytes(s.size), h('code', { title: s.checksum || '' }, (s.checksum || '').slice(0, 12)), h('span', { class: 'row' }, buttons, result)];
      cells.attributes = { 'data-snapshot': s.name };
      return cells;
    });
  if (!rows.length) return h('p', { class: 'muted' }, 'No snapshots.');
  return table([{ label: 'Name' }, { label: 'Created' }, { label: 'Size', num: true }, { label: 'SHA-256' }, { label: 'Actions' }], rows);
}

async function showCollection(panel, name) {
  clear(panel);
  const snapshots = await api('GET', base(name));
  const writable = canWrite(name);
  const refresh = () => showCollection(panel, name);
  panel.append(h('h3', {}, 'Collection ', h('code', {}, name)));
  if (writable) {
    panel.append(
      h('div', { class: 'row' }, h('button', { type: 'button', 'data-action': 'create-snapshot', onclick: (e) => busy(e.target, async () => {
        const made = await api('POST', base(name) + '?wait=true');
        notify('Took snapshot ' + made.name + '.');
        await refresh();
      }) }, 'Take a snapshot')),
    );
  }
  panel.append(snapshotTable(name, snapshots, refresh, { restore: canManage(), writable }));
}

async function showFull(panel) {
  clear(panel);
  const snapshots = await api('GET', '/snapshots');
  const refresh = () => showFull(panel);
  panel.append(
    h('h3', {}, 'Full storage (every collection and the aliases)'),
    h('p', { class: 'muted' }, 'Restoring a full snapshot replaces every collection and the aliases; collections it does not hold are removed.'),
    h('div', { class: 'row' }, h('button', { type: 'button', 'data-action': 'create-full-snapshot', onclick: (e) => busy(e.target, async () => {
      const made = await api('POST', '/snapshots?wait=true');
      notify('Took full snapshot ' + made.name + '.');
      await refresh();
    }) }, 'Take a full snapshot')),
    snapshotTable(null, snapshots, refresh, { restore: true, writable: true }),
  );
}

async function download(path, name) {
  const response = await api('GET', path, undefined, { raw: true });
  if (!response.ok) throw new Error('Download failed: ' + response.status + ' ' + (await response.text()));
  saveBlob(await response.blob(), name);
  notify('Downloading ' + name + '.');
}

async function verify(path, output) {
  output.textContent = 'verifying…';
  const result = await api('POST', path + '/verify');
  output.className = 'verify-result ' + (result.ok ? 'ok' : 'bad');
  output.dataset.ok = String(result.ok);
  output.textContent = result.ok
    ? 'verified: ' + result.files + ' files, ' + formatBytes(result.bytes) + ', every checksum matches'
    : 'damaged: ' + result.problem;
}

async function restoreSnapshot(path, collection, snapshot, button) {
  const what = collection === null ? 'every collection and the aliases (collections it does not hold are removed)' : 'collection ' + collection;
  const sure = await confirmDialog('Replace ' + what + ' with snapshot ' + snapshot + '? Writes made since it was taken are lost.', 'Restore');
  if (!sure) return;
  await busy(button, async () => {
    await api('POST', path + '/restore?wait=true');
    notify('Restored ' + (collection === null ? 'everything' : collection) + ' from ' + snapshot + '.');
  });
}

async function deleteSnapshot(path, snapshot, button, refresh) {
  if (!(await confirmDialog('Delete snapshot ' + snapshot + '?', 'Delete snapshot'))) return;
  await busy(button, async () => {
    await api('DELETE', path);
    notify('Deleted snapshot ' + snapshot + '.');
    await refresh();
  });
}
