// The trace tree in a real browser against a real `flightdeck serve`: rows in start order
// with subtree roll-ups, live insertion that keeps the rows being read in place, follow
// latest that leaves the selection alone, collapse and expand, the keyboard, re-rooting,
// and one sibling order live and after a reload.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pageSuite } from './suite.mjs';
import { bigSession, crewSession, ingest } from './harness.mjs';

const suite = pageSuite(crewSession('alpha', { name: 'alpha heist', t0: Date.now() - 300_000 }));

async function open(path) {
  const page = await suite.open(path);
  await page.waitForSelector('[data-test=tree] .tree-body .tree-row');
  return page;
}

/** The span ids of the rows in the DOM, top to bottom. */
const rowIds = (page) => page.$$eval('[data-test=tree] .tree-body .tree-row', (rows) => rows
  .sort((a, b) => a.offsetTop - b.offsetTop).map((r) => r.dataset.span));

/** Every row of the tree (not just those in the DOM), from the view's model. */
const allRows = (page) => page.evaluate(() => document.querySelector('[data-test=tree]').__tree.ids.slice());

const at = (t0, ms) => new Date(t0 + ms).toISOString();

test('a session opens on its tree: rows in start order, indented, with subtree roll-ups', async () => {
  const page = await open('#/s/alpha');
  assert.match(page.url(), /#\/s\/alpha$|#\/s\/alpha\/tree/);
  assert.deepEqual(await rowIds(page), ['alpha-root', 'alpha-planner', 'alpha-planner-llm', 'alpha-planner-tool', 'alpha-hacker', 'alpha-hacker-llm', 'alpha-hacker-tool']);
  const levels = await page.$$eval('[data-test=tree] .tree-body .tree-row', (rows) => rows.map((r) => r.getAttribute('aria-level')));
  assert.deepEqual(levels, ['1', '2', '3', '3', '2', '3', '3']);
  // 30 tokens per LLM call: the root rolls up both, an agent its own call, a call itself.
  const tokens = (id) => page.$eval(`[data-span="${id}"]`, (r) => r.children[6].textContent.trim());
  assert.equal(await tokens('alpha-root'), 'Σ 60');
  assert.equal(await tokens('alpha-planner'), 'Σ 30');
  assert.equal(await tokens('alpha-planner-llm'), '30');
  assert.match(await page.textContent('[data-span="alpha-planner-llm"]'), /gpt-4o/);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('collapse, collapse all, expand to a level and expand all', async () => {
  const page = await open('#/s/alpha/tree');
  await page.click('[data-span="alpha-planner"] .tree-toggle');
  assert.deepEqual(await rowIds(page), ['alpha-root', 'alpha-planner', 'alpha-hacker', 'alpha-hacker-llm', 'alpha-hacker-tool']);
  assert.equal(await page.getAttribute('[data-span="alpha-planner"]', 'aria-expanded'), 'false');
  await page.click('button:has-text("Collapse all")');
  assert.deepEqual(await rowIds(page), ['alpha-root']);
  await page.selectOption('select[aria-label="Expand to level"]', '2');
  assert.deepEqual(await rowIds(page), ['alpha-root', 'alpha-planner', 'alpha-hacker']);
  await page.click('button:has-text("Expand all")');
  assert.equal((await rowIds(page)).length, 7);
  await page.context().close();
});

test('the keyboard moves, collapses, expands, opens the detail and re-roots', async () => {
  const page = await open('#/s/alpha/tree');
  await page.focus('[data-test=tree]');
  const cursor = () => page.$eval('[data-test=tree] .tree-row.cursor', (r) => r.dataset.span);
  await page.keyboard.press('ArrowDown');
  assert.equal(await cursor(), 'alpha-root');
  await page.keyboard.press('ArrowDown');
  assert.equal(await cursor(), 'alpha-planner');
  await page.keyboard.press('ArrowLeft');
  assert.deepEqual(await rowIds(page), ['alpha-root', 'alpha-planner', 'alpha-hacker', 'alpha-hacker-llm', 'alpha-hacker-tool']);
  await page.keyboard.press('ArrowLeft');
  assert.equal(await cursor(), 'alpha-root', 'left on a collapsed row goes to its parent');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowRight');
  assert.equal((await rowIds(page)).length, 7);
  await page.keyboard.press('ArrowRight');
  assert.equal(await cursor(), 'alpha-planner-llm', 'right on an open row goes to its first child');
  await page.keyboard.press('Enter');
  await page.waitForSelector('[data-test=detail] .conv');
  assert.match(page.url(), /span=alpha-planner-llm/);
  assert.match(await page.textContent('[data-test=detail]'), /PROMPT for planner in alpha/);
  // Re-root at the hacker's task: only its subtree, and a way back.
  await page.click('[data-span="alpha-hacker"] .tree-label');
  await page.focus('[data-test=tree]');
  await page.keyboard.press('r');
  await page.waitForFunction(() => location.hash.includes('root=alpha-hacker'));
  await page.waitForFunction(() => document.querySelectorAll('[data-test=tree] .tree-body .tree-row').length === 3);
  assert.deepEqual(await rowIds(page), ['alpha-hacker', 'alpha-hacker-llm', 'alpha-hacker-tool']);
  assert.match(await page.textContent('[data-test=tree-crumbs]'), /Whole session.*alpha heist root.*hacker task/);
  await page.click('[data-test=tree-crumbs] button:has-text("Whole session")');
  await page.waitForFunction(() => document.querySelectorAll('[data-test=tree] .tree-body .tree-row').length === 7);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('spans arriving live slot in without moving the rows being read', async () => {
  await ingest(suite.server.origin, bigSession('tall', 600).filter((m) => m.type !== 'session.end'));
  const page = await open('#/s/tall/tree');
  // Follow is off for the reader who scrolls; read a row in the middle.
  await page.evaluate(() => { document.querySelector('[data-test=tree]').scrollTop = 6000; });
  await page.waitForTimeout(200);
  const probe = await page.evaluate(() => {
    const box = document.querySelector('[data-test=tree]').getBoundingClientRect();
    const rows = [...document.querySelectorAll('[data-test=tree] .tree-body .tree-row')];
    const r = rows.find((x) => x.getBoundingClientRect().top > box.top + 200);
    return { id: r.dataset.span, top: r.getBoundingClientRect().top };
  });
  const before = (await allRows(page)).length;
  // Ten new children of the first agent, which is above the rows in view.
  const t0 = Date.parse((await (await fetch(`${suite.server.origin}/api/v1/sessions/tall/spans`)).json()).find((s) => s.span_id === 'a0').started_at);
  await ingest(suite.server.origin, Array.from({ length: 10 }, (_, i) => ({
    type: 'span', session_id: 'tall', span_id: `early${i}`, parent_id: 'a0', kind: 'tool', name: `early ${i}`, agent: 'agent-0', started_at: at(t0, 1 + i), ended_at: at(t0, 2 + i),
  })));
  await page.waitForFunction((n) => document.querySelector('[data-test=tree]').__tree.ids.length === n + 10, before, { timeout: 10_000 });
  await page.waitForTimeout(100);
  const after = await page.evaluate((id) => document.querySelector(`[data-span="${id}"]`)?.getBoundingClientRect().top, probe.id);
  assert.ok(Math.abs(after - probe.top) < 1, `row ${probe.id} stayed at ${probe.top} (now ${after})`);
  // They sit under a0 in start order, before its older children.
  const ids = await allRows(page);
  const a0 = ids.indexOf('a0');
  assert.deepEqual(ids.slice(a0 + 1, a0 + 11), Array.from({ length: 10 }, (_, i) => `early${i}`));
  await page.context().close();
});

test('follow latest keeps the newest span in view and never moves the selection', async () => {
  const t0 = Date.now() - 10_000;
  await ingest(suite.server.origin, [
    { type: 'session.start', session_id: 'grow', name: 'grow' },
    { type: 'span.start', session_id: 'grow', span_id: 'g-root', kind: 'agent', name: 'root', agent: 'crew', started_at: at(t0, 0) },
    ...Array.from({ length: 60 }, (_, i) => ({ type: 'span', session_id: 'grow', span_id: `g${i}`, parent_id: 'g-root', kind: 'tool', name: `step ${i}`, agent: 'crew', started_at: at(t0, 10 + i), ended_at: at(t0, 11 + i) })),
  ]);
  const page = await open('#/s/grow/tree?span=g3');
  await page.waitForSelector('.conn[data-state=live]');
  assert.equal(await page.getAttribute('button:has-text("Follow latest")', 'aria-pressed'), 'true', 'a running session follows');
  await ingest(suite.server.origin, Array.from({ length: 40 }, (_, i) => ({ type: 'span', session_id: 'grow', span_id: `late${i}`, parent_id: 'g-root', kind: 'llm', name: `late ${i}`, agent: 'crew', started_at: at(t0, 5000 + i), ended_at: at(t0, 5001 + i) })));
  await page.waitForSelector('[data-span=late39]', { timeout: 10_000 });
  const visible = await page.evaluate(() => {
    const box = document.querySelector('[data-test=tree]').getBoundingClientRect();
    const r = document.querySelector('[data-span=late39]').getBoundingClientRect();
    return r.top >= box.top && r.bottom <= box.bottom + 1;
  });
  assert.ok(visible, 'the newest row is in view');
  assert.match(page.url(), /span=g3/);
  assert.match(await page.textContent('[data-test=detail] h2'), /step 3/);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('siblings keep one order live and after a reload, whatever order they arrived in', async () => {
  const t0 = Date.now() - 20_000;
  await ingest(suite.server.origin, [
    { type: 'session.start', session_id: 'order', name: 'order' },
    { type: 'span.start', session_id: 'order', span_id: 'o-root', kind: 'agent', name: 'root', agent: 'crew', started_at: at(t0, 0) },
  ]);
  const page = await open('#/s/order/tree');
  await page.waitForSelector('.conn[data-state=live]');
  // Arrive newest first, in three commits.
  for (const batch of [[5, 4], [3, 2], [1, 0]]) {
    await ingest(suite.server.origin, batch.map((i) => ({ type: 'span', session_id: 'order', span_id: `o${i}`, parent_id: 'o-root', kind: 'tool', name: `step ${i}`, agent: 'crew', started_at: at(t0, 100 + i * 10), ended_at: at(t0, 105 + i * 10) })));
  }
  await page.waitForFunction(() => document.querySelector('[data-test=tree]').__tree.ids.length === 7, null, { timeout: 10_000 });
  const live = await allRows(page);
  assert.deepEqual(live, ['o-root', 'o0', 'o1', 'o2', 'o3', 'o4', 'o5']);
  await page.reload();
  await page.waitForFunction(() => document.querySelector('[data-test=tree]')?.__tree?.ids.length === 7);
  assert.deepEqual(await allRows(page), live);
  await page.context().close();
});
