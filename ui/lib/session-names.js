// Session names for pages that know only a session's id (the review panel, the Reviews page):
// each id is read once from GET /api/v1/sessions/{id} and kept for the page's life.
import { useEffect, useState } from '../vendor/preact-htm.mjs';
import { api } from './api.js';

const names = new Map();

/** The session's name once known, else its id (also when it has none). */
export function useSessionName(id) {
  const [, known] = useState(0);
  useEffect(() => {
    if (!id || names.has(id)) return undefined;
    let alive = true;
    names.set(id, null);
    api.session(id).then(
      (s) => { names.set(id, s?.name || null); if (alive) known((n) => n + 1); },
      () => names.delete(id),
    );
    return () => { alive = false; };
  }, [id]);
  return names.get(id) || id;
}

/** A session's name as a component, for lists where a hook per row cannot be called. */
export function SessionName({ id }) {
  return useSessionName(id);
}
