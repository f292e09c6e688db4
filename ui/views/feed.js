// The feed: everything that happened, in time order, coloured per agent: tasks started,
// messages between agents, LLM answers, tool results, logs and decisions. New items are
// appended live; the list stays pinned to the bottom while you are reading the bottom.
import { html, useEffect, useLayoutEffect, useMemo, useRef, useState } from '../vendor/preact-htm.mjs';
import { useEvents } from '../lib/use-events.js';
import { agentColor } from '../lib/colors.js';
import { FeedIndex } from '../lib/feed-index.js';
import { int, timeMs } from '../lib/format.js';
import { ErrorNotice } from '../components/badges.js';
import { usePreviews } from '../lib/previews.js';

const TYPES = [['task', 'tasks'], ['message', 'messages'], ['llm', 'LLM'], ['tool', 'tools'], ['log', 'logs'], ['decision', 'decisions']];
const SHOWN = 500;

/** The model's feed index, following its deltas from the first render on. */
function useFeedIndex(model) {
  const index = useMemo(() => new FeedIndex(model), [model]);
  useEffect(() => {
    const off = model.subscribe((delta) => index.update(delta));
    // A change between the first render and this subscription: start again from the model.
    if (model.version !== index.version) index.rebuild();
    return off;
  }, [index]);
  return index;
}

/** The agent column fits the session's longest agent name (within reason), never cut short. */
const whoWidth = (agents) => `${Math.min(32, Math.max(8, ...[...agents].map((a) => a.length))) + 1}ch`;

/** An LLM item's answer: seen live, else read from its span. */
const answerOf = (item, previews) => (item.type === 'llm' ? item.answer || previews.get(item.span)?.response : null);

/** Whether the session filter keeps a feed item: by its span, else by its text and agent. */
function keeps(model, filter, item) {
  if (!filter) return true;
  const s = item.span && model.spans.get(item.span);
  return s ? filter(s) : filter.keepsText(`${item.tag} ${item.text}`, item.agent);
}

export function FeedView({ model, version, select, filter }) {
  const events = useEvents(model);
  const [off, setOff] = useState(new Set());
  const [agent, setAgent] = useState('');
  const [all, setAll] = useState(false);
  const list = useRef(null);
  const pinned = useRef(true);
  const index = useFeedIndex(model);
  const shown = useMemo(() => index.items.filter((i) => !off.has(i.type) && (!agent || i.agent === agent) && keeps(model, filter, i)), [version, off, agent, filter]);
  const visible = all ? shown : shown.slice(-SHOWN);
  // Answers of calls not seen live (a session opened after the fact) are read from their spans.
  const calls = visible.filter((i) => i.type === 'llm' && !i.answer && i.cls !== 'error').map((i) => model.spans.get(i.span)).filter(Boolean);
  const previews = usePreviews(model, calls);

  // Stay at the bottom when new items arrive, unless the reader scrolled up.
  useLayoutEffect(() => {
    const box = list.current?.closest('.view');
    if (box && pinned.current) box.scrollTop = box.scrollHeight;
  });
  const onScroll = (e) => {
    const b = e.currentTarget;
    pinned.current = b.scrollHeight - b.scrollTop - b.clientHeight < 40;
  };
  useLayoutEffect(() => {
    const box = list.current?.closest('.view');
    box?.addEventListener('scroll', onScroll);
    return () => box?.removeEventListener('scroll', onScroll);
  }, []);

  const toggle = (t) => setOff((s) => { const n = new Set(s); if (n.has(t)) n.delete(t); else n.add(t); return n; });
  return html`
    <div class="view-tools" style="position:sticky; top:0; z-index:2">
      ${TYPES.map(([t, label]) => html`<button class=${off.has(t) ? '' : 'on'} aria-pressed=${!off.has(t)} onClick=${() => toggle(t)}>${label}</button>`)}
      <select value=${agent} onChange=${(e) => setAgent(e.target.value)} aria-label="Agent">
        <option value="">all agents</option>
        ${[...index.agents].sort().map((a) => html`<option value=${a}>${a}</option>`)}
      </select>
      <span class="spacer"></span>
      <span class="muted">${int(shown.length)} items${events.loaded ? '' : ' · loading events…'}</span>
    </div>
    <${ErrorNotice} error=${events.error} />
    ${!all && shown.length > SHOWN ? html`<div class="row" style="justify-content:center; padding:8px"><button onClick=${() => setAll(true)}>Show ${int(shown.length - SHOWN)} earlier items</button></div>` : null}
    <div class="feed" ref=${list} data-test="feed" style="--who:${whoWidth(index.agents)}">
      ${visible.map((i) => html`
        <div key=${i.key} class="feed-item ${i.cls || ''}" style="--agent:${i.agent ? agentColor(i.agent) : 'var(--border)'}">
          <span class="muted mono">${timeMs(i.at)}</span>
          <span class="who">${i.agent || 'session'}</span>
          <span class="what"><span class="tag">${i.tag}</span>${i.span ? html`<button class="linkish" onClick=${() => select(i.span)}>${i.text}</button>` : i.text}
            ${answerOf(i, previews) ? html`<span class="answer" data-test="answer">${answerOf(i, previews)}</span>` : null}</span>
        </div>`)}
    </div>`;
}
