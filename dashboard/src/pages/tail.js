// Live tail: the browser itself subscribes with MQTT over WebSocket (MQTT.js) to this node's
// WebSocket listener (--ws-listen), so it sees exactly what a client would, under the same
// authentication and ACLs. The publish form sends through that connection, or through
// POST /api/v1/publish when there is none.
import { api } from '../api.js';
import { h, notice } from '../format.js';

const MAX_ROWS = 200;

function wsUrl(listeners) {
  const secure = location.protocol === 'https:';
  const address = (secure ? listeners.wss : listeners.ws) || listeners.ws;
  if (!address) return null;
  let host = address.slice(0, address.lastIndexOf(':'));
  const port = address.slice(address.lastIndexOf(':') + 1);
  if (host === '0.0.0.0' || host === '::' || host === '[::]' || host === '') host = location.hostname;
  return `${secure && listeners.wss ? 'wss' : 'ws'}://${host}:${port}/mqtt`;
}

export function mount(el, ctx) {
  let client = null;
  let count = 0;
  const status = h('div');
  const filter = h('input', { id: 'tail-filter', value: ctx.params.get('filter') || '#', placeholder: 'Topic filter' });
  const user = h('input', { id: 'tail-user', placeholder: 'Username (optional)', autocomplete: 'off' });
  const pass = h('input', { id: 'tail-pass', type: 'password', placeholder: 'Password', autocomplete: 'off' });
  const connectBtn = h('button', { class: 'primary', id: 'tail-start' }, 'Subscribe');
  const state = h('span', { class: 'badge state-left', id: 'tail-state' }, 'not connected');
  const rows = h('tbody', { id: 'tail-rows' });
  const counter = h('span', { class: 'muted' }, '');
  const urlText = h('code', {}, '…');

  const pubTopic = h('input', { id: 'pub-topic', placeholder: 'Topic' });
  const pubPayload = h('textarea', { id: 'pub-payload', rows: 2, placeholder: 'Payload' });
  const pubQos = h('select', { id: 'pub-qos' }, [0, 1, 2].map((q) => h('option', { value: q }, `QoS ${q}`)));
  const pubRetain = h('input', { type: 'checkbox', id: 'pub-retain' });
  const pubVia = h('span', { class: 'muted' }, 'via the admin API');
  const pubForm = h('form', { class: 'card', id: 'publish-form' },
    h('h2', {}, 'Publish'),
    h('div', { class: 'form-row' }, pubTopic, pubQos,
      h('label', { class: 'check' }, pubRetain, 'retain')),
    pubPayload,
    h('div', { class: 'form-row' }, h('button', { type: 'submit', class: 'primary' }, 'Publish'), pubVia));

  el.append(status,
    h('div', { class: 'card' },
      h('h2', {}, 'Subscribe'),
      h('p', { class: 'muted' }, 'MQTT over WebSocket to ', urlText, ' from this browser.'),
      h('div', { class: 'form-row' }, filter, user, pass, connectBtn, state)),
    h('div', { class: 'card' },
      h('div', { class: 'detail-head' }, h('h2', {}, 'Messages'), counter,
        h('button', { class: 'link', onclick: () => { rows.replaceChildren(); count = 0; counter.textContent = ''; } }, 'Clear')),
      h('table', { class: 'grid tail' },
        h('thead', {}, h('tr', {}, h('th', {}, 'Time'), h('th', {}, 'Topic'), h('th', {}, 'QoS'),
          h('th', {}, 'Flags'), h('th', {}, 'Payload'))), rows)),
    pubForm);

  let url = null;
  api('/nodes').then((r) => {
    const self = r.nodes.find((n) => n.self);
    url = wsUrl(self.listeners || {});
    urlText.textContent = url || '(none)';
    if (!url) {
      status.replaceChildren(notice('info', 'This node has no WebSocket listener; start it with --ws-listen to use the live tail. Publishing still works through the admin API.'));
      connectBtn.disabled = true;
    }
  }).catch((err) => ctx.fail(err, status));

  function setState(text, cls) {
    state.textContent = text;
    state.className = `badge ${cls}`;
  }

  function stop() {
    if (client) client.end(true);
    client = null;
    connectBtn.textContent = 'Subscribe';
    pubVia.textContent = 'via the admin API';
    setState('not connected', 'state-left');
  }

  async function start() {
    if (!url) return;
    const { default: mqtt } = await import('mqtt');
    const topic = filter.value.trim() || '#';
    client = mqtt.connect(url, {
      clientId: `meshmq-dashboard-${Math.random().toString(16).slice(2, 10)}`,
      username: user.value || undefined,
      password: pass.value || undefined,
      protocolVersion: 5,
      reconnectPeriod: 2000,
      connectTimeout: 5000,
    });
    connectBtn.textContent = 'Stop';
    setState('connecting', 'state-suspect');
    client.on('connect', () => {
      client.subscribe(topic, { qos: 1 }, (err, granted) => {
        if (err || granted?.[0]?.reason >= 0x80) {
          setState('subscribe refused', 'state-down');
          return;
        }
        setState(`subscribed to ${topic}`, 'state-alive');
        pubVia.textContent = 'via MQTT over WebSocket';
      });
    });
    client.on('error', (err) => setState(`error: ${err.message}`, 'state-down'));
    client.on('close', () => { if (client) setState('disconnected, retrying', 'state-suspect'); });
    client.on('message', (t, payload, packet) => {
      count++;
      counter.textContent = `${count} received`;
      let text;
      try {
        text = new TextDecoder('utf-8', { fatal: true }).decode(payload);
      } catch {
        text = `(${payload.length} bytes binary)`;
      }
      rows.prepend(h('tr', { 'data-topic': t },
        h('td', { class: 'mono muted' }, new Date().toLocaleTimeString()),
        h('td', { class: 'mono' }, t), h('td', {}, packet.qos),
        h('td', {}, packet.retain ? h('span', { class: 'chip' }, 'retained') : ''),
        h('td', { class: 'mono payload-cell' }, text)));
      while (rows.children.length > MAX_ROWS) rows.lastChild.remove();
    });
  }

  connectBtn.addEventListener('click', () => (client ? stop() : start()));
  pubForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const topic = pubTopic.value.trim();
    const qos = Number(pubQos.value);
    const retain = pubRetain.checked;
    try {
      if (client && client.connected) {
        await client.publishAsync(topic, pubPayload.value, { qos, retain });
      } else {
        await api('/publish', { method: 'POST', body: { topic, payload: pubPayload.value, qos, retain } });
      }
      status.replaceChildren(notice('ok', `Published to ${topic}.`));
    } catch (err) {
      ctx.fail(err, status);
    }
  });
  return stop;
}
