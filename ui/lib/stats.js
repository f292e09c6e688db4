// Aggregates computed from the live model, so the LLM, Tools and Agents views stay current
// as spans arrive (the API's per-session statistics are the same figures, read once).
import { tokens } from './format.js';

/**
 * Whether an LLM call's cost is unknown, as the store counts it (`record::cost_unknown`): no
 * cost, yet it reported tokens or succeeded.
 */
export const costUnknown = (s) => s.kind === 'llm' && s.cost_usd == null && (s.usage != null || s.status === 'ok');

export function quantile(sorted, q) {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/**
 * Groups spans of `kind` (those `keep` keeps, when given) by `key(span)`: calls, errors,
 * finished, tokens, cost, latencies.
 */
export function groupSpans(model, kind, key, keep = null) {
  const groups = new Map();
  for (const s of model.spans.values()) {
    if (s.kind !== kind || (keep && !keep(s))) continue;
    const k = key(s) || '–';
    let g = groups.get(k);
    if (!g) {
      g = { key: k, calls: 0, errors: 0, finished: 0, input: 0, output: 0, cost: 0, unpriced: 0, latencies: [] };
      groups.set(k, g);
    }
    g.calls += 1;
    if (s.status === 'error') g.errors += 1;
    if (s.status !== 'running') {
      g.finished += 1;
      if (s.duration_ms != null) g.latencies.push(s.duration_ms);
    }
    g.input += s.usage?.input_tokens || 0;
    g.output += s.usage?.output_tokens || 0;
    g.cost += s.cost_usd || 0;
    if (costUnknown(s)) g.unpriced += 1;
  }
  for (const g of groups.values()) {
    g.latencies.sort((a, b) => a - b);
    g.p50 = quantile(g.latencies, 0.5);
    g.p95 = quantile(g.latencies, 0.95);
    g.totalLatency = g.latencies.reduce((a, b) => a + b, 0);
    g.successRate = g.finished ? (g.finished - g.errors) / g.finished : null;
  }
  return [...groups.values()];
}

/** Per agent: spans, LLM calls, tool calls, tokens, cost (and calls unpriced), errors, messages sent and received. */
export function agentActivity(model) {
  const by = new Map();
  const get = (name) => {
    if (!by.has(name)) by.set(name, { name, spans: 0, llm: 0, tools: 0, tokens: 0, cost: 0, unpriced: 0, errors: 0, sent: 0, received: 0 });
    return by.get(name);
  };
  for (const a of model.agents.keys()) get(a);
  for (const s of model.spans.values()) {
    if (!s.agent) continue;
    const a = get(s.agent);
    a.spans += 1;
    if (s.kind === 'llm') a.llm += 1;
    if (s.kind === 'tool') a.tools += 1;
    if (s.status === 'error') a.errors += 1;
    a.tokens += tokens(s.usage);
    a.cost += s.cost_usd || 0;
    if (costUnknown(s)) a.unpriced += 1;
  }
  for (const f of agentFlows(model)) {
    get(f.from).sent += f.count;
    get(f.to).received += f.count;
  }
  return [...by.values()];
}

/** Agent-to-agent flows of a session's model: {from, to, kind, count}. */
export const agentFlows = (model) => flowsOf(model.edges, (span) => model.spans.get(span)?.agent);

/**
 * Agent-to-agent flows from message and delegation edges: {from, to, kind, count}. An edge
 * that names spans rather than agents takes their agents from `spanAgent` (span id -> agent).
 */
export function flowsOf(edges, spanAgent = () => undefined) {
  const flows = new Map();
  for (const e of edges) {
    if (e.kind !== 'message' && e.kind !== 'delegation') continue;
    const from = e.from_agent || spanAgent(e.from_span);
    const to = e.to_agent || spanAgent(e.to_span);
    if (!from || !to) continue;
    const k = `${from}\u0000${to}\u0000${e.kind}`;
    const f = flows.get(k) || { from, to, kind: e.kind, count: 0 };
    f.count += 1;
    flows.set(k, f);
  }
  return [...flows.values()];
}
