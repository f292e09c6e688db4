// The spans a relation edge connects. Edges may name agents instead of spans; an agent end
// is resolved to that agent's work: the first span of the agent that started at or after the
// edge (for a target) or the last one that started before it (for a source).
export function edgeSpans(model, e) {
  const from = e.from_span || spanOfAgent(model, e.from_agent, e.at, false);
  const to = e.to_span || spanOfAgent(model, e.to_agent, e.at, true);
  return from && to && from !== to ? [from, to] : null;
}

function spanOfAgent(model, agent, at, after) {
  if (!agent) return null;
  const t = Date.parse(at);
  let best = null;
  for (const s of model.spans.values()) {
    if (s.agent !== agent || s.kind !== 'agent') continue;
    const st = Date.parse(s.started_at);
    if (after ? st >= t && (!best || st < best.t) : st <= t && (!best || st > best.t)) best = { id: s.span_id, t: st };
  }
  return best?.id ?? null;
}
