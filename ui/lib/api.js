// The query API (docs/api.md), one function per route. Errors carry the API's message; a 401
// (a server with a password, and no login or an expired one) goes to the login page.
const BASE = '/api/v1';

async function get(path, params) {
  const qs = params
    ? new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined && v !== '' && v !== null))
    : null;
  const res = await fetch(`${BASE}${path}${qs && [...qs].length ? `?${qs}` : ''}`);
  // The route rides along in the fragment, so the login comes back to it.
  if (res.status === 401) location.assign(`/login${location.hash}`);
  const body = await res.json().catch(() => null);
  if (!res.ok) throw new Error(body?.error?.message || `${res.status} ${res.statusText}`);
  return body;
}

const s = (id) => `/sessions/${encodeURIComponent(id)}`;

export const api = {
  sessions: (filters) => get('/sessions', filters),
  /** {sessions: {id: {running: [...], more}}}: what each running session does now (1 to 100 ids). */
  now: (ids) => get('/now', { sessions: ids.join(',') }),
  overview: (range) => get('/stats/overview', range),
  /** The headline figures over every session matching the list's filters. */
  sessionStats: (filters) => get('/stats/sessions', filters),
  session: (id) => get(s(id)),
  spans: (id) => get(`${s(id)}/spans`),
  span: (id, spanId) => get(`${s(id)}/spans/${encodeURIComponent(spanId)}`),
  edges: (id) => get(`${s(id)}/edges`),
  /** {span_ids}: the spans whose input or output holds the text. */
  search: (id, q) => get(`${s(id)}/search`, { q }),
  agents: (id) => get(`${s(id)}/agents`),
  llm: (id) => get(`${s(id)}/llm`),
  tools: (id) => get(`${s(id)}/tools`),
  metrics: (params) => get('/metrics', params),
  refusals: () => get('/refusals'),
  /** Every event of a session, following cursors. */
  async events(id, category) {
    const all = [];
    let cursor;
    do {
      const page = await get(`${s(id)}/events`, { category, limit: 1000, cursor });
      all.push(...page.items);
      cursor = page.next_cursor;
    } while (cursor);
    return all;
  },
};
