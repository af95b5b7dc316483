// Retained messages: browse by topic prefix, view one, delete it (cluster-wide: the node
// replicates the delete to every peer).
import { api, seg } from '../api.js';
import { bytes, h, notice, pageControls, table, time } from '../format.js';

const PAGE = 50;

export function mount(el, ctx) {
  let offset = 0;
  const prefix = h('input', { type: 'search', id: 'retained-prefix', placeholder: 'Topic prefix, e.g. sensors/' });
  const status = h('div');
  const list = h('div', { class: 'card' });
  const view = h('div', { class: 'card detail', hidden: true });
  const pager = h('div', { class: 'pager' });
  el.append(h('div', { class: 'toolbar' }, prefix, h('button', { onclick: () => load() }, 'Refresh')),
    status, h('div', { class: 'split' }, h('div', {}, list, pager), view));
  let debounce = null;
  prefix.addEventListener('input', () => {
    clearTimeout(debounce);
    debounce = setTimeout(() => { offset = 0; load(); }, 200);
  });

  async function remove(topic) {
    if (!confirm(`Delete the retained message on "${topic}" from the whole cluster?`)) return;
    try {
      await api(`/retained/${seg(topic)}`, { method: 'DELETE' });
      status.replaceChildren(notice('ok', `Deleted the retained message on ${topic}.`));
      view.hidden = true;
      load();
    } catch (err) {
      ctx.fail(err, status);
    }
  }

  async function show(topic) {
    view.hidden = false;
    try {
      const m = await api(`/retained/${seg(topic)}`);
      const field = (k, v) => [h('dt', {}, k), h('dd', {}, v)];
      view.replaceChildren(
        h('div', { class: 'detail-head' }, h('h2', { class: 'mono' }, m.topic),
          h('button', { class: 'link', onclick: () => { view.hidden = true; } }, 'Close')),
        h('dl', {}, field('QoS', m.qos), field('Size', bytes(m.payload_size)),
          field('Stored', time(m.timestamp_ms)), field('Origin node', m.origin_node),
          field('Encoding', m.payload_encoding),
          m.expiry_at_ms ? field('Expires', time(m.expiry_at_ms)) : null),
        h('pre', { class: 'payload' }, m.payload),
        h('button', { class: 'danger', 'data-delete': m.topic, onclick: () => remove(m.topic) }, 'Delete retained message'));
    } catch (err) {
      ctx.fail(err, view);
    }
  }

  let seq = 0; // answers to older requests (an earlier prefix) are dropped
  async function load() {
    const mine = ++seq;
    try {
      const r = await api(`/retained?prefix=${seg(prefix.value)}&limit=${PAGE}&offset=${offset}`);
      if (mine !== seq) return;
      list.replaceChildren(h('h2', {}, `${r.total} retained message${r.total === 1 ? '' : 's'}`,
        prefix.value ? h('span', { class: 'muted' }, ` under “${prefix.value}”`) : ''),
        table([
          { title: 'Topic', cell: (m) => h('button', { class: 'link mono', onclick: () => show(m.topic) }, m.topic) },
          { title: 'Payload', cell: (m) => h('span', { class: 'mono clip' }, m.payload_encoding === 'utf8' ? m.payload : `(${m.payload_size} bytes binary)`) },
          { title: 'QoS', cell: (m) => m.qos, num: true },
          { title: 'Origin', cell: (m) => m.origin_node },
          { title: 'Stored', cell: (m) => time(m.timestamp_ms) },
          { title: '', cell: (m) => h('button', { class: 'small danger', 'data-delete': m.topic, onclick: () => remove(m.topic) }, 'Delete') },
        ], r.items, { empty: 'No retained messages.', rowAttrs: (m) => ({ 'data-topic': m.topic }) }));
      pager.replaceChildren(...pageControls(offset, r.total, PAGE, (o) => { offset = o; load(); }));
    } catch (err) {
      ctx.fail(err, status);
    }
  }
  load();
  return () => {};
}
