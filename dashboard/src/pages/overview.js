// Overview: every node with its state and counts, message rates computed from successive polls
// of /stats?scope=cluster, and forward traffic between nodes as a topology.
import { api } from '../api.js';
import { COLORS, lineChart, topology } from '../charts.js';
import { duration, h, notice, num, stateBadge } from '../format.js';

const POLL_MS = 1000;
const WINDOW = 120; // samples kept for the charts (2 minutes)

export function mount(el, ctx) {
  const status = h('div');
  const summary = h('div', { class: 'tiles' });
  const nodesBox = h('div', { class: 'card' });
  const chartIn = h('div', { class: 'card chart-card' });
  const chartOut = h('div', { class: 'card chart-card' });
  const topo = h('div', { class: 'card' });
  el.append(status, summary, nodesBox,
    h('div', { class: 'row' }, chartIn, chartOut), topo);

  const prev = new Map(); // node -> {t, in, out, fwd: Map(peer -> count)}
  const history = new Map(); // node -> {in: [], out: []}
  const edgeRates = new Map(); // "a>b" -> rate
  let timer = null;
  let stopped = false;

  function rate(now, before, dt) {
    return before === undefined || dt <= 0 ? 0 : Math.max(0, (now - before) / dt);
  }

  async function poll() {
    try {
      const [nodes, stats] = await Promise.all([api('/nodes'), api('/stats?scope=cluster')]);
      if (stopped) return;
      const t = performance.now() / 1000;
      const byId = new Map(stats.nodes.map((s) => [s.node_id, s]));
      for (const s of stats.nodes) {
        const p = prev.get(s.node_id);
        const dt = p ? t - p.t : 0;
        const hist = history.get(s.node_id) || { in: [], out: [] };
        if (p) {
          hist.in.push(rate(s.messages_received, p.in, dt));
          hist.out.push(rate(s.messages_sent, p.out, dt));
          if (hist.in.length > WINDOW) hist.in.shift();
          if (hist.out.length > WINDOW) hist.out.shift();
        }
        s.rateIn = hist.in.at(-1) || 0;
        s.rateOut = hist.out.at(-1) || 0;
        const fwd = new Map();
        for (const peer of s.peers) {
          fwd.set(peer.node_id, peer.forwarded_to);
          const before = p?.fwd.get(peer.node_id);
          edgeRates.set(`${s.node_id}>${peer.node_id}`, p ? rate(peer.forwarded_to, before, dt) : 0);
        }
        history.set(s.node_id, hist);
        prev.set(s.node_id, { t, in: s.messages_received, out: s.messages_sent, fwd });
      }
      render(nodes.nodes, byId, stats.errors || []);
    } catch (err) {
      ctx.fail(err, status);
    } finally {
      if (!stopped) timer = setTimeout(poll, POLL_MS);
    }
  }

  function render(nodes, byId, errors) {
    status.replaceChildren(...errors.map((e) =>
      notice('error', `${e.node}: ${e.error}`)));
    const all = [...byId.values()];
    const total = (k) => all.reduce((a, s) => a + (s[k] || 0), 0);
    const alive = nodes.filter((n) => n.state === 'alive').length;
    const tile = (label, value, hint) =>
      h('div', { class: 'tile' }, h('div', { class: 'tile-value' }, value),
        h('div', { class: 'tile-label' }, label), hint ? h('div', { class: 'muted' }, hint) : null);
    summary.replaceChildren(
      tile('nodes alive', `${alive} / ${nodes.length}`),
      tile('connections', num(total('connections'))),
      tile('sessions', num(total('sessions'))),
      tile('subscriptions', num(total('subscriptions'))),
      tile('messages in / s', num(total('rateIn'))),
      tile('messages out / s', num(total('rateOut'))));

    const rows = nodes.map((n) => ({ n, s: byId.get(n.node_id) }));
    const cell = (r, k) => (r.s ? num(r.s[k]) : '–');
    const head = ['Node', 'State', 'Uptime', 'Connections', 'Sessions', 'Subscriptions',
      'Retained', 'In /s', 'Out /s', 'Cluster address'];
    nodesBox.replaceChildren(h('h2', {}, 'Nodes'), h('table', { class: 'grid', id: 'nodes' },
      h('thead', {}, h('tr', {}, head.map((x, i) =>
        h('th', { class: i >= 3 && i <= 8 ? 'num' : '' }, x)))),
      h('tbody', {}, rows.map((r, i) => h('tr', { 'data-node': r.n.node_id },
        h('td', {}, h('span', { class: 'dot', style: `background:${COLORS[i % COLORS.length]}` }),
          h('strong', {}, r.n.node_id), r.n.self ? h('span', { class: 'muted' }, ' (this node)') : ''),
        h('td', {}, stateBadge(r.n.state)),
        h('td', {}, r.s ? duration(r.s.uptime_seconds) : '–'),
        h('td', { class: 'num' }, cell(r, 'connections')),
        h('td', { class: 'num' }, cell(r, 'sessions')),
        h('td', { class: 'num' }, cell(r, 'subscriptions')),
        h('td', { class: 'num' }, cell(r, 'retained')),
        h('td', { class: 'num' }, r.s ? num(r.s.rateIn) : '–'),
        h('td', { class: 'num' }, r.s ? num(r.s.rateOut) : '–'),
        h('td', { class: 'mono muted' }, r.n.address || '–'))))));

    // The time axis grows with the samples up to WINDOW, so a fresh page shows a line at once.
    const samples = Math.max(0, ...[...history.values()].map((x) => x.in.length));
    const shown = Math.min(WINDOW, Math.max(20, samples));
    const axis = { window: shown, seconds: (shown * POLL_MS) / 1000 };
    const series = (key) => nodes.map((n, i) => ({ name: n.node_id, color: COLORS[i % COLORS.length],
      points: history.get(n.node_id)?.[key] || [] }));
    const legend = () => h('div', { class: 'legend' }, nodes.map((n, i) =>
      h('span', {}, h('span', { class: 'dot', style: `background:${COLORS[i % COLORS.length]}` }),
        n.node_id)));
    chartIn.replaceChildren(h('h2', {}, 'Messages in per second'),
      lineChart(series('in'), axis), legend());
    chartOut.replaceChildren(h('h2', {}, 'Messages out per second'),
      lineChart(series('out'), axis), legend());

    const edges = [];
    for (const s of all) {
      for (const p of s.peers) {
        edges.push({ from: s.node_id, to: p.node_id, total: p.forwarded_to,
          rate: edgeRates.get(`${s.node_id}>${p.node_id}`) || 0, queue: p.queue_depth });
      }
    }
    const topoNodes = nodes.map((n) => ({ id: n.node_id, state: n.state }));
    topo.replaceChildren(h('h2', {}, 'Forward traffic between nodes'),
      h('div', { class: 'row topo-row' },
        topology(topoNodes, edges),
        h('table', { class: 'grid compact', id: 'forwards' },
          h('thead', {}, h('tr', {}, h('th', {}, 'From'), h('th', {}, 'To'),
            h('th', { class: 'num' }, 'msg/s'), h('th', { class: 'num' }, 'Forwarded'),
            h('th', { class: 'num' }, 'Queued'))),
          h('tbody', {}, edges.length ? edges.map((e) => h('tr', {}, h('td', {}, e.from),
            h('td', {}, e.to), h('td', { class: 'num' }, num(e.rate)),
            h('td', { class: 'num' }, num(e.total)), h('td', { class: 'num' }, num(e.queue))))
            : h('tr', {}, h('td', { colspan: 5, class: 'empty' }, 'A single node: nothing is forwarded.'))))));
  }

  poll();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
