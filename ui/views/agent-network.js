// The Agents page's network: the agents on the page as nodes (one per name, across their
// sessions), their messages and delegations as edges with counts, read from the sessions'
// edges (`GET /api/v1/sessions/{id}/edges`, at most MAX_SESSIONS sessions, the newest first)
// every poll. A flow that grew since the last read sends a dot along its edge from sender to
// receiver and lights the edge up, so messages are seen moving as they happen. Loaded with
// cytoscape on first use (lib/lazy.js).
import { html, useEffect, useRef, useState } from '../vendor/preact-htm.mjs';
import cytoscape from '../vendor/cytoscape.mjs';
import { api } from '../lib/api.js';
import { flowsOf } from '../lib/stats.js';
import { agentColor, cssVar } from '../lib/colors.js';
import { networkStyle } from './agents.js';

const MAX_SESSIONS = 12;
const POLL_MS = 2000;
const FLIGHT_MS = 900;

const flowId = (f) => `${f.from}>${f.to}>${f.kind}`;

function style() {
  return [
    ...networkStyle(),
    { selector: 'edge.hot', style: { 'line-color': cssVar('--accent'), 'target-arrow-color': cssVar('--accent') } },
    { selector: 'node.pulse', style: { width: 10, height: 10, label: '', 'background-color': cssVar('--accent'), 'border-width': 2, 'border-color': cssVar('--panel'), events: 'no', 'z-index': 10 } },
  ];
}

/** Sends a dot from the flow's sender to its receiver and lights its edge for the flight. */
function fly(cy, f, n) {
  const from = cy.getElementById(f.from);
  const to = cy.getElementById(f.to);
  const edge = cy.getElementById(flowId(f));
  if (!from.length || !to.length) return;
  edge.addClass('hot');
  const dot = cy.add({ group: 'nodes', data: { id: `pulse-${n}`, label: '', color: '' }, classes: 'pulse', position: { ...from.position() } });
  dot.animate({ position: { ...to.position() } }, {
    duration: FLIGHT_MS,
    easing: 'ease-in-out-sine',
    complete: () => { dot.remove(); edge.removeClass('hot'); },
  });
}

/** `agents`: the page's agents ({session_id, agent}), as shown. */
export function AgentNetwork({ agents }) {
  const host = useRef(null);
  const cy = useRef(null);
  const shape = useRef('');
  const counts = useRef(null);
  const flights = useRef(0);
  const [flows, setFlows] = useState(null);
  const names = [...new Set(agents.map((a) => a.agent))].sort();
  const sessions = [...new Set(agents.map((a) => a.session_id))].slice(0, MAX_SESSIONS);
  const sessionKey = sessions.join('\u0000');

  useEffect(() => {
    cy.current = cytoscape({ container: host.current, style: style(), minZoom: 0.2, maxZoom: 3 });
    host.current.__network = { flights: () => flights.current };
    const restyle = () => cy.current.style(style());
    window.addEventListener('themechange', restyle);
    return () => { window.removeEventListener('themechange', restyle); cy.current.destroy(); };
  }, []);

  useEffect(() => {
    let stop = false;
    const load = async () => {
      try {
        const all = await Promise.all(sessions.map((id) => api.edges(id)));
        if (!stop) setFlows(flowsOf(all.flat()));
      } catch {
        // A session gone between two reads: the next poll reads the sessions then shown.
      }
    };
    load();
    const t = setInterval(load, POLL_MS);
    return () => { stop = true; clearInterval(t); };
  }, [sessionKey]);

  const shown = new Set(names);
  const mine = (flows || []).filter((f) => shown.has(f.from) && shown.has(f.to));
  useEffect(() => {
    const c = cy.current;
    const nodes = names.map((name) => ({ data: { id: name, label: name, color: agentColor(name) } }));
    const edges = mine.map((f) => ({ data: { id: flowId(f), source: f.from, target: f.to, label: String(f.count), kind: f.kind, w: Math.min(8, 1 + Math.log2(f.count + 1) * 1.5) } }));
    const key = [...nodes, ...edges].map((e) => e.data.id).join('|');
    if (key !== shape.current) {
      shape.current = key;
      c.elements().remove();
      c.add([...nodes, ...edges]);
      c.layout({ name: 'circle', padding: 40, avoidOverlap: true }).run();
      c.fit(undefined, 40);
    } else c.batch(() => edges.forEach((e) => c.getElementById(e.data.id).data(e.data)));
    // What grew since the last read flies; the first read only sets the counts.
    if (!flows) return;
    const before = counts.current;
    counts.current = new Map(mine.map((f) => [flowId(f), f.count]));
    if (before) {
      for (const f of mine) {
        if (f.count > (before.get(flowId(f)) || 0)) fly(c, f, (flights.current += 1));
      }
    }
  }, [flows, names.join('\u0000')]);

  return html`<div class="panel"><header><h2>Agent network</h2>
      <span class="muted">${flows && !mine.length ? 'no messages or delegations between these agents yet' : 'messages and delegations between the agents shown, counts on the edges; new ones fly along their edge'}</span></header>
    <div class="graph-host agent-network" ref=${host} data-test="agent-network"></div></div>`;
}
