// Hash routes, so every view can be linked and reloaded:
//   #/?status=failed&q=vault        the overview, its filters in the query
//   #/s/<session>/<view>?span=<id>  a session view, with the detail panel open on a span
//   #/reviews                       the review queue and history
//   #/playground?session=&span=     the playground, on an LLM span (or empty without one)
import { useEffect, useState } from '../vendor/preact-htm.mjs';

export const VIEWS = ['graph', 'timeline', 'agents', 'llm', 'tools', 'feed', 'scores'];

/** Reads a hash into {page, session, view, query}. */
export function parse(hash) {
  const [path, qs = ''] = hash.replace(/^#/, '').split('?');
  const query = Object.fromEntries(new URLSearchParams(qs));
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  if (parts[0] === 'reviews') return { page: 'reviews', query };
  if (parts[0] === 'playground') return { page: 'playground', query };
  if (parts[0] === 's' && parts[1]) {
    const view = VIEWS.includes(parts[2]) ? parts[2] : 'graph';
    return { page: 'session', session: parts[1], view, query };
  }
  return { page: 'overview', query };
}

/** The hash of a route; empty query values are left out. */
export function href({ page, session, view, query = {} }) {
  const qs = new URLSearchParams(
    Object.entries(query).filter(([, v]) => v !== undefined && v !== null && v !== ''),
  ).toString();
  const path = page === 'session' ? `/s/${encodeURIComponent(session)}/${view || 'graph'}` : page === 'reviews' || page === 'playground' ? `/${page}` : '/';
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
