// The overview's cost and token trend over the start times of the sessions that match its
// filters (the newest SAMPLE of them, read in one request). The headline cards above it are
// the server's, exact under the filters too (`GET /api/v1/stats/sessions`).
import { html } from '../vendor/preact-htm.mjs';
import { compact, cost, dateTime } from '../lib/format.js';

/** How many of the newest matching sessions the trend is drawn over. */
export const SAMPLE = 500;
const BUCKETS = 24;

/** Cost and tokens of `sessions` in BUCKETS equal spans of time between the first and last start. */
export function trendOf(sessions) {
  if (sessions.length < 2) return null;
  const times = sessions.map((s) => Date.parse(s.started_at));
  const lo = Math.min(...times);
  const hi = Math.max(...times) + 1;
  const width = (hi - lo) / BUCKETS;
  const buckets = Array.from({ length: BUCKETS }, (_, i) => ({ from: lo + i * width, sessions: 0, cost: 0, unpriced: 0, tokens: 0 }));
  sessions.forEach((s, i) => {
    const b = buckets[Math.min(BUCKETS - 1, Math.floor((times[i] - lo) / width))];
    b.sessions += 1;
    b.cost += s.totals.cost_usd || 0;
    b.unpriced += s.totals.unpriced_llm_calls || 0;
    b.tokens += (s.totals.input_tokens || 0) + (s.totals.output_tokens || 0);
  });
  return { buckets, lo, hi, width };
}

function Bars({ buckets, value, label, format, colour }) {
  const max = Math.max(...buckets.map(value), 0) || 1;
  return html`<div class="trend-row"><span class="muted">${label}</span>
    <svg class="trend-bars" viewBox="0 0 ${buckets.length * 10} 40" preserveAspectRatio="none" role="img" aria-label="${label} over time">
      ${buckets.map((b, i) => {
        const h = (value(b) / max) * 38;
        return html`<rect x=${i * 10 + 1} y=${40 - h} width="8" height=${h} fill=${colour}><title>${dateTime(new Date(b.from).toISOString())}: ${format(b)} (${b.sessions} sessions)</title></rect>`;
      })}
    </svg><span class="muted">max ${format(buckets.reduce((m, b) => (value(b) > value(m) ? b : m)))}</span></div>`;
}

/** The trend panel: cost and tokens per span of time, over the sessions the figures cover. */
export function Trend({ sessions, partial }) {
  const t = trendOf(sessions);
  if (!t) return null;
  return html`<div class="panel trend" data-test="trend">
    <header><h2>Cost and tokens over time</h2>
      <span class="muted">${sessions.length} sessions${partial ? ` (the newest ${SAMPLE})` : ''}, ${dateTime(new Date(t.lo).toISOString())} to ${dateTime(new Date(t.hi).toISOString())}</span></header>
    <div class="body">
      <${Bars} buckets=${t.buckets} value=${(b) => b.cost} label="Cost" format=${(b) => cost(b.cost, b.unpriced)} colour="var(--k-llm)" />
      <${Bars} buckets=${t.buckets} value=${(b) => b.tokens} label="Tokens" format=${(b) => compact(b.tokens)} colour="var(--k-agent)" />
    </div>
  </div>`;
}

