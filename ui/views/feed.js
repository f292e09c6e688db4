// The feed: everything that happened, in time order, coloured per agent: tasks started,
// messages between agents, LLM answers, tool results, logs and decisions. New items are
// appended live; the list stays pinned to the bottom while you are reading the bottom.
import { html, useLayoutEffect, useMemo, useRef, useState } from '../vendor/preact-htm.mjs';
import { useEvents } from '../lib/use-events.js';
import { agentColor } from '../lib/colors.js';
import { int, ms, timeMs, tokens } from '../lib/format.js';
import { ErrorNotice } from '../components/badges.js';

const TYPES = [['task', 'tasks'], ['message', 'messages'], ['llm', 'LLM'], ['tool', 'tools'], ['log', 'logs'], ['decision', 'decisions']];
const SHOWN = 500;

function items(model) {
  const out = [];
  for (const s of model.spans.values()) {
    if (s.kind === 'agent') out.push({ at: s.started_at, type: 'task', agent: s.agent, tag: 'task', text: s.name, span: s.span_id });
    else if (s.kind === 'llm' && s.ended_at)
      out.push({ at: s.ended_at, type: 'llm', agent: s.agent, tag: s.model || 'llm', text: `${s.name} answered · ${int(tokens(s.usage))} tokens · ${ms(s.duration_ms)}`, cls: s.status === 'error' ? 'error' : '', span: s.span_id });
    else if (s.kind === 'tool' && s.ended_at)
      out.push({ at: s.ended_at, type: 'tool', agent: s.agent, tag: 'tool', text: `${s.name} ${s.status === 'error' ? 'failed' : 'ok'} · ${ms(s.duration_ms)}`, cls: s.status === 'error' ? 'error' : '', span: s.span_id });
  }
  for (const e of model.edges) {
    if (e.kind !== 'message' && e.kind !== 'delegation') continue;
    const from = e.from_agent || model.spans.get(e.from_span)?.agent;
    const to = e.to_agent || model.spans.get(e.to_span)?.agent;
    out.push({ at: e.at, type: 'message', agent: from, tag: `${e.kind} → ${to || '?'}`, text: e.label || '', span: e.from_span });
  }
  for (const e of model.events) {
    const decision = e.category === 'decision';
    out.push({
      at: e.at, type: decision ? 'decision' : 'log', agent: e.agent, span: e.span_id,
      tag: decision ? `decision · ${e.name || ''}` : `${e.category}${e.level ? ` · ${e.level}` : ''}`,
      text: e.message || e.name || '', cls: e.level === 'error' ? 'error' : e.level === 'warn' ? 'warn' : '',
    });
  }
  return out.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
}

export function FeedView({ model, version, select }) {
  const events = useEvents(model);
  const [off, setOff] = useState(new Set());
  const [agent, setAgent] = useState('');
  const [all, setAll] = useState(false);
  const list = useRef(null);
  const pinned = useRef(true);
  const feed = useMemo(() => items(model), [version]);
  const shown = feed.filter((i) => !off.has(i.type) && (!agent || i.agent === agent));
  const visible = all ? shown : shown.slice(-SHOWN);

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
        ${[...new Set(feed.map((i) => i.agent).filter(Boolean))].sort().map((a) => html`<option value=${a}>${a}</option>`)}
      </select>
      <span class="spacer"></span>
      <span class="muted">${int(shown.length)} items${events.loaded ? '' : ' · loading events…'}</span>
    </div>
    <${ErrorNotice} error=${events.error} />
    ${!all && shown.length > SHOWN ? html`<div class="row" style="justify-content:center; padding:8px"><button onClick=${() => setAll(true)}>Show ${int(shown.length - SHOWN)} earlier items</button></div>` : null}
    <div class="feed" ref=${list} data-test="feed">
      ${visible.map((i) => html`
        <div class="feed-item ${i.cls || ''}" style="--agent:${i.agent ? agentColor(i.agent) : 'var(--border)'}">
          <span class="muted mono">${timeMs(i.at)}</span>
          <span class="who">${i.agent || 'session'}</span>
          <span class="what"><span class="tag">${i.tag}</span>${i.span ? html`<button class="linkish" onClick=${() => select(i.span)}>${i.text}</button>` : i.text}</span>
        </div>`)}
    </div>`;
}
