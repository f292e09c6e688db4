// The session's DAG, top-down (cytoscape, laid out by graph-layout.js): spans are nodes under
// their parent, siblings left to right in start order, long runs of leaves wrapped into rows;
// relation edges (messages, delegations, dependencies) are drawn across. Big subtrees are
// collapsed (double border, "+N"); double-click a node to open or close it. Live spans are
// laid out a few times a second for all that arrived in between, with the layout a reload
// gives. It opens at a readable zoom on the running work; "Jump to running" goes through it;
// the minimap shows the whole graph and moves the view. Replays forked from the session hang
// as dashed branches under the call they started from (graph-forks.js).
import { html, useEffect, useRef, useState } from '../vendor/preact-htm.mjs';
import cytoscape from '../vendor/cytoscape.mjs';
import { graphStyle, nodeType, spanLabel, LEGEND } from './graph-style.js';
import { branches, branchElements, isForkNode } from './graph-forks.js';
import { watchForks } from '../lib/forks.js';
import { initialCollapsed, visibleSpans, visibleAncestor, reveal, BUDGET } from './graph-visible.js';
import { tidyLayout, wrapFor } from './graph-layout.js';
import { Minimap } from './graph-minimap.js';
import { startMs } from '../lib/session-model.js';
import { edgeSpans } from './graph-edges.js';
import { int } from '../lib/format.js';

/** Visible nodes past which live spans fold into their parent instead of adding nodes. */
const LIVE_CAP = 4 * BUDGET;
/** Live deltas are gathered and drawn together at most this often: every change redraws the
 * whole canvas, and a session growing at 200 spans/s sends ten deltas a second. */
const DRAW_EVERY_MS = 250;
/** Past this many drawn nodes, twice as seldom: a growing block moves the nodes under it,
 * and moving hundreds of nodes is the cost of a draw (ui.md, "Tests and figures"). */
const BIG_DRAW = 300;
/** The smallest zoom at which labels can be read. */
const READABLE = 0.75;

function nodeData(model, collapsed, id) {
  const s = model.spans.get(id);
  const isRoot = !s.parent_id || !model.spans.has(s.parent_id);
  const type = nodeType(s, isRoot);
  const hidden = collapsed.has(id) ? model.subtreeSize(id) : 0;
  let label = spanLabel(s, type, model);
  if (hidden) label += `\n+${hidden} hidden`;
  return { id, label, type, status: s.status, hidden };
}

/** The edge from a span's parent: a delegation when the child is an agent's work, else a request. */
function treeEdge(model, id) {
  const s = model.spans.get(id);
  return { group: 'edges', data: { id: `t:${id}`, source: s.parent_id, target: id, kind: s.kind === 'agent' ? 'delegation' : 'request' }, classes: 'tree' };
}

/** Keeps a cytoscape instance in step with the model. */
class Graph {
  constructor(container, model, onSelect) {
    this.model = model;
    this.collapsed = initialCollapsed(model);
    this.branch = branches([]);
    this.cy = cytoscape({
      container, style: graphStyle(), minZoom: 0.03, maxZoom: 3,
      boxSelectionEnabled: false, textureOnViewport: true, hideEdgesOnViewport: model.spans.size > 2000,
    });
    this.cy.on('tap', 'node', (e) => {
      const id = e.target.id();
      if (isForkNode(id)) location.hash = this.branch.links.get(id);
      else onSelect(id);
    });
    this.cy.on('dbltap', 'node', (e) => this.toggle(e.target.id()));
    this.pulse = setInterval(() => {
      this.cy.nodes('[status = "running"]').toggleClass('pulse');
      // A waiting gate's label counts its waiting time.
      this.cy.nodes('[type = "review"][status = "running"][!forked]').forEach((n) => n.data(nodeData(this.model, this.collapsed, n.id())));
    }, 700);
    this.rebuild();
    this.overview();
  }

  /**
   * Fits the graph when it reads that way; a bigger one is shown at a readable zoom on its
   * latest running span (a live session), else from its root.
   */
  overview() {
    const cy = this.cy;
    cy.fit(undefined, 30);
    this.fitted = cy.zoom() >= READABLE;
    if (this.fitted || cy.nodes().empty()) return;
    cy.zoom(READABLE);
    const running = this.running();
    if (running.length) return this.centre(running[0]);
    const p = cy.nodes()[0].position();
    cy.pan({ x: cy.width() / 2 - p.x * READABLE, y: 50 - (p.y - 30) * READABLE });
    return undefined;
  }

  /** The drawn nodes holding running work (a hidden span's visible ancestor), newest first. */
  running() {
    const out = [];
    const spans = [...this.model.spans.values()].filter((s) => s.status === 'running').sort((a, b) => startMs(b) - startMs(a));
    for (const s of spans) {
      const id = visibleAncestor(this.model, this.collapsed, s.span_id);
      if (id && !out.includes(id)) out.push(id);
    }
    return out;
  }

  centre(id, animate = false) {
    const node = this.cy.getElementById(id);
    if (node.empty()) return;
    if (animate) this.cy.animate({ center: { eles: node }, zoom: Math.max(this.cy.zoom(), READABLE) }, { duration: 250 });
    else this.cy.center(node);
  }

  /** Centres the next running node (newest first, round and round): {count, id}. */
  jumpToRunning() {
    const list = this.running();
    if (!list.length) return { count: 0 };
    this.jump = ((this.jump ?? -1) + 1) % list.length;
    const id = list[this.jump];
    this.centre(id, true);
    return { count: list.length, id };
  }

  /**
   * Places every drawn span with the tidy layout (relation edges follow their ends), rows as
   * wide as the view shows at a readable zoom (measured when the graph is drawn from scratch,
   * kept while it grows live, so it does not reflow under the reader).
   */
  layout(refit) {
    if (refit || !this.wrap) this.wrap = wrapFor(this.cy.width(), READABLE);
    const pos = tidyLayout(this.model.roots(), (id) => this.kids(id), this.wrap);
    // Only the nodes that move: a live update mostly moves none but the new ones.
    this.cy.nodes().forEach((n) => {
      const p = pos[n.id()];
      const q = n.position();
      if (p && (Math.abs(p.x - q.x) > 0.5 || Math.abs(p.y - q.y) > 0.5)) n.position(p);
    });
  }

  /** A drawn node's drawn children: a span's (unless collapsed) and the replays forked at it. */
  kids(id) {
    const own = this.branch.kids.get(id);
    if (own) return own;
    const spans = this.collapsed.has(id) ? [] : this.model.childrenOf(id);
    const forks = this.branch.at.get(id);
    return forks ? [...spans, ...forks] : spans;
  }

  /** Takes the session's replay forks in (lib/forks.js) and draws them as branches. */
  setForks(forks) {
    this.branch = branches(forks);
    const anchor = this.cy.nodes(':selected')[0]?.id() ?? this.cy.nodes()[0]?.id();
    if (anchor) this.relayoutKeeping(anchor);
    else this.rebuild();
    // A graph that opened whole stays whole with its branches.
    if (this.fitted) this.overview();
  }

  destroy() {
    clearInterval(this.pulse);
    clearTimeout(this.drawTimer);
    this.cy.destroy();
  }

  /** Draws the visible spans from scratch and lays them out. */
  rebuild() {
    const ids = visibleSpans(this.model, this.collapsed);
    const shown = new Set(ids);
    const els = ids.map((id) => ({ group: 'nodes', data: nodeData(this.model, this.collapsed, id) }));
    for (const id of ids) {
      const p = this.model.spans.get(id).parent_id;
      if (p && shown.has(p)) els.push(treeEdge(this.model, id));
    }
    for (const e of this.model.edges) els.push(...this.relation(e, shown));
    els.push(...branchElements(this.branch, shown));
    this.cy.batch(() => {
      this.cy.elements().remove();
      this.cy.add(els);
      this.layout(true);
    });
    if (this.filter) this.applyFilter(this.cy.nodes());
  }

  relation(e, shown) {
    const ends = edgeSpans(this.model, e);
    if (!ends || !shown.has(ends[0]) || !shown.has(ends[1])) return [];
    // A delegation to a child is already drawn by the tree.
    if (e.kind === 'delegation' && this.model.spans.get(ends[1])?.parent_id === ends[0]) return [];
    return [{ group: 'edges', data: { id: `e:${e.edge_id}`, source: ends[0], target: ends[1], kind: e.kind, label: e.label || undefined } }];
  }

  /** Opens or closes a node, keeping it where it is on screen. */
  toggle(id) {
    if (!this.model.childrenOf(id).length) return;
    if (this.collapsed.has(id)) this.collapsed.delete(id);
    else this.collapsed.add(id);
    this.relayoutKeeping(id);
  }

  relayoutKeeping(id) {
    const before = this.cy.getElementById(id).renderedPosition();
    this.rebuild();
    const node = this.cy.getElementById(id);
    if (before && node.nonempty()) {
      const after = node.renderedPosition();
      this.cy.panBy({ x: before.x - after.x, y: before.y - after.y });
    }
  }

  setCollapsed(collapsed) {
    this.collapsed = collapsed;
    this.rebuild();
    this.overview();
  }

  /** Takes a model delta in; it is drawn with the others of the next DRAW_EVERY_MS. */
  update(delta) {
    if (delta.reset) {
      this.pending = null;
      this.collapsed = initialCollapsed(this.model);
      this.rebuild();
      this.overview();
      return;
    }
    if (!this.pending) {
      this.pending = { added: new Set(), changed: new Set(), edges: [] };
      this.drawTimer = setTimeout(() => this.drawPending(), this.cy.nodes().length > BIG_DRAW ? 2 * DRAW_EVERY_MS : DRAW_EVERY_MS);
    }
    for (const id of delta.added) this.pending.added.add(id);
    for (const id of delta.changed) this.pending.changed.add(id);
    this.pending.edges.push(...delta.edges);
  }

  /** Applies the gathered deltas without touching the nodes that did not change. */
  drawPending() {
    const delta = this.pending;
    this.pending = null;
    if (!delta) return;
    const cy = this.cy;
    this.nodeCount = cy.nodes().length;
    cy.batch(() => {
      for (const id of delta.added) this.addSpan(id);
      for (const id of delta.changed) {
        const n = cy.getElementById(id);
        if (n.nonempty()) n.data(nodeData(this.model, this.collapsed, id));
      }
      if (delta.edges.length) {
        const shown = new Set(cy.nodes().map((n) => n.id()));
        for (const e of delta.edges) cy.add(this.relation(e, shown).filter((el) => cy.getElementById(el.data.id).empty()));
      }
      if (delta.added.size) this.layout();
    });
    if (this.filter) this.applyFilter(cy.nodes().filter((n) => delta.added.has(n.id()) || delta.changed.has(n.id())));
  }

  addSpan(id) {
    const cy = this.cy;
    // Drawn already by a rebuild (a toggle, a selection) since the delta came.
    if (cy.getElementById(id).nonempty()) return;
    const s = this.model.spans.get(id);
    const parent = s.parent_id && cy.getElementById(s.parent_id);
    const holder = visibleAncestor(this.model, this.collapsed, id);
    if (holder !== id) {
      // Under a collapsed node: only its "+N" changes.
      const n = cy.getElementById(holder);
      if (n.nonempty()) n.data(nodeData(this.model, this.collapsed, holder));
      return;
    }
    if (parent?.nonempty() && this.nodeCount >= LIVE_CAP) {
      this.collapsed.add(s.parent_id);
      parent.successors().remove();
      parent.data(nodeData(this.model, this.collapsed, s.parent_id));
      this.nodeCount = cy.nodes().length;
      return;
    }
    cy.add({ group: 'nodes', data: nodeData(this.model, this.collapsed, id) });
    this.nodeCount += 1;
    if (parent?.nonempty()) cy.add(treeEdge(this.model, id));
  }

  select(id) {
    const cy = this.cy;
    cy.$(':selected').unselect();
    if (!id || !this.model.spans.has(id)) return;
    if (cy.getElementById(id).empty()) {
      reveal(this.model, this.collapsed, id);
      this.rebuild();
    }
    const node = cy.getElementById(id).select();
    const bb = node.renderedBoundingBox();
    if (bb.x2 < 0 || bb.y2 < 0 || bb.x1 > cy.width() || bb.y1 > cy.height()) cy.center(node);
  }

  /** Fades the spans the session's filter leaves out (null: none). */
  setFilter(pred) {
    this.filter = pred;
    this.applyFilter(this.cy.nodes());
  }

  applyFilter(nodes) {
    const pred = this.filter;
    this.cy.batch(() => nodes.forEach((n) => {
      const s = this.model.spans.get(n.id());
      if (s) n.toggleClass('dim', !!pred && !pred(s));
    }));
  }
}

function Legend({ forks }) {
  return html`<div class="overlay-legend legend" style="flex-direction:column; gap:2px">
    <div>${LEGEND.nodes.map(([t, l]) => html`<span style="margin-right:10px"><span class="sw" style="background:var(--k-${t})"></span>${l}</span>`)}</div>
    <div>${LEGEND.states.map(([c, l]) => html`<span style="margin-right:10px"><span class="sw" style="border:2px solid var(${c})"></span>${l}</span>`)}
      <span>double border: collapsed</span></div>
    <div>${LEGEND.edges.map(([, l]) => html`<span style="margin-right:10px">${l}</span>`)}</div>
    ${forks ? html`<div data-test="fork-legend"><span class="sw" style="border:2px dashed var(--accent)"></span>${LEGEND.fork}</div>` : null}
  </div>`;
}

export function GraphView({ model, version, select, selected, filter }) {
  const host = useRef(null);
  const mini = useRef(null);
  const graph = useRef(null);
  const [forks, setForks] = useState(0);

  useEffect(() => {
    const g = new Graph(host.current, model, select);
    graph.current = g;
    host.current.__cy = g.cy; // for the browser tests and the benchmark
    const map = new Minimap(mini.current, g.cy);
    const forks = watchForks(model.id, (f) => {
      g.setForks(f);
      setForks(f.length);
    });
    const off = model.subscribe((d) => {
      g.update(d);
      if (d.metadata) forks.poke();
    });
    const restyle = () => { g.cy.style(graphStyle()); map.schedule(); };
    window.addEventListener('themechange', restyle);
    return () => { off(); forks.stop(); window.removeEventListener('themechange', restyle); map.destroy(); g.destroy(); };
  }, [model]);

  useEffect(() => graph.current?.select(selected), [selected]);
  useEffect(() => graph.current?.setFilter(filter), [filter]);

  const size = model.spans.size;
  let running = 0;
  for (const s of model.spans.values()) if (s.status === 'running') running += 1;
  return html`
    <div class="view-tools">
      <span class="muted">${int(size)} spans</span>
      <span class="spacer"></span>
      <button onClick=${() => graph.current.jumpToRunning()} disabled=${!running} title="Centre the running work, newest first; again for the next">Jump to running${running ? ` (${int(running)})` : ''}</button>
      <button onClick=${() => graph.current.cy.fit(undefined, 30)} title="Fit the graph to the view">Fit</button>
      <button onClick=${() => graph.current.setCollapsed(initialCollapsed(model))} title="Collapse to a readable size">Collapse</button>
      <button onClick=${() => graph.current.setCollapsed(new Set())} disabled=${size > 3000} title=${size > 3000 ? 'Too many spans to show at once' : 'Show every span'}>Expand all</button>
    </div>
    <div class="graph-area">
      <div class="canvas-host" ref=${host} data-test="graph"></div>
      <canvas class="minimap" ref=${mini} data-test="minimap" title="The whole graph: click or drag to move the view" aria-label="Minimap"></canvas>
    </div>
    <div style="position:relative"><${Legend} forks=${forks} /></div>`;
}
