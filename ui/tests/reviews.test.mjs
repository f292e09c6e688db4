// Review gates in a real browser against a real `flightdeck serve`: a waiting agent process
// is released by a click on Approve; Edit sends the revised text and the agent receives it;
// the countdown reaches zero and the agent gets the timeout action; the badge counts three
// pending reviews; a review shows as a gate in the graph and the timeline, with its waiting
// time and, once decided, the decision.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { launch, newPage } from './browser.mjs';
import { crewSession, ingest, startServer } from './harness.mjs';

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** Starts an agent process that opens `review` and waits; resolves to what it received. */
function agent(review) {
  const proc = spawn(process.execPath, [join(import.meta.dirname, 'agent.mjs'), server.origin, JSON.stringify(review)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  proc.stdout.on('data', (d) => { out += d; });
  return new Promise((ok, fail) => {
    proc.on('exit', (code) => (code === 0 ? ok(JSON.parse(out)) : fail(new Error(`agent exited ${code}`))));
  });
}

async function open(path = '') {
  const page = await newPage(browser, server.origin);
  await page.goto(`${server.origin}/${path}`);
  return page;
}

test('a waiting agent is released by a click on Approve', async () => {
  const page = await open();
  const got = agent({ session_id: 'ui-a', review_id: 'ui-approve', title: 'Before the vault', task: 'open the vault', output: 'drill the door', timeout_ms: 60_000 });
  await page.waitForSelector('.review-panel[data-review=ui-approve]');
  const text = await page.textContent('.review-panel');
  assert.match(text, /open the vault/);
  assert.match(text, /Auto-continue in 0:5\d|Auto-continue in 1:00/);
  await page.click('.review-panel button:has-text("Approve")');
  const r = await got;
  assert.equal(r.decision, 'continue');
  await page.waitForSelector('.review-panel', { state: 'detached' });
  await page.close();
});

test('Edit sends the revised text and the agent receives it', async () => {
  const page = await open();
  const got = agent({ session_id: 'ui-e', review_id: 'ui-edit', output: 'git push --force', timeout_ms: 60_000 });
  await page.waitForSelector('.review-panel[data-review=ui-edit]');
  await page.click('.review-panel button:has-text("Edit")');
  await page.fill('.review-editor', 'git push');
  await page.click('.review-panel button:has-text("Submit edit")');
  const r = await got;
  assert.equal(r.decision, 'edit');
  assert.equal(r.revised_output, 'git push');
  await page.close();
});

test('JSON output is validated before an edit is sent', async () => {
  const page = await open();
  const got = agent({ session_id: 'ui-j', review_id: 'ui-json', output: { tool_calls: [{ name: 'delete_file', arguments: '{"path":"/tmp/x"}' }] }, timeout_ms: 60_000 });
  await page.waitForSelector('.review-panel[data-review=ui-json] .review-call-name');
  assert.equal(await page.textContent('.review-call-name'), 'delete_file');
  assert.match(await page.textContent('.review-args'), /path/);
  await page.keyboard.press('e');
  await page.fill('.review-editor', '{not json');
  await page.click('.review-panel button:has-text("Submit edit")');
  await page.waitForSelector('.review-panel [role=alert]');
  assert.match(await page.textContent('.review-panel [role=alert]'), /not valid JSON/);
  await page.fill('.review-editor', '{"tool_calls":[{"name":"delete_file","arguments":"{\\"path\\":\\"/tmp/y\\"}"}]}');
  await page.click('.review-panel button:has-text("Submit edit")');
  const r = await got;
  assert.equal(r.decision, 'edit', JSON.stringify(r));
  assert.equal(r.revised_output.tool_calls[0].arguments, '{"path":"/tmp/y"}');
  await page.close();
});

test('the countdown reaches zero and the agent gets the timeout action', async () => {
  const page = await open();
  const got = agent({ session_id: 'ui-t', review_id: 'ui-timeout', output: 'x', timeout_ms: 2500, on_timeout: 'exit_early' });
  await page.waitForSelector('.review-panel[data-review=ui-timeout]');
  assert.match(await page.textContent('.review-clock'), /Auto-exit in 0:0[0-3]/);
  const r = await got;
  assert.equal(r.state, 'timed_out');
  assert.equal(r.decision, 'exit_early');
  await page.waitForSelector('.review-panel', { state: 'detached' });
  await page.close();
});

test('the badge counts three pending reviews, and the Reviews page lists them and the history', async () => {
  const page = await open();
  const agents = [1, 2, 3, 4].map((i) => agent({ session_id: 'ui-q', review_id: `ui-q${i}`, title: `gate ${i}`, output: `o${i}`, timeout_ms: 60_000 + i * 1000 }));
  await page.waitForFunction(() => document.querySelector('.review-more')?.textContent === '+3 pending', null, { timeout: 10_000 })
    .catch(async (e) => { throw new Error(`${e.message}: ${await page.textContent('.review-panel').catch(() => 'no panel')}`); });
  await page.goto(`${server.origin}/#/reviews`);
  await page.waitForFunction(() => document.querySelectorAll('.reviews-page tr[data-review^=ui-q]').length === 4);
  for (let i = 0; i < 4; i += 1) {
    await page.keyboard.press('a');
    await page.waitForFunction((n) => document.querySelectorAll('.reviews-page table.pending tr[data-review^=ui-q]').length <= n, 3 - i);
  }
  const results = await Promise.all(agents);
  assert.deepEqual(results.map((r) => r.decision), ['continue', 'continue', 'continue', 'continue']);
  await page.screenshot({ path: join(process.env.FLIGHTDECK_SHOTS || '/tmp', 'reviews-page.png'), fullPage: true });
  await page.close();
});

test('a review is a gate in the graph and the timeline, with its waiting time and then its decision', async () => {
  await ingest(server.origin, crewSession('ui-g', { name: 'gated', running: true }));
  const got = agent({ session_id: 'ui-g', review_id: 'ui-gate', span_id: 'ui-g-planner', agent: 'planner', title: 'Go for the vault?', output: [{ name: 'crack_safe', arguments: { method: 'drill' } }], timeout_ms: 60_000 });
  const page = await open('#/s/ui-g/graph');
  const node = () => page.evaluate(() => {
    const n = document.querySelector('[data-test=graph]').__cy.getElementById('review-ui-gate');
    return n.nonempty() ? { label: n.data('label'), shape: n.style('shape'), border: n.style('border-style'), status: n.data('status') } : null;
  });
  await page.waitForFunction(() => document.querySelector('[data-test=graph]')?.__cy?.getElementById('review-ui-gate').nonempty(), null, { timeout: 10_000 });
  const waiting = await node();
  assert.equal(waiting.shape, 'diamond');
  assert.equal(waiting.border, 'dashed');
  assert.match(waiting.label, /^Go for the vault\?\nwaiting \d/);
  // The label counts on while it waits.
  await page.waitForFunction((before) => document.querySelector('[data-test=graph]').__cy.getElementById('review-ui-gate').data('label') !== before, waiting.label);
  await page.screenshot({ path: join(process.env.FLIGHTDECK_SHOTS || '/tmp', 'review-gate-graph.png') });

  await page.click('.tabs a[href*="/timeline"]');
  await page.waitForFunction(() => document.querySelector('[data-test=timeline]')?.__timeline?.hits.some((h) => h.s.span_id === 'review-ui-gate' && h.s.kind === 'review'));
  await page.screenshot({ path: join(process.env.FLIGHTDECK_SHOTS || '/tmp', 'review-gate-timeline-waiting.png') });
  await page.click('.review-panel button:has-text("Exit early")');
  assert.equal((await got).decision, 'exit_early');
  await page.waitForFunction(() => document.querySelector('[data-test=timeline]').__timeline.hits.find((h) => h.s.span_id === 'review-ui-gate')?.s.status === 'ok', null, { timeout: 10_000 });
  await page.screenshot({ path: join(process.env.FLIGHTDECK_SHOTS || '/tmp', 'review-gate-timeline.png') });
  await page.click('.tabs a[href*="/graph"]');
  await page.waitForFunction(() => /waited .* · exit early/.test(document.querySelector('[data-test=graph]')?.__cy?.getElementById('review-ui-gate').data('label') || ''), null, { timeout: 10_000 })
    .catch(async (e) => { throw new Error(`${e.message}: ${JSON.stringify(await node())}`); });
  assert.equal((await node()).border, 'solid');
  await page.close();
});
