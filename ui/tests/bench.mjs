// UI benchmark (prints figures, asserts nothing):
//   node ui/tests/bench.mjs [spans ...]      default: 5000 10000 (graph, timeline)
//   FLIGHTDECK_BENCH_TREE="10000 100000"     the sizes for the tree (these are the default)
//   FLIGHTDECK_BENCH_LOGS=100000             log lines stored before the Logs page opens
// - first paint of a big session's tree, graph and timeline: ms from navigation start to
//   the first frame that shows the session (Performance API, requestAnimationFrame), beside
//   the spans API's own answer time for the same session;
// - first paint of the Logs page with 100,000 lines stored, beside the logs API's own answer
//   for the same first page and the page's own start (the same page filtered to a session
//   with no lines, after one warm-up navigation), in the same run;
// - frame rate while a session grows live: requestAnimationFrame callbacks counted for 10 s
//   while spans are ingested at 200 spans/s, in the graph and in the timeline, beside an
//   empty page's frame rate under the same ingest (the same-run baseline: software
//   rendering on a busy machine does not reach 60 fps even with nothing to draw).
// Uses FLIGHTDECK_BIN, else target/release/flightdeck when built, else the debug binary.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { launch, newPage } from './browser.mjs';
import { bigSession, bin, ingest, startServer } from './harness.mjs';

const root = resolve(import.meta.dirname, '../..');
if (!process.env.FLIGHTDECK_BIN && existsSync(join(root, 'target/release/flightdeck'))) process.env.FLIGHTDECK_BIN = join(root, 'target/release/flightdeck');
const sizes = process.argv.slice(2).map(Number).filter(Boolean);
const server = await startServer();
const browser = await launch();
console.log(`binary: ${bin()}; browser: Debian Chromium headless (software rendering)`);

/** ms from navigation start to the first frame showing the session; `snapshot`: when its live snapshot arrived. */
async function firstPaint(id, view, ready) {
  return firstPaintAt(`#/s/${id}/${view}`, ready);
}

/** ms from navigation start to the first frame for which `ready` holds, on page `hash`. */
async function firstPaintAt(hash, ready) {
  const page = await newPage(browser, server.origin);
  // Note when the biggest live message (the session's snapshot) arrives.
  await page.addInitScript(() => {
    const Ws = window.WebSocket;
    window.__snapshot = { at: 0, size: 0 };
    window.WebSocket = class extends Ws {
      constructor(...args) {
        super(...args);
        this.addEventListener('message', (e) => {
          if (e.data.length > window.__snapshot.size) window.__snapshot = { at: performance.now(), size: e.data.length };
        });
      }
    };
  });
  await page.goto(`${server.origin}/${hash}`);
  await page.waitForFunction(ready, null, { timeout: 60_000 });
  const ms = await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r(performance.now())))));
  const snapshot = await page.evaluate(() => window.__snapshot.at);
  await page.context().close();
  return { ms, snapshot };
}

const treeReady = () => document.querySelector('[data-test=tree] .tree-body .tree-row') && document.querySelector('[data-test=tree]').__tree.ids.length > 0;
const graphReady = () => document.querySelector('[data-test=graph]')?.__cy?.nodes().length > 0;
const timelineReady = () => document.querySelector('[data-test=timeline]')?.__timeline?.hits.length > 0;

for (const n of sizes.length ? sizes : [5000, 10000]) {
  const id = `bench-${n}`;
  await ingest(server.origin, bigSession(id, n));
  const t = Date.now();
  await (await fetch(`${server.origin}/api/v1/sessions/${id}/spans`)).json();
  const api = Date.now() - t;
  const g = await firstPaint(id, 'graph', graphReady);
  const tl = await firstPaint(id, 'timeline', timelineReady);
  console.log(`${n} spans: first paint graph ${g.ms.toFixed(0)} ms, timeline ${tl.ms.toFixed(0)} ms (spans API alone ${api} ms)`);
}

const treeSizes = (process.env.FLIGHTDECK_BENCH_TREE || '10000 100000').split(/\s+/).map(Number).filter(Boolean);
for (const n of treeSizes) {
  const id = `bench-tree-${n}`;
  await ingest(server.origin, bigSession(id, n));
  const t = Date.now();
  await (await fetch(`${server.origin}/api/v1/sessions/${id}/spans`)).json();
  const api = Date.now() - t;
  const paint = await firstPaint(id, 'tree', treeReady);
  console.log(`${n} spans: first paint tree ${paint.ms.toFixed(0)} ms (spans API alone ${api} ms, ${(paint.ms / api).toFixed(1)}x it; the page's own part, from the snapshot's arrival at ${paint.snapshot.toFixed(0)} ms to the frame: ${(paint.ms - paint.snapshot).toFixed(0)} ms)`);
}

const logLines = Number(process.env.FLIGHTDECK_BENCH_LOGS || 100_000);
if (logLines > 0) {
  const t0 = Date.now() - 3_600_000;
  const levels = ['debug', 'info', 'info', 'info', 'warn', 'error'];
  for (let first = 0; first < logLines; first += 10_000) {
    const batch = [];
    for (let i = first; i < Math.min(first + 10_000, logLines); i += 1) {
      batch.push({ type: 'event', session_id: `bench-logs-${i % 20}`, event_id: `l${i}`, category: 'log', level: levels[i % levels.length], agent: `agent-${i % 8}`, message: `step ${i}: fetched page ${i % 97} of the catalogue and queued ${i % 13} follow-ups`, at: new Date(t0 + i * 10).toISOString() });
    }
    await ingest(server.origin, batch);
  }
  const t = Date.now();
  await (await fetch(`${server.origin}/api/v1/logs?limit=1000`)).json();
  const api = Date.now() - t;
  const shown = () => document.querySelector('[data-test=logs] .log-line');
  const counted = () => document.querySelector('[data-test=log-count]')?.textContent.startsWith('0 ');
  await firstPaintAt('#/logs?session=no-such-session', counted); // warms the browser's caches
  const empty = await firstPaintAt('#/logs?session=no-such-session', counted);
  const full = await firstPaintAt('#/logs', shown);
  console.log(`${logLines} log lines: first paint Logs ${full.ms.toFixed(0)} ms (logs API alone for its first 1,000 lines ${api} ms; baseline: the page's start, filtered to a session with no lines, ${empty.ms.toFixed(0)} ms, so the lines cost ${(full.ms - empty.ms).toFixed(0)} ms)`);
}

/** Counts animation frames on `page` while spans go to session `id` at `rate`/s for `seconds`. */
async function framesWhileGrowing(page, id, rate, seconds) {
  await page.evaluate(() => {
    window.__frames = [];
    const tick = (t) => { window.__frames.push(t); requestAnimationFrame(tick); };
    requestAnimationFrame(tick);
  });
  let sent = 0;
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    const batch = [];
    for (let i = 0; i < rate / 10; i += 1, sent += 1) {
      const now = new Date().toISOString();
      batch.push({ type: 'span', session_id: id, span_id: `s${sent}`, parent_id: `a${sent % 8}`, kind: sent % 2 ? 'tool' : 'llm', name: 'step', agent: `agent-${sent % 8}`, started_at: now, ended_at: now });
    }
    await ingest(server.origin, batch);
    await new Promise((r) => setTimeout(r, 100));
  }
  const frames = await page.evaluate(() => window.__frames);
  const span = (frames[frames.length - 1] - frames[0]) / 1000;
  const gaps = frames.slice(1).map((f, i) => f - frames[i]).sort((a, b) => a - b);
  return { fps: (frames.length - 1) / span, p95gap: gaps[Math.floor(gaps.length * 0.95)], worst: gaps[gaps.length - 1], sent };
}

async function growingSession(id) {
  const t0 = Date.now();
  await ingest(server.origin, [
    { type: 'session.start', session_id: id, name: id },
    { type: 'span.start', session_id: id, span_id: 'root', kind: 'chain', name: 'root', started_at: new Date(t0).toISOString() },
    ...Array.from({ length: 8 }, (_, a) => ({ type: 'span.start', session_id: id, span_id: `a${a}`, parent_id: 'root', kind: 'agent', name: `agent ${a}`, agent: `agent-${a}`, started_at: new Date(t0).toISOString() })),
  ]);
}

/** Frames per second in `view` while spans arrive at `rate`/s for `seconds`. */
async function liveFps(view, ready, rate = 200, seconds = 10) {
  const id = `live-${view}`;
  await growingSession(id);
  const page = await newPage(browser, server.origin);
  await page.goto(`${server.origin}/#/s/${id}/${view}`);
  await page.waitForFunction(ready, null, { timeout: 30_000 });
  const r = await framesWhileGrowing(page, id, rate, seconds);
  const shown = await page.evaluate((v) => ({
    tree: () => document.querySelector('[data-test=tree]').__tree.ids.length,
    graph: () => document.querySelector('[data-test=graph]').__cy.nodes().length,
    timeline: () => document.querySelector('[data-test=timeline]').__timeline.lanes.place.size,
  }[v]()), view);
  await page.context().close();
  return { ...r, shown };
}

/** The same-run baseline: an empty page's frame rate while the same ingest runs beside it. */
async function emptyPageFps(rate = 200, seconds = 10) {
  await growingSession('live-empty');
  const page = await newPage(browser, server.origin);
  await page.setContent('<!doctype html><title>empty</title>');
  const r = await framesWhileGrowing(page, 'live-empty', rate, seconds);
  await page.context().close();
  return r;
}

const base = await emptyPageFps();
console.log(`baseline: an empty page ${base.fps.toFixed(1)} fps while the same spans arrive (frame gap p95 ${base.p95gap.toFixed(1)} ms, worst ${base.worst.toFixed(0)} ms)`);
for (const [view, ready] of [['tree', treeReady], ['graph', graphReady], ['timeline', timelineReady]]) {
  const r = await liveFps(view, ready);
  console.log(`live ${view}: ${r.fps.toFixed(1)} fps (${(r.fps / base.fps).toFixed(2)}x the empty page) while ${r.sent} spans arrived at 200/s (frame gap p95 ${r.p95gap.toFixed(1)} ms, worst ${r.worst.toFixed(0)} ms; ${r.shown} spans in the view at the end)`);
}
await browser.close();
await server.stop();
