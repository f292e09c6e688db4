// The operations pages in a real browser against a real `flightdeck serve` that samples its host
// every second. System: the host's heading, the GPU status (the devices, or why there are none),
// the CPU and memory charts with their tables, an agent's GPU series, a series an agent sent (a
// native metric of no session) under "Agents, queues and other metrics", the range picker in the
// URL, the queue summary (queued and processing summed over senders, means, the hour's completed
// and failed). Logs: every session's lines, a level filter in the URL, a line that arrives while
// following, and the link to its session. Agents: the agents of running sessions as cards,
// filtered by status and by part of a name, and their network, a message flying along its edge as
// it arrives. Timeline: resource lanes of the session's agents' processes (their own series, not
// a stranger's or Flightdeck's), and their values on hover.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { launch, newPage } from './browser.mjs';
import { crewSession, ingest, startServer } from './harness.mjs';

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
  // An agent's GPU (an SDK's nvidia-smi reading): charted whether or not the server has one.
  await ingest(server.origin, [{ type: 'metric', name: 'gpu.utilization', value: 0.5, unit: '1', labels: { gpu: '0', agent: 'trainer', pid: '7' }, at: new Date(now).toISOString() }]);
  const page = await newPage(browser, server.origin);
  await page.goto(`${server.origin}/#/system`);
  await page.waitForSelector('.system-chart[data-chart=CPU] canvas', { timeout: 30_000 });
  assert.match(await page.textContent('.system-head'), /\d+ CPUs · [\d.]+ GiB memory · sampled every 1 s/);
  assert.match(await page.textContent('[data-test=gpu-status]'), /GPU 0:|no GPU found/);
  assert.match(await page.textContent('.system-chart[data-chart=CPU] .system-stats'), /all cores.*core 0/s);
  assert.match(await page.textContent('.system-chart[data-chart=Memory] .system-stats'), /memory\.usage\s*[\d.]+ (MiB|GiB)/);
  await page.waitForSelector('.system-chart[data-chart="queue.depth"] canvas');
  assert.match(await page.textContent('.system-chart[data-chart="queue.depth"] .system-stats'), /queue=jobs/);
  assert.match(await page.textContent('.system-chart[data-chart="GPU utilisation"] .system-stats'), /utilization gpu 0 · trainer · pid 7\s*50\.0%/);
  await page.click('.system-head .range button:has-text("6h")');
  await page.waitForFunction(() => location.hash === '#/system?range=6h');
  assert.equal(await page.getAttribute('.system-head .range button.on', 'class'), 'on');
  await page.close();
});

test('the System page sums up each queue from the queue convention\'s metrics', async () => {
  const now = Date.now();
  const q = (session, name, value, ago, labels = {}) => ({ type: 'metric', session_id: session, name, value, labels: { queue: 'render', ...labels }, at: new Date(now - ago).toISOString() });
  await ingest(server.origin, [
    { type: 'session.start', session_id: 'q-1' }, { type: 'session.start', session_id: 'q-2' },
    q('q-1', 'queue.depth', 5, 9000), q('q-1', 'queue.depth', 2, 3000), q('q-2', 'queue.depth', 1, 2000),
    q('q-1', 'queue.processing', 1, 3000), q('q-2', 'queue.processing', 1, 2000),
    q('q-1', 'queue.wait_ms', 1000, 8000), q('q-2', 'queue.wait_ms', 3000, 2000),
    q('q-1', 'queue.run_ms', 4000, 4000),
    q('q-1', 'queue.completed', 1, 4000, { status: 'ok' }), q('q-2', 'queue.completed', 1, 1000, { status: 'error' }),
    q('q-1', 'queue.completed', 1, 2 * 3600_000, { status: 'ok' }),
  ]);
  const page = await newPage(browser, server.origin);
  await page.goto(`${server.origin}/#/system`);
  await page.waitForSelector('[data-test=queues] tr[data-queue=render]', { timeout: 30_000 });
  const cells = await page.$$eval('[data-test=queues] tr[data-queue=render] td', (tds) => tds.map((td) => td.textContent));
  assert.deepEqual(cells, ['render', '3', '2', '2.0 s', '4.0 s', '2', '1']);
  await page.close();
});

test('the Logs page lists every session\'s lines, filters them, and follows new ones', async () => {
  const line = (session, n, level, message) => ({ type: 'event', session_id: session, event_id: `l${n}`, category: 'log', level, agent: 'hacker', message, at: new Date(Date.now() - 10_000 + n).toISOString() });
  await ingest(server.origin, [
    { type: 'session.start', session_id: 'logs-a', name: 'heist logs' },
    line('logs-a', 1, 'info', 'cameras looped'),
    line('logs-b', 2, 'error', 'vault alarm tripped'),
    line('logs-a', 3, 'debug', 'retrying the lock'),
  ]);
  const page = await newPage(browser, server.origin);
  await page.goto(`${server.origin}/#/logs`);
  await page.waitForSelector('.log-line:has-text("retrying the lock")');
  assert.equal(await page.locator('.log-line').count(), 3);
  // The session's name arrives after its lines (lib/session-names.js).
  await page.waitForSelector('.log-line:has-text("cameras looped") .log-session:has-text("heist logs")', { timeout: 5000 });
  await page.selectOption('.logs-bar select', 'error');
  await page.waitForFunction(() => location.hash.includes('level=error'));
  await page.waitForFunction(() => document.querySelectorAll('.log-line').length === 1);
  assert.match(await page.textContent('.log-line'), /vault alarm tripped/);
  await page.selectOption('.logs-bar select', '');
  await page.waitForFunction(() => document.querySelectorAll('.log-line').length === 3);
  await ingest(server.origin, [line('logs-b', 4, 'warn', 'guard on the move')]);
  await page.waitForSelector('.log-line:has-text("guard on the move")', { timeout: 5000 });
  assert.equal(await page.textContent('.logs-bar button'), 'Following');
  await page.click('.log-line:has-text("cameras looped") .log-session');
  await page.waitForFunction(() => location.hash.startsWith('#/s/logs-a/'));
  await page.close();
});

test('the Agents page shows the agents of running sessions, filtered by status and name', async () => {
  const status = (session, agent, state, task) => ({ type: 'agent.status', session_id: session, agent, status: state, task, at: new Date().toISOString() });
  await ingest(server.origin, [
    { type: 'session.start', session_id: 'crew-1', name: 'heist crew' },
    status('crew-1', 'planner', 'active', 'plan the job'),
    status('crew-1', 'hacker', 'idle'),
    { type: 'session.start', session_id: 'crew-2', name: 'coding crew' },
    status('crew-2', 'coder', 'error', 'push'),
  ]);
  const page = await newPage(browser, server.origin);
  await page.goto(`${server.origin}/#/agents`);
  await page.waitForSelector('[data-test=live-agents] .card[data-agent=coder]');
  const planner = await page.textContent('.card[data-agent=planner]');
  assert.match(planner, /active/);
  assert.match(planner, /Task: plan the job/);
  assert.match(planner, /heist crew/);
  assert.match(planner, /Heartbeat\s*(\d+ s|now|just now)/);
  await page.click('.logs-bar .range button:has-text("error")');
  await page.waitForFunction(() => document.querySelectorAll('[data-test=live-agents] .card').length === 1);
  assert.equal(await page.getAttribute('.card', 'data-agent'), 'coder');
  await page.click('.logs-bar .range button:has-text("all")');
  await page.fill('input[aria-label="Agent name"]', 'hack');
  await page.waitForFunction(() => [...document.querySelectorAll('[data-test=live-agents] .card')].map((c) => c.dataset.agent).join() === 'hacker');
  await page.close();
});

test('the timeline has resource lanes of the session\'s agents\' processes', async () => {
  const t0 = Date.now() - 60_000;
  const at = (ms) => new Date(t0 + ms).toISOString();
  const metrics = [];
  for (let i = 0; i <= 9; i += 1) {
    for (const [agent, cpu] of [['planner', 0.2 + i / 10], ['hacker', 0.5], ['stranger', 3]]) {
      metrics.push({ type: 'metric', name: 'process.cpu.utilization', value: cpu, unit: '1', labels: { agent }, at: at(i * 1000) });
      metrics.push({ type: 'metric', name: 'process.memory.usage', value: 300 * 2 ** 20, unit: 'By', labels: { agent }, at: at(i * 1000) });
    }
    metrics.push({ type: 'metric', session_id: 'lanes-1', name: 'gpu.utilization', value: 0.9, unit: '1', labels: { pid: '4242', gpu: '0' }, at: at(i * 1000) });
  }
  await ingest(server.origin, [...crewSession('lanes-1', { t0 }), ...metrics]);
  const page = await newPage(browser, server.origin);
  await page.goto(`${server.origin}/#/s/lanes-1/timeline`);
  await page.waitForFunction(() => document.querySelector('[data-test=timeline]')?.__timeline?.resources.length === 3);
  const lanes = await page.evaluate(() => document.querySelector('[data-test=timeline]').__timeline.resources.map((l) => `${l.title}: ${l.series.map((s) => s.who).join(',')}`));
  assert.deepEqual(lanes, ['CPU: hacker,planner', 'memory: hacker,planner', 'GPU: pid 4242']);
  const box = await page.locator('[data-test=timeline]').boundingBox();
  const first = await page.evaluate(() => document.querySelector('[data-test=timeline]').__timeline.resourceBoxes[0].y1);
  await page.mouse.move(box.x + box.width / 2, box.y + first + 20);
  await page.waitForSelector('[data-test=resource-tip]');
  assert.match(await page.textContent('[data-test=resource-tip]'), /CPU.*hacker 0\.50 cores.*planner [\d.]+ cores/s);
  await page.close();
});

test('the Agents page\'s network counts the flows and flies new messages along their edge', async () => {
  const msg = (n, from, to, kind = 'message') => ({ type: 'edge', session_id: 'net-1', edge_id: `m${n}`, kind, from_agent: from, to_agent: to, at: new Date().toISOString() });
  const status = (agent) => ({ type: 'agent.status', session_id: 'net-1', agent, status: 'active', at: new Date().toISOString() });
  await ingest(server.origin, [{ type: 'session.start', session_id: 'net-1', name: 'network crew' }, status('boss'), status('runner'), status('lookout'),
    msg(1, 'boss', 'runner', 'delegation'), msg(2, 'runner', 'lookout'), msg(3, 'runner', 'lookout')]);
  const page = await newPage(browser, server.origin);
  await page.goto(`${server.origin}/#/agents?session=network`);
  await page.waitForSelector('[data-test=agent-network] canvas');
  const edges = () => page.evaluate(() => {
    const cy = document.querySelector('[data-test=agent-network]')._cyreg.cy;
    return cy.edges().map((e) => `${e.id()}=${e.data('label')}`).sort().join(' ');
  });
  await page.waitForFunction(() => document.querySelector('[data-test=agent-network]')?._cyreg?.cy?.edges().length === 2);
  assert.equal(await edges(), 'boss>runner>delegation=1 runner>lookout>message=2');
  assert.equal(await page.evaluate(() => document.querySelector('[data-test=agent-network]').__network.flights()), 0);
  await ingest(server.origin, [msg(4, 'runner', 'lookout'), msg(5, 'lookout', 'boss')]);
  await page.waitForFunction(() => document.querySelector('[data-test=agent-network]').__network.flights() === 2, null, { timeout: 5000 });
  assert.equal(await edges(), 'boss>runner>delegation=1 lookout>boss>message=1 runner>lookout>message=3');
  await page.close();
});
