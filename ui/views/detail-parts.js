// Parts of the detail panel: its parent and children as links, the span's own events, the
// playground runs made from it, and the drag of its left edge that resizes it (the width is
// kept in localStorage).
import { html, useEffect, useState } from '../vendor/preact-htm.mjs';
import { useEvents } from '../lib/use-events.js';
import { timeMs } from '../lib/format.js';
import { href } from '../lib/router.js';
import { Status } from '../components/badges.js';

const CHILDREN_SHOWN = 30;
const WIDTH_KEY = 'flightdeck.detail.width';
const MIN_W = 320;

/** The parent and the children of a span, each a link that opens it. */
export function SpanLinks({ model, span, select }) {
  const parent = span.parent_id && model.spans.get(span.parent_id);
  const kids = model.childrenOf(span.span_id);
  const link = (s) => html`<button class="linkish" data-span=${s.span_id} onClick=${() => select(s.span_id)}>${s.name}</button>`;
  return html`<dl class="kv" data-test="span-links" style="margin-top:6px">
    <dt>Parent</dt><dd>${parent ? link(parent) : span.parent_id ? html`<span class="mono faint">${span.parent_id}</span>` : html`<span class="faint">none (a root)</span>`}</dd>
    <dt>Children</dt><dd>${kids.length
      ? html`${kids.slice(0, CHILDREN_SHOWN).map((id, i) => html`${i ? ', ' : ''}${link(model.spans.get(id))}`)}${kids.length > CHILDREN_SHOWN ? html` <span class="faint">and ${kids.length - CHILDREN_SHOWN} more</span>` : null}`
      : html`<span class="faint">none</span>`}</dd>
  </dl>`;
}

/** The events the span reported (logs, decisions), in time order. */
export function SpanEvents({ model, spanId }) {
  useEvents(model);
  const events = model.events.filter((e) => e.span_id === spanId);
  if (!events.length) return null;
  return html`<section data-test="span-events">
    <div class="sec-head"><h3>Events</h3><span class="faint">${events.length}</span></div>
    <ol class="span-events">
      ${events.map((e) => html`<li class=${e.level === 'error' ? 'err-text' : ''}>
        <span class="mono faint">${timeMs(e.at)}</span> <span class="tag">${e.category}${e.name ? ` · ${e.name}` : ''}</span> ${e.message || ''}</li>`)}
    </ol>
  </section>`;
}

/** The panel's width (null: the stylesheet's) and the pointer-down handler of its edge. */
export function useResizable() {
  const [width, setWidth] = useState(() => Number(localStorage.getItem(WIDTH_KEY)) || null);
  const onDown = (e) => {
    e.preventDefault();
    const panel = e.currentTarget.nextElementSibling;
    const right = panel.getBoundingClientRect().right;
    const move = (m) => setWidth(Math.round(Math.max(MIN_W, Math.min(window.innerWidth - 240, right - m.clientX))));
    const up = (m) => {
      window.removeEventListener('pointermove', move);
      window.removeEventListener('pointerup', up);
      localStorage.setItem(WIDTH_KEY, String(Math.round(Math.max(MIN_W, right - m.clientX))));
    };
    window.addEventListener('pointermove', move);
    window.addEventListener('pointerup', up);
  };
  return [width, onDown];
}

/** The playground runs made from an LLM span (`GET /api/v1/playground/runs`), each a link to it in the playground. */
export function PlaygroundRuns({ sessionId, spanId }) {
  const [runs, setRuns] = useState(null);
  useEffect(() => {
    let alive = true;
    fetch(`/api/v1/playground/runs?session_id=${encodeURIComponent(sessionId)}&span_id=${encodeURIComponent(spanId)}`)
      .then((r) => (r.ok ? r.json() : { runs: [] }))
      .then((b) => alive && setRuns(b.runs || []), () => alive && setRuns([]));
    return () => { alive = false; };
  }, [sessionId, spanId]);
  if (!runs?.length) return null;
  const open = href({ page: 'playground', query: { session: sessionId, span: spanId } });
  return html`<section data-test="playground-runs">
    <div class="sec-head"><h3>Playground runs</h3><span class="faint">${runs.length}</span><span class="spacer"></span><a href=${open}>open in playground</a></div>
    <ul class="plain">${runs.map((r) => html`<li>
      <span class="mono faint">${timeMs(r.started_at)}</span> ${r.label || r.model || 'run'}
      · <${Status} status=${r.status} />${r.diff ? html` · ${r.diff.same ? 'same answer' : 'answer differs'}` : null}</li>`)}</ul>
  </section>`;
}
