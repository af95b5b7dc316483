// Small formatting and DOM helpers shared by the pages.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function duration(seconds) {
  const s = Math.floor(seconds);
  const d = Math.floor(s / 86400), hr = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60), sec = s % 60;
  if (d) return `${d}d ${hr}h`;
  if (hr) return `${hr}h ${m}m`;
  if (m) return `${m}m ${sec}s`;
  return `${sec}s`;
}

export function num(n) {
  if (n === undefined || n === null) return '–';
  if (Math.abs(n) >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (Math.abs(n) >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}

export function bytes(n) {
  if (!n) return '0 B';
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i ? 1 : 0)} ${units[i]}`;
}

export const protocol = (v) => ({ 3: 'MQTT 3.1', 4: 'MQTT 3.1.1', 5: 'MQTT 5.0' })[v] || `v${v}`;

export function stateBadge(state) {
  return h('span', { class: `badge state-${state}` }, state);
}

// "2026-11-22 03:12:40" in the browser's time zone.
export function time(ms) {
  const d = new Date(ms);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ` +
    `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

// A message line above a page's content; kind: "error" | "info" | "ok".
export function notice(kind, text) {
  return h('div', { class: `notice ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text);
}

// "‹ Previous", "page i of n", "Next ›" for a list shown `size` rows at a time from `offset`;
// go(newOffset) loads the page the reader asked for.
export function pageControls(offset, total, size, go) {
  const pages = Math.max(1, Math.ceil(total / size));
  return [
    h('button', { disabled: offset === 0, onclick: () => go(offset - size) }, '‹ Previous'),
    h('span', { class: 'muted' }, `page ${Math.floor(offset / size) + 1} of ${pages}`),
    h('button', { disabled: offset + size >= total, onclick: () => go(offset + size) }, 'Next ›'),
  ];
}

export function table(columns, rows, { empty = 'Nothing here yet.', rowAttrs } = {}) {
  const head = h('tr', {}, columns.map((c) => h('th', { class: c.num ? 'num' : '' }, c.title)));
  const body = rows.length
    ? rows.map((r) =>
        h('tr', rowAttrs ? rowAttrs(r) : {},
          columns.map((c) => h('td', { class: c.num ? 'num' : '' }, c.cell(r)))))
    : [h('tr', {}, h('td', { colspan: columns.length, class: 'empty' }, empty))];
  return h('div', { class: 'table-wrap' },
    h('table', { class: 'grid' }, h('thead', {}, head), h('tbody', {}, body)));
}
