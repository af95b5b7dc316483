// Subscriptions and routes: which filters live on which node (the route table every node
// replicates), every subscription in the cluster, and shared-subscription groups.
import { api } from '../api.js';
import { h, notice, table } from '../format.js';

export function mount(el, ctx) {
  const status = h('div');
  const routes = h('div', { class: 'card' });
  const shared = h('div', { class: 'card' });
  const subs = h('div', { class: 'card' });
  el.append(status, h('div', { class: 'row' }, routes, shared), subs);

  async function load() {
    try {
      const [nodes, r, s] = await Promise.all([api('/nodes'), api('/routes'),
        api('/subscriptions?scope=cluster')]);
      const self = nodes.nodes.find((n) => n.self).node_id;
      status.replaceChildren(...(s.errors || []).map((e) => notice('error', `${e.node}: ${e.error}`)));
      // filter -> nodes, from this node's own routes and the ones its peers announced.
      const byFilter = new Map();
      for (const f of r.local) byFilter.set(f, [self]);
      for (const [f, ns] of Object.entries(r.remote)) byFilter.set(f, [...(byFilter.get(f) || []), ...ns]);
      const rows = [...byFilter.entries()].sort(([a], [b]) => a.localeCompare(b));
      routes.replaceChildren(h('h2', {}, `Routes (${rows.length} filters)`),
        h('p', { class: 'muted' }, 'Where a published message is sent: the nodes with subscribers for each filter.'),
        table([{ title: 'Filter', cell: ([f]) => h('code', {}, f) },
          { title: 'Nodes', cell: ([, ns]) => ns.sort().map((n) => h('span', { class: 'chip' }, n)) }],
        rows, { empty: 'No subscriptions anywhere in the cluster.' }));

      const groups = new Map();
      for (const x of s.items) {
        const m = /^\$share\/([^/]+)\/(.*)$/.exec(x.filter);
        if (!m) continue;
        const key = `${m[1]}\u0000${m[2]}`;
        if (!groups.has(key)) groups.set(key, { group: m[1], filter: m[2], members: [] });
        groups.get(key).members.push(x);
      }
      shared.replaceChildren(h('h2', {}, `Shared subscription groups (${groups.size})`),
        h('p', { class: 'muted' }, 'Each message matching the filter goes to one member of the group.'),
        table([{ title: 'Group', cell: (g) => h('strong', {}, g.group) },
          { title: 'Filter', cell: (g) => h('code', {}, g.filter) },
          { title: 'Members', cell: (g) => g.members.map((m) => h('span', { class: 'chip' }, `${m.client_id} @ ${m.node}`)) }],
        [...groups.values()], { empty: 'No shared subscriptions.' }));

      subs.replaceChildren(h('h2', {}, `All subscriptions (${s.total})`),
        table([{ title: 'Filter', cell: (x) => h('code', {}, x.filter) },
          { title: 'Client', cell: (x) => h('span', { class: 'mono' }, x.client_id) },
          { title: 'Node', cell: (x) => x.node },
          { title: 'QoS', cell: (x) => x.qos, num: true },
          { title: 'Sub. id', cell: (x) => x.subscription_id || '–', num: true }],
        s.items, { empty: 'No subscriptions.' }));
    } catch (err) {
      ctx.fail(err, status);
    }
  }
  load();
  const timer = setInterval(load, 5000);
  return () => clearInterval(timer);
}
