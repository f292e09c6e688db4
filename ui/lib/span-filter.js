// The session's one search and filter, kept in the route's query so it can be shared:
//   q=      text in a span's name, agent, model, id, error or answer (case-insensitive), and
//           in its input and output (the server searches those: `found`)
//   kind=   llm | tool | agent | ...     status=  running | ok | error
//   agent=  an agent's name              errors=1 failed spans only
// Every view of the session takes the same predicate.
export const FILTER_KEYS = ['q', 'kind', 'status', 'agent', 'errors'];

/** The filter part of a route query, or null when it filters nothing. */
export function filterOf(query) {
  const f = Object.fromEntries(FILTER_KEYS.filter((k) => query[k]).map((k) => [k, query[k]]));
  return Object.keys(f).length ? f : null;
}

/**
 * A predicate over span summaries for the filter `f` (null: none). `found` is the set of span
 * ids whose input or output contain the text, when the server has answered.
 */
export function spanPredicate(f, found) {
  if (!f) return null;
  const q = f.q?.trim().toLowerCase();
  const pred = (s) => {
    if (f.kind && s.kind !== f.kind) return false;
    if (f.status && s.status !== f.status) return false;
    if (f.agent && s.agent !== f.agent) return false;
    if (f.errors && s.status !== 'error') return false;
    if (!q) return true;
    if (found?.has(s.span_id)) return true;
    return [s.name, s.agent, s.model, s.span_id, s.error, s.output_preview].some((v) => v && v.toLowerCase().includes(q));
  };
  /** For what belongs to no span (a session's log line): by its text and agent alone. */
  pred.keepsText = (text, agent) => !f.kind && !f.status && !f.errors && (!f.agent || agent === f.agent)
    && (!q || (text || '').toLowerCase().includes(q));
  return pred;
}
