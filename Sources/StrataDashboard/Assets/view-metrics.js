// Metrics: live charts from GET /metrics (Prometheus text), sampled every
// 2 seconds and kept for the last 10 minutes while the page is open:
// requests/s, request latency percentiles (from the latency histogram),
// points written/s, and WAL syncs/s.

import { api, canReadAll } from './app.js';
import { h, clear } from './ui.js';

const intervalMs = 2000;
const keepMs = 10 * 60 * 1000;
const svgNS = 'http://www.w3.org/2000/svg';

/** Samples: {t, requests, points, syncs, buckets: [[le, count]]}. Kept across views. */
const samples = [];
let poller = null;
const listeners = new Set();

/** Parses Prometheus text into [{name, labels, value}]. */
export function parsePrometheus(text) {
  const series = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})?\s+(\S+)/);
    if (!m) continue;
    const labels = {};
    if (m[3]) for (const pair of m[3].matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1]] = pair[2];
    series.push({ name: m[1], labels, value: Number(m[4]) });
  }
  return series;
}

function sum(series, name) {
  return series.filter((s) => s.name === name).reduce((total, s) => total + s.value, 0);
}

/** The request latency histogram: the `*_bucket` series labelled only by `le`, summed by `le`. */
function buckets(series) {
  const byLe = new Map();
  for (const s of series) {
    if (!s.name.endsWith('_duration_seconds_bucket')) continue;
    const keys = Object.keys(s.labels);
    if (keys.length !== 1 || keys[0] !== 'le') continue;
    const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
    byLe.set(le, (byLe.get(le) || 0) + s.value);
  }
  return [...byLe.entries()].sort((a, b) => a[0] - b[0]);
}

async function sample() {
  try {
    const text = await api('GET', '/metrics');
    const series = parsePrometheus(typeof text === 'string' ? text : '');
    samples.push({
      t: Date.now(),
      requests: sum(series, 'rest_responses_total'),
      points: sum(series, 'points_written_total'),
      syncs: sum(series, 'wal_syncs_total'),
      buckets: buckets(series),
    });
    while (samples.length && samples[0].t < Date.now() - keepMs) samples.shift();
    for (const listener of listeners) listener();
  } catch (error) {
    for (const listener of listeners) listener(error);
  }
}

function startPolling() {
  if (poller) return;
  sample();
  poller = setInterval(sample, intervalMs);
}

/** Per-interval rates of a counter: [{t, value}]. */
function rates(key) {
  const out = [];
  for (let i = 1; i < samples.length; i++) {
    const dt = (samples[i].t - samples[i - 1].t) / 1000;
    const delta = samples[i][key] - samples[i - 1][key];
    if (dt > 0 && delta >= 0) out.push({ t: samples[i].t, value: delta / dt });
  }
  return out;
}

/** The q-quantile (seconds) of the requests between two histogram samples, interpolated in its bucket. */
export function quantile(before, after, q) {
  const counts = after.map(([le, c], i) => [le, c - (before[i] ? before[i][1] : 0)]);
  const total = counts.length ? counts[counts.length - 1][1] : 0;
  if (total <= 0) return null;
  const rank = q * total;
  let previousLe = 0;
  let previousCount = 0;
  for (const [le, count] of counts) {
    if (count >= rank) {
      if (le === Infinity) return previousLe;
      const inBucket = count - previousCount;
      const fraction = inBucket > 0 ? (rank - previousCount) / inBucket : 1;
      return previousLe + fraction * (le - previousLe);
    }
    previousLe = le;
    previousCount = count;
  }
  return previousLe;
}

function latencies(q) {
  const out = [];
  for (let i = 1; i < samples.length; i++) {
    const value = quantile(samples[i - 1].buckets, samples[i].buckets, q);
    if (value !== null) out.push({ t: samples[i].t, value: value * 1000 });
  }
  return out;
}

function svg(tag, attributes) {
  const element = document.createElementNS(svgNS, tag);
  for (const [k, v] of Object.entries(attributes)) element.setAttribute(k, String(v));
  return element;
}

const dashes = ['', '6 3', '2 3'];

/** A line chart of one or more series over the kept window. */
function chart(id, title, unit, lines) {
  const width = 520;
  const height = 200;
  const pad = { left: 84, right: 12, top: 12, bottom: 24 };
  const now = Date.now();
  // The window: the last 10 minutes, or since the first sample when that is later.
  const from = Math.max(now - keepMs, samples.length ? samples[0].t : now - keepMs);
  const span = Math.max(now - from, intervalMs);
  const values = lines.flatMap((l) => l.points.map((p) => p.value));
  const max = Math.max(1e-9, ...values) * 1.1;
  const sx = (t) => pad.left + ((t - from) / span) * (width - pad.left - pad.right);
  const sy = (v) => height - pad.bottom - (v / max) * (height - pad.top - pad.bottom);
  const element = svg('svg', { viewBox: `0 0 ${width} ${height}`, width: '100%', role: 'img', 'aria-label': title });
  for (const fraction of [0, 0.5, 1]) {
    const y = sy(max * fraction);
    element.append(svg('line', { x1: pad.left, x2: width - pad.right, y1: y, y2: y, class: 'grid' }));
    const label = svg('text', { x: 4, y: y + 4 });
    label.textContent = format(max * fraction) + ' ' + unit;
    element.append(label);
  }
  const axisLabel = svg('text', { x: pad.left, y: height - 4 });
  axisLabel.textContent = new Date(from).toLocaleTimeString('en-GB');
  element.append(axisLabel);
  const nowLabel = svg('text', { x: width - pad.right - 28, y: height - 4 });
  nowLabel.textContent = 'now';
  element.append(nowLabel);
  lines.forEach((line, i) => {
    if (line.points.length === 0) return;
    const d = line.points.map((p, j) => (j === 0 ? 'M' : 'L') + sx(p.t).toFixed(1) + ',' + sy(p.value).toFixed(1)).join(' ');
    element.append(svg('path', { d, fill: 'none', stroke: line.colour, 'stroke-width': 2, 'stroke-dasharray': dashes[i % dashes.length], 'data-series': line.label }));
  });
  const latest = lines.map((line, i) => {
    const last = line.points[line.points.length - 1];
    return h('span', { class: 'legend', 'data-series': line.label }, (dashes[i] ? (i === 1 ? '– – ' : '··· ') : '—— ') + line.label + ': ' + (last ? format(last.value) + ' ' + unit : 'no data yet'));
  });
  return h('div', { class: 'chart', id }, h('h3', {}, title), element, h('div', { class: 'row' }, latest));
}

function format(v) {
  if (v >= 100) return v.toFixed(0);
  if (v >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

export async function render(main) {
  main.append(h('h2', {}, 'Metrics'));
  if (!canReadAll()) {
    main.append(h('p', { class: 'muted' }, 'Metrics need global read access (the API key, the read-only key, or a token with access "r" or "m").'));
    return;
  }
  const note = h('p', { class: 'muted', id: 'metrics-note' });
  const charts = h('div', { class: 'grid2 charts', id: 'charts' });
  main.append(note, charts);
  const draw = (error) => {
    clear(charts);
    note.textContent = error
      ? 'Cannot read /metrics: ' + error.message
      : 'From GET /metrics every ' + intervalMs / 1000 + ' s while this page is open; ' + samples.length + ' sample(s), the last 10 minutes kept. The page\'s own polling counts as requests.';
    charts.dataset.samples = String(samples.length);
    charts.append(
      chart('chart-requests', 'REST requests per second', 'req/s', [{ label: 'requests', colour: '#0b5cad', points: rates('requests') }]),
      chart('chart-latency', 'REST latency percentiles', 'ms', [
        { label: 'p50', colour: '#1a7f37', points: latencies(0.5) },
        { label: 'p95', colour: '#9a6700', points: latencies(0.95) },
        { label: 'p99', colour: '#b42318', points: latencies(0.99) },
      ]),
      chart('chart-ingest', 'Points written per second', 'points/s', [{ label: 'points', colour: '#8250df', points: rates('points') }]),
      chart('chart-syncs', 'WAL syncs per second', 'syncs/s', [{ label: 'syncs', colour: '#57606a', points: rates('syncs') }]),
    );
  };
  listeners.add(draw);
  startPolling();
  draw();
  return () => listeners.delete(draw);
}
