// The session's header: name, status, ids and tags, its traces, its totals (ticking while
// it runs) and, while it runs, what is happening now.
import { html } from '../vendor/preact-htm.mjs';
import { useNow } from '../lib/use-now.js';
import { int, compact, usd, pct, ms, dateTime, elapsed, totalsCost, unpricedNote } from '../lib/format.js';
import { SessionStatus } from '../components/badges.js';
import { Stat } from '../components/stat.js';
import { Traces } from './traces.js';
import { NowStrip } from './now-strip.js';

// The session as a trace file (native JSONL, which `flightdeck import` reads back) and as one
// HTML file that opens offline (docs/files.md). Hidden in a shared page, which has no server.
function Download({ id }) {
  if (globalThis.FLIGHTDECK_SHARED) return null;
  const s = `/api/v1/sessions/${encodeURIComponent(id)}`;
  return html`
    <a class="btn" data-test="export" href="${s}/export" download title="Download the session as a JSONL trace file">Export</a>
    <a class="btn" data-test="share" href="${s}/share" download title="Download the session as one HTML file that opens offline, read-only">Share</a>`;
}

export function SessionHeader({ model, selected, select }) {
  const s = model.session;
  const running = s?.status === 'running';
  const now = useNow(running);
  if (!s) return html`<div class="title" style="padding-bottom:10px"><h1>${model.id}</h1></div>`;
  const t = s.totals;
  const budget = s.budget?.cost_usd ? `${pct(t.cost_usd / s.budget.cost_usd)} of ${usd(s.budget.cost_usd)}` : null;
  return html`
    <div data-test="session-head">
      <div class="title">
        <h1>${s.name || s.session_id}</h1>
        <${SessionStatus} s=${s} />
        ${(s.tags || []).map((tag) => html`<span class="chip">${tag}</span>`)}
        <span class="faint mono" style="font-size:11px">${s.session_id}</span>
        <${Traces} model=${model} selected=${selected} select=${select} />
        <${Download} id=${s.session_id} />
      </div>
      ${s.error ? html`<div class="err-text" style="margin-top:4px">${s.error}</div>` : null}
      <div class="stats inline">
        <${Stat} label="Started" value=${dateTime(s.started_at)} />
        <${Stat} label="Duration" value=${ms(running ? elapsed(s.started_at, null, now) : s.duration_ms)} />
        <${Stat} label="Agents" value=${int(s.agents.length)} />
        <${Stat} label="Spans" value=${int(t.spans)} />
        <${Stat} label="LLM calls" value=${int(t.llm_calls)} />
        <${Stat} label="Tool calls" value=${int(t.tool_calls)} />
        <${Stat} label="Errors" value=${html`<span class=${t.errors ? 'err-text' : ''}>${int(t.errors)}</span>`} />
        <${Stat} label="Tokens in / out" value="${compact(t.input_tokens)} / ${compact(t.output_tokens)}" />
        <${Stat} label="Cost" value=${html`<span data-test="session-cost" title=${unpricedNote(t.unpriced_llm_calls)}>${totalsCost(t)}</span>`} sub=${budget} />
      </div>
      <${NowStrip} model=${model} select=${select} />
    </div>`;
}
