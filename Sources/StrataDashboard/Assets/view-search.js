// Search: a query by vector, by point id, or a recommendation from example ids,
// with a filter; the hits with their payloads; and a 2-D projection (PCA) of a
// sample of the collection's vectors with the hits marked.
// Endpoints: GET /collections/{c}, POST /collections/{c}/points/query,
// POST /collections/{c}/points/scroll (the sample).

import { api, collectionPath, collectionNames, go } from './app.js';
import { h, clear, table, compactJSON, parseId, parseJSONField, select, busy } from './ui.js';

const sampleSize = 400;
const svgNS = 'http://www.w3.org/2000/svg';

export async function render(main, args) {
  const names = await collectionNames();
  main.append(h('h2', {}, 'Search'));
  const name = args[0] || names[0];
  if (!name) {
    main.append(h('p', { class: 'muted' }, 'No collections yet.'));
    return;
  }
  const info = await api('GET', collectionPath(name));
  const vectors = info.config.params.vectors || {};
  const dense = typeof vectors.size === 'number' ? [['', '(default)']] : Object.keys(vectors).map((n) => [n, n]);

  const chooser = select('search-collection', names, name);
  chooser.addEventListener('change', () => go('#/search/' + encodeURIComponent(chooser.value)));
  const using = select('search-using', dense.length ? dense : [['', '(none)']], dense.length ? dense[0][0] : '');
  const mode = select('search-mode', [['vector', 'by vector'], ['id', 'by point id'], ['recommend', 'recommend from examples']], 'vector');
  const vector = h('textarea', { id: 'search-vector', rows: 3, spellcheck: 'false', placeholder: '[0.1, 0.2, 0.3, 0.4]' });
  const pointId = h('input', { id: 'search-id', size: 38, autocomplete: 'off' });
  const positive = h('input', { id: 'search-positive', size: 30, placeholder: '1, 2', autocomplete: 'off' });
  const negative = h('input', { id: 'search-negative', size: 30, placeholder: '3', autocomplete: 'off' });
  const filter = h('textarea', { id: 'search-filter', rows: 2, spellcheck: 'false', placeholder: '{"must": [...]} (optional)' });
  const limit = h('input', { id: 'search-limit', type: 'number', min: 1, max: 1000, value: 10, class: 'narrow' });
  const vectorField = h('div', { class: 'mode-vector' }, h('label', { for: 'search-vector' }, 'Query vector (JSON array)'), vector);
  const idField = h('div', { class: 'mode-id', hidden: true }, h('label', {}, 'Point id', pointId));
  const recommendField = h('div', { class: 'mode-recommend', hidden: true }, h('label', {}, 'Positive ids', positive), h('label', {}, 'Negative ids', negative));
  function showMode() {
    vectorField.hidden = mode.value !== 'vector';
    idField.hidden = mode.value !== 'id';
    recommendField.hidden = mode.value !== 'recommend';
  }
  mode.addEventListener('change', showMode);
  const runButton = h('button', { type: 'submit', class: 'primary', id: 'search-run' }, 'Search');
  const form = h(
    'form',
    { id: 'search-form', class: 'panel' },
    h('div', { class: 'row' }, h('label', {}, 'Collection', chooser), h('label', {}, 'Vector', using), h('label', {}, 'Query', mode), h('label', {}, 'Limit', limit)),
    vectorField,
    idField,
    recommendField,
    h('label', { for: 'search-filter' }, 'Filter'),
    filter,
    h('div', { class: 'actions' }, runButton),
  );
  const hits = h('div', { id: 'search-hits' }, h('p', { class: 'muted' }, 'Run a search to see its hits here and on the projection.'));
  const projection = h('div', { id: 'projection' });
  main.append(form, h('div', { class: 'grid2' }, h('section', { class: 'panel' }, h('h3', {}, 'Hits'), hits), h('section', { class: 'panel' }, h('h3', {}, 'Projection (PCA of a sample)'), projection)));

  let sample = null;
  async function loadSample() {
    const page = await api('POST', collectionPath(name, '/points/scroll'), { limit: sampleSize, with_payload: false, with_vector: using.value ? [using.value] : true });
    return page.points.map((p) => ({ id: p.id, v: pick(p.vector, using.value) })).filter((p) => Array.isArray(p.v) && typeof p.v[0] === 'number');
  }
  using.addEventListener('change', () => (sample = null));

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    await busy(runButton, async () => {
      const body = { limit: Number(limit.value) || 10, with_payload: true, with_vector: using.value ? [using.value] : true };
      if (using.value) body.using = using.value;
      const parsedFilter = parseJSONField(filter.value, 'The filter');
      if (parsedFilter !== undefined) body.filter = parsedFilter;
      let queryVector = null;
      if (mode.value === 'vector') {
        queryVector = parseJSONField(vector.value, 'The query vector');
        if (!Array.isArray(queryVector)) throw new Error('The query vector must be a JSON array of numbers');
        body.query = queryVector;
      } else if (mode.value === 'id') {
        if (!pointId.value.trim()) throw new Error('Type a point id');
        body.query = parseId(pointId.value);
      } else {
        const ids = (text) => text.split(',').map((s) => s.trim()).filter((s) => s).map(parseId);
        body.query = { recommend: { positive: ids(positive.value), negative: ids(negative.value) } };
      }
      const result = await api('POST', collectionPath(name, '/points/query'), body);
      showHits(hits, result.points);
      if (!sample) sample = await loadSample();
      drawProjection(projection, sample, result.points.map((p) => ({ id: p.id, v: pick(p.vector, using.value) })), queryVector);
    });
  });
  showMode();
  sample = await loadSample();
  drawProjection(projection, sample, [], null);
}

function pick(vector, name) {
  if (Array.isArray(vector)) return vector;
  if (vector && typeof vector === 'object') return vector[name];
  return null;
}

function showHits(container, points) {
  clear(container);
  container.dataset.count = String(points.length);
  if (!points.length) {
    container.append(h('p', { class: 'muted' }, 'No hits.'));
    return;
  }
  const rows = points.map((p, i) => {
    const cells = [String(i + 1), h('code', {}, String(p.id)), p.score === undefined ? '' : p.score.toFixed(4), compactJSON(p.payload || {}, 200)];
    cells.attributes = { 'data-hit': String(p.id) };
    return cells;
  });
  container.append(table([{ label: 'Rank', num: true }, { label: 'id' }, { label: 'Score', num: true }, { label: 'Payload' }], rows, { id: 'hits-table' }));
}

// MARK: - Projection

/** The top two principal components of `rows` (power iteration with deflation). */
export function principalComponents(rows) {
  const n = rows.length;
  const d = rows[0].length;
  const mean = new Float64Array(d);
  for (const r of rows) for (let j = 0; j < d; j++) mean[j] += r[j] / n;
  const centered = rows.map((r) => r.map((x, j) => x - mean[j]));
  const components = [];
  for (let c = 0; c < 2; c++) {
    let v = new Float64Array(d).map((_, j) => Math.sin(j + 1 + c * 7));
    for (let iteration = 0; iteration < 60; iteration++) {
      const next = new Float64Array(d);
      for (const r of centered) {
        let dot = 0;
        for (let j = 0; j < d; j++) dot += r[j] * v[j];
        for (let j = 0; j < d; j++) next[j] += dot * r[j];
      }
      for (const u of components) {
        let dot = 0;
        for (let j = 0; j < d; j++) dot += next[j] * u[j];
        for (let j = 0; j < d; j++) next[j] -= dot * u[j];
      }
      const norm = Math.hypot(...next) || 1;
      v = next.map((x) => x / norm);
    }
    components.push(v);
  }
  return { mean, components };
}

function project(vector, pca) {
  return pca.components.map((u) => {
    let s = 0;
    for (let j = 0; j < u.length; j++) s += (vector[j] - pca.mean[j]) * u[j];
    return s;
  });
}

function svg(tag, attributes) {
  const element = document.createElementNS(svgNS, tag);
  for (const [k, v] of Object.entries(attributes)) element.setAttribute(k, String(v));
  return element;
}

function drawProjection(container, sample, hits, queryVector) {
  clear(container);
  if (!sample || sample.length < 3) {
    container.append(h('p', { class: 'muted' }, 'Too few dense vectors to project.'));
    return;
  }
  const pca = principalComponents(sample.map((p) => p.v));
  const points = sample.map((p) => ({ id: p.id, xy: project(p.v, pca) }));
  const hitPoints = hits.filter((p) => Array.isArray(p.v)).map((p) => ({ id: p.id, xy: project(p.v, pca) }));
  const query = Array.isArray(queryVector) && queryVector.length === pca.mean.length ? project(queryVector, pca) : null;
  const all = [...points, ...hitPoints].map((p) => p.xy).concat(query ? [query] : []);
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => p[1]);
  const [minX, maxX, minY, maxY] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const width = 480;
  const height = 340;
  const pad = 24;
  const sx = (x) => pad + ((x - minX) / (maxX - minX || 1)) * (width - 2 * pad);
  const sy = (y) => height - pad - ((y - minY) / (maxY - minY || 1)) * (height - 2 * pad);
  const chart = svg('svg', { viewBox: `0 0 ${width} ${height}`, width: '100%', role: 'img', 'aria-labelledby': 'projection-title', id: 'projection-svg' });
  const title = svg('title', { id: 'projection-title' });
  title.textContent = sample.length + ' sampled points projected on their first two principal components; ' + hitPoints.length + ' hits marked with squares and their rank';
  chart.append(title);
  chart.append(svg('rect', { x: pad, y: pad, width: width - 2 * pad, height: height - 2 * pad, class: 'grid', fill: 'none' }));
  for (const p of points) chart.append(svg('circle', { cx: sx(p.xy[0]), cy: sy(p.xy[1]), r: 3, class: 'point', 'data-id': p.id }));
  hitPoints.forEach((p, i) => {
    const x = sx(p.xy[0]);
    const y = sy(p.xy[1]);
    chart.append(svg('rect', { x: x - 5, y: y - 5, width: 10, height: 10, class: 'hit', 'data-hit': p.id }));
    const label = svg('text', { x: x + 7, y: y - 6 });
    label.textContent = String(i + 1);
    chart.append(label);
  });
  if (query) {
    const x = sx(query[0]);
    const y = sy(query[1]);
    chart.append(svg('path', { d: `M${x - 8},${y} L${x + 8},${y} M${x},${y - 8} L${x},${y + 8}`, class: 'query', id: 'projection-query' }));
  }
  container.append(chart, h('p', { class: 'muted', id: 'projection-legend' }, 'Circles: ' + sample.length + ' sampled points. Squares with numbers: the hits by rank. Cross: the query vector.'));
}
