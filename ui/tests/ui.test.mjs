// The page in a real browser (Debian's Chromium, headless) against a real `flightdeck serve`
// fed through the real API. Run by scripts/test.sh: `node --test ui/tests/`.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { launch, newPage } from './browser.mjs';
import { bigSession, crewSession, ingest, startServer } from './harness.mjs';

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launch();
  await ingest(server.origin, [
    ...crewSession('alpha', { name: 'alpha heist', t0: Date.now() - 300_000 }),
    ...crewSession('bravo', { name: 'bravo pipeline', status: 'failed', failTool: true, agents: ['coder', 'tester'], t0: Date.now() - 200_000 }),
    ...crewSession('charlie', { name: 'charlie research', running: true, agents: ['analyst'], t0: Date.now() - 100_000 }),
  ]);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function open(path) {
  const page = await newPage(browser, server.origin);
  await page.goto(`${server.origin}/${path}`);
  return page;
}


const rows = (page) => page.$$eval('[data-test=sessions] tbody tr', (trs) => trs.map((tr) => tr.dataset.session));

/** The rendered position of a graph node (centred first), in page coordinates. */
const nodePoint = (page, id) =>
  page.evaluate((id) => {
    const host = document.querySelector('[data-test=graph]');
    const n = host.__cy.getElementById(id);
    if (n.empty()) return null;
    host.__cy.center(n);
    const p = n.renderedPosition();
    const r = host.getBoundingClientRect();
    return { x: r.left + p.x, y: r.top + p.y };
  }, id);

const graphHas = (page, id) => page.evaluate((id) => document.querySelector('[data-test=graph]').__cy.getElementById(id).nonempty(), id);

describe('overview', () => {
  test('lists the ingested sessions with their status and headline stats', async () => {
    const page = await open('#/');
    await page.waitForSelector('[data-test=sessions] tbody tr');
    assert.deepEqual(await rows(page), ['charlie', 'bravo', 'alpha']);
    const bravo = await page.textContent('tr[data-session=bravo]');
    assert.match(bravo, /failed/);
    assert.match(bravo, /bravo pipeline/);
    assert.match(await page.textContent('[data-test=headline]'), /Sessions\s*3/);
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });

  test('filters narrow the list and live in the URL', async () => {
    const page = await open('#/');
    await page.waitForSelector('[data-test=sessions] tbody tr');
    await page.selectOption('select[name=status]', 'failed');
    await page.waitForFunction(() => document.querySelectorAll('[data-test=sessions] tbody tr').length === 1);
    assert.deepEqual(await rows(page), ['bravo']);
    assert.match(page.url(), /status=failed/);
    await page.selectOption('select[name=status]', '');
    await page.fill('input[name=q]', 'alpha');
    await page.waitForFunction(() => document.querySelectorAll('[data-test=sessions] tbody tr').length === 1);
    assert.deepEqual(await rows(page), ['alpha']);
    // A reload keeps the filter.
    await page.reload();
    await page.waitForSelector('[data-test=sessions] tbody tr');
    assert.deepEqual(await rows(page), ['alpha']);
    await page.context().close();
  });
});

test('a column sort orders the whole history on the server, past the rows loaded', async () => {
  const old = Date.now() - 30 * 86_400_000;
  const msgs = [];
  // The one with the most spans is the oldest: not among the newest 50 the page loads first.
  // All are a month old, so they push none of the other tests' sessions off the first page.
  for (let k = 0; k < 12; k += 1) msgs.push({ type: 'span', session_id: 'zzsort-old', span_id: `s${k}`, kind: 'tool', name: 't', started_at: new Date(old + k).toISOString(), ended_at: new Date(old + 50).toISOString() });
  for (let n = 0; n < 55; n += 1) msgs.push({ type: 'span', session_id: `zzsort-${n}`, span_id: 'x', kind: 'tool', name: 't', started_at: new Date(old + 1000 + n).toISOString(), ended_at: new Date(old + 2000).toISOString() });
  await ingest(server.origin, msgs);
  const page = await open('#/?q=zzsort');
  await page.waitForFunction(() => document.querySelectorAll('[data-test=sessions] tbody tr').length === 50);
  assert.equal(await page.$('tr[data-session=zzsort-old]'), null, 'not loaded yet');
  await page.click('[data-test=sessions] th:has-text("Spans")');
  await page.waitForFunction(() => document.querySelector('[data-test=sessions] tbody tr')?.dataset.session === 'zzsort-old');
  assert.doesNotMatch(await page.textContent('.panel header'), /sorted among those shown/);
  // The headline counts every matching session, not the rows loaded.
  assert.equal(await page.textContent('[data-test=headline] .stat .value'), '56');
  assert.deepEqual(page.errors.map(String), []);
  await page.context().close();
});

describe('overview, live', () => {
  test('a session ingested while the overview is open appears without a reload', async () => {
    const page = await open('#/');
    await page.waitForSelector('.conn[data-state=live]');
    await ingest(server.origin, crewSession('echo', { name: 'echo live', running: true, agents: ['scout'] }));
    await page.waitForSelector('tr[data-session=echo]', { timeout: 5000 });
    assert.match(await page.textContent('tr[data-session=echo]'), /running/);
    await page.context().close();
  });

  test('a running row says what runs now, and follows it live', async () => {
    const page = await open('#/');
    await page.waitForSelector('.conn[data-state=live]');
    await ingest(server.origin, [
      { type: 'session.start', session_id: 'india', name: 'india live' },
      { type: 'span.start', session_id: 'india', span_id: 'i-root', kind: 'agent', name: 'crew', agent: 'boss' },
      { type: 'span.start', session_id: 'india', span_id: 'i-llm', parent_id: 'i-root', kind: 'llm', name: 'plan the job', agent: 'planner', model: 'gpt-4o' },
    ]);
    const now = 'tr[data-session=india] [data-test=row-now]';
    await page.waitForFunction((sel) => /planner\s*plan the job \(gpt-4o\)/.test(document.querySelector(sel)?.textContent || ''), now, { timeout: 8000 });
    assert.doesNotMatch(await page.textContent(now), /crew/, 'the agent waiting on its call is not named');
    await ingest(server.origin, [{ type: 'span.end', session_id: 'india', span_id: 'i-llm' }]);
    await page.waitForFunction((sel) => /boss\s*crew/.test(document.querySelector(sel)?.textContent || ''), now, { timeout: 8000 });
    await ingest(server.origin, [{ type: 'span.end', session_id: 'india', span_id: 'i-root' }, { type: 'session.end', session_id: 'india' }]);
    await page.waitForFunction((sel) => !document.querySelector(sel), now, { timeout: 8000 });
    assert.deepEqual(page.errors.map(String), []);
    await page.context().close();
  });

  test('under a filter, a new matching session appears and one that does not match stays out', async () => {
    const page = await open('#/?agent=navigator');
    await page.waitForSelector('.conn[data-state=live]');
    await page.waitForSelector('[data-test=sessions], .empty');
    await ingest(server.origin, [
      ...crewSession('foxtrot', { name: 'foxtrot live', running: true, agents: ['navigator'] }),
      ...crewSession('golf', { name: 'golf live', running: true, agents: ['pilot'] }),
    ]);
    await page.waitForSelector('tr[data-session=foxtrot]', { timeout: 5000 });
    assert.deepEqual(await rows(page), ['foxtrot']);
    await page.context().close();
  });
});

describe('moves and traces', () => {
  const t0 = Date.now() - 60_000;
  const at = (ms) => new Date(t0 + ms).toISOString();
  const call = (session, id, trace, parent, ms) => ({
    type: 'span', session_id: session, span_id: id, trace_id: trace, parent_id: parent, kind: 'llm', name: 'chat',
    model: 'gpt-4o', started_at: at(ms), ended_at: at(ms + 500), usage: { input_tokens: 10, output_tokens: 5 },
  });

  test('a session that moves into another leaves the overview, and its page follows it', async () => {
    const page = await open('#/');
    await page.waitForSelector('.conn[data-state=live]');
    await ingest(server.origin, [call('4bf92f35', 'h1', '4bf92f35', 'h0', 1000)]);
    await page.waitForSelector('tr[data-session="4bf92f35"]', { timeout: 5000 });
    const moved = await open('#/s/4bf92f35/graph');
    await moved.waitForSelector('.conn[data-state=live]');
    await ingest(server.origin, [
      { type: 'session.move', session_id: '4bf92f35', into: 'hotel' },
      { type: 'span', session_id: 'hotel', span_id: 'h0', trace_id: '4bf92f35', kind: 'agent', name: 'crew', agent: 'crew', started_at: at(0), ended_at: at(3000) },
    ]);
    await page.waitForSelector('tr[data-session=hotel]', { timeout: 5000 });
    await page.waitForFunction(() => !document.querySelector('tr[data-session="4bf92f35"]'), null, { timeout: 5000 });
    const spans = await page.$eval('tr[data-session=hotel] td:nth-child(4)', (td) => td.textContent.trim());
    assert.equal(spans, '2', 'both spans counted in the target');
    await moved.waitForFunction(() => location.hash.startsWith('#/s/hotel/'), null, { timeout: 5000 });
    await moved.waitForFunction(() => document.querySelector('[data-test=graph]')?.__cy?.getElementById('h1').nonempty(), null, { timeout: 5000 });
    assert.deepEqual([...page.errors, ...moved.errors], []);
    await page.context().close();
    await moved.context().close();
  });

  test("a session's traces are listed in its header and lead to their root span", async () => {
    await ingest(server.origin, [
      { type: 'span', session_id: 'india', span_id: 'r2', trace_id: 'a1a1a1a1', kind: 'agent', name: 'turn 2', agent: 'crew', started_at: at(10_000), ended_at: at(12_000) },
      call('india', 'c2', 'a1a1a1a1', 'r2', 10_500),
      { type: 'span', session_id: 'india', span_id: 'r1', trace_id: 'b2b2b2b2', kind: 'agent', name: 'turn 1', agent: 'crew', started_at: at(0), ended_at: at(2000) },
      call('india', 'c1', 'b2b2b2b2', 'r1', 500),
    ]);
    const page = await open('#/s/india/timeline');
    await page.waitForSelector('[data-test=traces] summary');
    assert.match(await page.textContent('[data-test=traces] summary'), /2 traces/);
    await page.click('[data-test=traces] summary');
    const turns = await page.$$eval('[data-test=traces] li', (lis) => lis.map((li) => li.textContent));
    assert.match(turns[0], /turn 1.*b2b2b2b2/);
    assert.match(turns[1], /turn 2.*a1a1a1a1/);
    await page.click('[data-test=traces] li:nth-child(2) button');
    await page.waitForSelector('[data-test=trace-id]');
    assert.match(await page.textContent('[data-test=detail] h2'), /turn 2/);
    assert.match(await page.textContent('[data-test=trace-id]'), /a1a1a1a1/);
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });
});

describe('session', () => {
  test('clicking a node shows its prompt', async () => {
    const page = await open('#/s/alpha/graph');
    await page.waitForFunction(() => document.querySelector('[data-test=graph]')?.__cy?.nodes().length > 0);
    const p = await nodePoint(page, 'alpha-planner-llm');
    assert.ok(p, 'the LLM node is drawn');
    await page.mouse.click(p.x, p.y);
    await page.waitForSelector('[data-test=detail] .conv');
    assert.match(await page.textContent('[data-test=detail]'), /PROMPT for planner in alpha/);
    assert.match(page.url(), /span=alpha-planner-llm/);
    await page.context().close();
  });

  test('a failed span is red in the graph and the tools table', async () => {
    const page = await open('#/s/bravo/graph');
    await page.waitForFunction(() => document.querySelector('[data-test=graph]')?.__cy?.nodes().length > 0);
    const colors = await page.evaluate(() => {
      const cy = document.querySelector('[data-test=graph]').__cy;
      const probe = document.createElement('div');
      probe.style.color = getComputedStyle(document.documentElement).getPropertyValue('--error');
      document.body.append(probe);
      const error = getComputedStyle(probe).color;
      probe.remove();
      return { failed: cy.getElementById('bravo-coder-tool').style('border-color'), ok: cy.getElementById('bravo-tester-tool').style('border-color'), error };
    });
    const bare = (c) => c.replace(/\s/g, '');
    assert.equal(bare(colors.failed), bare(colors.error));
    assert.notEqual(bare(colors.ok), bare(colors.error));
    await page.click('.tabs a[href*="/tools"]');
    await page.waitForSelector('tr.failed');
    assert.match(await page.textContent('tr.failed'), /scan/);
    await page.context().close();
  });

  test('a span ingested while the page is open appears in the graph and the timeline', async () => {
    const page = await open('#/s/charlie/graph');
    await page.waitForFunction(() => document.querySelector('[data-test=graph]')?.__cy?.nodes().length > 0);
    await page.waitForSelector('.conn[data-state=live]');
    await ingest(server.origin, [{ type: 'span.start', session_id: 'charlie', span_id: 'charlie-late', parent_id: 'charlie-analyst', kind: 'tool', name: 'late_tool', agent: 'analyst' }]);
    await page.waitForFunction(() => document.querySelector('[data-test=graph]').__cy.getElementById('charlie-late').nonempty(), null, { timeout: 10_000 });
    assert.equal(await page.evaluate(() => document.querySelector('[data-test=graph]').__cy.getElementById('charlie-late').data('status')), 'running');
    await page.click('.tabs a[href*="/timeline"]');
    await page.waitForFunction(() => document.querySelector('[data-test=timeline]')?.__timeline?.hits.some((h) => h.s.span_id === 'charlie-late'));
    await ingest(server.origin, [{ type: 'span.end', session_id: 'charlie', span_id: 'charlie-late', status: 'error', error: 'late failure' }]);
    await page.waitForFunction(() => document.querySelector('[data-test=timeline]').__timeline.hits.find((h) => h.s.span_id === 'charlie-late')?.s.status === 'error', null, { timeout: 10_000 });
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });

  test('the feed appends live items in time order', async () => {
    const page = await open('#/s/alpha/feed');
    await page.waitForSelector('[data-test=feed] .feed-item');
    await page.waitForSelector('.conn[data-state=live]');
    const before = await page.$$eval('[data-test=feed] .feed-item', (els) => els.length);
    const now = Date.now();
    await ingest(server.origin, [
      { type: 'event', session_id: 'alpha', event_id: 'alpha-late-decision', category: 'decision', name: 'route', message: 'take the north door', agent: 'planner', at: new Date(now).toISOString() },
      { type: 'span', session_id: 'alpha', span_id: 'alpha-late-llm', parent_id: 'alpha-planner', kind: 'llm', name: 'recheck', agent: 'planner', model: 'gpt-4o', started_at: new Date(now - 500).toISOString(), ended_at: new Date(now + 500).toISOString() },
    ]);
    await page.waitForFunction((n) => document.querySelectorAll('[data-test=feed] .feed-item').length === n + 2, before, { timeout: 10_000 });
    const last = await page.$$eval('[data-test=feed] .feed-item', (els) => els.slice(-2).map((e) => e.textContent));
    assert.match(last[0], /take the north door/);
    assert.match(last[1], /recheck answered/);
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });

  test('an agent that falls silent shows offline, and active again at its next heartbeat', async () => {
    await ingest(server.origin, [
      ...crewSession('hotel', { name: 'hotel live', running: true, agents: ['lookout'] }),
      { type: 'agent.status', session_id: 'hotel', agent: 'lookout', status: 'active', task: 'watch the door' },
    ]);
    const page = await open('#/s/hotel/agents');
    const badge = () => page.textContent('.card[data-agent=lookout] .badge');
    await page.waitForSelector('.card[data-agent=lookout] .badge');
    assert.equal(await badge(), 'active');
    await page.waitForFunction(() => document.querySelector('.card[data-agent=lookout] .badge').textContent === 'offline', null, { timeout: 10_000 });
    await ingest(server.origin, [{ type: 'agent.status', session_id: 'hotel', agent: 'lookout' }]);
    await page.waitForFunction(() => document.querySelector('.card[data-agent=lookout] .badge').textContent === 'active', null, { timeout: 10_000 });
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });

  test('every view renders without errors', async () => {
    const page = await open('#/s/bravo/graph');
    for (const [view, selector] of [['timeline', '[data-test=timeline]'], ['agents', '[data-test=agent-network]'], ['llm', '[data-test=llm-summary]'], ['tools', 'table'], ['feed', '[data-test=feed] .feed-item'], ['scores', '.panel']]) {
      await page.click(`.tabs a[href*="/${view}"]`);
      await page.waitForSelector(selector);
    }
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });
});

test('a model without a price shows its cost unknown, never $0', async () => {
  const t0 = Date.now() - 900_000;
  await ingest(server.origin, [
    ...crewSession('delta', { name: 'delta mixed', agents: ['planner', 'scout'], models: { scout: 'house-model-7' }, t0 }),
    ...crewSession('echo', { name: 'echo unpriced', agents: ['scout'], models: { scout: 'house-model-7' }, t0: t0 - 1000 }),
  ]);
  const page = await open('#/');
  await page.waitForSelector('tr[data-session=echo] [data-test=row-cost]');
  assert.match(await page.textContent('tr[data-session=delta] [data-test=row-cost]'), /^≥\u00a0\$0\.000/);
  assert.equal(await page.textContent('tr[data-session=echo] [data-test=row-cost]'), 'unknown');
  assert.equal(await page.getAttribute('tr[data-session=echo] [data-test=row-cost]', 'title'), '1 LLM call without a price (model not in the pricing table)');
  await page.goto(`${server.origin}/#/s/delta/agents`);
  await page.waitForSelector('[data-test=session-cost]');
  assert.match(await page.textContent('[data-test=session-cost]'), /^≥\u00a0\$/);
  await page.waitForSelector('[data-test=agent-cost]');
  const agentCosts = await page.$$eval('[data-test=agent-cost]', (els) => els.map((e) => e.textContent));
  assert.deepEqual(agentCosts.filter((c) => c === 'unknown').length, 1, `${agentCosts}`);
  assert.ok(agentCosts.some((c) => /^\$0\.000/.test(c)), `${agentCosts}`);
  await page.click('.tabs a[href*="/llm"]');
  await page.waitForSelector('[data-test=model-cost]');
  const modelCosts = await page.$$eval('[data-test=model-cost]', (els) => els.map((e) => e.textContent));
  assert.equal(modelCosts.length, 2, `${modelCosts}`);
  assert.ok(modelCosts.includes('unknown') && modelCosts.some((c) => c.startsWith('$')), `${modelCosts}`);
  assert.match(await page.textContent('[data-test=llm-summary]'), /Cost\s*≥\u00a0\$/);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('a session of 5,000 spans opens collapsed and the graph responds', async () => {
  await ingest(server.origin, bigSession('big', 5000));
  const page = await open('#/s/big/graph');
  await page.waitForFunction(() => document.querySelector('[data-test=graph]')?.__cy?.nodes().length > 0, null, { timeout: 30_000 });
  const shown = await page.evaluate(() => document.querySelector('[data-test=graph]').__cy.nodes().length);
  assert.ok(shown > 1 && shown <= 250, `collapsed to a readable size (${shown} nodes)`);
  // Double-clicking a collapsed agent opens its subtree.
  const p = await nodePoint(page, 'a7');
  assert.ok(p);
  await page.mouse.dblclick(p.x, p.y);
  await page.waitForFunction((n) => document.querySelector('[data-test=graph]').__cy.nodes().length > n, shown);
  // Finding a hidden span with the session's search reveals it.
  await page.fill('input[aria-label="Search the session"]', 's4999');
  await page.press('input[aria-label="Search the session"]', 'Enter');
  await page.waitForFunction(() => location.hash.includes('q=s4999'));
  await page.press('input[aria-label="Search the session"]', 'Enter');
  // Revealing it lays out the agent's 100 spans again: slow on a loaded 2-core machine.
  await page.waitForFunction(() => document.querySelector('[data-test=graph]').__cy.getElementById('s4999').nonempty(), null, { timeout: 60_000 });
  assert.ok(await graphHas(page, 's4999'));
  await page.context().close();
});

test('a server with a password shows its login, the overview after it, and logs out', async () => {
  const guarded = await startServer(['--password', 'hunter2']);
  try {
    const page = await newPage(browser, guarded.origin);
    // A deep link survives the login: the wrong password, then the right one.
    await page.goto(`${guarded.origin}/#/s/nowhere/feed?span=x1`);
    await page.waitForSelector('input[name=password]');
    await page.fill('input[name=password]', 'wrong');
    await page.click('button[type=submit]');
    await page.waitForSelector('.error');
    await page.fill('input[name=password]', 'hunter2');
    await page.click('button[type=submit]');
    await page.waitForSelector('[data-test=unknown-session]');
    assert.equal(new URL(page.url()).hash, '#/s/nowhere/feed?span=x1');
    await page.context().clearCookies();
    await page.goto(`${guarded.origin}/`);
    await page.waitForSelector('input[name=password]');
    await page.fill('input[name=password]', 'wrong');
    await page.click('button[type=submit]');
    await page.waitForSelector('.error');
    assert.match(await page.textContent('.error'), /not the password/);
    await page.fill('input[name=password]', 'hunter2');
    await page.click('button[type=submit]');
    await page.waitForSelector('.conn[data-state=live]');
    await page.waitForSelector('[data-test=headline]');
    assert.equal(new URL(page.url()).pathname, '/');
    await page.click('.logout button');
    await page.waitForSelector('input[name=password]');
    assert.equal(new URL(page.url()).pathname, '/login');
    await page.context().close();
  } finally {
    await guarded.stop();
  }
});

test('the page reconnects after the server restarts', async () => {
  const page = await open('#/s/charlie/graph');
  await page.waitForFunction(() => document.querySelector('.conn')?.dataset.state === 'live');
  await server.kill();
  await page.waitForFunction(() => document.querySelector('.conn').dataset.state === 'reconnecting', null, { timeout: 10_000 });
  // Off the live feed for a while, the page says what it shows may be stale.
  await page.waitForSelector('[data-test=stale]', { timeout: 10_000 });
  assert.match(await page.textContent('[data-test=stale]'), /Live updates stopped \d+ s ago: what you see may be out of date/);
  await server.start();
  await ingest(server.origin, [{ type: 'span', session_id: 'charlie', span_id: 'charlie-after', parent_id: 'charlie-analyst', kind: 'tool', name: 'after_restart', agent: 'analyst', started_at: new Date().toISOString(), ended_at: new Date().toISOString() }]);
  await page.waitForFunction(() => document.querySelector('.conn').dataset.state === 'live', null, { timeout: 15_000 });
  await page.waitForSelector('[data-test=stale]', { state: 'detached' });
  // The resync remounts the graph (it loads lazily), so it may be missing for a moment; with
  // every browser test file running at once on 2 cores, that moment has taken over 10 s.
  await page.waitForFunction(() => document.querySelector('[data-test=graph]')?.__cy?.getElementById('charlie-after').nonempty(), null, { timeout: 30_000 });
  await page.context().close();
});

test('refused input is shown on the page, with its reason', async () => {
  const own = await startServer();
  try {
    // Two refused native batches and an OTLP request the server cannot read.
    for (let i = 0; i < 2; i += 1) {
      const r = await fetch(`${own.origin}/api/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-ndjson' },
        body: '{"type":"span.start","session_id":"s","kind":"llm","name":"n"}\n',
      });
      assert.equal(r.status, 422);
    }
    const bad = await fetch(`${own.origin}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{not json' });
    assert.equal(bad.status, 400);
    const page = await newPage(browser, own.origin);
    await page.goto(`${own.origin}/#/`);
    await page.waitForSelector('.refusals');
    const line = await page.textContent('.refusals-line');
    assert.match(line, /2 batches refused in the last hour/);
    assert.match(line, /invalid_message \(span_id\)/);
    assert.match(line, /1 more reason/);
    await page.click('.refusals button:has-text("Details")');
    assert.equal(await page.$$eval('.refusals-table tbody tr', (rows) => rows.length), 2);
    if (process.env.FLIGHTDECK_SCREENSHOTS) await page.screenshot({ path: `${process.env.FLIGHTDECK_SCREENSHOTS}/refusals.png` });
    await page.click('.refusals button[aria-label=Dismiss]');
    await page.waitForSelector('.refusals', { state: 'detached' });
    assert.deepEqual(page.errors, []);
    await page.context().close();
  } finally {
    await own.stop();
  }
});
