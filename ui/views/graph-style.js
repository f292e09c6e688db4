// The graph's look, from the theme's variables: node shape and tint by type (orchestrator,
// agent, LLM, tool, ...), border by state (running blue and pulsing, ok green, failed red),
// edges by relation (request solid, delegation thick, message dashed, dependency dotted).
// A review is a gate: a yellow diamond, its border dashed while it waits on a person.
import { cssVar } from '../lib/colors.js';
import { gateText } from '../lib/gate.js';

export const SHAPES = {
  orchestrator: 'hexagon', agent: 'round-rectangle', llm: 'ellipse', tool: 'cut-rectangle',
  retriever: 'barrel', chain: 'round-octagon', review: 'diamond', custom: 'rectangle',
};

/** The node type of a span: a root is the orchestrator; otherwise its kind. */
export const nodeType = (span, isRoot) => (isRoot && span.kind !== 'llm' && span.kind !== 'tool' ? 'orchestrator' : span.kind || 'custom');

/** A span node's label: its name, with the model of an LLM call, the agent of an agent's work,
 * or a review's gate (waiting, decided) when the session's `model` is at hand. */
export function spanLabel(s, type, model) {
  if (type === 'llm' && s.model) return `${s.name}\n${s.model}`;
  if (type === 'agent' && s.agent) return `${s.agent}\n${s.name}`;
  if (type === 'review' && model) return `${s.name}\n${gateText(model, s)}`;
  return s.name;
}

export function graphStyle() {
  const v = (n) => cssVar(n);
  const types = Object.keys(SHAPES).map((t) => ({
    selector: `node[type = "${t}"]`,
    style: { shape: SHAPES[t], 'background-color': v(`--k-${t}`), 'background-opacity': 0.2 },
  }));
  return [
    {
      selector: 'node',
      style: {
        // Labels too small to read on screen are not drawn: at a distance they cost frames
        // and say nothing.
        label: 'data(label)', 'text-wrap': 'wrap', 'text-max-width': 132, 'font-size': 11, 'min-zoomed-font-size': 7, color: v('--text'),
        'text-valign': 'center', 'text-halign': 'center', width: 150, height: 46,
        'border-width': 2, 'border-color': v('--ok'), 'font-family': 'system-ui, sans-serif',
      },
    },
    ...types,
    { selector: 'node[type = "orchestrator"]', style: { width: 170, height: 56, 'font-weight': 600 } },
    { selector: 'node[type = "llm"]', style: { width: 160 } },
    { selector: 'node[type = "review"]', style: { width: 190, height: 70, 'text-max-width': 120, 'font-size': 10, 'background-opacity': 0.45, 'border-color': v('--k-review'), 'border-width': 3 } },
    { selector: 'node[status = "running"]', style: { 'border-color': v('--running'), 'border-width': 3 } },
    { selector: 'node[status = "running"].pulse', style: { 'border-width': 6, 'border-opacity': 0.55 } },
    { selector: 'node[type = "review"][status = "running"]', style: { 'border-style': 'dashed', 'border-color': v('--k-review'), 'border-width': 4 } },
    { selector: 'node[status = "error"]', style: { 'border-color': v('--error'), 'background-color': v('--error'), 'background-opacity': 0.3, 'border-width': 3 } },
    // A replay's branch (graph-forks.js): the fork node, and the re-run's spans dashed.
    { selector: 'node[type = "fork"]', style: { shape: 'tag', width: 200, 'text-max-width': 160, 'background-color': v('--accent'), 'background-opacity': 0.3, 'border-color': v('--accent'), 'font-weight': 600 } },
    { selector: 'node.forked', style: { 'border-style': 'dashed' } },
    { selector: 'node[hidden > 0]', style: { 'border-style': 'double', 'border-width': 5 } },
    { selector: 'node.dim', style: { opacity: 0.22 } },
    { selector: 'node:selected', style: { 'overlay-color': v('--accent'), 'overlay-opacity': 0.25, 'overlay-padding': 6 } },
    {
      selector: 'edge',
      style: {
        width: 1.5, 'line-color': v('--faint'), 'target-arrow-color': v('--faint'), 'target-arrow-shape': 'triangle',
        'curve-style': 'bezier', 'arrow-scale': 0.8,
      },
    },
    { selector: 'edge[kind = "message"]', style: { 'line-style': 'dashed', 'line-color': v('--k-agent'), 'target-arrow-color': v('--k-agent'), width: 1.5, 'curve-style': 'unbundled-bezier', 'control-point-distances': 40 } },
    { selector: 'edge[kind = "delegation"]', style: { width: 4, 'line-color': v('--k-orchestrator'), 'target-arrow-color': v('--k-orchestrator'), 'curve-style': 'unbundled-bezier', 'control-point-distances': 40 } },
    { selector: 'edge.tree', style: { 'curve-style': 'bezier' } },
    { selector: 'edge[kind = "depends_on"]', style: { 'line-style': 'dotted', width: 2, 'line-color': v('--warn'), 'target-arrow-color': v('--warn') } },
    { selector: 'edge[kind = "fork"]', style: { 'line-style': 'dashed', width: 3, 'line-color': v('--accent'), 'target-arrow-color': v('--accent') } },
    { selector: 'edge.forked', style: { 'line-style': 'dashed' } },
    { selector: 'edge[label]', style: { label: 'data(label)', 'font-size': 9, color: v('--muted'), 'text-rotation': 'autorotate', 'text-background-color': v('--bg'), 'text-background-opacity': 0.8 } },
  ];
}

export const LEGEND = {
  nodes: [['orchestrator', 'orchestrator'], ['agent', 'agent'], ['llm', 'LLM'], ['tool', 'tool'], ['retriever', 'retriever'], ['review', 'review gate']],
  states: [['--running', 'running'], ['--ok', 'ok'], ['--error', 'failed']],
  edges: [['solid', 'request (to an LLM or tool)'], ['thick', 'delegation (to an agent)'], ['dashed', 'message'], ['dotted', 'depends on']],
  fork: 'dashed, under a tag: a replay from that call (what it ran anew; a click opens the fork)',
};
