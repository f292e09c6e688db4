// Hash routes, so every view can be linked and reloaded:
//   #/?status=failed&q=vault        the overview, its filters in the query
//   #/s/<session>/<view>?span=<id>  a session view, with the detail panel open on a span
//   #/reviews                       the review queue and history
//   #/system?range=1h               host, GPU and process metrics, and other series
//   #/logs?level=warn&q=camera      every session's log lines, filtered
//   #/agents?status=active          the agents of running and recent sessions
//   #/compare?a=<session>&b=<session>  two runs side by side
//   #/playground?session=&span=     the playground, on an LLM span (or empty without one)
import { useEffect, useState } from '../vendor/preact-htm.mjs';

export const VIEWS = ['tree', 'graph', 'timeline', 'agents', 'llm', 'tools', 'feed', 'scores'];

/** Reads a hash into {page, session, view, query}. */
export function parse(hash) {
  const [path, qs = ''] = hash.replace(/^#/, '').split('?');
  const query = Object.fromEntries(new URLSearchParams(qs));
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  if (parts[0] === 'reviews') return { page: 'reviews', query };
  if (['system', 'logs', 'agents', 'compare', 'playground'].includes(parts[0])) return { page: parts[0], query };
  if (parts[0] === 's' && parts[1]) {
    const view = VIEWS.includes(parts[2]) ? parts[2] : 'tree';
    return { page: 'session', session: parts[1], view, query };
  }
  return { page: 'overview', query };
}

/** The hash of a route; empty query values are left out. */
export function href({ page, session, view, query = {} }) {
  const qs = new URLSearchParams(
    Object.entries(query).filter(([, v]) => v !== undefined && v !== null && v !== ''),
  ).toString();
  const path = page === 'session' ? `/s/${encodeURIComponent(session)}/${view || 'tree'}`
    : ['reviews', 'system', 'logs', 'agents', 'compare', 'playground'].includes(page) ? `/${page}` : '/';
  return `#${path}${qs ? `?${qs}` : ''}`;
}

/** Goes to a route; `replace` keeps the history entry (for filter edits). */
export function go(route, replace = false) {
  const h = href(route);
  if (replace) history.replaceState(null, '', h);
  else location.hash = h;
  if (replace) window.dispatchEvent(new HashChangeEvent('hashchange'));
}

/** The current route, re-rendering on navigation. */
export function useRoute() {
  const [route, setRoute] = useState(() => parse(location.hash));
  useEffect(() => {
    const on = () => setRoute(parse(location.hash));
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return route;
}
