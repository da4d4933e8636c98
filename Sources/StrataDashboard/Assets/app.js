// Strata dashboard: the shell. Every piece of data comes from a documented
// REST endpoint (docs/http-api.md), called with the key the user typed, which
// is kept in sessionStorage (this browser tab's session) and nowhere else.
// No framework and no build step: ES modules the browser loads as they are.

import { h, clear, notify } from './ui.js';

const keyName = 'strata.apiKey';
export const session = {
  /** `GET /access`: what the credentials allow (`manage`, `read_only`, `access`). */
  access: null,
};

export function apiKey() {
  return sessionStorage.getItem(keyName) || '';
}

/** An error answer of the server: the HTTP status and Qdrant's `status.error` text. */
export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

/**
 * One REST call. `body` is an object (sent as JSON) or a string (sent as it is).
 * Answers the envelope's `result` (or the whole JSON when there is none);
 * throws `ApiError` for a non-2xx answer.
 */
export async function api(method, path, body, options = {}) {
  const headers = {};
  const key = apiKey();
  if (key) headers['api-key'] = key;
  let payload;
  if (body !== undefined && body !== null) {
    headers['content-type'] = 'application/json';
    payload = typeof body === 'string' ? body : JSON.stringify(body);
  }
  const response = await fetch(path, { method, headers, body: payload, signal: options.signal });
  if (options.raw) return response;
  const text = await response.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!response.ok) {
    const message = (json && json.status && json.status.error) || text || response.statusText;
    throw new ApiError(response.status, message, json);
  }
  if (json && typeof json === 'object' && 'result' in json) return json.result;
  return json === null ? text : json;
}

/** `/collections/{name}` with the name escaped. */
export function collectionPath(name, rest = '') {
  return '/collections/' + encodeURIComponent(name) + rest;
}

export function canManage() {
  return !!(session.access && session.access.manage);
}

export function canWrite(collection) {
  const access = session.access;
  if (!access) return false;
  if (access.manage || access.access === 'm') return true;
  if (Array.isArray(access.access)) {
    return access.access.some((grant) => grant.collection === collection && grant.access === 'rw');
  }
  return false;
}

/** Whether the credentials read everything (`/metrics`, `/telemetry`, `/cluster` need it). */
export function canReadAll() {
  const access = session.access;
  return !!access && (access.access === 'm' || access.access === 'r');
}

/** The collection names the credentials can read (`GET /collections`). */
export async function collectionNames() {
  const result = await api('GET', '/collections');
  return result.collections.map((c) => c.name).sort();
}

// Views: each module exports `render(main, params)`, which may return a
// function that stops its timers when the user leaves the view.
const views = {
  collections: () => import('./view-collections.js'),
  collection: () => import('./view-collection.js'),
  points: () => import('./view-points.js'),
  search: () => import('./view-search.js'),
  console: () => import('./view-console.js'),
  snapshots: () => import('./view-snapshots.js'),
  metrics: () => import('./view-metrics.js'),
  cluster: () => import('./view-cluster.js'),
};

let leaveView = null;
let renderCount = 0;

/** `#/view/arg` → the view's name and its decoded arguments. */
export function currentRoute() {
  const parts = location.hash.replace(/^#\/?/, '').split('/').filter((p) => p.length > 0);
  const name = parts.length > 0 && views[parts[0]] ? parts[0] : 'collections';
  return { name, args: parts.slice(1).map(decodeURIComponent) };
}

export function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

async function route() {
  const main = document.getElementById('view');
  if (leaveView) {
    try {
      leaveView();
    } catch (error) {
      console.warn(error);
    }
    leaveView = null;
  }
  if (!session.access) return;
  const { name, args } = currentRoute();
  for (const link of document.querySelectorAll('#nav a')) {
    const current = link.dataset.view === name || (name === 'collection' && link.dataset.view === 'collections');
    if (current) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  const mine = ++renderCount;
  clear(main);
  main.dataset.view = name;
  main.dataset.ready = 'false';
  try {
    const module = await views[name]();
    if (mine !== renderCount) return;
    const stop = await module.render(main, args);
    if (mine !== renderCount) {
      if (typeof stop === 'function') stop();
      return;
    }
    leaveView = typeof stop === 'function' ? stop : null;
  } catch (error) {
    if (mine !== renderCount) return;
    main.append(h('p', { class: 'bad', role: 'alert' }, 'Could not show this view: ' + error.message));
  }
  main.dataset.ready = 'true';
  document.title = 'Strata dashboard · ' + name;
}

function focusView() {
  const main = document.getElementById('view');
  main.focus({ preventScroll: true });
}

/** Asks for the API key (or a JWT) until `GET /access` accepts it. */
function showLogin(message) {
  const main = document.getElementById('view');
  clear(main);
  main.dataset.view = 'login';
  main.dataset.ready = 'true';
  const input = h('input', { type: 'password', id: 'login-key', autocomplete: 'off', required: true, size: 40 });
  const form = h(
    'form',
    { class: 'login panel', id: 'login' },
    h('h2', {}, 'Sign in'),
    h('p', {}, 'This server needs an API key, the read-only key, or a JWT. It is kept for this browser session only.'),
    message ? h('p', { class: 'bad', role: 'alert' }, message) : null,
    h('label', {}, 'API key or token', input),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Sign in')),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    sessionStorage.setItem(keyName, input.value.trim());
    start();
  });
  main.append(form);
  input.focus();
}

function describeAccess(access) {
  if (access.manage) return 'full access';
  if (access.access === 'r') return 'read-only';
  if (Array.isArray(access.access)) {
    return 'access to ' + access.access.map((g) => g.collection + ' (' + g.access + ')').join(', ');
  }
  return 'read-only';
}

async function start() {
  try {
    session.access = await api('GET', '/access');
  } catch (error) {
    session.access = null;
    if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
      showLogin(apiKey() ? 'The server refused these credentials: ' + error.message : '');
      return;
    }
    showLogin('Cannot reach the server: ' + error.message);
    return;
  }
  document.getElementById('who').textContent = describeAccess(session.access);
  document.body.dataset.access = session.access.manage ? 'manage' : session.access.read_only ? 'read' : 'scoped';
  document.getElementById('sign-out').hidden = !apiKey();
  await route();
}

window.addEventListener('hashchange', async () => {
  await route();
  focusView();
});

document.getElementById('sign-out').addEventListener('click', () => {
  sessionStorage.removeItem(keyName);
  session.access = null;
  document.getElementById('who').textContent = '';
  document.getElementById('sign-out').hidden = true;
  notify('Signed out: the key is forgotten.');
  showLogin('');
});

start();
