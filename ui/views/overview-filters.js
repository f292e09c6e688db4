// The overview's filters: date range, status, agent, model, errors only, free text. They live
// in the URL query, so a filtered list can be linked; text fields apply after a short pause.
import { html, useEffect, useRef, useState } from '../vendor/preact-htm.mjs';

const KEYS = ['q', 'status', 'agent', 'model', 'from', 'to', 'errors'];

export const isFiltered = (query) => KEYS.some((k) => query[k]);

/** The API parameters of a URL query (datetime-local values are local times). */
export function toApi(query) {
  const t = (v) => (v ? new Date(v).toISOString() : undefined);
  return {
    q: query.q,
    status: query.status,
    agent: query.agent,
    model: query.model,
    from: t(query.from),
    to: t(query.to),
    has_errors: query.errors ? 'true' : undefined,
  };
}

export function Filters({ query, onChange }) {
  const [draft, setDraft] = useState(query);
  const timer = useRef(0);
  useEffect(() => setDraft(query), [JSON.stringify(query)]);
  const set = (k, v, delay = 0) => {
    const next = { ...draft, [k]: v };
    setDraft(next);
    clearTimeout(timer.current);
    timer.current = setTimeout(() => onChange(next), delay);
  };
  const text = (k, label, placeholder, width) => html`
    <label class="field">${label}
      <input type="search" name=${k} value=${draft[k] || ''} placeholder=${placeholder} style="width:${width}px"
        onInput=${(e) => set(k, e.target.value, 300)} /></label>`;
  return html`
    <form class="toolbar panel" style="padding:10px 12px" role="search" onSubmit=${(e) => e.preventDefault()}>
      ${text('q', 'Search', 'name, id, tag, agent', 220)}
      <label class="field">Status
        <select name="status" value=${draft.status || ''} onChange=${(e) => set('status', e.target.value)}>
          <option value="">any</option><option value="running">running</option>
          <option value="completed">completed</option><option value="failed">failed</option>
        </select></label>
      ${text('agent', 'Agent', 'part of a name', 140)}
      ${text('model', 'Model', 'part, e.g. sonnet', 140)}
      <label class="field">From<input type="datetime-local" name="from" value=${draft.from || ''} onChange=${(e) => set('from', e.target.value)} /></label>
      <label class="field">To<input type="datetime-local" name="to" value=${draft.to || ''} onChange=${(e) => set('to', e.target.value)} /></label>
      <label class="check" style="margin-bottom:6px"><input type="checkbox" name="errors" checked=${!!draft.errors}
        onChange=${(e) => set('errors', e.target.checked ? '1' : '')} />errors only</label>
      ${isFiltered(draft) ? html`<button type="button" onClick=${() => { setDraft({}); onChange({}); }}>Clear</button>` : null}
    </form>`;
}
