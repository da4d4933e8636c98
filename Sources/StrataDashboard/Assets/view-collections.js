// Collections: the list (points, vectors, status, disk size), the create
// form (with the JSON it sends), delete with confirmation, and aliases.
// Endpoints: GET /collections, GET /collections/{c}, GET /collections/{c}/storage,
// PUT/DELETE /collections/{c}, GET /aliases, POST /collections/aliases.

import { api, collectionPath, canManage, go } from './app.js';
import { h, table, formatBytes, formatNumber, confirmDialog, notify, select, busy } from './ui.js';

const distances = ['Cosine', 'Dot', 'Euclid', 'Manhattan'];
const datatypes = ['float32', 'float16', 'uint8'];

export async function render(main) {
  main.append(h('h2', {}, 'Collections'));
  const list = h('section', { class: 'panel', 'aria-labelledby': 'list-title' }, h('h3', { id: 'list-title' }, 'All collections'));
  main.append(list);
  const aliases = h('section', { class: 'panel', 'aria-labelledby': 'aliases-title' });
  await Promise.all([showList(list), showAliases(aliases)]);
  if (canManage()) main.append(createForm(() => go('#/collections')));
  main.append(aliases);
}

/** Disk bytes of a collection: its segment files and its WAL (every shard's, for a sharded one). */
export function diskBytes(storage) {
  if (storage.shards) return storage.shards.reduce((sum, shard) => sum + diskBytes(shard.storage), 0);
  const segments = storage.segments.reduce((sum, s) => sum + s.file_bytes, 0);
  return segments + (storage.wal ? storage.wal.bytes : 0);
}

function vectorSummary(params) {
  const vectors = params.vectors || {};
  const parts = [];
  if (typeof vectors.size === 'number') {
    parts.push(vectors.size + '-d ' + vectors.distance);
  } else {
    for (const [name, v] of Object.entries(vectors)) parts.push(name + ': ' + v.size + '-d ' + v.distance + (v.multivector_config ? ' multi' : ''));
  }
  for (const name of Object.keys(params.sparse_vectors || {})) parts.push(name + ': sparse');
  return parts.length ? parts.join('; ') : 'none';
}

async function showList(panel) {
  const result = await api('GET', '/collections');
  const names = result.collections.map((c) => c.name).sort();
  if (names.length === 0) {
    panel.append(h('p', { class: 'muted', id: 'no-collections' }, 'No collections yet.'));
    return;
  }
  const rows = await Promise.all(
    names.map(async (name) => {
      const [info, storage] = await Promise.all([
        api('GET', collectionPath(name)),
        api('GET', collectionPath(name, '/storage')).catch(() => null),
      ]);
      const cells = [
        h('a', { href: '#/collection/' + encodeURIComponent(name), 'data-collection': name }, name),
        h('span', { class: 'badge ' + (info.status === 'green' ? 'ok' : info.status === 'red' ? 'bad' : 'warn') }, info.status),
        formatNumber(info.points_count),
        formatNumber(info.indexed_vectors_count),
        formatNumber(info.segments_count),
        vectorSummary(info.config.params),
        storage ? formatBytes(diskBytes(storage)) : '–',
        h(
          'span',
          { class: 'row' },
          h('a', { href: '#/points/' + encodeURIComponent(name) }, 'Points'),
          h('a', { href: '#/search/' + encodeURIComponent(name) }, 'Search'),
          canManage()
            ? h('button', { type: 'button', class: 'danger', 'data-action': 'delete-collection', 'data-collection': name, onclick: (e) => deleteCollection(name, e.target) }, 'Delete')
            : null,
        ),
      ];
      cells.attributes = { 'data-collection-row': name };
      return cells;
    }),
  );
  panel.append(
    table(
      [
        { label: 'Name' },
        { label: 'Status' },
        { label: 'Points', num: true },
        { label: 'Indexed vectors', num: true },
        { label: 'Segments', num: true },
        { label: 'Vectors' },
        { label: 'Disk', num: true },
        { label: 'Actions' },
      ],
      rows,
      { id: 'collections-table' },
    ),
  );
}

async function deleteCollection(name, button) {
  const sure = await confirmDialog('Delete collection ' + name + ' and all its points? This cannot be undone.', 'Delete ' + name);
  if (!sure) return;
  await busy(button, async () => {
    await api('DELETE', collectionPath(name));
    notify('Deleted collection ' + name + '.');
    go('#/collections');
  });
}

// MARK: - Create

function vectorRow(index) {
  const row = h(
    'fieldset',
    { class: 'vector-row', 'data-index': index },
    h('legend', {}, 'Dense vector ' + (index + 1)),
    h('label', {}, 'Name', h('input', { name: 'vname', placeholder: index === 0 ? '(unnamed)' : 'name', size: 12 })),
    h('label', {}, 'Size', h('input', { name: 'size', type: 'number', min: 1, value: index === 0 ? 4 : '', required: true, class: 'narrow' })),
    h('label', {}, 'Distance', select('', distances, 'Cosine')),
    h('label', {}, 'Datatype', select('', datatypes, 'float32')),
    h('label', {}, h('input', { type: 'checkbox', name: 'multi' }), 'Multivector (max_sim)'),
    h('label', {}, h('input', { type: 'checkbox', name: 'on_disk' }), 'Vectors on disk'),
  );
  row.querySelectorAll('select')[0].name = 'distance';
  row.querySelectorAll('select')[1].name = 'datatype';
  return row;
}

function sparseRow(index) {
  const row = h(
    'fieldset',
    { class: 'sparse-row', 'data-index': index },
    h('legend', {}, 'Sparse vector ' + (index + 1)),
    h('label', {}, 'Name', h('input', { name: 'sname', required: true, size: 12, value: index === 0 ? 'text' : '' })),
    h('label', {}, 'Modifier', select('', [['none', 'none'], ['idf', 'idf (BM25)']], 'none')),
  );
  row.querySelector('select').name = 'modifier';
  return row;
}

/** The body `PUT /collections/{name}` gets from the form's fields. */
export function createBody(form) {
  const body = {};
  const dense = [...form.querySelectorAll('.vector-row')].map((row) => {
    const value = (n) => row.querySelector('[name=' + n + ']');
    const params = { size: Number(value('size').value), distance: value('distance').value };
    if (value('datatype').value !== 'float32') params.datatype = value('datatype').value;
    if (value('multi').checked) params.multivector_config = { comparator: 'max_sim' };
    if (value('on_disk').checked) params.on_disk = true;
    return [value('vname').value.trim(), params];
  });
  if (dense.length === 1 && dense[0][0] === '') body.vectors = dense[0][1];
  else if (dense.length > 0) body.vectors = Object.fromEntries(dense.map(([n, p], i) => [n || 'vector' + (i + 1), p]));
  const sparse = [...form.querySelectorAll('.sparse-row')];
  if (sparse.length > 0) {
    body.sparse_vectors = Object.fromEntries(
      sparse.map((row) => {
        const modifier = row.querySelector('[name=modifier]').value;
        return [row.querySelector('[name=sname]').value.trim(), modifier === 'idf' ? { modifier: 'idf' } : {}];
      }),
    );
  }
  const m = form.querySelector('#create-m').value;
  const ef = form.querySelector('#create-ef').value;
  const hnswOnDisk = form.querySelector('#create-hnsw-disk').checked;
  if (m || ef || hnswOnDisk) {
    body.hnsw_config = {};
    if (m) body.hnsw_config.m = Number(m);
    if (ef) body.hnsw_config.ef_construct = Number(ef);
    if (hnswOnDisk) body.hnsw_config.on_disk = true;
  }
  const quantization = form.querySelector('#create-quantization').value;
  if (quantization === 'scalar') body.quantization_config = { scalar: { type: 'int8', always_ram: true } };
  if (quantization === 'binary') body.quantization_config = { binary: { always_ram: true } };
  if (quantization === 'product') body.quantization_config = { product: { compression: 'x16', always_ram: true } };
  return body;
}

export function createForm(done) {
  const name = h('input', { id: 'create-name', required: true, size: 24, autocomplete: 'off' });
  const vectors = h('div', { id: 'create-vectors' }, vectorRow(0));
  const sparse = h('div', { id: 'create-sparse' });
  const preview = h('pre', { id: 'create-json', 'aria-live': 'off' });
  const form = h(
    'form',
    { id: 'create-form', 'aria-labelledby': 'create-title' },
    h('h3', { id: 'create-title' }, 'Create a collection'),
    h('label', {}, 'Name', name),
    vectors,
    h(
      'div',
      { class: 'row' },
      h('button', { type: 'button', id: 'add-vector', onclick: () => { vectors.append(vectorRow(vectors.children.length)); update(); } }, 'Add a dense vector'),
      h('button', { type: 'button', id: 'remove-vector', onclick: () => { if (vectors.lastChild) vectors.lastChild.remove(); update(); } }, 'Remove the last dense vector'),
      h('button', { type: 'button', id: 'add-sparse', onclick: () => { sparse.append(sparseRow(sparse.children.length)); update(); } }, 'Add a sparse vector'),
    ),
    sparse,
    h(
      'fieldset',
      {},
      h('legend', {}, 'Index and quantization'),
      h('label', {}, 'HNSW m', h('input', { id: 'create-m', type: 'number', min: 0, placeholder: '16', class: 'narrow' })),
      h('label', {}, 'ef_construct', h('input', { id: 'create-ef', type: 'number', min: 4, placeholder: '100', class: 'narrow' })),
      h('label', {}, h('input', { id: 'create-hnsw-disk', type: 'checkbox' }), 'Graph on disk'),
      h('label', {}, 'Quantization', select('create-quantization', [['none', 'none'], ['scalar', 'scalar int8'], ['binary', 'binary'], ['product', 'product x16']], 'none')),
    ),
    h('p', {}, 'The request this form sends:'),
    preview,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', id: 'create-submit' }, 'Create collection')),
  );
  function update() {
    preview.textContent = 'PUT /collections/' + (name.value || '{name}') + '\n' + JSON.stringify(createBody(form), null, 2);
  }
  form.addEventListener('input', update);
  form.addEventListener('change', update);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const button = form.querySelector('#create-submit');
    await busy(button, async () => {
      await api('PUT', collectionPath(name.value.trim()), createBody(form));
      notify('Created collection ' + name.value.trim() + '.');
      done();
    });
  });
  update();
  return h('section', { class: 'panel' }, form);
}

// MARK: - Aliases

async function showAliases(panel) {
  panel.append(h('h3', { id: 'aliases-title' }, 'Aliases'));
  const [aliases, collections] = await Promise.all([api('GET', '/aliases'), api('GET', '/collections')]);
  const rows = aliases.aliases
    .slice()
    .sort((a, b) => a.alias_name.localeCompare(b.alias_name))
    .map((a) => [
      a.alias_name,
      a.collection_name,
      canManage()
        ? h('button', { type: 'button', class: 'danger', 'data-action': 'delete-alias', 'data-alias': a.alias_name, onclick: (e) => deleteAlias(a.alias_name, e.target) }, 'Delete alias')
        : '',
    ]);
  if (rows.length === 0) panel.append(h('p', { class: 'muted' }, 'No aliases.'));
  else panel.append(table([{ label: 'Alias' }, { label: 'Collection' }, { label: '' }], rows, { id: 'aliases-table' }));
  if (!canManage()) return;
  const names = collections.collections.map((c) => c.name).sort();
  if (names.length === 0) return;
  const alias = h('input', { id: 'alias-name', required: true, size: 18 });
  const target = select('alias-collection', names, names[0]);
  const form = h(
    'form',
    { id: 'alias-form', class: 'row' },
    h('label', {}, 'New alias', alias),
    h('label', {}, 'for', target),
    h('button', { type: 'submit', id: 'alias-submit' }, 'Create alias'),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    await busy(form.querySelector('button'), async () => {
      await api('POST', '/collections/aliases', { actions: [{ create_alias: { alias_name: alias.value.trim(), collection_name: target.value } }] });
      notify('Created alias ' + alias.value.trim() + '.');
      go('#/collections');
    });
  });
  panel.append(form);
}

async function deleteAlias(name, button) {
  const sure = await confirmDialog('Delete alias ' + name + '? The collection stays.', 'Delete alias');
  if (!sure) return;
  await busy(button, async () => {
    await api('POST', '/collections/aliases', { actions: [{ delete_alias: { alias_name: name } }] });
    notify('Deleted alias ' + name + '.');
    go('#/collections');
  });
}
