// Session names for pages that know only a session's id (the review panel, the Reviews page,
// the Logs and Agents pages): each id is read once from GET /api/v1/sessions/{id} and kept
// for the page's life; every component showing that id hears when it arrives.
import { useEffect, useState } from '../vendor/preact-htm.mjs';
import { api } from './api.js';

const names = new Map();
/** Components waiting for a name, by id. */
const waiting = new Map();

function load(id) {
  names.set(id, null);
  api.session(id).then(
    (s) => {
      names.set(id, s?.name || null);
      for (const wake of waiting.get(id) || []) wake();
      waiting.delete(id);
    },
    () => names.delete(id),
  );
}

/** The session's name once known, else its id (also when it has none). */
export function useSessionName(id) {
  const [, known] = useState(0);
  useEffect(() => {
    if (!id || names.get(id)) return undefined;
    const wake = () => known((n) => n + 1);
    if (!waiting.has(id)) waiting.set(id, new Set());
    waiting.get(id).add(wake);
    if (!names.has(id)) load(id);
    return () => waiting.get(id)?.delete(wake);
  }, [id]);
  return names.get(id) || id;
}

/** A session's name as a component, for lists where a hook per row cannot be called. */
export function SessionName({ id }) {
  return useSessionName(id);
}
