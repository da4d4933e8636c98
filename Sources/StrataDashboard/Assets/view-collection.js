// One collection: its config, payload schema and field indexes (create/drop),
// and the LSM view no other vector database shows — the WAL, every segment
// and its sections, the optimizer — refreshed live, with a verify button.
// Endpoints: GET /collections/{c}, PUT/DELETE /collections/{c}/index,
// GET /collections/{c}/storage, GET /collections/{c}/optimizations,
// POST /collections/{c}/verify.

import { api, collectionPath, canWrite, go } from './app.js';
import { h, clear, table, formatBytes, formatNumber, jsonTree, notify, select, busy, confirmDialog } from './ui.js';

const fieldTypes = ['keyword', 'integer', 'float', 'bool', 'geo', 'text', 'datetime', 'uuid'];
const refreshMs = 2000;

export async function render(main, args) {
  const name = args[0];
  if (!name) {
    main.append(h('p', {}, 'No collection named. ', h('a', { href: '#/collections' }, 'Choose one.')));
    return;
  }
  const info = await api('GET', collectionPath(name));
  main.append(
    h('h2', {}, 'Collection ', h('code', {}, name)),
    h(
      'p',
      { class: 'row' },
      h('span', { class: 'badge ' + (info.status === 'green' ? 'ok' : info.status === 'red' ? 'bad' : 'warn'), id: 'collection-status' }, 'status ' + info.status),
      h('span', {}, formatNumber(info.points_count) + ' points'),
      h('a', { href: '#/points/' + encodeURIComponent(name) }, 'Browse points'),
      h('a', { href: '#/search/' + encodeURIComponent(name) }, 'Search'),
      h('a', { href: '#/snapshots' }, 'Snapshots'),
    ),
  );
  const lsm = h('section', { class: 'panel', id: 'lsm', 'aria-labelledby': 'lsm-title' });
  const schema = h('section', { class: 'panel', id: 'schema', 'aria-labelledby': 'schema-title' });
  const config = h('section', { class: 'panel', id: 'config' }, h('h3', {}, 'Configuration'), jsonTree(info.config, 2));
  main.append(lsm, schema, config);
  showSchema(schema, name, info);

  const live = h('div', { id: 'lsm-live' });
  const verifyResult = h('div', { id: 'verify-result', 'aria-live': 'polite' });
  const verifyButton = h('button', { type: 'button', id: 'verify', onclick: () => verify(name, verifyButton, verifyResult) }, 'Verify checksums');
  lsm.append(
    h('h3', { id: 'lsm-title' }, 'Storage (LSM): WAL, segments, optimizer'),
    h('p', { class: 'muted' }, 'Refreshed every ' + refreshMs / 1000 + ' s. Writes go to the WAL and the mutable segment; the optimizer writes immutable segments and merges them.'),
    live,
    h('div', { class: 'row' }, verifyButton, h('span', { class: 'muted' }, 'reads every byte of every segment and checks every checksum')),
    verifyResult,
  );
  let stopped = false;
  let timer = null;
  async function refresh() {
    try {
      const [storage, optimizations] = await Promise.all([
        api('GET', collectionPath(name, '/storage')),
        api('GET', collectionPath(name, '/optimizations?with=completed&completed_limit=5')).catch(() => null),
      ]);
      if (stopped) return;
      clear(live);
      live.append(storageView(storage, optimizations));
      live.dataset.updated = String(Date.now());
    } catch (error) {
      if (stopped) return;
      clear(live);
      live.append(h('p', { class: 'bad' }, 'Cannot read the storage: ' + error.message));
    }
    if (!stopped) timer = setTimeout(refresh, refreshMs);
  }
  await refresh();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

function storageView(storage, optimizations) {
  if (!storage.shards) return shardStorageView(storage, optimizations, '');
  // A collection of several shards: each shard has its own WAL, segments and optimizer.
  const parts = storage.shards.map((shard) =>
    h(
      'section',
      { class: 'shard-storage', 'data-shard': shard.shard_id, 'aria-labelledby': 'shard-title-' + shard.shard_id },
      h('h3', { id: 'shard-title-' + shard.shard_id }, 'Shard ' + shard.shard_id + ' (as peer ' + shard.peer_id + ' holds it)'),
      shardStorageView(shard.storage, null, '-shard-' + shard.shard_id),
    ),
  );
  if (optimizations) parts.push(optimizerView(optimizations));
  return h('div', {}, parts);
}

/** One shard's (or an unsharded collection's) LSM layout; `suffix` keeps element ids unique. */
function shardStorageView(storage, optimizations, suffix) {
  const wal = storage.wal;
  const segments = storage.segments;
  const totalSegmentBytes = segments.reduce((s, x) => s + x.file_bytes, 0);
  const cards = h(
    'div',
    { class: 'cards' },
    card('WAL', formatBytes(wal.bytes), wal.files.length + ' file(s); ops ' + wal.checkpoint_op + '–' + wal.last_op + ' not yet in segments: ' + formatNumber(Math.max(0, wal.last_op - wal.checkpoint_op)), 'wal' + suffix),
    card('WAL writes', formatNumber(wal.records) + ' records', formatNumber(wal.batches) + ' batches, ' + formatNumber(wal.syncs) + ' syncs', 'wal-writes' + suffix),
    card('Mutable segment', formatNumber(storage.mutable_segment.points) + ' points', storage.sealed_segments + ' sealed segment(s) waiting', 'mutable' + suffix),
    card('Immutable segments', String(segments.length), formatBytes(totalSegmentBytes) + ' on disk', 'immutable' + suffix),
    card('Optimizer', storage.optimizer.running || 'idle', storage.optimizer.last_error ? 'last error: ' + storage.optimizer.last_error : 'no errors', 'optimizer' + suffix),
  );
  const walTable = table(
    [{ label: 'WAL file' }, { label: 'First op', num: true }, { label: 'Bytes', num: true }],
    wal.files.map((f) => [h('code', {}, f.name), formatNumber(f.first_op), formatBytes(f.bytes)]),
    { id: 'wal-files' + suffix },
  );
  const segmentRows = segments.map((s) => {
    const cells = [
      String(s.id),
      s.kind,
      formatNumber(s.points),
      formatNumber(s.deleted),
      formatBytes(s.file_bytes),
      sectionBar(s),
      s.payload_compression_ratio ? s.payload_compression_ratio.toFixed(2) + 'x' : '–',
    ];
    cells.attributes = { 'data-segment': s.id };
    return cells;
  });
  const segmentTable = segments.length
    ? table(
        [
          { label: 'Segment' },
          { label: 'Kind' },
          { label: 'Points', num: true },
          { label: 'Deleted', num: true },
          { label: 'File', num: true },
          { label: 'Bytes per section' },
          { label: 'Payload compression', num: true },
        ],
        segmentRows,
        { id: 'segments-table' + suffix },
      )
    : h('p', { class: 'muted', id: 'segments-table' + suffix }, 'No immutable segment yet: every point is in the WAL and the mutable segment.');
  const level = suffix ? 'h4' : 'h3';
  const parts = [cards, h(level, {}, 'WAL files'), walTable, h(level, {}, 'Segments'), segmentTable];
  if (optimizations) parts.push(optimizerView(optimizations));
  return h('div', {}, parts);
}

function card(title, value, detail, id) {
  return h('div', { class: 'card', id: 'card-' + id }, h('span', { class: 'muted' }, title), h('b', {}, value), h('span', {}, detail));
}

const sectionColours = ['#0b5cad', '#1a7f37', '#9a6700', '#8250df', '#b42318', '#57606a', '#bf3989', '#0a7ea4'];

/** A bar of the segment's sections (with their names and sizes as text too). */
function sectionBar(segment) {
  const total = segment.sections.reduce((s, x) => s + x.bytes, 0) || 1;
  const bar = h('div', { class: 'bar', role: 'img', 'aria-label': 'section sizes' });
  segment.sections.forEach((section, i) => {
    const span = h('span', { title: section.name + ' ' + formatBytes(section.bytes) });
    span.style.width = ((100 * section.bytes) / total).toFixed(2) + '%';
    span.style.background = sectionColours[i % sectionColours.length];
    bar.append(span);
  });
  const text = segment.sections
    .filter((s) => s.bytes > 0)
    .map((s) => s.name + ' ' + formatBytes(s.bytes))
    .join(', ');
  return h('div', {}, bar, h('small', { class: 'muted' }, text));
}

function optimizerView(optimizations) {
  const running = optimizations.running || [];
  const completed = optimizations.completed || [];
  const rows = [
    ...running.map((o) => ['running', o.optimizer, o.status || '', (o.segments || []).length + ' segment(s)']),
    ...completed.map((o) => [
      o.status && typeof o.status === 'object' && o.status.error ? h('span', { class: 'bad' }, 'failed') : 'done',
      o.optimizer,
      o.status && typeof o.status === 'object' && o.status.error ? o.status.error : String(o.status || ''),
      (o.segments || []).length + ' segment(s)',
    ]),
  ];
  return h(
    'div',
    { id: 'optimizer-activity' },
    h('h3', {}, 'Optimizer activity'),
    rows.length ? table([{ label: 'State' }, { label: 'Optimizer' }, { label: 'Status' }, { label: 'Input' }], rows) : h('p', { class: 'muted' }, 'Nothing running or finished since the collection opened.'),
  );
}

async function verify(name, button, output) {
  clear(output);
  output.append(h('p', {}, 'Verifying…'));
  await busy(button, async () => {
    try {
      const result = await api('POST', collectionPath(name, '/verify'));
      clear(output);
      output.dataset.ok = String(result.ok);
      output.append(
        h(
          'p',
          { class: result.ok ? 'ok' : 'bad', role: 'status' },
          result.ok
            ? 'Verified: ' + result.segments + ' segment(s), every checksum matches (' + result.seconds.toFixed(2) + ' s).'
            : 'Problems found in ' + result.segments + ' segment(s):',
        ),
      );
      if (!result.ok) output.append(h('ul', {}, result.problems.map((p) => h('li', { class: 'bad' }, p))));
    } catch (error) {
      clear(output);
      throw error;
    }
  });
}

// MARK: - Payload schema

function showSchema(panel, name, info) {
  const writable = canWrite(name);
  panel.append(h('h3', { id: 'schema-title' }, 'Payload schema and field indexes'));
  const schema = info.payload_schema || {};
  const rows = Object.keys(schema)
    .sort()
    .map((field) => {
      const entry = schema[field];
      const cells = [
        h('code', {}, field),
        entry.data_type,
        entry.params ? JSON.stringify(entry.params) : '',
        formatNumber(entry.points),
        writable ? h('button', { type: 'button', class: 'danger', 'data-action': 'drop-index', 'data-field': field, onclick: (e) => dropIndex(name, field, e.target) }, 'Drop index') : '',
      ];
      cells.attributes = { 'data-field-row': field };
      return cells;
    });
  if (rows.length) {
    panel.append(table([{ label: 'Field' }, { label: 'Type' }, { label: 'Params' }, { label: 'Points', num: true }, { label: '' }], rows, { id: 'schema-table' }));
  } else {
    panel.append(h('p', { class: 'muted', id: 'schema-table' }, 'No field index yet: filters on payload fields scan the points.'));
  }
  if (!writable) return;
  const field = h('input', { id: 'index-field', required: true, size: 20, autocomplete: 'off' });
  const type = select('index-type', fieldTypes, 'keyword');
  const form = h('form', { id: 'index-form', class: 'row' }, h('label', {}, 'Field', field), h('label', {}, 'Type', type), h('button', { type: 'submit' }, 'Create index'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    await busy(form.querySelector('button'), async () => {
      await api('PUT', collectionPath(name, '/index?wait=true'), { field_name: field.value.trim(), field_schema: type.value });
      notify('Created an index on ' + field.value.trim() + '.');
      go('#/collection/' + encodeURIComponent(name));
    });
  });
  panel.append(form);
}

async function dropIndex(name, field, button) {
  if (!(await confirmDialog('Drop the index on ' + field + '? Filters on it will scan the points.', 'Drop index'))) return;
  await busy(button, async () => {
    await api('DELETE', collectionPath(name, '/index/' + encodeURIComponent(field) + '?wait=true'));
    notify('Dropped the index on ' + field + '.');
    go('#/collection/' + encodeURIComponent(name));
  });
}
