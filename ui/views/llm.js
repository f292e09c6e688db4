// LLM telemetry: a summary bar (requests, tokens in/out, total latency, cost), the same by
// model, and a sortable table of every call with prompt and response previews (lib/previews.js).
import { html, useState } from '../vendor/preact-htm.mjs';
import { groupSpans, costUnknown } from '../lib/stats.js';
import { int, compact, usd, cost, unpricedNote, ms, pct, timeMs } from '../lib/format.js';
import { Stat } from '../components/stat.js';
import { Status, Agent, Empty } from '../components/badges.js';
import { SortTable } from '../components/table.js';
import { usePreviews } from '../lib/previews.js';

export function LlmView({ model, select, filter }) {
  const calls = [...model.spans.values()].filter((s) => s.kind === 'llm' && (!filter || filter(s)));
  const previews = usePreviews(model, calls);
  const [limit, setLimit] = useState(200);
  if (!calls.length) return html`<${Empty}>${filter ? 'No LLM call matches the search.' : 'No LLM calls in this session yet.'}<//>`;
  const byModel = groupSpans(model, 'llm', (s) => s.model, filter);
  const all = byModel.reduce((t, g) => ({ calls: t.calls + g.calls, errors: t.errors + g.errors, input: t.input + g.input, output: t.output + g.output, cost: t.cost + g.cost, unpriced: t.unpriced + g.unpriced, lat: t.lat + g.totalLatency }), { calls: 0, errors: 0, input: 0, output: 0, cost: 0, unpriced: 0, lat: 0 });
  const columns = [
    { label: 'Started', sort: (s) => s.started_at, cell: (s) => timeMs(s.started_at) },
    { label: 'Call', sort: (s) => s.name, cell: (s) => html`${s.name} ${s.status !== 'ok' ? html`<${Status} status=${s.status} />` : null}` },
    { label: 'Model', sort: (s) => s.model, cell: (s) => s.model || '–' },
    { label: 'Agent', sort: (s) => s.agent, cell: (s) => html`<${Agent} name=${s.agent} />` },
    { label: 'In', num: true, sort: (s) => s.usage?.input_tokens, cell: (s) => int(s.usage?.input_tokens) },
    { label: 'Out', num: true, sort: (s) => s.usage?.output_tokens, cell: (s) => int(s.usage?.output_tokens) },
    { label: 'Latency', num: true, sort: (s) => s.duration_ms, cell: (s) => ms(s.duration_ms) },
    { label: 'Cost', num: true, sort: (s) => s.cost_usd, cell: (s) => (costUnknown(s) ? 'unknown' : usd(s.cost_usd)) },
    { label: 'Prompt', cell: (s) => html`<span class="preview" title=${previews.get(s.span_id)?.prompt}>${previews.get(s.span_id)?.prompt ?? ''}</span>` },
    { label: 'Response', cell: (s) => html`<span class="preview" title=${previews.get(s.span_id)?.response}>${previews.get(s.span_id)?.response ?? ''}</span>` },
  ];
  return html`
    <div class="page stack">
      <div class="stats" data-test="llm-summary">
        <${Stat} label="Requests" value=${int(all.calls)} sub="${int(all.errors)} failed" />
        <${Stat} label="Tokens in" value=${compact(all.input)} />
        <${Stat} label="Tokens out" value=${compact(all.output)} />
        <${Stat} label="Total latency" value=${ms(all.lat)} />
        <${Stat} label="Cost" value=${html`<span title=${unpricedNote(all.unpriced)}>${cost(all.cost, all.unpriced)}</span>`} />
      </div>
      <div class="panel"><header><h2>By model</h2></header>
        <${SortTable} rows=${byModel} initial=${{ col: 1, desc: true }} columns=${[
          { label: 'Model', sort: (g) => g.key, cell: (g) => g.key },
          { label: 'Requests', num: true, sort: (g) => g.calls, cell: (g) => int(g.calls) },
          { label: 'Errors', num: true, sort: (g) => g.errors, cell: (g) => html`<span class=${g.errors ? 'err-text' : ''}>${int(g.errors)}</span>` },
          { label: 'Tokens in', num: true, sort: (g) => g.input, cell: (g) => compact(g.input) },
          { label: 'Tokens out', num: true, sort: (g) => g.output, cell: (g) => compact(g.output) },
          { label: 'p50', num: true, sort: (g) => g.p50, cell: (g) => ms(g.p50) },
          { label: 'p95', num: true, sort: (g) => g.p95, cell: (g) => ms(g.p95) },
          { label: 'Cost', num: true, sort: (g) => g.cost, cell: (g) => html`<span data-test="model-cost" title=${unpricedNote(g.unpriced)}>${cost(g.cost, g.unpriced)}</span>` },
          { label: 'Share of cost', num: true, sort: (g) => g.cost, cell: (g) => pct(all.cost ? g.cost / all.cost : 0) },
        ]} />
      </div>
      <div class="panel"><header><h2>Calls</h2><span class="muted">click a row for the full conversation</span></header>
        <${SortTable} rows=${calls} columns=${columns} initial=${{ col: 0, desc: true }} limit=${limit}
          onRow=${(s) => select(s.span_id)} rowClass=${(s) => (s.status === 'error' ? 'failed' : '')} />
        ${calls.length > limit ? html`<div class="row" style="justify-content:center; padding:10px"><button onClick=${() => setLimit(calls.length)}>Show all ${int(calls.length)} calls</button></div>` : null}
      </div>
    </div>`;
}
