// Agents: the agent network (message and delegation flows, with counts on the edges), activity
// per agent as a bar chart, and a card per agent with its status, task and heartbeat age.
import { html, useEffect, useRef } from '../vendor/preact-htm.mjs';
import cytoscape from '../vendor/cytoscape.mjs';
import { agentActivity, agentFlows } from '../lib/stats.js';
import { agentColor, cssVar } from '../lib/colors.js';
import { int, compact, cost, unpricedNote, ago } from '../lib/format.js';
import { Status, Empty } from '../components/badges.js';
import { Bars } from '../components/bars.js';
import { useNow } from '../lib/use-now.js';

function networkElements(model, activity) {
  const nodes = activity.map((a) => ({ data: { id: a.name, label: a.name, color: agentColor(a.name) } }));
  const edges = agentFlows(model).map((f) => ({
    data: { id: `${f.from}>${f.to}>${f.kind}`, source: f.from, target: f.to, label: String(f.count), kind: f.kind, w: Math.min(8, 1 + Math.log2(f.count + 1) * 1.5) },
  }));
  return [...nodes, ...edges];
}

/** The agent network's look, shared with the Agents page's network (agent-network.js). */
export function networkStyle() {
  return [
    { selector: 'node', style: { label: 'data(label)', 'background-color': 'data(color)', color: cssVar('--text'), 'font-size': 12, 'text-valign': 'bottom', 'text-margin-y': 6, width: 34, height: 34, 'font-weight': 600 } },
    { selector: 'edge', style: { width: 'data(w)', 'line-color': cssVar('--faint'), 'target-arrow-color': cssVar('--faint'), 'target-arrow-shape': 'triangle', 'curve-style': 'bezier', label: 'data(label)', 'font-size': 11, color: cssVar('--text'), 'text-background-color': cssVar('--panel'), 'text-background-opacity': 1, 'text-background-padding': 2 } },
    { selector: 'edge[kind = "delegation"]', style: { 'line-color': cssVar('--k-orchestrator'), 'target-arrow-color': cssVar('--k-orchestrator') } },
  ];
}

function Network({ model, activity, version }) {
  const host = useRef(null);
  const cy = useRef(null);
  const shape = useRef('');
  useEffect(() => {
    cy.current = cytoscape({ container: host.current, style: networkStyle(), minZoom: 0.2, maxZoom: 3 });
    const restyle = () => cy.current.style(networkStyle());
    window.addEventListener('themechange', restyle);
    return () => { window.removeEventListener('themechange', restyle); cy.current.destroy(); };
  }, []);
  useEffect(() => {
    const els = networkElements(model, activity);
    // Counts change often; the layout only when the set of agents or flows does.
    const key = els.map((e) => e.data.id).join('|');
    const c = cy.current;
    if (key === shape.current) {
      c.batch(() => els.forEach((e) => c.getElementById(e.data.id).data(e.data)));
      return;
    }
    shape.current = key;
    c.elements().remove();
    c.add(els);
    c.layout({ name: 'circle', padding: 40, avoidOverlap: true }).run();
    c.fit(undefined, 40);
  }, [version]);
  return html`<div class="graph-host" ref=${host} data-test="agent-network"></div>`;
}

export function AgentsView({ model, version }) {
  const now = useNow(model.session?.status === 'running');
  const activity = agentActivity(model);
  if (!activity.length) return html`<${Empty}>No agent has reported yet.<//>`;
  const measures = [
    { label: 'messages', color: 'var(--k-agent)' },
    { label: 'LLM calls', color: 'var(--k-llm)' },
    { label: 'tool calls', color: 'var(--k-tool)' },
    { label: 'tokens', color: 'var(--k-orchestrator)' },
  ];
  const rows = activity.map((a) => ({ label: a.name, color: agentColor(a.name), values: [a.sent + a.received, a.llm, a.tools, a.tokens] }));
  return html`
    <div class="page stack">
      <div class="grid2">
        <div class="panel"><header><h2>Agent network</h2><span class="muted">message and delegation flows; counts on the edges</span></header>
          <${Network} model=${model} activity=${activity} version=${version} /></div>
        <div class="panel"><header><h2>Activity per agent</h2></header><div class="body"><${Bars} rows=${rows} measures=${measures} /></div></div>
      </div>
      <div class="cards">
        ${activity.map((a) => {
          const info = model.agents.get(a.name) || {};
          return html`<div class="card" style="--agent:${agentColor(a.name)}" data-agent=${a.name}>
            <div class="row"><span class="name" style="color:${agentColor(a.name)}">${a.name}</span><span class="spacer"></span>${info.status ? html`<${Status} status=${model.agentStatus(a.name, now)} />` : null}</div>
            <div class="muted">${[info.role, info.model].filter(Boolean).join(' · ') || '–'}</div>
            ${info.task ? html`<div style="margin:4px 0">Task: ${info.task}</div>` : null}
            <dl class="kv" style="margin-top:6px">
              <dt>Last seen</dt><dd>${info.last_seen ? ago(info.last_seen, now) : '–'}</dd>
              <dt>LLM / tools</dt><dd>${int(a.llm)} / ${int(a.tools)}</dd>
              <dt>Messages</dt><dd>${int(a.sent)} sent · ${int(a.received)} received</dd>
              <dt>Tokens</dt><dd>${compact(a.tokens)} · <span data-test="agent-cost" title=${unpricedNote(a.unpriced)}>${cost(a.cost, a.unpriced)}</span></dd>
              <dt>Errors</dt><dd class=${a.errors ? 'err-text' : ''}>${int(a.errors)}</dd>
            </dl>
          </div>`;
        })}
      </div>
    </div>`;
}
