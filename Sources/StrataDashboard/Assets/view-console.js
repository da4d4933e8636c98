// Console: REST requests written as in Qdrant's console, so its tutorials can
// be pasted in —
//     PUT collections/demo
//     {"vectors": {"size": 4, "distance": "Dot"}}
// a request line (method and path, the leading slash optional) and an optional
// JSON body; several requests separated by their request lines. Ctrl+Enter (or
// Run) sends the one the cursor is in. Paths complete (endpoints and collection
// names); history is kept in this browser (localStorage).

import { api, collectionNames } from './app.js';
import { h, clear, busy } from './ui.js';

const historyKey = 'strata.consoleHistory';
const requestLine = /^\s*(GET|POST|PUT|PATCH|DELETE)\s+(\S*)\s*$/i;

/** Endpoint paths offered for completion; {c} is each collection name. */
const endpoints = [
  'collections', 'collections/{c}', 'collections/{c}/exists', 'collections/{c}/points', 'collections/{c}/points/query',
  'collections/{c}/points/query/batch', 'collections/{c}/points/query/groups', 'collections/{c}/points/scroll',
  'collections/{c}/points/count', 'collections/{c}/points/search', 'collections/{c}/points/recommend',
  'collections/{c}/points/delete', 'collections/{c}/points/payload', 'collections/{c}/points/vectors',
  'collections/{c}/points/batch', 'collections/{c}/points/search/matrix/pairs', 'collections/{c}/facet',
  'collections/{c}/index', 'collections/{c}/aliases', 'collections/{c}/snapshots', 'collections/{c}/storage',
  'collections/{c}/verify', 'collections/{c}/optimizations', 'collections/{c}/versions', 'collections/{c}/cluster',
  'collections/aliases', 'aliases', 'snapshots', 'cluster', 'telemetry', 'metrics', 'issues', 'access', 'query', 'healthz', '',
];

export function loadHistory() {
  try {
    return JSON.parse(localStorage.getItem(historyKey) || '[]');
  } catch {
    return [];
  }
}

function saveHistory(entries) {
  localStorage.setItem(historyKey, JSON.stringify(entries.slice(0, 50)));
}

/** The request block around character `cursor` of `text`: {method, path, body} or null. */
export function requestAt(text, cursor) {
  const lines = text.split('\n');
  let offset = 0;
  let cursorLine = 0;
  for (let i = 0; i < lines.length; i++) {
    if (cursor <= offset + lines[i].length) {
      cursorLine = i;
      break;
    }
    offset += lines[i].length + 1;
    cursorLine = i;
  }
  let start = cursorLine;
  while (start >= 0 && !requestLine.test(lines[start])) start--;
  if (start < 0) {
    start = lines.findIndex((l) => requestLine.test(l));
    if (start < 0) return null;
  }
  let end = start + 1;
  while (end < lines.length && !requestLine.test(lines[end])) end++;
  const [, method, path] = lines[start].match(requestLine);
  const body = lines
    .slice(start + 1, end)
    .filter((l) => !/^\s*(\/\/|#)/.test(l))
    .join('\n')
    .trim();
  return { method: method.toUpperCase(), path: '/' + path.replace(/^\/+/, ''), body };
}

export async function render(main) {
  const names = await collectionNames().catch(() => []);
  const paths = [];
  for (const e of endpoints) {
    if (e.includes('{c}')) for (const n of names) paths.push(e.replace('{c}', n));
    else paths.push(e);
  }
  const editor = h('textarea', {
    id: 'console-editor', rows: 12, spellcheck: 'false', autocomplete: 'off',
    'aria-describedby': 'console-help', 'aria-autocomplete': 'list', 'aria-controls': 'console-suggestions',
  });
  editor.value = sessionStorage.getItem('strata.consoleText') || 'GET collections\n';
  const suggestions = h('ul', { id: 'console-suggestions', class: 'suggestions', role: 'listbox', hidden: true, 'aria-label': 'Path completions' });
  const output = h('pre', { id: 'console-output', 'aria-live': 'polite' });
  const statusLine = h('p', { id: 'console-status', class: 'muted' });
  const history = h('ol', { id: 'console-history', class: 'history' });
  const runButton = h('button', { type: 'button', class: 'primary', id: 'console-run' }, 'Run (Ctrl+Enter)');
  main.append(
    h('h2', {}, 'Console'),
    h('p', { id: 'console-help', class: 'muted' }, 'One request per block: a line "METHOD path" and an optional JSON body, as in Qdrant\'s console. Ctrl+Enter runs the block the cursor is in; Tab or Enter takes a path completion, Escape closes the list.'),
    h('label', { for: 'console-editor' }, 'Requests'),
    editor,
    suggestions,
    h('div', { class: 'row' }, runButton, h('button', { type: 'button', id: 'console-clear-history', onclick: () => { saveHistory([]); showHistory(); } }, 'Clear history')),
    statusLine,
    output,
    h('h3', {}, 'History'),
    history,
  );

  let selected = -1;
  let matches = [];

  /** The request line under the cursor and the path typed so far. */
  function pathContext() {
    const cursor = editor.selectionStart;
    const lineStart = editor.value.lastIndexOf('\n', cursor - 1) + 1;
    const before = editor.value.slice(lineStart, cursor);
    const m = before.match(/^\s*(GET|POST|PUT|PATCH|DELETE)\s+(\S*)$/i);
    if (!m) return null;
    let lineEnd = editor.value.indexOf('\n', cursor);
    if (lineEnd < 0) lineEnd = editor.value.length;
    return { typed: m[2].replace(/^\/+/, ''), from: cursor - m[2].length, to: lineEnd };
  }

  function updateSuggestions() {
    const context = pathContext();
    matches = context ? paths.filter((p) => p.startsWith(context.typed) && p !== context.typed).slice(0, 12) : [];
    clear(suggestions);
    selected = matches.length ? 0 : -1;
    matches.forEach((p, i) => {
      const item = h('li', { role: 'option', id: 'suggestion-' + i, 'aria-selected': String(i === selected), 'data-path': p }, p || '/');
      item.addEventListener('mousedown', (event) => {
        event.preventDefault();
        accept(i);
      });
      suggestions.append(item);
    });
    suggestions.hidden = matches.length === 0;
    if (matches.length) editor.setAttribute('aria-activedescendant', 'suggestion-0');
    else editor.removeAttribute('aria-activedescendant');
  }

  function accept(i) {
    const context = pathContext();
    if (!context || !matches[i]) return;
    const text = editor.value;
    editor.value = text.slice(0, context.from) + matches[i] + text.slice(context.to);
    const caret = context.from + matches[i].length;
    editor.setSelectionRange(caret, caret);
    suggestions.hidden = true;
    matches = [];
    editor.focus();
    sessionStorage.setItem('strata.consoleText', editor.value);
  }

  function move(delta) {
    if (!matches.length) return;
    selected = (selected + delta + matches.length) % matches.length;
    [...suggestions.children].forEach((li, i) => li.setAttribute('aria-selected', String(i === selected)));
    editor.setAttribute('aria-activedescendant', 'suggestion-' + selected);
  }

  editor.addEventListener('input', () => {
    sessionStorage.setItem('strata.consoleText', editor.value);
    updateSuggestions();
  });
  editor.addEventListener('click', updateSuggestions);
  editor.addEventListener('blur', () => setTimeout(() => (suggestions.hidden = true), 150));
  editor.addEventListener('keydown', (event) => {
    if ((event.ctrlKey || event.metaKey) && event.key === 'Enter') {
      event.preventDefault();
      run();
      return;
    }
    if (suggestions.hidden || !matches.length) return;
    if (event.key === 'ArrowDown') {
      event.preventDefault();
      move(1);
    } else if (event.key === 'ArrowUp') {
      event.preventDefault();
      move(-1);
    } else if (event.key === 'Tab' || event.key === 'Enter') {
      event.preventDefault();
      accept(selected);
    } else if (event.key === 'Escape') {
      event.preventDefault();
      suggestions.hidden = true;
    }
  });

  async function run() {
    const request = requestAt(editor.value, editor.selectionStart);
    if (!request) {
      statusLine.className = 'bad';
      statusLine.textContent = 'No request line ("GET collections") at the cursor.';
      return;
    }
    await busy(runButton, async () => {
      const started = performance.now();
      const response = await api(request.method, request.path, request.body || undefined, { raw: true });
      const text = await response.text();
      const ms = performance.now() - started;
      let pretty = text;
      try {
        pretty = JSON.stringify(JSON.parse(text), null, 2);
      } catch {
        pretty = text;
      }
      output.textContent = pretty;
      output.dataset.status = String(response.status);
      statusLine.className = response.ok ? 'ok' : 'bad';
      statusLine.textContent = request.method + ' ' + request.path + ' → ' + response.status + ' ' + response.statusText + ' in ' + ms.toFixed(1) + ' ms';
      const entries = loadHistory().filter((e) => !(e.method === request.method && e.path === request.path && e.body === request.body));
      entries.unshift({ ...request, status: response.status, at: new Date().toISOString() });
      saveHistory(entries);
      showHistory();
    });
  }
  runButton.addEventListener('click', run);

  function showHistory() {
    clear(history);
    for (const entry of loadHistory()) {
      const item = h(
        'li',
        {},
        h(
          'button',
          {
            type: 'button',
            class: 'link',
            onclick: () => {
              editor.value = entry.method + ' ' + entry.path.replace(/^\//, '') + '\n' + (entry.body ? entry.body + '\n' : '');
              sessionStorage.setItem('strata.consoleText', editor.value);
              editor.focus();
              editor.setSelectionRange(0, 0);
            },
          },
          entry.method + ' ' + entry.path,
        ),
        ' ',
        h('span', { class: entry.status < 300 ? 'ok' : 'bad' }, String(entry.status)),
      );
      history.append(item);
    }
    if (!history.children.length) history.append(h('li', { class: 'muted' }, 'No requests yet.'));
  }
  showHistory();
}
