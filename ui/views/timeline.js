// The Gantt timeline on a canvas: a lane per agent, bars coloured by kind, failed bars red,
// running bars growing in real time, a marker at each tool call, review gates striped while
// they wait on a person and labelled with their waiting time. Wheel zooms the time axis
// around the pointer, dragging pans, "Follow latest" keeps the newest work in view (on while
// the session runs; a finished session opens fitted). Only the visible bars are drawn, so thousands of spans stay fluid.
// Under the lanes, on the same time axis, the agents' processes' CPU, memory and GPU
// (timeline-resources.js), refreshed every few seconds while the session runs.
import { html, useEffect, useRef, useState } from '../vendor/preact-htm.mjs';
import { Lanes } from './timeline-lanes.js';
import { drawResources, loadResources, resourcesHeight, valuesAt } from './timeline-resources.js';
import { agentColor, cssVar } from '../lib/colors.js';
import { ms, timeMs } from '../lib/format.js';
import { gateText } from '../lib/gate.js';

const LABEL_W = 140;
const AXIS_H = 26;
const ROW_H = 18;
const BAR_H = 13;
const LANE_GAP = 10;
const KINDS = ['agent', 'llm', 'tool', 'retriever', 'chain', 'review', 'custom'];

/** A tick step of 1, 2 or 5 x 10^k ms at least `min` ms. */
function tickStep(min) {
  const p = 10 ** Math.floor(Math.log10(Math.max(min, 1e-3)));
  return [1, 2, 5, 10].map((m) => m * p).find((s) => s >= min);
}

class Timeline {
  constructor(canvas, model, onSelect, onFollow) {
    this.canvas = canvas;
    this.model = model;
    this.onSelect = onSelect;
    this.onFollow = onFollow;
    this.lanes = Lanes.of(model);
    // A running session follows its newest work; a finished one opens fitted, start to end.
    this.follow = model.session?.status === 'running';
    this.scale = null; // ms per pixel
    this.t0 = 0;
    this.scrollY = 0;
    this.hits = [];
    /** Resource lanes (loadResources) and where they were drawn. */
    this.resources = [];
    this.resourceBoxes = [];
    this.selected = null;
    /** The session filter's predicate: bars it leaves out are faded (null: none). */
    this.filter = null;
    this.colors();
    this.frame = 0;
    this.dirty = true;
    this.loop = this.loop.bind(this);
    this.frame = requestAnimationFrame(this.loop);
  }

  colors() {
    this.c = Object.fromEntries(['--text', '--muted', '--faint', '--border', '--panel', '--panel-2', '--bg', '--error', '--running', '--accent'].map((v) => [v, cssVar(v)]));
    this.kind = Object.fromEntries(KINDS.map((k) => [k, cssVar(`--k-${k}`)]));
    this.dirty = true;
  }

  destroy() {
    cancelAnimationFrame(this.frame);
  }

  update(delta) {
    if (delta.reset) this.lanes = Lanes.of(this.model);
    else {
      for (const id of delta.added) this.lanes.add(this.model.spans.get(id));
      for (const id of delta.changed) this.lanes.ended(this.model.spans.get(id));
    }
    this.dirty = true;
  }

  extent() {
    let lo = Infinity;
    let hi = -Infinity;
    let running = false;
    for (const s of this.model.spans.values()) {
      const a = Date.parse(s.started_at);
      if (a < lo) lo = a;
      if (s.ended_at) hi = Math.max(hi, Date.parse(s.ended_at));
      else running = true;
    }
    if (running) hi = Date.now();
    if (!Number.isFinite(lo)) lo = hi = Date.now();
    return { lo, hi: Math.max(hi, lo + 1), running };
  }

  plotWidth() {
    return Math.max(50, this.canvas.clientWidth - LABEL_W - 16);
  }

  fit() {
    const { lo, hi } = this.extent();
    this.scale = (hi - lo) / this.plotWidth();
    this.t0 = lo;
    this.dirty = true;
  }

  setFollow(on) {
    this.follow = on;
    this.onFollow(on);
    this.dirty = true;
  }

  zoom(factor, atX = LABEL_W + this.plotWidth() / 2) {
    const t = this.t0 + (atX - LABEL_W) * this.scale;
    this.scale = Math.max(0.01, this.scale * factor);
    this.t0 = t - (atX - LABEL_W) * this.scale;
    this.dirty = true;
  }

  pan(dx, dy) {
    this.t0 -= dx * this.scale;
    const room = this.canvas.clientHeight - AXIS_H - resourcesHeight(this.resources);
    this.scrollY = Math.max(0, Math.min(this.contentHeight() - room, this.scrollY - dy));
    if (dx) this.setFollow(false);
    this.dirty = true;
  }

  contentHeight() {
    return this.lanes.lanes.reduce((h, l) => h + l.rows.length * ROW_H + LANE_GAP, 0);
  }

  loop() {
    this.frame = requestAnimationFrame(this.loop);
    const { lo, hi, running } = this.extent();
    if (!this.dirty && !running) return;
    if (this.scale == null) this.fit();
    if (this.follow) {
      // Keep the newest work at the right edge; while everything fits, show it all.
      const w = this.plotWidth() * this.scale;
      if (hi - lo <= w * 0.95) this.t0 = lo;
      else this.t0 = hi - w * 0.95;
    }
    this.draw(hi, running);
    this.dirty = false;
  }

  draw(hi, running) {
    const cv = this.canvas;
    const dpr = window.devicePixelRatio || 1;
    const W = cv.clientWidth;
    const H = cv.clientHeight;
    if (cv.width !== W * dpr || cv.height !== H * dpr) {
      cv.width = W * dpr;
      cv.height = H * dpr;
    }
    const g = cv.getContext('2d');
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, W, H);
    g.font = '11px system-ui, sans-serif';
    g.textBaseline = 'middle';
    const x = (t) => LABEL_W + (t - this.t0) / this.scale;
    const now = Date.now();
    const hits = [];
    const start0 = this.extent().lo;
    const step = tickStep(this.scale * 90);
    const ticks = [];
    for (let t = Math.ceil((this.t0 - start0) / step) * step + start0; x(t) < W; t += step) ticks.push(t);
    // The resource lanes sit right under the span lanes, or at the bottom when those overflow.
    const bottom = Math.min(H - resourcesHeight(this.resources), AXIS_H + this.contentHeight() - this.scrollY);

    // Lanes and bars.
    let y = AXIS_H - this.scrollY;
    this.lanes.lanes.forEach((lane, i) => {
      const h = lane.rows.length * ROW_H + LANE_GAP;
      if (y + h > AXIS_H && y < bottom) {
        g.fillStyle = i % 2 ? this.c['--panel'] : this.c['--bg'];
        g.fillRect(0, y, W, h);
        g.fillStyle = this.c['--border'];
        for (const t of ticks) if (x(t) > LABEL_W) g.fillRect(Math.round(x(t)), y, 1, h);
        g.save();
        g.beginPath();
        g.rect(LABEL_W, AXIS_H, W - LABEL_W, bottom - AXIS_H);
        g.clip();
        lane.rows.forEach((row, r) => {
          const by = y + LANE_GAP / 2 + r * ROW_H + (ROW_H - BAR_H) / 2;
          if (by + BAR_H < AXIS_H || by > bottom) return;
          for (const s of row.spans) {
            const a = Date.parse(s.started_at);
            const b = s.ended_at ? Date.parse(s.ended_at) : now;
            const x1 = x(a);
            const x2 = Math.max(x(b), x1 + 2);
            if (x2 < LABEL_W || x1 > W) continue;
            const failed = s.status === 'error';
            g.fillStyle = failed ? this.c['--error'] : this.kind[s.kind] || this.kind.custom;
            g.globalAlpha = (s.status === 'running' ? 0.55 : s.kind === 'agent' || s.kind === 'chain' ? 0.45 : 0.9) * (this.filter && !this.filter(s) ? 0.15 : 1);
            g.fillRect(x1, by, x2 - x1, BAR_H);
            g.globalAlpha = 1;
            if (s.status === 'running') {
              g.fillStyle = this.c['--running'];
              g.fillRect(x2 - 3, by, 3, BAR_H);
            }
            if (s.kind === 'review') this.gate(g, s, x1, x2, by, now);
            if (s.kind === 'tool') {
              // Tool-call marker: a diamond at the call.
              g.fillStyle = failed ? this.c['--error'] : this.kind.tool;
              g.beginPath();
              g.moveTo(x1, by - 3);
              g.lineTo(x1 + 4, by + BAR_H / 2);
              g.lineTo(x1, by + BAR_H + 3);
              g.lineTo(x1 - 4, by + BAR_H / 2);
              g.fill();
            }
            if (s.span_id === this.selected) {
              g.strokeStyle = this.c['--accent'];
              g.lineWidth = 2;
              g.strokeRect(x1 - 1, by - 1, x2 - x1 + 2, BAR_H + 2);
            }
            if (x2 - x1 > 40 && s.kind !== 'review') {
              g.save();
              g.beginPath();
              g.rect(x1, by, x2 - x1 - 2, BAR_H);
              g.clip();
              g.fillStyle = this.c['--text'];
              g.fillText(s.name, Math.max(x1, LABEL_W) + 4, by + BAR_H / 2);
              g.restore();
            }
            hits.push({ x1, x2, y1: by, y2: by + BAR_H, s });
          }
        });
        g.restore();
        g.save();
        g.beginPath();
        g.rect(0, AXIS_H, LABEL_W, bottom - AXIS_H);
        g.clip();
        g.fillStyle = agentColor(lane.name);
        g.font = '600 12px system-ui, sans-serif';
        g.fillText(lane.name, 10, y + Math.min(h / 2, ROW_H), LABEL_W - 16);
        g.font = '11px system-ui, sans-serif';
        g.restore();
      }
      y += h;
    });
    this.hits = hits.filter((hb) => hb.y1 < bottom);
    this.resourceBoxes = this.resources.length
      ? drawResources(g, this.resources, { top: bottom, W, labelW: LABEL_W, x, ticks, c: this.c })
      : [];

    // Axis: time since the session's first span.
    g.fillStyle = this.c['--panel'];
    g.fillRect(0, 0, W, AXIS_H);
    g.strokeStyle = this.c['--border'];
    g.beginPath();
    g.moveTo(0, AXIS_H + 0.5);
    g.lineTo(W, AXIS_H + 0.5);
    g.stroke();
    g.fillStyle = this.c['--muted'];
    for (const t of ticks) {
      const tx = Math.round(x(t));
      g.fillRect(tx, AXIS_H - 6, 1, 6);
      g.fillText(`+${ms(t - start0)}`, tx + 4, AXIS_H / 2);
    }
    if (running) {
      g.fillStyle = this.c['--running'];
      g.fillRect(Math.round(x(hi)), AXIS_H, 2, H);
    }
    g.fillStyle = this.c['--panel'];
    g.fillRect(0, 0, LABEL_W, AXIS_H);
    g.fillStyle = this.c['--faint'];
    g.fillText(this.follow ? 'following latest' : '', 10, AXIS_H / 2);
  }

  /** A review gate: a post at its start, stripes while it waits on a person, its waiting time. */
  gate(g, s, x1, x2, by, now) {
    g.save();
    g.beginPath();
    g.rect(x1, by, x2 - x1, BAR_H);
    g.clip();
    if (s.status === 'running') {
      g.strokeStyle = this.c['--bg'];
      g.globalAlpha = 0.5;
      g.lineWidth = 3;
      const phase = (now / 60) % 10; // the stripes drift while it waits
      for (let sx = x1 - BAR_H - 10 + phase; sx < x2; sx += 10) {
        g.beginPath();
        g.moveTo(sx, by + BAR_H);
        g.lineTo(sx + BAR_H, by);
        g.stroke();
      }
    }
    g.restore();
    g.fillStyle = this.kind.review;
    g.fillRect(x1 - 1, by - 3, 3, BAR_H + 6);
    // The gate's label may run past a short bar: what it waited for matters more than room.
    const text = `${s.name} · ${gateText(this.model, s, now)}`;
    const width = g.measureText(text).width;
    let tx = Math.max(x1, LABEL_W) + 6;
    // Near the right edge (following the latest), it goes before the gate instead.
    if (tx + width > this.canvas.clientWidth - 4) tx = Math.max(LABEL_W + 2, x1 - 6 - width);
    g.fillStyle = this.c['--panel-2'];
    g.globalAlpha = x2 - tx > width + 4 ? 0 : 0.85;
    g.fillRect(tx - 2, by, width + 4, BAR_H);
    g.globalAlpha = 1;
    g.fillStyle = this.c['--text'];
    g.fillText(text, tx, by + BAR_H / 2);
  }

  /** The resource lane under a point and the time there, or null. */
  resourceAt(px, py) {
    const box = px > LABEL_W && this.resourceBoxes.find((b) => py >= b.y1 && py < b.y2);
    return box ? { lane: box.lane, t: this.t0 + (px - LABEL_W) * this.scale } : null;
  }

  hit(px, py) {
    return this.hits.find((h) => px >= h.x1 - 3 && px <= h.x2 + 3 && py >= h.y1 && py <= h.y2)?.s;
  }
}

export function TimelineView({ model, select, selected, filter }) {
  const canvas = useRef(null);
  const tl = useRef(null);
  const [follow, setFollow] = useState(model.session?.status === 'running');
  const [tip, setTip] = useState(null);

  useEffect(() => {
    const t = new Timeline(canvas.current, model, select, setFollow);
    tl.current = t;
    canvas.current.__timeline = t; // for the browser tests
    const off = model.subscribe((d) => t.update(d));
    const restyle = () => t.colors();
    const resize = new ResizeObserver(() => { t.dirty = true; });
    resize.observe(canvas.current);
    window.addEventListener('themechange', restyle);
    return () => { off(); resize.disconnect(); window.removeEventListener('themechange', restyle); t.destroy(); };
  }, [model]);

  // The agents' processes over the session's range; again every 5 s while it runs.
  useEffect(() => {
    let stop = false;
    let timer = 0;
    const load = async () => {
      const t = tl.current;
      const { lo, hi, running } = t.extent();
      try {
        const lanes = await loadResources(model.id, new Set(t.lanes.lanes.map((l) => l.name)), lo, hi);
        if (stop) return;
        t.resources = lanes;
        t.dirty = true;
      } catch {
        // The lanes are extra: a failed read leaves the last ones and tries again.
      }
      if (!stop && (running || model.session?.status === 'running')) timer = setTimeout(load, 5000);
    };
    load();
    return () => { stop = true; clearTimeout(timer); };
  }, [model]);

  useEffect(() => {
    tl.current.selected = selected;
    tl.current.dirty = true;
  }, [selected]);

  // The session's filter fades the bars it leaves out.
  useEffect(() => {
    tl.current.filter = filter;
    tl.current.dirty = true;
  }, [filter]);

  // Pointer: wheel zooms (shift+wheel scrolls lanes), drag pans, click selects, hover tells.
  useEffect(() => {
    const cv = canvas.current;
    let drag = null;
    const pos = (e) => { const r = cv.getBoundingClientRect(); return [e.clientX - r.left, e.clientY - r.top]; };
    const wheel = (e) => {
      e.preventDefault();
      const t = tl.current;
      if (e.shiftKey) t.pan(0, -e.deltaY);
      else t.zoom(Math.exp(e.deltaY * 0.0015), pos(e)[0]);
    };
    const down = (e) => { drag = { x: e.clientX, y: e.clientY, moved: false }; cv.setPointerCapture(e.pointerId); };
    const move = (e) => {
      if (drag) {
        const dx = e.clientX - drag.x;
        const dy = e.clientY - drag.y;
        if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
        if (drag.moved) { tl.current.pan(dx, dy); drag.x = e.clientX; drag.y = e.clientY; }
        return;
      }
      const s = tl.current.hit(...pos(e));
      const res = s ? null : tl.current.resourceAt(...pos(e));
      setTip(s || res ? { s, res, x: e.clientX + 12, y: e.clientY + 12 } : null);
      cv.style.cursor = s ? 'pointer' : 'grab';
    };
    const up = (e) => {
      if (drag && !drag.moved) {
        const s = tl.current.hit(...pos(e));
        if (s) select(s.span_id);
      }
      drag = null;
    };
    const leave = () => setTip(null);
    cv.addEventListener('wheel', wheel, { passive: false });
    cv.addEventListener('pointerdown', down);
    cv.addEventListener('pointermove', move);
    cv.addEventListener('pointerup', up);
    cv.addEventListener('pointerleave', leave);
    return () => {
      cv.removeEventListener('wheel', wheel);
      cv.removeEventListener('pointerdown', down);
      cv.removeEventListener('pointermove', move);
      cv.removeEventListener('pointerup', up);
      cv.removeEventListener('pointerleave', leave);
    };
  }, []);

  const key = (e) => {
    const t = tl.current;
    const act = { '+': () => t.zoom(0.7), '=': () => t.zoom(0.7), '-': () => t.zoom(1.4), ArrowLeft: () => t.pan(80, 0), ArrowRight: () => t.pan(-80, 0), ArrowUp: () => t.pan(0, 40), ArrowDown: () => t.pan(0, -40), f: () => t.fit() }[e.key];
    if (act) { e.preventDefault(); act(); }
  };

  return html`
    <div class="view-tools">
      <button class=${follow ? 'on' : ''} aria-pressed=${follow} onClick=${() => tl.current.setFollow(!follow)}>Follow latest</button>
      <button onClick=${() => tl.current.zoom(0.6)} aria-label="Zoom in" title="Zoom in">+</button>
      <button onClick=${() => tl.current.zoom(1.6)} aria-label="Zoom out" title="Zoom out">−</button>
      <button onClick=${() => { tl.current.setFollow(false); tl.current.fit(); }}>Fit all</button>
      <span class="muted">wheel: zoom · drag: pan · shift+wheel: scroll lanes · keys: + − ← → f</span>
      <span class="spacer"></span>
      <span class="legend">${KINDS.slice(0, 4).map((k) => html`<span><span class="sw" style="background:var(--k-${k})"></span>${k}</span>`)}
        <span><span class="sw" style="background:var(--k-review)"></span>review gate</span>
        <span><span class="sw" style="background:var(--error)"></span>failed</span>
        <span><span class="sw" style="background:var(--running)"></span>running</span></span>
    </div>
    <div class="canvas-host">
      <canvas ref=${canvas} tabindex="0" aria-label="Timeline of the session's spans by agent" onKeyDown=${key}
        style="width:100%; height:100%; cursor:grab" data-test="timeline"></canvas>
    </div>
    ${tip?.res ? html`<div class="tooltip" style="left:${tip.x}px; top:${tip.y}px" data-test="resource-tip">
      <b>${tip.res.lane.title}</b> <span class="muted">${timeMs(new Date(tip.res.t).toISOString())}</span>
      ${valuesAt(tip.res.lane, tip.res.t).map((v) => html`<br /><span style="color:${agentColor(v.who)}">■</span> ${v.who} ${tip.res.lane.fmt(v.value)}`)}</div>` : null}
    ${tip?.s ? html`<div class="tooltip" style="left:${tip.x}px; top:${tip.y}px">
      <b>${tip.s.name}</b> <span class="muted">${tip.s.kind}${tip.s.model ? ` · ${tip.s.model}` : ''}</span><br />
      ${tip.s.agent || 'session'} · ${tip.s.status} · ${tip.s.kind === 'review' ? gateText(model, tip.s) : ms(tip.s.duration_ms ?? Date.now() - Date.parse(tip.s.started_at))}<br />
      <span class="muted">${timeMs(tip.s.started_at)}</span></div>` : null}`;
}
