// The session page's rough edges, in a real browser against a real `flightdeck serve`: a
// finished session's timeline opens fitted, charts follow a theme switch, Back returns to
// the span opened before, an unknown session says so (and only that), a session that
// completed with errors is told apart from a failed one, the feed's LLM items, distinct
// agent colours within a session, and the one search that filters every view.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pageSuite } from './suite.mjs';
import { crewSession, ingest } from './harness.mjs';

const suite = pageSuite([
  ...crewSession('alpha', { name: 'alpha heist', t0: Date.now() - 300_000 }),
  ...crewSession('bravo', { name: 'bravo pipeline', status: 'failed', failTool: true, agents: ['coder', 'tester'], t0: Date.now() - 200_000 }),
  ...crewSession('kilo', { name: 'kilo with errors', failTool: true, agents: ['hacker', 'planner', 'mole', 'safecracker', 'driver', 'lookout'], t0: Date.now() - 150_000 }),
]);
const open = (path, options) => suite.open(path, options);

test("a finished session's timeline opens fitted, from its start, not following", async () => {
  const page = await open('#/s/alpha/timeline');
  await page.waitForFunction(() => document.querySelector('[data-test=timeline]')?.__timeline?.hits.length > 0);
  const t = await page.evaluate(() => {
    const tl = document.querySelector('[data-test=timeline]').__timeline;
    const { lo, hi } = tl.extent();
    return { follow: tl.follow, t0: tl.t0, lo, hi, end: tl.t0 + tl.plotWidth() * tl.scale };
  });
  assert.equal(t.follow, false);
  assert.ok(t.t0 <= t.lo && t.end >= t.hi, `the whole session is in view (${JSON.stringify(t)})`);
  assert.equal(await page.getAttribute('button:has-text("Follow latest")', 'aria-pressed'), 'false');
  await page.context().close();
});

test('the scores chart takes the new theme on a switch', async () => {
  const t0 = Date.now() - 50_000;
  await ingest(suite.server.origin, [
    { type: 'session.start', session_id: 'scored', name: 'scored' },
    ...[0.2, 0.5, 0.9].map((v, i) => ({ type: 'span', session_id: 'scored', span_id: `sc${i}`, kind: 'custom', name: 'judge', started_at: new Date(t0 + i * 1000).toISOString(), ended_at: new Date(t0 + i * 1000 + 10).toISOString(), scores: { 'energy.a': v, 'energy.b': 1 - v } })),
  ]);
  const page = await open('#/s/scored/scores', { theme: 'dark' });
  await page.waitForSelector('[data-test=convergence] canvas');
  /** The total line's colour in the chart, and the theme's text colour it should have. */
  const colours = () => page.evaluate(() => {
    const u = document.querySelector('[data-test=convergence]').__plot;
    const i = u.series.findIndex((s) => s.label === 'total');
    const stroke = u.series[i].stroke;
    return { total: typeof stroke === 'function' ? stroke(u, i) : stroke, text: getComputedStyle(document.documentElement).getPropertyValue('--text').trim() };
  });
  const dark = await colours();
  assert.equal(dark.total, dark.text);
  await page.click('button[aria-label="Toggle theme"]');
  await page.waitForFunction((old) => {
    const u = document.querySelector('[data-test=convergence]').__plot;
    const i = u.series.findIndex((s) => s.label === 'total');
    return u.series[i].stroke(u, i) !== old;
  }, dark.total);
  const light = await colours();
  assert.notEqual(light.text, dark.text);
  assert.equal(light.total, light.text, 'the total line is drawn in the light theme\'s text colour');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('opening spans adds history entries: Back returns to the span before, then to none', async () => {
  const page = await open('#/s/alpha/tree');
  await page.waitForSelector('[data-test=tree] .tree-body .tree-row');
  await page.click('[data-span="alpha-planner-llm"] .tree-label');
  await page.waitForFunction(() => document.querySelector('[data-test=detail] h2')?.textContent === 'think');
  await page.click('[data-span="alpha-hacker-tool"] .tree-label');
  await page.waitForFunction(() => document.querySelector('[data-test=detail] h2')?.textContent === 'scan');
  assert.match(page.url(), /span=alpha-hacker-tool/);
  await page.goBack();
  await page.waitForFunction(() => location.hash.includes('span=alpha-planner-llm'));
  await page.waitForSelector('[data-test=detail] .conv');
  assert.match(await page.textContent('[data-test=detail]'), /PROMPT for planner in alpha/);
  await page.goBack();
  await page.waitForSelector('[data-test=detail]', { state: 'detached' });
  assert.match(page.url(), /#\/s\/alpha\/tree$/, 'still in the session');
  await page.context().close();
});

test('an unknown session says so, without an empty toolbar or legend', async () => {
  const page = await open('#/s/no-such-session/timeline');
  await page.waitForSelector('[data-test=unknown-session]');
  assert.match(await page.textContent('[data-test=unknown-session]'), /No session “no-such-session”/);
  assert.equal(await page.$('.tabs'), null);
  assert.equal(await page.$('.view-tools'), null);
  assert.equal(await page.$('[data-test=timeline]'), null);
  await page.context().close();
});

test('a session that completed with errors is marked apart from a failed one', async () => {
  const page = await open('#/');
  await page.waitForSelector('tr[data-session=kilo]');
  assert.equal(await page.getAttribute('tr[data-session=kilo]', 'class'), 'with-errors');
  assert.equal(await page.getAttribute('tr[data-session=bravo]', 'class'), 'failed');
  assert.equal(await page.getAttribute('tr[data-session=alpha]', 'class'), '');
  assert.match(await page.textContent('tr[data-session=kilo] .badge'), /completed · 1 error/);
  await page.context().close();
});

test('the feed says a failed LLM call failed, shows answers and whole agent names', async () => {
  const now = Date.now();
  await ingest(suite.server.origin, [
    { type: 'session.start', session_id: 'talk', name: 'talk' },
    { type: 'span.start', session_id: 'talk', span_id: 't-root', kind: 'agent', name: 'conversation', agent: 'research_coordinator', started_at: new Date(now - 5000).toISOString() },
  ]);
  const page = await open('#/s/talk/feed');
  await page.waitForSelector('[data-test=feed] .feed-item');
  await page.waitForSelector('.conn[data-state=live]');
  await ingest(suite.server.origin, [
    { type: 'span', session_id: 'talk', span_id: 't-ok', parent_id: 't-root', kind: 'llm', name: 'draft', agent: 'research_coordinator', model: 'gpt-4o', started_at: new Date(now - 4000).toISOString(), ended_at: new Date(now - 3000).toISOString(), output: { role: 'assistant', content: 'The vault opens at nine.' }, usage: { input_tokens: 5, output_tokens: 7 } },
    { type: 'span', session_id: 'talk', span_id: 't-bad', parent_id: 't-root', kind: 'llm', name: 'retry', agent: 'research_coordinator', model: 'gpt-4o', started_at: new Date(now - 2000).toISOString(), ended_at: new Date(now - 1000).toISOString(), status: 'error', error: 'rate limited' },
  ]);
  await page.waitForFunction(() => document.querySelectorAll('[data-test=feed] .feed-item').length === 3, null, { timeout: 10_000 });
  const items = await page.$$eval('[data-test=feed] .feed-item', (els) => els.map((e) => e.textContent));
  assert.match(items[1], /draft answered · 12 tokens/);
  assert.match(items[1], /The vault opens at nine\./);
  assert.match(items[2], /retry failed: rate limited/);
  assert.doesNotMatch(items[2], /answered/);
  const who = await page.$eval('[data-test=feed] .feed-item .who', (el) => ({ scroll: el.scrollWidth, client: el.clientWidth }));
  assert.ok(who.scroll <= who.client, `the agent name is whole (${JSON.stringify(who)})`);
  // A session opened after the fact: the answers are read from the calls' spans.
  await page.goto(`${suite.server.origin}/#/s/alpha/feed`);
  await page.waitForFunction(() => [...document.querySelectorAll('[data-test=answer]')].map((e) => e.textContent).join('|') === 'answer of planner|answer of hacker', null, { timeout: 10_000 });
  await page.context().close();
});

test('the agents of a session get distinct colours', async () => {
  const page = await open('#/s/kilo/tree');
  await page.waitForSelector('[data-test=tree] .tree-body .tree-row');
  const hues = await page.$$eval('[data-test=tree] .tree-agent', (els) => {
    const by = new Map();
    for (const e of els) if (e.textContent) by.set(e.textContent, e.style.color);
    return [...by];
  });
  assert.equal(hues.length, 6);
  assert.equal(new Set(hues.map(([, c]) => c)).size, 6, `${JSON.stringify(hues)}`);
  await page.context().close();
});

test('one search filters every view, counts its matches, steps through them and lives in the URL', async () => {
  // A log line of the session itself, of no span.
  await ingest(suite.server.origin, [{ type: 'event', session_id: 'alpha', event_id: 'alpha-log', category: 'log', message: 'the crew took a break', at: new Date().toISOString() }]);
  const page = await open('#/s/alpha/tree');
  await page.waitForSelector('[data-test=tree] .tree-body .tree-row');
  const rows = () => page.$$eval('[data-test=tree] .tree-body .tree-row', (els) => els.sort((a, b) => a.offsetTop - b.offsetTop).map((r) => [r.dataset.span, r.classList.contains('dim')]));
  await page.selectOption('[data-test=session-filter] select[aria-label=Kind]', 'tool');
  await page.waitForFunction(() => location.hash.includes('kind=tool'));
  await page.waitForFunction(() => document.querySelectorAll('[data-test=tree] .tree-body .tree-row').length === 5);
  // The matches, with their ancestors (faded) to place them.
  assert.deepEqual(await rows(page), [['alpha-root', true], ['alpha-planner', true], ['alpha-planner-tool', false], ['alpha-hacker', true], ['alpha-hacker-tool', false]]);
  assert.match(await page.textContent('[data-test=match-count]'), /^2 matches$/);
  await page.click('button[aria-label="Next match"]');
  await page.waitForFunction(() => location.hash.includes('span=alpha-planner-tool'));
  assert.match(await page.textContent('[data-test=match-count]'), /^1 of 2 matches$/);
  await page.click('button[aria-label="Next match"]');
  await page.waitForFunction(() => location.hash.includes('span=alpha-hacker-tool'));
  // Text narrows further: "planner" in the agent's name.
  await page.fill('input[aria-label="Search the session"]', 'planner');
  await page.waitForFunction(() => location.hash.includes('q=planner'));
  await page.waitForFunction(() => document.querySelectorAll('[data-test=tree] .tree-body .tree-row').length === 3);
  assert.match(await page.textContent('[data-test=match-count]'), /1 match$/);
  // Every other view takes the same filter.
  await page.click('.tabs a[href*="/graph"]');
  await page.waitForFunction(() => document.querySelector('[data-test=graph]')?.__cy?.nodes().length === 7);
  await page.waitForFunction(() => document.querySelector('[data-test=graph]').__cy.nodes('.dim').length === 6);
  assert.deepEqual(await page.evaluate(() => document.querySelector('[data-test=graph]').__cy.nodes().filter((n) => !n.hasClass('dim')).map((n) => n.id())), ['alpha-planner-tool']);
  await page.click('.tabs a[href*="/timeline"]');
  await page.waitForFunction(() => document.querySelector('[data-test=timeline]')?.__timeline?.filter);
  assert.deepEqual(await page.evaluate(() => {
    const tl = document.querySelector('[data-test=timeline]').__timeline;
    return tl.hits.filter((h) => tl.filter(h.s)).map((h) => h.s.span_id);
  }), ['alpha-planner-tool']);
  await page.click('.tabs a[href*="/llm"]');
  await page.waitForSelector('text=No LLM call matches the search.');
  await page.click('.tabs a[href*="/tools"]');
  await page.waitForSelector('table');
  assert.match(await page.textContent('.page table tbody'), /scan\s*1\s*0/);
  await page.click('.tabs a[href*="/feed"]');
  await page.waitForSelector('[data-test=feed] .feed-item');
  const feed = await page.$$eval('[data-test=feed] .feed-item', (els) => els.map((e) => e.textContent));
  assert.equal(feed.length, 1, `${feed}`);
  assert.match(feed[0], /scan ok/);
  // Shared by its URL: a reload keeps it.
  await page.reload();
  await page.waitForSelector('[data-test=feed] .feed-item');
  assert.equal(await page.inputValue('input[aria-label="Search the session"]'), 'planner');
  assert.equal((await page.$$('[data-test=feed] .feed-item')).length, 1);
  await page.click('[data-test=session-filter] button:has-text("Clear")');
  await page.waitForFunction(() => document.querySelectorAll('[data-test=feed] .feed-item').length > 1);
  assert.doesNotMatch(page.url(), /kind=|q=/);
  // Text that only an input holds (the server searches the payloads).
  await page.click('.tabs a[href*="/tree"]');
  await page.fill('input[aria-label="Search the session"]', 'prompt for HACKER');
  await page.waitForFunction(() => document.querySelectorAll('[data-test=tree] .tree-body .tree-row').length === 3);
  assert.deepEqual((await rows(page)).map(([id]) => id), ['alpha-root', 'alpha-hacker', 'alpha-hacker-llm']);
  assert.match(await page.textContent('[data-test=match-count]'), /^1 match$/);
  // What belongs to no span is found by its text.
  await page.fill('input[aria-label="Search the session"]', 'took a BREAK');
  await page.waitForFunction(() => location.hash.includes('q=took'));
  await page.click('.tabs a[href*="/feed"]');
  await page.waitForSelector('[data-test=feed]');
  await page.waitForFunction(() => document.querySelectorAll('[data-test=feed] .feed-item').length === 1);
  assert.match(await page.textContent('[data-test=feed] .feed-item'), /the crew took a break/);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('the detail panel: tool calls as a table, parent and children links, events, live duration, resizing', async () => {
  const now = Date.now();
  await ingest(suite.server.origin, [
    { type: 'session.start', session_id: 'deta', name: 'deta' },
    { type: 'span.start', session_id: 'deta', span_id: 'd-agent', kind: 'agent', name: 'plan the job', agent: 'planner', started_at: new Date(now - 8000).toISOString() },
    {
      type: 'span', session_id: 'deta', span_id: 'd-llm', parent_id: 'd-agent', kind: 'llm', name: 'choose', agent: 'planner', model: 'gpt-4o',
      started_at: new Date(now - 7000).toISOString(), ended_at: new Date(now - 6000).toISOString(),
      input: [{ role: 'user', content: 'open the vault' }],
      output: { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'crack_safe', arguments: '{"method":"manipulation","safe":"a Diebold time-lock"}' } }] },
    },
    { type: 'span', session_id: 'deta', span_id: 'd-tool', parent_id: 'd-agent', kind: 'tool', name: 'crack_safe', agent: 'planner', started_at: new Date(now - 5000).toISOString(), ended_at: new Date(now - 4000).toISOString(), input: { method: 'manipulation', attempts: 3 } },
    { type: 'event', session_id: 'deta', span_id: 'd-tool', event_id: 'ev1', category: 'log', level: 'warn', name: 'dial', message: 'the dial sticks at 40', at: new Date(now - 4500).toISOString() },
  ]);
  const page = await open('#/s/deta/tree?span=d-llm');
  await page.waitForSelector('[data-test=detail] [data-test=tool-call-name]');
  assert.equal(await page.textContent('[data-test=detail] [data-test=tool-call-name]'), 'crack_safe');
  const args = await page.$$eval('[data-test=detail] [data-test=tool-args] tr', (trs) => trs.map((tr) => [tr.querySelector('th').textContent, tr.querySelector('td').textContent]));
  assert.deepEqual(args, [['method', 'manipulation'], ['safe', 'a Diebold time-lock']]);
  // The parent is a link; its children are links.
  await page.click('[data-test=span-links] button[data-span=d-agent]');
  await page.waitForFunction(() => document.querySelector('[data-test=detail] h2')?.textContent === 'plan the job');
  assert.match(await page.textContent('[data-test=span-links]'), /choose, crack_safe/);
  // A running span's duration ticks.
  const d1 = await page.textContent('[data-test=span-duration]');
  assert.match(d1, /so far/);
  await page.waitForFunction((d) => document.querySelector('[data-test=span-duration]').textContent !== d, d1, { timeout: 5000 });
  await page.click('[data-test=span-links] button[data-span=d-tool]');
  await page.waitForSelector('[data-test=span-events]');
  assert.match(await page.textContent('[data-test=span-events]'), /dial.*the dial sticks at 40/);
  // A tool's input reads as its arguments.
  await page.waitForSelector('[data-test=detail] [data-test=tool-args] th');
  assert.deepEqual(await page.$$eval('[data-test=detail] [data-test=tool-args] th', (ths) => ths.map((t) => t.textContent)), ['method', 'attempts']);
  // Dragging the left edge resizes the panel, and the width is kept.
  const before = await page.$eval('[data-test=detail]', (el) => el.getBoundingClientRect().width);
  const edge = await page.$eval('.detail-resize', (el) => { const r = el.getBoundingClientRect(); return { x: r.left + r.width / 2, y: r.top + 200 }; });
  await page.mouse.move(edge.x, edge.y);
  await page.mouse.down();
  await page.mouse.move(edge.x - 150, edge.y, { steps: 5 });
  await page.mouse.up();
  const after = await page.$eval('[data-test=detail]', (el) => el.getBoundingClientRect().width);
  assert.ok(Math.abs(after - before - 150) < 6, `wider by the drag (${before} -> ${after})`);
  await page.reload();
  await page.waitForSelector('[data-test=detail]');
  assert.ok(Math.abs(await page.$eval('[data-test=detail]', (el) => el.getBoundingClientRect().width) - after) < 3);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('a running session says what is happening now: the innermost running work and waiting reviews', async () => {
  const now = Date.now();
  await ingest(suite.server.origin, [
    { type: 'session.start', session_id: 'busy', name: 'busy' },
    { type: 'span.start', session_id: 'busy', span_id: 'b-root', kind: 'agent', name: 'crew', agent: 'lead', started_at: new Date(now - 9000).toISOString() },
    { type: 'span.start', session_id: 'busy', span_id: 'b-think', parent_id: 'b-root', kind: 'llm', name: 'think', agent: 'planner', model: 'gpt-4o', started_at: new Date(now - 3000).toISOString() },
    { type: 'span.start', session_id: 'busy', span_id: 'b-gate', parent_id: 'b-root', kind: 'review', name: 'Go for the vault?', agent: 'safecracker', started_at: new Date(now - 2000).toISOString() },
    { type: 'span', session_id: 'busy', span_id: 'b-done', parent_id: 'b-root', kind: 'tool', name: 'scan', agent: 'hacker', started_at: new Date(now - 8000).toISOString(), ended_at: new Date(now - 7000).toISOString() },
  ]);
  const page = await open('#/s/busy/tree');
  await page.waitForSelector('[data-test=now-strip] .now-item');
  const items = await page.$$eval('[data-test=now-strip] .now-item', (els) => els.map((e) => [e.dataset.span, e.textContent.replace(/\s+/g, ' ').trim()]));
  assert.deepEqual(items.map(([id]) => id), ['b-gate', 'b-think'], 'the crew span runs only through its children');
  assert.match(items[0][1], /safecracker.*waiting on a person.*Go for the vault\?.*\d+(\.\d)? s/);
  assert.match(items[1][1], /planner.*think \(gpt-4o\)/);
  await page.click('[data-test=now-strip] .now-item[data-span=b-think]');
  await page.waitForFunction(() => location.hash.includes('span=b-think'));
  await page.goto(`${suite.server.origin}/#/s/alpha/tree`);
  await page.waitForSelector('[data-test=tree] .tree-body .tree-row');
  assert.equal(await page.$('[data-test=now-strip]'), null, 'a finished session has no strip');
  await page.context().close();
});

test('the overview sorts by a column, filters by part of a name, and its figures follow the filters', async () => {
  const page = await open('#/');
  await page.waitForSelector('tr[data-session=kilo]');
  // The trend of cost and tokens over the sessions' start times.
  await page.waitForSelector('[data-test=trend] svg rect');
  assert.equal(await page.$$eval('[data-test=trend] svg', (s) => s.length), 2);
  const rows = () => page.$$eval('[data-test=sessions] tbody tr', (trs) => trs.map((tr) => tr.dataset.session));
  await page.click('[data-test=sessions] th:has-text("Spans")');
  const spans = await page.$$eval('[data-test=sessions] tbody tr td:nth-child(4)', (tds) => tds.map((td) => Number(td.textContent.replace(/\D/g, ''))));
  assert.deepEqual(spans, [...spans].sort((a, b) => b - a), 'most spans first');
  assert.equal((await rows(page))[0], 'kilo');
  await page.click('[data-test=sessions] th:has-text("Spans")');
  assert.equal(await page.getAttribute('[data-test=sessions] th:has-text("Spans")', 'aria-sort'), 'ascending');
  await page.fill('input[name=agent]', 'OOKOU');
  await page.waitForFunction(() => location.hash.includes('agent=OOKOU'));
  await page.waitForFunction(() => document.querySelectorAll('[data-test=sessions] tbody tr').length === 1);
  assert.deepEqual(await rows(page), ['kilo'], 'lookout, by part of its name');
  // The headline follows the filters: one session of 19 spans (a root, six agents with a
  // call and a tool each).
  const card = (label) => page.$$eval('[data-test=headline] .stat', (els, l) => els.find((e) => e.querySelector('.label').textContent === l)?.querySelector('.value').textContent, label);
  await page.waitForFunction(() => document.querySelector('[data-test=headline] .stat .value')?.textContent === '1');
  assert.match(await page.textContent('[data-test=headline-scope]'), /matching the filters/);
  assert.equal(await card('Avg steps / session'), '19.0');
  await page.fill('input[name=agent]', '');
  await page.fill('input[name=model]', '4o');
  await page.waitForFunction(() => location.hash.includes('model=4o') && !location.hash.includes('agent='));
  await page.waitForFunction(() => document.querySelectorAll('[data-test=sessions] tbody tr').length >= 3);
  assert.ok((await rows(page)).includes('alpha'));
  await page.context().close();
});
