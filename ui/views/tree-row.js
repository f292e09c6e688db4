// One row of the trace tree, and the tree's column header with its time axis. A row's
// tokens and cost are the span's own for a leaf, its subtree's (Σ) for a parent; the
// tooltip gives both.
import { html } from '../vendor/preact-htm.mjs';
import { agentColor } from '../lib/colors.js';
import { compact, cost, ms } from '../lib/format.js';
import { startMs } from '../lib/session-model.js';

export const ROW_H = 24;

const ICON = { agent: 'A', llm: 'L', tool: 'T', retriever: 'R', chain: 'C', review: 'G', custom: '·' };
const STATUS = { ok: '✓', error: '✕', running: '●' };

export function TreeHeader({ axis }) {
  return html`<div class="tree-row tree-head" aria-hidden="true">
    <span>Span</span><span>Agent</span><span>Model</span><span>Status</span>
    <span class="tree-axis"><span>0</span><span>${ms(axis.span / 2)}</span><span>${ms(axis.span)}</span></span>
    <span class="num">Duration</span><span class="num">Tokens</span><span class="num">Cost</span>
  </div>`;
}

function Bar({ s, axis }) {
  const start = startMs(s);
  const end = s.ended_at ? Date.parse(s.ended_at) : axis.now;
  const left = Math.max(0, Math.min(100, ((start - axis.lo) / axis.span) * 100));
  const width = Math.max(0.4, Math.min(100 - left, ((end - start) / axis.span) * 100));
  return html`<span class="tree-bar-track"><span class="tree-bar ${s.status}" style="left:${left}%; width:${width}%; --c: var(--k-${s.kind || 'custom'})"></span></span>`;
}

const figure = (f, parent) => ({
  tokens: `${parent ? 'Σ ' : ''}${f.tokens ? compact(f.tokens) : '–'}`,
  cost: f.cost || f.unpriced ? `${parent ? 'Σ ' : ''}${cost(f.cost, f.unpriced)}` : '–',
});

export function TreeRow({ i, id, depth, tree, model, axis, selected, cursor, open, toggle, setRoot }) {
  const s = model.spans.get(id);
  const kids = model.childrenOf(id).length;
  const collapsed = kids && tree.collapsed.has(id) && !tree.filter;
  const { own, sub } = tree.figures(id);
  const shown = figure(kids ? sub : own, kids > 0);
  const tip = kids ? `own: ${compact(own.tokens)} tokens, ${cost(own.cost, own.unpriced)} · subtree: ${compact(sub.tokens)} tokens, ${cost(sub.cost, sub.unpriced)}` : undefined;
  const duration = s.ended_at ? s.duration_ms ?? Date.parse(s.ended_at) - startMs(s) : axis.now - startMs(s);
  const dim = tree.filter && !tree.filter(s);
  return html`<div id="row-${id}" class="tree-row ${selected ? 'selected' : ''} ${cursor ? 'cursor' : ''} ${dim ? 'dim' : ''}"
      style="top:${i * ROW_H}px" role="treeitem" aria-level=${depth + 1} aria-expanded=${kids ? !collapsed : undefined}
      aria-selected=${selected} data-span=${id} onClick=${() => open(id)}>
    <span class="tree-name" style="padding-left:${depth * 14}px">
      ${kids
        ? html`<button class="tree-toggle" aria-label=${collapsed ? 'Expand' : 'Collapse'} onClick=${(e) => { e.stopPropagation(); toggle(id); }}>${collapsed ? '▸' : '▾'}</button>`
        : html`<span class="tree-toggle"></span>`}
      <span class="tree-icon" style="background: var(--k-${s.kind || 'custom'})" title=${s.kind}>${ICON[s.kind] || '·'}</span>
      <span class="tree-label" title=${s.name}>${s.name}</span>
      ${collapsed ? html`<span class="faint">+${(sub.spans - 1).toLocaleString()}</span>` : null}
      ${kids ? html`<button class="tree-reroot" title="Show only this subtree (r)" aria-label="Re-root here" onClick=${(e) => { e.stopPropagation(); setRoot(id); }}>⤢</button>` : null}
    </span>
    <span class="tree-agent" style="color:${s.agent ? agentColor(s.agent) : 'inherit'}" title=${s.agent}>${s.agent || ''}</span>
    <span class="tree-model muted" title=${s.model}>${s.model || ''}</span>
    <span class="tree-status ${s.status}" title=${s.status}>${STATUS[s.status] || ''} ${s.status}</span>
    <${Bar} s=${s} axis=${axis} />
    <span class="num">${ms(duration)}</span>
    <span class="num" title=${tip}>${shown.tokens}</span>
    <span class="num" title=${tip}>${shown.cost}</span>
  </div>`;
}
