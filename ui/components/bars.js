// Horizontal bar charts in plain HTML: one group of bars per row, each measure scaled to its
// own maximum (so tokens and call counts can share a chart). Rows: {label, values: number[]}.
import { html } from '../vendor/preact-htm.mjs';
import { compact } from '../lib/format.js';

export function Bars({ rows, measures }) {
  const max = measures.map((_, i) => Math.max(1, ...rows.map((r) => r.values[i] || 0)));
  return html`
    <div class="legend" style="margin-bottom:10px">
      ${measures.map((m) => html`<span><span class="sw" style="background:${m.color}"></span>${m.label}</span>`)}
    </div>
    <div class="bars">
      ${rows.map(
        (r) => html`
          <div style="color:${r.color || 'inherit'}; font-weight:600">${r.label}</div>
          <div class="bar-group">
            ${measures.map(
              (m, i) => html`<div class="bar-row" title="${m.label}: ${r.values[i] || 0}">
                <div class="bar-track"><div class="bar" style="width:${((r.values[i] || 0) / max[i]) * 100}%; background:${m.color}"></div></div>
                <span style="width:52px; text-align:right">${compact(r.values[i] || 0)}</span>
              </div>`,
            )}
          </div>`,
      )}
    </div>`;
}
