// The session's traces (OpenTelemetry's: one per user turn, typically), as a compact menu in
// the session's header: each turn with its start, span count and errors; choosing one selects
// its root span, which the views and the detail panel then show.
import { html } from '../vendor/preact-htm.mjs';
import { int, time } from '../lib/format.js';

export function Traces({ model, selected, select }) {
  const traces = model.traces();
  if (!traces.length) return null;
  const current = model.spans.get(selected)?.trace_id;
  const choose = (e, root) => {
    e.currentTarget.closest('details').open = false;
    select(root);
  };
  return html`<details class="traces" data-test="traces">
    <summary>${int(traces.length)} ${traces.length === 1 ? 'trace' : 'traces'}</summary>
    <ol>
      ${traces.map((t, i) => html`<li class=${t.trace_id === current ? 'current' : ''}>
        <button class="linkish" onClick=${(e) => choose(e, t.root)} title="Select the trace's root span">
          <span class="faint">turn ${i + 1}</span> <span class="mono">${t.trace_id.slice(0, 12)}…</span>
          <span class="faint">${time(t.started_at)} · ${int(t.spans)} spans</span>
          ${t.errors ? html`<span class="err-text">${int(t.errors)} errors</span>` : null}
        </button>
      </li>`)}
    </ol>
  </details>`;
}
