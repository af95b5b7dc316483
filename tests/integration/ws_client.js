// MQTT.js client for meshmq's WebSocket tests: connects to a ws:// or wss:// URL, subscribes to
// a topic, publishes the given messages to it and prints every message it receives as one JSON
// line ({"topic":..., "payload":..., "qos":...}); exits 0 after `count` messages, 1 on error or
// after the timeout.
//
//   node ws_client.js URL TOPIC [--ca FILE] [--count N] [--publish MSG]... [--qos Q]
//                     [--timeout-ms MS] [--protocol-version 4|5]
'use strict';
const fs = require('fs');
const path = require('path');
const mqtt = require(path.join(__dirname, 'js', 'node_modules', 'mqtt'));

function parseArgs(argv) {
  const opts = {url: argv[0], topic: argv[1], publish: [], count: 0, qos: 1,
                timeoutMs: 10000, protocolVersion: 4, ca: null};
  for (let i = 2; i < argv.length; i += 2) {
    const value = argv[i + 1];
    switch (argv[i]) {
      case '--ca': opts.ca = value; break;
      case '--count': opts.count = Number(value); break;
      case '--publish': opts.publish.push(value); break;
      case '--qos': opts.qos = Number(value); break;
      case '--timeout-ms': opts.timeoutMs = Number(value); break;
      case '--protocol-version': opts.protocolVersion = Number(value); break;
      default: throw new Error('unknown option ' + argv[i]);
    }
  }
  if (!opts.url || !opts.topic) throw new Error('usage: ws_client.js URL TOPIC [options]');
  if (opts.count === 0) opts.count = opts.publish.length;
  return opts;
}

const opts = parseArgs(process.argv.slice(2));
const connectOptions = {protocolVersion: opts.protocolVersion, reconnectPeriod: 0,
                        connectTimeout: opts.timeoutMs, clean: true};
if (opts.ca) {
  connectOptions.ca = fs.readFileSync(opts.ca);
  connectOptions.rejectUnauthorized = true;
}

const client = mqtt.connect(opts.url, connectOptions);
let received = 0;
const timer = setTimeout(() => fail('timed out after ' + received + ' messages'), opts.timeoutMs);

function fail(why) {
  process.stderr.write('ws_client: ' + why + '\n');
  process.exit(1);
}

client.on('error', (err) => fail(err.message));
client.on('connect', () => {
  client.subscribe(opts.topic, {qos: opts.qos}, (err) => {
    if (err) return fail('subscribe: ' + err.message);
    for (const m of opts.publish) client.publish(opts.topic, m, {qos: opts.qos});
    if (opts.count === 0) done();
  });
});
client.on('message', (topic, payload, packet) => {
  process.stdout.write(JSON.stringify({topic, payload: payload.toString(), qos: packet.qos}) + '\n');
  if (++received >= opts.count) done();
});

function done() {
  clearTimeout(timer);
  client.end(false, () => process.exit(0));
}
