// The System page in a real browser against a real `flightdeck serve` that samples its host
// every second: the host's heading, the GPU status (the devices, or why there are none), the
// CPU and memory charts with their tables, a series an agent sent (a native metric of no
// session) under "Agents, queues and other metrics", and the range picker in the URL.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { launch, newPage } from './browser.mjs';
import { ingest, startServer } from './harness.mjs';

let server;
let browser;

before(async () => {
  server = await startServer(['--system-metrics-secs', '1']);
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('the System page charts the host, the process and an agent\'s series', async () => {
  const now = Date.now();
  await ingest(server.origin, [0, 1, 2].map((i) => ({ type: 'metric', name: 'queue.depth', value: 3 + i, labels: { queue: 'jobs' }, at: new Date(now - (2 - i) * 1000).toISOString() })));
  const page = await newPage(browser, server.origin);
  await page.goto(`${server.origin}/#/system`);
  await page.waitForSelector('.system-chart[data-chart=CPU] canvas', { timeout: 15_000 });
  assert.match(await page.textContent('.system-head'), /\d+ CPUs · [\d.]+ GiB memory · sampled every 1 s/);
  assert.match(await page.textContent('[data-test=gpu-status]'), /GPU 0:|no GPU found/);
  assert.match(await page.textContent('.system-chart[data-chart=CPU] .system-stats'), /all cores.*core 0/s);
  assert.match(await page.textContent('.system-chart[data-chart=Memory] .system-stats'), /memory\.usage\s*[\d.]+ (MiB|GiB)/);
  await page.waitForSelector('.system-chart[data-chart="queue.depth"] canvas');
  assert.match(await page.textContent('.system-chart[data-chart="queue.depth"] .system-stats'), /queue=jobs/);
  await page.click('.system-head .range button:has-text("6h")');
  await page.waitForFunction(() => location.hash === '#/system?range=6h');
  assert.equal(await page.getAttribute('.system-head .range button.on', 'class'), 'on');
  await page.close();
});
