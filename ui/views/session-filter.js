// The session's search and filter bar: one box of text, kind, status, agent and "errors only",
// written into the route's query (so it can be shared) and applied to every view. It counts
// the matches and steps through them in tree order: previous / next open the match.
import { html, useEffect, useMemo, useRef, useState } from '../vendor/preact-htm.mjs';
import { go } from '../lib/router.js';
import { FILTER_KEYS } from '../lib/span-filter.js';

const STATUSES = ['running', 'ok', 'error'];

/** The matching span ids, in tree order (depth first, siblings by start). */
function matchesOf(model, pred) {
  if (!pred) return [];
  const out = [];
  const stack = model.roots().reverse();
  while (stack.length) {
    const id = stack.pop();
    if (pred(model.spans.get(id))) out.push(id);
    const kids = model.childrenOf(id);
    for (let i = kids.length - 1; i >= 0; i -= 1) stack.push(kids[i]);
  }
  return out;
}

export function SessionFilter({ model, version, route, pred, selected, select, searchError }) {
  const q = route.query;
  const [text, setText] = useState(q.q || '');
  const timer = useRef(0);
  useEffect(() => setText(q.q || ''), [q.q]);
  const set = (patch) => go({ ...route, query: { ...route.query, ...patch } }, true);
  const onText = (value) => {
    setText(value);
    clearTimeout(timer.current);
    timer.current = setTimeout(() => set({ q: value || undefined }), 200);
  };
  const matches = useMemo(() => matchesOf(model, pred), [version, pred]);
  const kinds = useMemo(() => [...new Set([...model.spans.values()].map((s) => s.kind))].filter(Boolean).sort(), [version]);
  const agents = useMemo(() => [...new Set([...model.spans.values()].map((s) => s.agent))].filter(Boolean).sort(), [version]);
  const at = matches.indexOf(selected);
  const step = (d) => {
    if (!matches.length) return;
    const i = at < 0 ? (d > 0 ? 0 : matches.length - 1) : (at + d + matches.length) % matches.length;
    select(matches[i]);
  };
  const active = FILTER_KEYS.some((k) => q[k]);
  return html`<div class="session-filter" role="search" data-test="session-filter">
    <input type="search" placeholder="Search names, agents, models, inputs, outputs" aria-label="Search the session" value=${text}
      onInput=${(e) => onText(e.target.value)} onKeyDown=${(e) => { if (e.key !== 'Enter') return; e.preventDefault(); if (text !== (q.q || '')) set({ q: text || undefined }); else step(e.shiftKey ? -1 : 1); }} />
    <select aria-label="Kind" value=${q.kind || ''} onChange=${(e) => set({ kind: e.target.value || undefined })}>
      <option value="">any kind</option>${kinds.map((k) => html`<option value=${k}>${k}</option>`)}
    </select>
    <select aria-label="Status" value=${q.status || ''} onChange=${(e) => set({ status: e.target.value || undefined })}>
      <option value="">any status</option>${STATUSES.map((k) => html`<option value=${k}>${k}</option>`)}
    </select>
    <select aria-label="Agent" value=${q.agent || ''} onChange=${(e) => set({ agent: e.target.value || undefined })}>
      <option value="">any agent</option>${agents.map((k) => html`<option value=${k}>${k}</option>`)}
    </select>
    <label class="check"><input type="checkbox" checked=${!!q.errors} onChange=${(e) => set({ errors: e.target.checked ? '1' : undefined })} /> errors only</label>
    ${searchError ? html`<span class="err-text" title=${String(searchError.message || searchError)}>inputs and outputs not searched</span>` : null}
    ${active ? html`
      <span class="muted" data-test="match-count">${at >= 0 ? `${at + 1} of ` : ''}${matches.length.toLocaleString()} match${matches.length === 1 ? '' : 'es'}</span>
      <button class="icon" onClick=${() => step(-1)} disabled=${!matches.length} aria-label="Previous match" title="Previous match (Shift+Enter)">↑</button>
      <button class="icon" onClick=${() => step(1)} disabled=${!matches.length} aria-label="Next match" title="Next match (Enter)">↓</button>
      <button class="icon" onClick=${() => { setText(''); set(Object.fromEntries(FILTER_KEYS.map((k) => [k, undefined]))); }} title="Clear the search and filters">Clear</button>` : null}
  </div>`;
}
