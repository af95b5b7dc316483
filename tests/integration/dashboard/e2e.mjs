// Drives the dashboard in Debian's chromium (playwright-core) against the 3-node cluster that
// dashboard_test.py started. Config comes as JSON in argv[2]; each step prints "ok <step>"; any
// failed expectation throws (exit 1). Screenshots go to cfg.shots.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

const cfg = JSON.parse(process.argv[2]);
const TIMEOUT = 10000;
mkdirSync(cfg.shots, { recursive: true });

function ok(step) {
  console.log(`ok ${step}`);
}

// A fresh profile directory (the --user-data-dir); flags keep chromium off the network.
const browser = await chromium.launchPersistentContext(cfg.profile, {
  executablePath: cfg.chromium,
  headless: true,
  viewport: { width: 1360, height: 900 },
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const page = browser.pages()[0] || await browser.newPage();
  page.setDefaultTimeout(TIMEOUT);
  page.on('dialog', (d) => d.accept()); // kick / delete confirmations
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const shot = (name) => page.screenshot({ path: path.join(cfg.shots, `${name}.png`), fullPage: true });

  // Login: the API needs a token, so the dashboard asks for one; a wrong one is refused.
  await page.goto(cfg.base);
  await page.waitForSelector('form.login');
  await page.fill('#token', 'not-the-token');
  await page.click('form.login button[type=submit]');
  await page.getByText('That token is not valid for this node.').waitFor();
  await page.fill('#token', cfg.token);
  await shot('login');
  await page.click('form.login button[type=submit]');
  ok('login');

  // Overview: three nodes, all alive, with stats from each (cluster scope).
  await page.waitForFunction(() => {
    const rows = [...document.querySelectorAll('#nodes tbody tr')];
    return rows.length === 3 && rows.every((r) => r.textContent.includes('alive') &&
      !r.children[3].textContent.includes('–'));
  });
  const names = await page.$$eval('#nodes tbody tr', (rows) => rows.map((r) => r.dataset.node));
  if (names.sort().join() !== 'node1,node2,node3') throw new Error(`nodes listed: ${names}`);
  // Let the charts and forward rates collect a few samples of the test's traffic.
  await page.waitForFunction(() => [...document.querySelectorAll('#forwards tbody tr')]
    .some((r) => Number(r.children[2].textContent) > 0), null, { timeout: 15000 });
  await page.waitForTimeout(6000); // only so the screenshot shows a few seconds of chart
  await shot('overview');
  ok('overview lists 3 nodes');

  // Clients: find the mosquitto_sub client (connected to node2), open it, kick it.
  await page.click('a[data-page=clients]');
  await page.fill('#client-search', cfg.kick_client);
  const row = page.locator(`tr[data-client="${cfg.kick_client}"]`);
  await row.waitFor();
  const rowText = await row.textContent();
  if (!rowText.includes('node2')) throw new Error(`client row does not name node2: ${rowText}`);
  await page.getByText(`matching “${cfg.kick_client}”`).waitFor();
  await page.fill('#client-search', '');
  await page.getByText('matching').waitFor({ state: 'detached' });
  await page.locator('tr[data-client="traffic-pub"]').waitFor();
  await shot('clients');
  await page.locator(`tr[data-client="${cfg.kick_client}"] button.link`).click();
  await page.locator('.detail h2', { hasText: cfg.kick_client }).waitFor();
  await page.locator('.detail code', { hasText: cfg.kick_topic }).waitFor();
  await shot('clients-detail');
  await page.click(`.detail button[data-kick="${cfg.kick_client}"]`);
  await page.getByText(`Disconnected ${cfg.kick_client} on node2.`).waitFor();
  await page.locator(`tr[data-client="${cfg.kick_client}"]`).waitFor({ state: 'detached' });
  ok('client kicked');

  // Subscriptions and routes: the shared group spans two nodes.
  await page.click('a[data-page=subscriptions]');
  await page.locator('td', { hasText: cfg.shared_group }).first().waitFor();
  await page.getByText('Shared subscription groups (1)').waitFor();
  await shot('subscriptions');
  ok('subscriptions');

  // Retained: browse by prefix, view, delete.
  await page.click('a[data-page=retained]');
  await page.fill('#retained-prefix', cfg.retained_prefix);
  await page.getByText(`under “${cfg.retained_prefix}”`).waitFor();
  await shot('retained');
  await page.locator(`tr[data-topic="${cfg.retained_topic}"]`).waitFor();
  await page.locator(`tr[data-topic="${cfg.retained_topic}"] button.link`).click();
  await page.locator('pre.payload', { hasText: cfg.retained_payload }).waitFor();
  await shot('retained-detail');
  await page.click(`.detail button[data-delete="${cfg.retained_topic}"]`);
  await page.locator(`tr[data-topic="${cfg.retained_topic}"]`).waitFor({ state: 'detached' });
  ok('retained deleted');

  // Live tail: the browser subscribes over WebSocket; mosquitto_pub publishes on another node.
  await page.click('a[data-page=tail]');
  await page.fill('#tail-filter', cfg.tail_filter);
  await page.click('#tail-start');
  await page.locator('#tail-state', { hasText: 'subscribed' }).waitFor();
  execFileSync('mosquitto_pub', ['-h', cfg.pub_host, '-p', String(cfg.pub_port), '-q', '1',
    '-t', cfg.tail_topic, '-m', cfg.tail_payload]);
  await page.locator('#tail-rows td', { hasText: cfg.tail_payload }).waitFor();
  await page.fill('#pub-topic', cfg.tail_topic);
  await page.fill('#pub-payload', 'published from the dashboard form');
  await page.click('#publish-form button[type=submit]');
  await page.locator('#tail-rows td', { hasText: 'published from the dashboard form' }).waitFor();
  await shot('tail');
  ok('live tail');

  if (errors.length) throw new Error(`errors in the page: ${errors.join('; ')}`);
} finally {
  await browser.close();
}
