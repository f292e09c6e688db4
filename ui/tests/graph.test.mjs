// The graph in a real browser against a real `flightdeck serve`: siblings left to right in
// start order, the same layout live and after a reload, a wide fan-out wrapped into rows,
// and an opening view at a readable zoom with the running work in it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pageSuite } from './suite.mjs';
import { ingest } from './harness.mjs';

const suite = pageSuite();

const at = (t0, ms) => new Date(t0 + ms).toISOString();

async function openGraph(path) {
  const page = await suite.open(path);
  await page.waitForFunction(() => document.querySelector('[data-test=graph]')?.__cy?.nodes().length > 0);
  return page;
}

/** Model positions of the graph's nodes, by id. */
const positions = (page) => page.evaluate(() => Object.fromEntries(document.querySelector('[data-test=graph]').__cy.nodes().map((n) => [n.id(), n.position()])));

test('siblings are laid out in start order, the same live as after a reload', async () => {
  const t0 = Date.now() - 30_000;
  await ingest(suite.server.origin, [
    { type: 'session.start', session_id: 'order', name: 'order' },
    { type: 'span.start', session_id: 'order', span_id: 'root', kind: 'agent', name: 'crew', agent: 'crew', started_at: at(t0, 0) },
    { type: 'span.start', session_id: 'order', span_id: 'lead', parent_id: 'root', kind: 'agent', name: 'lead', agent: 'lead', started_at: at(t0, 10) },
  ]);
  const page = await openGraph('#/s/order/graph');
  await page.waitForSelector('.conn[data-state=live]');
  // Fourteen steps under the lead, arriving newest first in separate commits, and one more
  // agent after them.
  for (let i = 13; i >= 0; i -= 2) {
    await ingest(suite.server.origin, [i, i - 1].map((k) => ({ type: 'span', session_id: 'order', span_id: `step${k}`, parent_id: 'lead', kind: 'tool', name: `step ${k}`, agent: 'lead', started_at: at(t0, 100 + k * 10), ended_at: at(t0, 105 + k * 10) })));
  }
  await ingest(suite.server.origin, [{ type: 'span.start', session_id: 'order', span_id: 'late', parent_id: 'root', kind: 'agent', name: 'late', agent: 'late', started_at: at(t0, 5000) }]);
  await page.waitForFunction(() => document.querySelector('[data-test=graph]').__cy.nodes().length === 17, null, { timeout: 10_000 });
  await page.waitForTimeout(400);
  const live = await positions(page);
  // Start order reads like text: left to right, then the next row.
  const steps = Array.from({ length: 14 }, (_, k) => live[`step${k}`]);
  for (let k = 1; k < steps.length; k += 1) {
    const [a, b] = [steps[k - 1], steps[k]];
    assert.ok(b.y > a.y || (b.y === a.y && b.x > a.x), `step${k} comes after step${k - 1}: ${JSON.stringify([a, b])}`);
  }
  assert.ok(new Set(steps.map((p) => p.y)).size > 1, 'fourteen leaves wrap into more than one row');
  assert.ok(live.late.y > live.lead.y || live.late.x > live.lead.x, 'the later agent reads after the earlier one');
  await page.reload();
  await page.waitForFunction(() => document.querySelector('[data-test=graph]')?.__cy?.nodes().length === 17);
  assert.deepEqual(await positions(page), live);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('a wide session opens readable, on its running work, and "Jump to running" goes through it', async () => {
  const t0 = Date.now() - 60_000;
  const agents = Array.from({ length: 40 }, (_, a) => a);
  await ingest(suite.server.origin, [
    { type: 'session.start', session_id: 'wide', name: 'wide' },
    { type: 'span.start', session_id: 'wide', span_id: 'w-root', kind: 'chain', name: 'root', started_at: at(t0, 0) },
    ...agents.flatMap((a) => [
      { type: 'span', session_id: 'wide', span_id: `w${a}`, parent_id: 'w-root', kind: 'agent', name: `task ${a}`, agent: `agent-${a % 5}`, started_at: at(t0, 100 * a), ended_at: at(t0, 100 * a + 90) },
      { type: 'span', session_id: 'wide', span_id: `w${a}-llm`, parent_id: `w${a}`, kind: 'llm', name: 'think', agent: `agent-${a % 5}`, started_at: at(t0, 100 * a + 1), ended_at: at(t0, 100 * a + 50) },
    ]),
    { type: 'span.start', session_id: 'wide', span_id: 'w-now', parent_id: 'w39', kind: 'tool', name: 'still running', agent: 'agent-4', started_at: at(t0, 50_000) },
    { type: 'span.start', session_id: 'wide', span_id: 'w-early', parent_id: 'w2', kind: 'tool', name: 'long running', agent: 'agent-2', started_at: at(t0, 250) },
  ]);
  const page = await openGraph('#/s/wide/graph');
  await page.waitForTimeout(300);
  const view = () => page.evaluate(() => {
    const cy = document.querySelector('[data-test=graph]').__cy;
    const e = cy.extent();
    const inView = (id) => { const p = cy.getElementById(id).position(); return p.x >= e.x1 && p.x <= e.x2 && p.y >= e.y1 && p.y <= e.y2; };
    return { zoom: cy.zoom(), now: inView('w-now'), early: inView('w-early') };
  });
  const first = await view();
  assert.ok(first.zoom >= 0.75, `labels readable (zoom ${first.zoom})`);
  assert.ok(first.now, 'the newest running span is in view');
  await page.click('button:has-text("Jump to running")');
  await page.waitForTimeout(400);
  const jumped = await view();
  assert.ok(jumped.now, 'the first jump is to the newest running span');
  await page.click('button:has-text("Jump to running")');
  await page.waitForFunction(() => {
    const cy = document.querySelector('[data-test=graph]').__cy;
    const e = cy.extent();
    const p = cy.getElementById('w-early').position();
    return p.x >= e.x1 && p.x <= e.x2 && p.y >= e.y1 && p.y <= e.y2;
  }, null, { timeout: 3000 });
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('the minimap shows the whole graph and a click on it moves the view there', async () => {
  const page = await openGraph('#/s/wide/graph');
  await page.waitForSelector('[data-test=minimap]');
  // The dots are drawn: some pixels of the minimap are not blank.
  const inked = await page.$eval('[data-test=minimap]', (cv) => {
    const d = cv.getContext('2d').getImageData(0, 0, cv.width, cv.height).data;
    let n = 0;
    for (let i = 3; i < d.length; i += 4) if (d[i]) n += 1;
    return n;
  });
  assert.ok(inked > 50, `the minimap is drawn (${inked} pixels)`);
  const centre = () => page.evaluate(() => {
    const cy = document.querySelector('[data-test=graph]').__cy;
    const e = cy.extent();
    return { x: (e.x1 + e.x2) / 2, y: (e.y1 + e.y2) / 2, bb: cy.nodes().boundingBox() };
  });
  const box = await page.$eval('[data-test=minimap]', (cv) => { const r = cv.getBoundingClientRect(); return { x: r.left, y: r.top, w: r.width, h: r.height }; });
  // Its bottom right corner: the view goes to the bottom right of the graph.
  await page.mouse.click(box.x + box.w - 8, box.y + box.h - 8);
  const after = await centre();
  assert.ok(after.x > after.bb.x1 + after.bb.w * 0.6 && after.y > after.bb.y1 + after.bb.h * 0.6, `moved to the bottom right (${JSON.stringify(after)})`);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
