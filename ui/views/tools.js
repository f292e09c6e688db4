// Tool statistics: calls, success rate and latency per tool, and the failed calls.
import { html } from '../vendor/preact-htm.mjs';
import { groupSpans } from '../lib/stats.js';
import { int, ms, pct, timeMs } from '../lib/format.js';
import { Agent, Empty } from '../components/badges.js';
import { SortTable } from '../components/table.js';

function Rate({ g }) {
  if (g.successRate == null) return html`<span class="faint">–</span>`;
  const color = g.successRate >= 0.95 ? 'var(--ok)' : g.successRate >= 0.8 ? 'var(--warn)' : 'var(--error)';
  return html`<div class="row" style="flex-wrap:nowrap"><div class="bar-track" style="width:90px; background:var(--panel-2); border-radius:3px">
    <div class="bar" style="width:${g.successRate * 100}%; background:${color}"></div></div>${pct(g.successRate)}</div>`;
}

export function ToolsView({ model, select, filter }) {
  const tools = groupSpans(model, 'tool', (s) => s.name, filter);
  if (!tools.length) return html`<${Empty}>${filter ? 'No tool call matches the search.' : 'No tool calls in this session yet.'}<//>`;
  const failed = [...model.spans.values()].filter((s) => s.kind === 'tool' && s.status === 'error' && (!filter || filter(s)));
  return html`
    <div class="page stack">
      <div class="panel"><header><h2>Tools</h2></header>
        <${SortTable} rows=${tools} initial=${{ col: 1, desc: true }} columns=${[
          { label: 'Tool', sort: (g) => g.key, cell: (g) => html`<span class="mono">${g.key}</span>` },
          { label: 'Calls', num: true, sort: (g) => g.calls, cell: (g) => int(g.calls) },
          { label: 'Failed', num: true, sort: (g) => g.errors, cell: (g) => html`<span class=${g.errors ? 'err-text' : ''}>${int(g.errors)}</span>` },
          { label: 'Success rate', sort: (g) => g.successRate, cell: (g) => html`<${Rate} g=${g} />` },
          { label: 'p50', num: true, sort: (g) => g.p50, cell: (g) => ms(g.p50) },
          { label: 'p95', num: true, sort: (g) => g.p95, cell: (g) => ms(g.p95) },
          { label: 'Total time', num: true, sort: (g) => g.totalLatency, cell: (g) => ms(g.totalLatency) },
        ]} />
      </div>
      ${failed.length ? html`<div class="panel"><header><h2>Failed calls</h2><span class="muted">click for the error</span></header>
        <${SortTable} rows=${failed} initial=${{ col: 0, desc: true }} onRow=${(s) => select(s.span_id)} rowClass=${() => 'failed'} columns=${[
          { label: 'At', sort: (s) => s.started_at, cell: (s) => timeMs(s.started_at) },
          { label: 'Tool', sort: (s) => s.name, cell: (s) => html`<span class="mono">${s.name}</span>` },
          { label: 'Agent', sort: (s) => s.agent, cell: (s) => html`<${Agent} name=${s.agent} />` },
          { label: 'Latency', num: true, sort: (s) => s.duration_ms, cell: (s) => ms(s.duration_ms) },
        ]} /></div>` : null}
    </div>`;
}
