// Strata dashboard: small DOM helpers shared by the views.

/**
 * Creates an element: `h('button', {class: 'primary', onclick: f}, 'Save')`.
 * Attributes starting with `on` are listeners; `null`/`false` children and
 * attributes are skipped; strings become text (never HTML).
 */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      element.addEventListener(name.slice(2), value);
    } else if (name === 'value') {
      element.value = value;
    } else if (name === 'checked') {
      element.checked = !!value;
    } else {
      element.setAttribute(name, value === true ? '' : String(value));
    }
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(element, child);
    else if (child instanceof Node) element.append(child);
    else element.append(document.createTextNode(String(child)));
  }
}

export function clear(element) {
  while (element.firstChild) element.firstChild.remove();
}

/** A short message in the status region (read by screen readers). */
export function notify(text, kind = 'info') {
  const region = document.getElementById('status');
  const note = h('div', { class: 'note' + (kind === 'error' ? ' error' : ''), 'data-kind': kind }, text);
  region.append(note);
  setTimeout(() => note.remove(), kind === 'error' ? 8000 : 4000);
}

/** Shows the confirmation dialog; resolves true when the user confirms. */
export function confirmDialog(message, confirmLabel = 'Confirm') {
  const dialog = document.getElementById('confirm');
  document.getElementById('confirm-text').textContent = message;
  document.getElementById('confirm-ok').textContent = confirmLabel;
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true });
    dialog.returnValue = '';
    dialog.showModal();
    document.getElementById('confirm-cancel').focus();
  });
}

export function formatBytes(n) {
  if (n === null || n === undefined) return '–';
  if (n < 1024) return n + ' B';
  if (n < 1 << 20) return (n / 1024).toFixed(1) + ' KiB';
  if (n < 1 << 30) return (n / 1048576).toFixed(1) + ' MiB';
  return (n / 1073741824).toFixed(2) + ' GiB';
}

export function formatNumber(n) {
  if (n === null || n === undefined) return '–';
  return Number(n).toLocaleString('en-US');
}

/** A payload (or any JSON) as a collapsible tree. */
export function jsonTree(value, open = 1) {
  return h('div', { class: 'tree' }, treeNode(value, open));
}

function treeNode(value, open) {
  if (value === null) return h('span', { class: 'num' }, 'null');
  if (Array.isArray(value)) {
    if (value.length === 0) return h('span', {}, '[]');
    if (value.every((v) => typeof v === 'number') && value.length > 8) {
      return h('span', { class: 'num' }, '[' + value.slice(0, 8).map(shortNumber).join(', ') + ', … ' + value.length + ' numbers]');
    }
    return h(
      'details',
      { open: open > 0 },
      h('summary', {}, 'array [' + value.length + ']'),
      h('ul', {}, value.map((v, i) => h('li', {}, h('span', { class: 'key' }, i + ': '), treeNode(v, open - 1)))),
    );
  }
  if (typeof value === 'object') {
    const keys = Object.keys(value);
    if (keys.length === 0) return h('span', {}, '{}');
    return h(
      'details',
      { open: open > 0 },
      h('summary', {}, 'object {' + keys.length + '}'),
      h('ul', {}, keys.map((k) => h('li', {}, h('span', { class: 'key' }, k + ': '), treeNode(value[k], open - 1)))),
    );
  }
  if (typeof value === 'string') return h('span', { class: 'str' }, JSON.stringify(value));
  return h('span', { class: 'num' }, String(value));
}

function shortNumber(n) {
  return Number.isInteger(n) ? String(n) : n.toFixed(4);
}

/** A compact one-line JSON, cut at `max` characters. */
export function compactJSON(value, max = 160) {
  const text = JSON.stringify(value);
  if (text === undefined) return '';
  return text.length > max ? text.slice(0, max) + '…' : text;
}

export function debounce(f, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => f(...args), ms);
  };
}

/** A point id typed by the user: an unsigned integer or a UUID string. */
export function parseId(text) {
  const trimmed = String(text).trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  return trimmed;
}

/** Parses a JSON text field; an empty field is `fallback`; throws with the field's name. */
export function parseJSONField(text, what, fallback = undefined) {
  if (!text.trim()) return fallback;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(what + ' is not valid JSON: ' + error.message);
  }
}

/** A table: `columns` are [{label, num?}], `rows` arrays of cells (nodes or text). */
export function table(columns, rows, attributes = {}) {
  return h(
    'div',
    { class: 'scroll-x' },
    h(
      'table',
      attributes,
      h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col', class: c.num ? 'num' : null }, c.label)))),
      h(
        'tbody',
        {},
        rows.map((cells) =>
          h(
            'tr',
            cells.attributes || {},
            cells.map((cell, i) => h('td', { class: columns[i] && columns[i].num ? 'num' : null }, cell)),
          ),
        ),
      ),
    ),
  );
}

/** Saves a Blob as a file through a temporary link. */
export function saveBlob(blob, name) {
  const url = URL.createObjectURL(blob);
  const link = h('a', { href: url, download: name });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

/** A labelled select: `options` are values or [value, label] pairs. */
export function select(id, options, value) {
  return h(
    'select',
    { id: id || null },
    options.map((o) => {
      const [v, label] = Array.isArray(o) ? o : [o, o];
      return h('option', { value: v, selected: v === value }, label);
    }),
  );
}

/** Runs `action` with `button` disabled; shows errors in the status region. */
export async function busy(button, action) {
  button.disabled = true;
  try {
    return await action();
  } catch (error) {
    notify(error.message, 'error');
    return undefined;
  } finally {
    button.disabled = false;
  }
}
