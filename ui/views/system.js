// The System page (#/system): what Flightdeck's sampler reads of its host, its GPUs and its
// own process, and every other series of no session (agent processes, queues, OpenTelemetry
// metrics), as live charts (uPlot) over a chosen range, each beside a table of its series
// (latest, min, mean, max), and the job queues' summary (queues.js). Polls every sampling
// interval; long ranges ask the server for bucket means (step_secs) so a day is a few
// hundred points per series.
import { html, useEffect, useRef, useState } from '../vendor/preact-htm.mjs';
import uPlot from '../vendor/uplot.mjs';
import { api } from '../lib/api.js';
import { cssVar } from '../lib/colors.js';
import { bytes } from '../lib/format.js';
import { Empty, ErrorNotice } from '../components/badges.js';
import { useTheme } from '../lib/use-theme.js';
import { QueueSummary } from './queues.js';

const RANGES = [['15m', 15 * 60], ['1h', 3600], ['6h', 6 * 3600], ['24h', 86400], ['7d', 7 * 86400]];
/** Points per series a chart asks for at most: the bucket width follows from the range. */
const POINTS = 300;

const percent = (v) => (v == null ? '–' : `${(v * 100).toFixed(1)}%`);
const plain = (v) => (v == null ? '–' : Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(2));

/** How a unit reads: OTel's UCUM-ish units as the sampler and exporters send them. */
function formatter(unit) {
  if (unit === 'By') return bytes;
  if (unit === 'By/s') return (v) => (v == null ? '–' : `${bytes(v)}/s`);
  if (unit === '1') return percent;
  if (unit === 'Cel') return (v) => (v == null ? '–' : `${v.toFixed(0)} °C`);
  if (unit === 'W') return (v) => (v == null ? '–' : `${v.toFixed(0)} W`);
  return plain;
}

/**
 * The charts the page always has, each of the points with one of `names`, split into series by
 * label. Process metrics with an `agent` or `pid` label are an agent's process (SDK helpers,
 * the demo); with neither, Flightdeck's own.
 */
const CHARTS = [
  { id: 'cpu', title: 'CPU', names: ['system.cpu.utilization'], unit: '1', label: (p) => (p.labels.cpu != null ? `core ${p.labels.cpu}` : 'all cores') },
  { id: 'memory', title: 'Memory', names: ['system.memory.usage', 'system.memory.limit', 'system.swap.usage'], unit: 'By' },
  { id: 'load', title: 'Load average', names: ['system.cpu.load_average'], unit: '', label: (p) => p.labels.window },
  { id: 'disk', title: 'Disk I/O', names: ['system.disk.io.rate'], unit: 'By/s', label: (p) => p.labels.direction },
  { id: 'network', title: 'Network', names: ['system.network.io.rate'], unit: 'By/s', label: (p) => p.labels.direction },
  { id: 'process-cpu', title: 'Flightdeck process: CPU (cores)', names: ['process.cpu.utilization'], unit: '', own: true },
  { id: 'process-memory', title: 'Flightdeck process: memory', names: ['process.memory.usage'], unit: 'By', own: true },
  { id: 'agent-cpu', title: 'Agent processes: CPU (cores)', names: ['process.cpu.utilization'], unit: '', agents: true, label: (p) => agentOf(p) },
  { id: 'agent-memory', title: 'Agent processes: memory', names: ['process.memory.usage'], unit: 'By', agents: true, label: (p) => agentOf(p) },
  { id: 'gpu', title: 'GPU utilisation', names: ['gpu.utilization', 'gpu.memory.utilization'], unit: '1', gpu: true, label: (p) => gpuOf(p) },
  { id: 'gpu-memory', title: 'GPU memory', names: ['gpu.memory.usage', 'gpu.memory.limit', 'gpu.process.memory.usage'], unit: 'By', gpu: true, label: (p) => gpuOf(p) },
  { id: 'gpu-heat', title: 'GPU temperature and power', names: ['gpu.temperature', 'gpu.power'], unit: '', gpu: true, label: (p) => gpuOf(p) },
];
const OWN = /^(system|process|gpu)\./;
const isAgent = (p) => !!(p.labels?.agent || p.labels?.pid);
/** A GPU series: its device, and whose process sent it when an agent's did (an SDK helper). */
const gpuOf = (p) => [p.labels.gpu != null && `gpu ${p.labels.gpu}`, isAgent(p) && agentOf(p)].filter(Boolean).join(' · ');
const agentOf = (p) => [p.labels.agent, p.labels.pid && `pid ${p.labels.pid}`].filter(Boolean).join(' · ');
const fits = (c) => (p) => c.names.includes(p.name) && (c.own ? !isAgent(p) : c.agents ? isAgent(p) : true);

const seriesKey = (p) => `${p.name}${Object.keys(p.labels).length ? ` ${Object.entries(p.labels).map(([k, v]) => `${k}=${v}`).join(' ')}` : ''}`;

/** Series of `points` for a chart: [{key, label, unit, xs, ys}] in a stable order. */
function toSeries(points, chart) {
  const by = new Map();
  for (const point of points) {
    const p = point.labels ? point : { ...point, labels: {} };
    const key = seriesKey(p);
    let s = by.get(key);
    if (!s) {
      const short = p.name.replace(/^(system|process|gpu)\./, '');
      const own = chart?.label ? chart.label(p) : '';
      const label = chart ? [chart.names.length > 1 ? short : '', own].filter(Boolean).join(' ') || short : key.replace(`${p.name} `, '') || 'value';
      s = { key, label: label || key, unit: p.unit, xs: [], ys: [] };
      by.set(key, s);
    }
    s.xs.push(Date.parse(p.at) / 1000);
    s.ys.push(p.value);
  }
  return [...by.values()].sort((a, b) => a.key.localeCompare(b.key, undefined, { numeric: true }));
}

/** uPlot wants one shared x: the union of the series' times, gaps as null. */
function aligned(series) {
  const xs = [...new Set(series.flatMap((s) => s.xs))].sort((a, b) => a - b);
  const at = new Map(xs.map((x, i) => [x, i]));
  const ys = series.map((s) => {
    const col = new Array(xs.length).fill(null);
    s.xs.forEach((x, i) => { col[at.get(x)] = s.ys[i]; });
    return col;
  });
  return [xs, ...ys];
}

function Chart({ series, unit, theme }) {
  const host = useRef(null);
  const plot = useRef(null);
  useEffect(() => {
    if (!series.length) return;
    const fmt = formatter(unit);
    const axis = { stroke: cssVar('--muted'), grid: { stroke: cssVar('--border'), width: 1 }, ticks: { stroke: cssVar('--border') } };
    const opts = {
      width: host.current.clientWidth || 600,
      height: 200,
      series: [{}, ...series.map((s, i) => ({ label: s.label, stroke: `hsl(${(i * 67 + 200) % 360} 70% 58%)`, width: 1.5, spanGaps: true, value: (u, v) => fmt(v) }))],
      axes: [axis, { ...axis, size: 70, values: (u, vals) => vals.map(fmt) }],
      legend: { live: true },
      cursor: { drag: { x: false, y: false } },
    };
    plot.current?.destroy();
    plot.current = new uPlot(opts, aligned(series), host.current);
  }, [series, unit, theme]);
  useEffect(() => () => plot.current?.destroy(), []);
  return html`<div ref=${host} class="chart"></div>`;
}

function Stats({ series, unit }) {
  const fmt = formatter(unit);
  return html`<table class="table system-stats"><thead><tr><th>Series</th><th class="num">Now</th><th class="num">Min</th><th class="num">Mean</th><th class="num">Max</th></tr></thead>
    <tbody>${series.map((s) => {
      const ys = s.ys.filter((v) => v != null);
      const mean = ys.reduce((a, v) => a + v, 0) / (ys.length || 1);
      return html`<tr><td title=${s.key}>${s.label}</td><td class="num">${fmt(ys[ys.length - 1])}</td><td class="num">${fmt(Math.min(...ys))}</td><td class="num">${fmt(mean)}</td><td class="num">${fmt(Math.max(...ys))}</td></tr>`;
    })}</tbody></table>`;
}

function Panel({ title, series, unit, theme }) {
  return html`<div class="panel system-chart" data-chart=${title}><header><h2>${title}</h2></header>
    <div class="body system-row">${series.length
      ? html`<${Chart} series=${series} unit=${unit} theme=${theme} /><${Stats} series=${series} unit=${unit} />`
      : html`<div class="muted">No samples in this range.</div>`}</div></div>`;
}

export function System({ query, setQuery }) {
  const range = RANGES.find(([k]) => k === query.range) || RANGES[1];
  const [info, setInfo] = useState(null);
  const [points, setPoints] = useState(null);
  const [error, setError] = useState(null);
  const theme = useTheme();
  /** Seconds between reads: the sampling interval, at least 2. */
  const every = Math.max(2, info?.interval_secs || 5);
  useEffect(() => { fetch('/api/v1/system').then((r) => r.json()).then(setInfo, setError); }, []);
  useEffect(() => {
    let stop = false;
    const step = Math.max(Math.ceil(range[1] / POINTS), info?.interval_secs || 1);
    const load = async () => {
      const from = new Date(Date.now() - range[1] * 1000).toISOString();
      try {
        const all = await api.metrics({ from, step_secs: step, limit: 10000 });
        if (!stop) { setPoints(all.filter((p) => !p.session_id)); setError(null); }
      } catch (e) { if (!stop) setError(e); }
    };
    load();
    const t = setInterval(load, every * 1000);
    return () => { stop = true; clearInterval(t); };
  }, [range[0], info?.interval_secs]);
  const gpu = info?.gpu;
  const others = points ? [...new Set(points.filter((p) => !OWN.test(p.name)).map((p) => p.name))].sort() : [];
  return html`<section class="page stack system-page">
    <div class="system-head">
      <div><h2>${info?.host?.name || 'This host'}</h2>
        <div class="muted">${info?.host ? `${info.host.os || ''} · ${info.host.cpus} CPUs · ${bytes(info.host.memory_bytes)} memory` : ''}
          ${info ? (info.sampling ? ` · sampled every ${info.interval_secs} s` : ' · sampling is off (--system-metrics-secs)') : ''}</div>
        <div class="gpu-status" data-test="gpu-status">${gpu?.available
          ? gpu.devices.map((d) => html`<span class="chip">GPU ${d.index}: ${d.name} · ${bytes(d.memory_bytes)}</span>`)
          : html`<span class="muted">${gpu?.reason || ''}</span>`}</div></div>
      <div class="spacer"></div>
      <div class="range" role="group" aria-label="Time range">${RANGES.map(([k]) => html`<button class=${k === range[0] ? 'on' : ''} onClick=${() => setQuery({ range: k })}>${k}</button>`)}</div>
    </div>
    <${ErrorNotice} error=${error} />
    <${QueueSummary} every=${every} />
    ${points == null ? html`<${Empty}>Loading…<//>` : html`
      ${CHARTS.filter((c) => (c.gpu ? gpu?.available || points.some(fits(c)) : !c.agents || points.some(fits(c)))).map((c) => html`<${Panel} key=${c.id} title=${c.title} unit=${c.unit}
        theme=${theme} series=${toSeries(points.filter(fits(c)), c)} />`)}
      <h2>Agents, queues and other metrics</h2>
      ${others.length ? others.map((name) => {
        const mine = points.filter((p) => p.name === name);
        return html`<${Panel} key=${name} title=${name} unit=${mine[0]?.unit || ''} theme=${theme} series=${toSeries(mine, null)} />`;
      }) : html`<${Empty}>No other series of no session in this range: agents report theirs with the SDKs, a native <code>metric</code> message or OTLP metrics.<//>`}`}
  </section>`;
}
