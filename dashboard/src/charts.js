// Hand-drawn SVG charts: a multi-series line chart of rates and a topology of forward traffic.
// No chart library: the dashboard is embedded in the broker binary and stays small.
import { num } from './format.js';

const NS = 'http://www.w3.org/2000/svg';
export const COLORS = ['#2563eb', '#16a34a', '#d97706', '#db2777', '#7c3aed', '#0891b2'];

function s(tag, attrs = {}, text) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  if (text !== undefined) el.textContent = text;
  return el;
}

// The top of the y axis: 4 gridline steps of a round size (1, 2, 2.5, 3, 4, 5, 6, 8 x 10^k).
function niceMax(v) {
  if (v <= 4) return 4;
  const raw = v / 4, p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * p >= raw) return 4 * m * p;
  return 40 * p;
}

// series: [{name, color, points: [rate, ...]}], newest last; `window` samples wide.
export function lineChart(series, { width = 520, height = 180, window = 60, seconds = 60, unit = '/s' } = {}) {
  const pad = { l: 44, r: 10, t: 10, b: 22 };
  const w = width - pad.l - pad.r, hgt = height - pad.t - pad.b;
  const max = niceMax(Math.max(0, ...series.flatMap((x) => x.points)));
  const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, class: 'chart', role: 'img' });
  for (let i = 0; i <= 4; i++) {
    const y = pad.t + hgt - (hgt * i) / 4;
    svg.append(s('line', { x1: pad.l, x2: pad.l + w, y1: y, y2: y, class: 'gridline' }));
    svg.append(s('text', { x: pad.l - 6, y: y + 4, class: 'axis', 'text-anchor': 'end' },
      num((max * i) / 4)));
  }
  svg.append(s('text', { x: pad.l, y: height - 4, class: 'axis' }, `${seconds}s ago`));
  svg.append(s('text', { x: pad.l + w, y: height - 4, class: 'axis', 'text-anchor': 'end' }, 'now'));
  for (const line of series) {
    const pts = line.points;
    if (pts.length < 2) continue;
    const step = w / (window - 1);
    const x0 = pad.l + w - step * (pts.length - 1);
    const d = pts.map((v, i) => `${i ? 'L' : 'M'}${(x0 + i * step).toFixed(1)},` +
      `${(pad.t + hgt - (hgt * v) / max).toFixed(1)}`).join(' ');
    svg.append(s('path', { d, stroke: line.color, class: 'series' }));
  }
  svg.append(s('text', { x: pad.l + 4, y: pad.t + 12, class: 'axis' }, `msg${unit}`));
  return svg;
}

// nodes: [{id, state}]; edges: [{from, to, rate, total}] (messages forwarded from -> to).
export function topology(nodes, edges, { width = 420, height = 300 } = {}) {
  const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, class: 'topology', role: 'img' });
  const defs = s('defs');
  const marker = s('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5,
    markerWidth: 9, markerHeight: 9, markerUnits: 'userSpaceOnUse', orient: 'auto' });
  marker.append(s('path', { d: 'M0,0 L10,5 L0,10 z', class: 'arrowhead' }));
  defs.append(marker);
  svg.append(defs);
  const cx = width / 2, cy = height / 2, r = Math.min(width, height) / 2 - 48;
  const pos = new Map();
  nodes.forEach((n, i) => {
    const a = -Math.PI / 2 + (2 * Math.PI * i) / Math.max(1, nodes.length);
    pos.set(n.id, { x: cx + r * Math.cos(a), y: cy + r * Math.sin(a) });
  });
  const maxRate = Math.max(1, ...edges.map((e) => e.rate));
  for (const e of edges) {
    const a = pos.get(e.from), b = pos.get(e.to);
    if (!a || !b) continue;
    // Two directions of a pair are drawn side by side: offset perpendicular to the line.
    const dx = b.x - a.x, dy = b.y - a.y, len = Math.hypot(dx, dy) || 1;
    const ox = (-dy / len) * 7, oy = (dx / len) * 7, shrink = 34 / len;
    const x1 = a.x + dx * shrink + ox, y1 = a.y + dy * shrink + oy;
    const x2 = b.x - dx * shrink + ox, y2 = b.y - dy * shrink + oy;
    const active = e.rate > 0.05;
    svg.append(s('line', { x1, y1, x2, y2, 'marker-end': 'url(#arrow)',
      class: active ? 'edge active' : 'edge',
      'stroke-width': active ? 1.5 + (3.5 * e.rate) / maxRate : 1.2 }));
    const lx = (x1 + x2) / 2 + ox * 2.8, ly = (y1 + y2) / 2 + oy * 2.8;
    svg.append(s('text', { x: lx, y: ly + 4, class: 'edge-label', 'text-anchor': 'middle' },
      `${num(e.rate)}/s`));
  }
  nodes.forEach((n, i) => {
    const p = pos.get(n.id);
    svg.append(s('circle', { cx: p.x, cy: p.y, r: 30, class: `node state-${n.state}`,
      stroke: COLORS[i % COLORS.length] }));
    svg.append(s('text', { x: p.x, y: p.y + 4, class: 'node-label', 'text-anchor': 'middle' },
      n.id));
  });
  return svg;
}
