// Scores and decisions: per family of scores ("energy.*", "relevance"), each span's numeric
// components as a table with a total and their convergence over time as a chart (uPlot);
// decision events grouped by name in collapsible sections.
import { html, useEffect, useRef } from '../vendor/preact-htm.mjs';
import uPlot from '../vendor/uplot.mjs';
import { useEvents } from '../lib/use-events.js';
import { useTheme } from '../lib/use-theme.js';
import { agentColor, cssVar } from '../lib/colors.js';
import { timeMs } from '../lib/format.js';
import { Agent, Empty, ErrorNotice } from '../components/badges.js';
import { SortTable } from '../components/table.js';
import { Json } from '../components/json.js';

/** A key holding the total, if the spans report one ("total" or "<group>.total"). */
const isTotal = (k) => k === 'total' || k.endsWith('.total');
const prefix = (k) => (k.includes('.') ? k.slice(0, k.indexOf('.')) : k);

/**
 * Spans with scores, grouped by the families of their score names ("energy.*", "relevance"),
 * so spans that report different things get their own table and chart.
 */
function scoreGroups(model) {
  const groups = new Map();
  const spans = [...model.spans.values()].filter((s) => s.scores && Object.keys(s.scores).length);
  spans.sort((a, b) => Date.parse(a.started_at) - Date.parse(b.started_at));
  for (const s of spans) {
    const name = [...new Set(Object.keys(s.scores).map(prefix))].sort().join(' + ');
    const g = groups.get(name) || { name, spans: [], keys: new Set() };
    g.spans.push(s);
    Object.keys(s.scores).forEach((k) => isTotal(k) || g.keys.add(k));
    groups.set(name, g);
  }
  const total = (s) => {
    const t = Object.keys(s.scores).find(isTotal);
    if (t) return s.scores[t];
    return Object.values(s.scores).reduce((a, v) => a + (typeof v === 'number' ? v : 0), 0);
  };
  return [...groups.values()].map((g) => ({ ...g, keys: [...g.keys].sort(), total }));
}

function Convergence({ spans, keys, total, version }) {
  const host = useRef(null);
  const plot = useRef(null);
  // The colours are read from the theme when the chart is made: make it again on a switch.
  const theme = useTheme();
  useEffect(() => {
    const width = host.current.clientWidth || 600;
    const series = [...keys.map((k) => ({ k, get: (s) => s.scores[k] ?? null })), { k: keys.length ? 'total' : 'score', get: total }];
    const data = [spans.map((s) => Date.parse(s.started_at) / 1000), ...series.map((x) => spans.map(x.get))];
    const axis = { stroke: cssVar('--muted'), grid: { stroke: cssVar('--border'), width: 1 }, ticks: { stroke: cssVar('--border') } };
    const opts = {
      width, height: 260,
      series: [{}, ...series.map((x, i) => ({ label: x.k, stroke: x.k === 'total' || x.k === 'score' ? cssVar('--text') : `hsl(${(i * 67) % 360} 70% 58%)`, width: x.k === 'total' ? 2.5 : 1.5, spanGaps: true, points: { show: spans.length < 200 } }))],
      axes: [axis, axis],
      legend: { live: true },
    };
    plot.current?.destroy();
    plot.current = new uPlot(opts, data, host.current);
    host.current.__plot = plot.current;
  }, [version, keys.join(), theme]);
  useEffect(() => () => plot.current?.destroy(), []);
  return html`<div ref=${host} class="chart" data-test="convergence"></div>`;
}

function Decisions({ model }) {
  const decisions = model.events.filter((e) => e.category === 'decision');
  if (!decisions.length) return html`<div class="muted">No decision events in this session.</div>`;
  const groups = new Map();
  for (const d of decisions) {
    const k = d.name || 'unnamed';
    groups.set(k, [...(groups.get(k) || []), d]);
  }
  return html`<div class="stack">${[...groups].map(([name, list]) => html`
    <details class="section" open=${groups.size <= 4}>
      <summary>${name} <span class="chip">${list.length}</span></summary>
      <div class="table-wrap"><table>
        <thead><tr><th>At</th><th>Agent</th><th>Message</th><th>Data</th></tr></thead>
        <tbody>${list.map((d) => html`<tr>
          <td class="mono">${timeMs(d.at)}</td><td><${Agent} name=${d.agent} /></td><td>${d.message || ''}</td>
          <td style="max-width:420px">${d.data != null ? html`<${Json} value=${d.data} />` : ''}</td></tr>`)}</tbody>
      </table></div>
    </details>`)}</div>`;
}

function Group({ g, version, select }) {
  const single = g.keys.length === 1;
  return html`
    <div class="panel"><header><h2>${g.name}</h2><span class="muted">${g.spans.length === 1 ? '1 span' : `${g.spans.length} spans · ${single ? 'over time' : 'components and total over time'}`}</span></header>
      ${g.spans.length > 1 ? html`<div class="body"><${Convergence} spans=${g.spans} keys=${single ? [] : g.keys} total=${g.total} version=${version} /></div>` : null}
      <${SortTable} rows=${g.spans} initial=${{ col: 0, desc: false }} onRow=${(s) => select(s.span_id)} columns=${[
        { label: 'Started', sort: (s) => s.started_at, cell: (s) => timeMs(s.started_at) },
        { label: 'Span', sort: (s) => s.name, cell: (s) => s.name },
        { label: 'Agent', sort: (s) => s.agent, cell: (s) => html`<span style="color:${agentColor(s.agent)}">${s.agent || '–'}</span>` },
        ...(single ? [] : g.keys.map((k) => ({ label: k, num: true, sort: (s) => s.scores[k], cell: (s) => (typeof s.scores[k] === 'number' ? s.scores[k].toFixed(3) : '–') }))),
        { label: single ? g.keys[0] || 'total' : 'Total', num: true, sort: g.total, cell: (s) => html`<b>${g.total(s).toFixed(3)}</b>` },
      ]} />
    </div>`;
}

export function ScoresView({ model, version, select }) {
  const events = useEvents(model);
  const groups = scoreGroups(model);
  return html`
    <div class="page stack">
      <${ErrorNotice} error=${events.error} />
      ${groups.length ? groups.map((g) => html`<${Group} key=${g.name} g=${g} version=${version} select=${select} />`) : html`<${Empty}>No span in this session reports scores.<//>`}
      <div class="panel"><header><h2>Decisions</h2><span class="muted">grouped by kind</span></header>
        <div class="body">${events.loaded ? html`<${Decisions} model=${model} />` : 'loading…'}</div></div>
    </div>`;
}
