// Clients across the cluster (/clients?scope=cluster): search by client id prefix, pages of 25,
// a detail view (subscriptions) and a kick button. Detail and kick go to the client's own node
// (?node=), which the API passes on.
import { api, seg } from '../api.js';
import { h, notice, num, pageControls, protocol, table } from '../format.js';

const PAGE = 25;

export function mount(el, ctx) {
  let offset = 0;
  let stopped = false;
  let selected = null; // {client_id, node}
  const search = h('input', { type: 'search', id: 'client-search', placeholder: 'Client id prefix',
    value: ctx.params.get('prefix') || '' });
  const status = h('div');
  const list = h('div', { class: 'card' });
  const detail = h('div', { class: 'card detail', hidden: true });
  const pager = h('div', { class: 'pager' });
  el.append(h('div', { class: 'toolbar' }, search,
    h('button', { onclick: () => load() }, 'Refresh')), status,
  h('div', { class: 'split' }, h('div', {}, list, pager), detail));
  let debounce = null;
  search.addEventListener('input', () => {
    clearTimeout(debounce);
    debounce = setTimeout(() => { offset = 0; load(); }, 200);
  });

  async function kick(c) {
    if (!confirm(`Disconnect client "${c.client_id}" on ${c.node}?`)) return;
    try {
      await api(`/clients/${seg(c.client_id)}?node=${seg(c.node)}`, { method: 'DELETE' });
      status.replaceChildren(notice('ok', `Disconnected ${c.client_id} on ${c.node}.`));
      if (selected?.client_id === c.client_id) detail.hidden = true;
      setTimeout(load, 300);
    } catch (err) {
      ctx.fail(err, status);
    }
  }

  async function showDetail(c) {
    selected = c;
    detail.hidden = false;
    detail.replaceChildren(h('p', { class: 'muted' }, 'Loading…'));
    try {
      const d = await api(`/clients/${seg(c.client_id)}?node=${seg(c.node)}`);
      const field = (k, v) => [h('dt', {}, k), h('dd', {}, v)];
      detail.replaceChildren(
        h('div', { class: 'detail-head' }, h('h2', {}, d.client_id),
          h('button', { class: 'link', onclick: () => { detail.hidden = true; selected = null; } }, 'Close')),
        h('dl', {},
          field('Node', d.node), field('State', d.connected ? 'connected' : 'offline session'),
          field('Protocol', protocol(d.protocol_version)), field('Address', d.address || '–'),
          field('Keep-alive', `${d.keep_alive}s`), field('Session expiry', `${d.session_expiry_interval}s`),
          field('Queued', num(d.queue_depth)), field('In flight', num(d.inflight))),
        h('h3', {}, `Subscriptions (${d.subscriptions.length})`),
        table([{ title: 'Filter', cell: (s) => h('code', {}, s.filter) },
          { title: 'QoS', cell: (s) => s.qos, num: true },
          { title: 'Options', cell: (s) => [s.no_local && 'no-local', s.retain_as_published && 'rap',
            s.retain_handling && `rh=${s.retain_handling}`].filter(Boolean).join(', ') || '–' }],
        d.subscriptions, { empty: 'No subscriptions.' }),
        d.connected ? h('button', { class: 'danger', 'data-kick': d.client_id,
          onclick: () => kick(d) }, 'Kick client') : null);
    } catch (err) {
      ctx.fail(err, detail);
    }
  }

  let seq = 0; // answers to older requests (an earlier prefix) are dropped
  async function load() {
    const mine = ++seq;
    const prefix = search.value;
    try {
      const r = await api(`/clients?scope=cluster&limit=${PAGE}&offset=${offset}&prefix=${seg(prefix)}`);
      if (stopped || mine !== seq) return;
      status.replaceChildren(...(r.errors || []).map((e) => notice('error', `${e.node}: ${e.error}`)));
      list.replaceChildren(h('h2', {}, `${r.total} client${r.total === 1 ? '' : 's'}`,
        prefix ? h('span', { class: 'muted' }, ` matching “${prefix}”`) : ''),
      table([
        { title: 'Client id', cell: (c) => h('button', { class: 'link mono', onclick: () => showDetail(c) }, c.client_id) },
        { title: 'Node', cell: (c) => c.node },
        { title: 'State', cell: (c) => h('span', { class: `badge ${c.connected ? 'state-alive' : 'state-left'}` }, c.connected ? 'online' : 'offline') },
        { title: 'Protocol', cell: (c) => protocol(c.protocol_version) },
        { title: 'Address', cell: (c) => h('span', { class: 'mono' }, c.address || '–') },
        { title: 'Keep-alive', cell: (c) => `${c.keep_alive}s`, num: true },
        { title: 'Subs', cell: (c) => num(c.subscriptions), num: true },
        { title: 'Queue', cell: (c) => num(c.queue_depth), num: true },
        { title: '', cell: (c) => c.connected ? h('button', { class: 'small danger', 'data-kick': c.client_id, onclick: () => kick(c) }, 'Kick') : '' },
      ], r.items, { empty: 'No clients.', rowAttrs: (c) => ({ 'data-client': c.client_id }) }));
      pager.replaceChildren(...pageControls(offset, r.total, PAGE, (o) => { offset = o; load(); }));
    } catch (err) {
      ctx.fail(err, status);
    }
  }

  load();
  const timer = setInterval(load, 5000);
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
