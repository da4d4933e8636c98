// Points browser: scroll with a filter (Qdrant's filter JSON, checked as you
// type by asking the server to count what it matches), payloads as a table or
// a tree, vectors on demand, retrieve by id, delete, edit payload.
// Endpoints: POST /collections/{c}/points/scroll, /points/count, /points (retrieve),
// PUT /collections/{c}/points/payload, POST /collections/{c}/points/delete.

import { api, collectionPath, canWrite, collectionNames, go } from './app.js';
import { h, clear, table, jsonTree, compactJSON, debounce, parseId, parseJSONField, notify, confirmDialog, busy, select } from './ui.js';

export async function render(main, args) {
  const names = await collectionNames();
  const name = args[0] || names[0];
  main.append(h('h2', {}, 'Points'));
  if (!name) {
    main.append(h('p', { class: 'muted' }, 'No collections yet.'));
    return;
  }
  const chooser = select('points-collection', names, name);
  chooser.addEventListener('change', () => go('#/points/' + encodeURIComponent(chooser.value)));
  main.append(h('div', { class: 'row' }, h('label', {}, 'Collection', chooser)));

  const writable = canWrite(name);
  const filter = h('textarea', { id: 'filter', rows: 4, spellcheck: 'false', placeholder: '{"must": [{"key": "city", "match": {"value": "Berlin"}}]}', 'aria-describedby': 'filter-status' });
  const filterStatus = h('p', { id: 'filter-status', 'aria-live': 'polite', class: 'muted' }, 'No filter: every point.');
  const limit = h('input', { id: 'limit', type: 'number', min: 1, max: 1000, value: 20, class: 'narrow' });
  const withVectors = h('input', { id: 'with-vectors', type: 'checkbox' });
  const treeMode = h('input', { id: 'tree-mode', type: 'checkbox' });
  const results = h('div', { id: 'points-results' });
  const more = h('button', { type: 'button', id: 'next-page', hidden: true }, 'Next page');
  let nextOffset = null;
  let lastPoints = [];

  async function checkFilter() {
    let parsed;
    try {
      parsed = parseJSONField(filter.value, 'The filter');
    } catch (error) {
      filterStatus.className = 'bad';
      filterStatus.textContent = error.message;
      filter.setAttribute('aria-invalid', 'true');
      return;
    }
    if (parsed === undefined) {
      filterStatus.className = 'muted';
      filterStatus.textContent = 'No filter: every point.';
      filter.removeAttribute('aria-invalid');
      return;
    }
    try {
      const count = await api('POST', collectionPath(name, '/points/count'), { filter: parsed, exact: true });
      filterStatus.className = 'ok';
      filterStatus.textContent = 'Valid filter: ' + count.count + ' point(s) match.';
      filter.removeAttribute('aria-invalid');
    } catch (error) {
      filterStatus.className = 'bad';
      filterStatus.textContent = 'The server refuses this filter: ' + error.message;
      filter.setAttribute('aria-invalid', 'true');
    }
  }
  filter.addEventListener('input', debounce(checkFilter, 300));

  async function scroll(offset) {
    const body = {
      limit: Number(limit.value) || 20,
      with_payload: true,
      with_vector: withVectors.checked,
    };
    const parsed = parseJSONField(filter.value, 'The filter');
    if (parsed !== undefined) body.filter = parsed;
    if (offset !== null && offset !== undefined) body.offset = offset;
    const page = await api('POST', collectionPath(name, '/points/scroll'), body);
    nextOffset = page.next_page_offset;
    more.hidden = nextOffset === null || nextOffset === undefined;
    lastPoints = page.points;
    show(page.points);
  }

  function show(points) {
    clear(results);
    results.dataset.count = String(points.length);
    if (points.length === 0) {
      results.append(h('p', { class: 'muted', id: 'no-points' }, 'No points.'));
      return;
    }
    if (treeMode.checked) {
      results.append(h('ul', { id: 'points-tree' }, points.map((p) => h('li', { 'data-point': String(p.id) }, h('b', {}, 'id ' + p.id), actions(p), jsonTree(p.payload || {}, 1), vectorBlock(p)))));
      return;
    }
    const keys = [];
    for (const p of points) for (const k of Object.keys(p.payload || {})) if (!keys.includes(k) && keys.length < 8) keys.push(k);
    const rows = points.map((p) => {
      const cells = [h('code', {}, String(p.id)), ...keys.map((k) => (p.payload && k in p.payload ? compactJSON(p.payload[k], 80) : '')), h('div', {}, actions(p), vectorBlock(p))];
      cells.attributes = { 'data-point': String(p.id) };
      return cells;
    });
    results.append(table([{ label: 'id' }, ...keys.map((k) => ({ label: k })), { label: '' }], rows, { id: 'points-table' }));
  }

  function vectorBlock(point) {
    const box = h('div', { class: 'vector', 'data-vector-of': String(point.id) });
    if (point.vector !== undefined && point.vector !== null) box.append(h('pre', {}, compactJSON(point.vector, 2000)));
    return box;
  }

  function actions(point) {
    const id = point.id;
    const buttons = [
      h('button', { type: 'button', 'data-action': 'show-vector', onclick: (e) => showVector(id, e.target) }, 'Vector'),
    ];
    if (writable) {
      buttons.push(
        h('button', { type: 'button', 'data-action': 'edit-payload', onclick: () => editPayload(point) }, 'Edit payload'),
        h('button', { type: 'button', class: 'danger', 'data-action': 'delete-point', onclick: (e) => deletePoint(id, e.target) }, 'Delete'),
      );
    }
    return h('span', { class: 'row' }, buttons);
  }

  async function showVector(id, button) {
    await busy(button, async () => {
      const points = await api('POST', collectionPath(name, '/points'), { ids: [id], with_payload: false, with_vector: true });
      const box = results.querySelector('[data-vector-of="' + CSS.escape(String(id)) + '"]');
      clear(box);
      box.append(h('pre', {}, points.length ? compactJSON(points[0].vector, 4000) : 'gone'));
    });
  }

  function editPayload(point) {
    const editor = h('textarea', { id: 'payload-editor', rows: 10, spellcheck: 'false' });
    editor.value = JSON.stringify(point.payload || {}, null, 2);
    const form = h(
      'form',
      { id: 'payload-form', class: 'panel' },
      h('h3', {}, 'Payload of point ' + point.id),
      h('label', { for: 'payload-editor' }, 'The whole payload (replaces the stored one)'),
      editor,
      h('div', { class: 'actions' }, h('button', { type: 'button', onclick: () => form.remove() }, 'Cancel'), h('button', { type: 'submit', class: 'primary' }, 'Save payload')),
    );
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      await busy(form.querySelector('[type=submit]'), async () => {
        const payload = parseJSONField(editor.value, 'The payload', {});
        await api('PUT', collectionPath(name, '/points/payload?wait=true'), { payload, points: [point.id] });
        notify('Saved the payload of point ' + point.id + '.');
        form.remove();
        await scroll(null);
      });
    });
    const old = document.getElementById('payload-form');
    if (old) old.remove();
    results.before(form);
    editor.focus();
  }

  async function deletePoint(id, button) {
    if (!(await confirmDialog('Delete point ' + id + ' from ' + name + '?', 'Delete point'))) return;
    await busy(button, async () => {
      await api('POST', collectionPath(name, '/points/delete?wait=true'), { points: [id] });
      notify('Deleted point ' + id + '.');
      await scroll(null);
    });
  }

  const idInput = h('input', { id: 'retrieve-id', size: 38, placeholder: '42 or a UUID', autocomplete: 'off' });
  const retrieveForm = h('form', { id: 'retrieve-form', class: 'row' }, h('label', {}, 'Point id', idInput), h('button', { type: 'submit' }, 'Retrieve'));
  retrieveForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    await busy(retrieveForm.querySelector('button'), async () => {
      const points = await api('POST', collectionPath(name, '/points'), { ids: [parseId(idInput.value)], with_payload: true, with_vector: withVectors.checked });
      more.hidden = true;
      show(points);
      if (points.length === 0) notify('No point with id ' + idInput.value.trim() + '.');
    });
  });

  const scrollButton = h('button', { type: 'submit', class: 'primary', id: 'scroll' }, 'Scroll');
  const scrollForm = h(
    'form',
    { id: 'scroll-form' },
    h('label', { for: 'filter' }, 'Filter (Qdrant filter JSON)'),
    filter,
    filterStatus,
    h('div', { class: 'row' }, h('label', {}, 'Limit', limit), h('label', {}, withVectors, 'With vectors'), h('label', {}, treeMode, 'Payload as a tree'), scrollButton),
  );
  scrollForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    await busy(scrollButton, () => scroll(null));
  });
  treeMode.addEventListener('change', () => show(lastPoints));
  more.addEventListener('click', () => busy(more, () => scroll(nextOffset)));
  main.append(h('section', { class: 'panel' }, scrollForm, retrieveForm), results, more);
  await scroll(null);
}
