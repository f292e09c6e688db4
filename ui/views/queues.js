// The System page's queue summary: per job queue, the jobs queued and processing now, the
// mean wait and run time, and the jobs completed (and failed) in the last hour, read from the
// queue convention's metrics (docs/protocol.md, "Queues") that the SDKs' queue helpers send:
// `GET /api/v1/metrics?prefix=queue.` over the last hour, every session's. Queued and
// processing add up each sender's (session's) latest `queue.depth` and `queue.processing`.
import { html, useEffect, useState } from '../vendor/preact-htm.mjs';
import { api } from '../lib/api.js';
import { int, ms } from '../lib/format.js';
import { ErrorNotice } from '../components/badges.js';

const HOUR_MS = 3600_000;
/** The points read at most: past them, the hour's oldest are left out (said under the table). */
const LIMIT = 10000;

/** Per queue, from the points of the hour (oldest first): [{queue, queued, processing, wait, run, completed, failed}]. */
function queueSummary(points) {
  const by = new Map();
  const get = (name) => {
    let q = by.get(name);
    if (!q) by.set(name, (q = { queue: name, depth: new Map(), busy: new Map(), waits: [], runs: [], completed: 0, failed: 0 }));
    return q;
  };
  for (const p of points) {
    const name = p.labels?.queue;
    if (!name) continue;
    const q = get(name);
    const sender = p.session_id || '';
    if (p.name === 'queue.depth') q.depth.set(sender, p.value);
    else if (p.name === 'queue.processing') q.busy.set(sender, p.value);
    else if (p.name === 'queue.wait_ms') q.waits.push(p.value);
    else if (p.name === 'queue.run_ms') q.runs.push(p.value);
    else if (p.name === 'queue.completed') {
      q.completed += p.value;
      if (p.labels.status === 'error') q.failed += p.value;
    }
  }
  const sum = (m) => (m.size ? [...m.values()].reduce((a, v) => a + v, 0) : null);
  const mean = (xs) => (xs.length ? xs.reduce((a, v) => a + v, 0) / xs.length : null);
  return [...by.values()]
    .map((q) => ({ queue: q.queue, queued: sum(q.depth), processing: sum(q.busy), wait: mean(q.waits), run: mean(q.runs), completed: q.completed, failed: q.failed }))
    .sort((a, b) => a.queue.localeCompare(b.queue));
}

/** The panel, read again every `every` seconds. */
export function QueueSummary({ every }) {
  const [points, setPoints] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    let stop = false;
    const load = async () => {
      try {
        const all = await api.metrics({ prefix: 'queue.', from: new Date(Date.now() - HOUR_MS).toISOString(), limit: LIMIT });
        if (!stop) { setPoints(all); setError(null); }
      } catch (e) { if (!stop) setError(e); }
    };
    load();
    const t = setInterval(load, every * 1000);
    return () => { stop = true; clearInterval(t); };
  }, [every]);
  const queues = points ? queueSummary(points) : [];
  return html`<div class="panel" data-test="queues"><header><h2>Queues</h2><span class="muted">now, and over the last hour</span></header>
    <div class="body">
      <${ErrorNotice} error=${error} />
      ${queues.length ? html`<table class="table">
        <thead><tr><th>Queue</th><th class="num">Queued</th><th class="num">Processing</th><th class="num">Mean wait</th><th class="num">Mean run</th><th class="num">Completed (1 h)</th><th class="num">Failed (1 h)</th></tr></thead>
        <tbody>${queues.map((q) => html`<tr data-queue=${q.queue}><td>${q.queue}</td><td class="num">${int(q.queued)}</td><td class="num">${int(q.processing)}</td>
          <td class="num">${ms(q.wait)}</td><td class="num">${ms(q.run)}</td>
          <td class="num">${int(q.completed)}</td><td class=${q.failed ? 'num err-text' : 'num'}>${int(q.failed)}</td></tr>`)}</tbody></table>
        ${points.length >= LIMIT ? html`<div class="muted">From the hour's newest ${int(LIMIT)} points.</div>` : null}`
        : points ? html`<div class="muted">No queue reported in the last hour: the SDKs' queue helpers (<code>flightdeck.queue(name)</code>, <code>SessionHandle::queue</code>) or the <code>queue.*</code> metrics of the queue convention fill this.</div>` : null}
    </div></div>`;
}
