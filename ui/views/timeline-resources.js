// Resource lanes under the timeline: the CPU, memory and GPU of the session's agents'
// processes over the session's time range, drawn on the timeline's own time axis so a slow
// step sits above what its process did meanwhile. The points are process metrics
// (docs/protocol.md, "Process figures") read from `GET /api/v1/metrics`: those filed in the
// session, and those of no session whose `agent` label names one of the session's agents
// (an SDK helper or the demo reports them so). One lane per figure, a line per agent in the
// agent's colour; a lane appears only when it has points.
import { api } from '../lib/api.js';
import { agentColor } from '../lib/colors.js';
import { bytes } from '../lib/format.js';

const cores = (v) => (v == null ? '–' : `${v.toFixed(2)} cores`);
const percent = (v) => (v == null ? '–' : `${(v * 100).toFixed(0)}%`);

/**
 * The figures, in lane order. A load is drawn from zero; a memory size from its lowest value,
 * so that its growth shows.
 */
export const FIGURES = [
  { name: 'process.cpu.utilization', title: 'CPU', fmt: cores, zero: true },
  { name: 'process.memory.usage', title: 'memory', fmt: bytes, zero: false },
  { name: 'gpu.utilization', title: 'GPU', fmt: percent, zero: true },
  { name: 'gpu.process.memory.usage', title: 'GPU memory', fmt: bytes, zero: false },
];
/** Points per series asked for at most: the bucket width follows from the session's length. */
const POINTS = 400;
export const LANE_H = 40;
export const HEAD_H = 18;

/** Whose process a point is: its agent, else its pid; null when it is none of the session's. */
function owner(p, sessionId, agents) {
  if (p.labels?.agent) return p.session_id === sessionId || agents.has(p.labels.agent) ? p.labels.agent : null;
  if (p.session_id === sessionId && p.labels?.pid) return `pid ${p.labels.pid}`;
  return null;
}

/**
 * The lanes of a session over [lo, hi] (ms): [{title, fmt, min, max, series: [{who, ts, vs}]}],
 * only the figures with points.
 */
export async function loadResources(sessionId, agents, lo, hi) {
  const step = Math.max(1, Math.ceil((hi - lo) / 1000 / POINTS));
  const from = new Date(lo - step * 1000).toISOString();
  const to = new Date(hi + step * 1000).toISOString();
  const answers = await Promise.all(FIGURES.map((f) => api.metrics({ name: f.name, from, to, step_secs: step > 1 ? step : undefined, limit: 10000 })));
  const lanes = [];
  FIGURES.forEach((f, i) => {
    const by = new Map();
    for (const p of answers[i]) {
      const who = owner(p, sessionId, agents);
      if (who == null) continue;
      let s = by.get(who);
      if (!s) by.set(who, (s = { who, ts: [], vs: [] }));
      s.ts.push(Date.parse(p.at));
      s.vs.push(p.value);
    }
    if (!by.size) return;
    const series = [...by.values()].sort((a, b) => a.who.localeCompare(b.who));
    const values = series.flatMap((s) => s.vs);
    const max = Math.max(...values);
    const min = f.zero ? 0 : Math.min(...values);
    lanes.push({ title: f.title, fmt: f.fmt, min, max, series });
  });
  return lanes;
}

/** The height the lanes take at the bottom of the canvas (0 without any). */
export const resourcesHeight = (lanes) => (lanes?.length ? HEAD_H + lanes.length * LANE_H : 0);

/** The value of each series at time t (the sample at or before it), for the tooltip. */
export function valuesAt(lane, t) {
  return lane.series.map((s) => {
    let i = -1;
    for (let lo = 0, hi = s.ts.length - 1; lo <= hi;) {
      const mid = (lo + hi) >> 1;
      if (s.ts[mid] <= t) { i = mid; lo = mid + 1; } else hi = mid - 1;
    }
    return { who: s.who, value: i < 0 ? null : s.vs[i] };
  });
}

/**
 * Draws the lanes from y `top` down: a header band, then per figure its name and peak in the
 * label column, the timeline's tick lines and a line per agent, x from the timeline's transform. Returns the lanes' boxes
 * for hit tests.
 */
export function drawResources(g, lanes, { top, W, labelW, x, ticks, c }) {
  g.fillStyle = c['--panel'];
  g.fillRect(0, top, W, resourcesHeight(lanes));
  g.fillStyle = c['--border'];
  g.fillRect(0, top, W, 1);
  g.fillStyle = c['--muted'];
  g.font = '600 11px system-ui, sans-serif';
  g.fillText("Agents' processes", 10, top + HEAD_H / 2);
  g.font = '11px system-ui, sans-serif';
  const boxes = [];
  lanes.forEach((lane, i) => {
    const y = top + HEAD_H + i * LANE_H;
    g.fillStyle = i % 2 ? c['--panel'] : c['--bg'];
    g.fillRect(0, y, W, LANE_H);
    g.fillStyle = c['--border'];
    for (const t of ticks) if (x(t) > labelW) g.fillRect(Math.round(x(t)), y, 1, LANE_H);
    g.fillStyle = c['--text'];
    g.fillText(lane.title, 10, y + 12);
    g.fillStyle = c['--faint'];
    g.fillText(lane.min ? `${lane.fmt(lane.min)}–${lane.fmt(lane.max)}` : `peak ${lane.fmt(lane.max)}`, 10, y + 27, labelW - 16);
    const y0 = y + LANE_H - 4;
    const scale = (LANE_H - 10) / Math.max(lane.max - lane.min, 1e-9);
    g.save();
    g.beginPath();
    g.rect(labelW, y, W - labelW, LANE_H);
    g.clip();
    g.lineWidth = 1.5;
    for (const s of lane.series) {
      g.strokeStyle = agentColor(s.who);
      g.beginPath();
      s.ts.forEach((t, k) => {
        const px = x(t);
        const py = y0 - (s.vs[k] - lane.min) * scale;
        if (k) g.lineTo(px, py);
        else g.moveTo(px, py);
      });
      g.stroke();
    }
    g.restore();
    boxes.push({ y1: y, y2: y + LANE_H, lane });
  });
  return boxes;
}
