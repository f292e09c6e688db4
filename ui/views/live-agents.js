// The Agents page (#/agents): every agent of the running sessions and of those active in
// the last hour, as cards (status, current task, model, heartbeat age ticking, LLM and
// tool calls, tokens, cost, errors, messages, and the session it works in), filtered by
// status, by part of its name, and by part of its session's name. Polls every 2 s; the
// age ticks in between. Above the cards, the network of the agents shown, with their
// messages flying along its edges (agent-network.js, loaded with cytoscape on first use).
import { html, useEffect, useState } from '../vendor/preact-htm.mjs';
import { lazy } from '../lib/lazy.js';
import { href } from '../lib/router.js';
import { agentColor } from '../lib/colors.js';
import { ago, compact, cost, int, unpricedNote } from '../lib/format.js';
import { useNow } from '../lib/use-now.js';
import { Empty, ErrorNotice, Status } from '../components/badges.js';

const AgentNetwork = lazy(() => import('./agent-network.js'), 'AgentNetwork');
const STATES = ['active', 'idle', 'initializing', 'error', 'offline'];
const POLL_MS = 2000;

function Card({ a, now }) {
  const t = a.totals || {};
  const session = href({ page: 'session', session: a.session_id, view: 'agents' });
  return html`<div class="card" style="--agent:${agentColor(a.agent)}" data-agent=${a.agent} data-status=${a.status || 'unknown'}>
    <div class="row"><span class="name" style="color:${agentColor(a.agent)}">${a.agent}</span><span class="spacer"></span>${a.status ? html`<${Status} status=${a.status} />` : null}</div>
    <div class="muted">${[a.role, a.model].filter(Boolean).join(' · ') || '–'}</div>
    <div style="margin:4px 0">${a.task ? `Task: ${a.task}` : html`<span class="muted">no task reported</span>`}</div>
    <dl class="kv" style="margin-top:6px">
      <dt>Session</dt><dd><a href=${session} title=${a.session_id}>${a.session_name || a.session_id}</a></dd>
      <dt>Heartbeat</dt><dd data-test="heartbeat">${a.last_seen ? ago(a.last_seen, now) : '–'}</dd>
      <dt>LLM / tools</dt><dd>${int(t.llm_calls)} / ${int(t.tool_calls)}</dd>
      <dt>Messages</dt><dd>${int(a.messages_sent)} sent · ${int(a.messages_received)} received</dd>
      <dt>Tokens</dt><dd>${compact((t.input_tokens || 0) + (t.output_tokens || 0))} · <span title=${unpricedNote(t.unpriced_llm_calls)}>${cost(t.cost_usd, t.unpriced_llm_calls)}</span></dd>
      <dt>Errors</dt><dd class=${t.errors ? 'err-text' : ''}>${int(t.errors)}</dd>
    </dl>
  </div>`;
}

export function LiveAgents({ query, setQuery }) {
  const [agents, setAgents] = useState(null);
  const [error, setError] = useState(null);
  const now = useNow(true);
  useEffect(() => {
    let stop = false;
    const load = () => fetch('/api/v1/agents').then((r) => r.json()).then((a) => { if (!stop) { setAgents(a); setError(null); } }, (e) => !stop && setError(e));
    load();
    const t = setInterval(load, POLL_MS);
    return () => { stop = true; clearInterval(t); };
  }, []);
  const has = (text, part) => !part || (text || '').toLowerCase().includes(part.toLowerCase());
  const shown = (agents || []).filter((a) => (!query.status || a.status === query.status)
    && has(a.agent, query.name) && has(`${a.session_name || ''} ${a.session_id}`, query.session));
  const counts = Object.fromEntries(STATES.map((s) => [s, (agents || []).filter((a) => a.status === s).length]));
  const set = (k, v) => setQuery({ ...query, [k]: v || undefined });
  return html`<section class="page stack">
    <div class="logs-bar">
      <div class="range" role="group" aria-label="Status">
        <button class=${!query.status ? 'on' : ''} onClick=${() => set('status')}>all ${agents ? agents.length : ''}</button>
        ${STATES.map((s) => html`<button class=${query.status === s ? 'on' : ''} onClick=${() => set('status', s)}>${s} ${counts[s]}</button>`)}
      </div>
      <input placeholder="Agent name" value=${query.name || ''} onInput=${(e) => set('name', e.currentTarget.value)} aria-label="Agent name" />
      <input placeholder="Session" value=${query.session || ''} onInput=${(e) => set('session', e.currentTarget.value)} aria-label="Session" />
    </div>
    <${ErrorNotice} error=${error} />
    ${agents == null ? html`<${Empty}>Loading…<//>`
      : shown.length ? html`<${AgentNetwork} agents=${shown} /><div class="cards" data-test="live-agents">${shown.map((a) => html`<${Card} key=${`${a.session_id}/${a.agent}`} a=${a} now=${now} />`)}</div>`
        : html`<${Empty}>${agents.length ? 'No agent matches these filters.' : 'No agent of a running session, and none seen in the last hour.'}<//>`}
  </section>`;
}
