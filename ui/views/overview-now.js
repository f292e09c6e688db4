// "Now" on the overview's running rows: what each running session does at this moment (its
// innermost running spans: agent, what it is on, for how long; a review gate waiting on a
// person), read from `GET /api/v1/now` for the running rows shown. Read again at most once a
// second after the rows change (a commit touched a session) and every 5 s while any runs, so
// it follows the sessions live without asking on every commit.
import { html, useEffect, useRef, useState } from '../vendor/preact-htm.mjs';
import { api } from '../lib/api.js';
import { ms } from '../lib/format.js';
import { Agent } from '../components/badges.js';

const AT_MOST_EVERY_MS = 1000;
const AGAIN_MS = 5000;
/** The server's bound on one request. */
const MAX_IDS = 100;

/** {session id: {running, more}} for the running sessions among `items`, kept current. */
export function useRunningWork(items) {
  const [work, setWork] = useState({});
  const timer = useRef(0);
  const ids = useRef([]);
  const alive = useRef(true);
  ids.current = (items || []).filter((s) => s.status === 'running').slice(0, MAX_IDS).map((s) => s.session_id);
  const key = ids.current.join('\n');
  const read = () => {
    timer.current = 0;
    if (ids.current.length) api.now(ids.current).then((r) => alive.current && setWork(r.sessions)).catch(() => {});
  };
  useEffect(() => () => {
    alive.current = false;
    clearTimeout(timer.current);
  }, []);
  // A commit that touches a row changes `items`: read again then, at most once a second.
  useEffect(() => {
    if (ids.current.length && !timer.current) timer.current = setTimeout(read, AT_MOST_EVERY_MS);
  }, [items]);
  useEffect(() => {
    if (!ids.current.length) return undefined;
    read();
    const again = setInterval(read, AGAIN_MS);
    return () => clearInterval(again);
  }, [key]);
  return work;
}

/** One running row's "now" line. */
export function RowNow({ work, now }) {
  if (!work) return null;
  if (!work.running.length) return html`<div class="row-now faint" data-test="row-now">now: nothing running</div>`;
  return html`<div class="row-now" data-test="row-now"><span class="now-label">Now</span>
    ${work.running.map((w) => html`<span class="now-item" data-span=${w.span_id}>${w.agent ? html`<${Agent} name=${w.agent} />` : null}${w.kind === 'review'
      ? html`<span class="badge waiting" title="A review gate waits on a person">waiting</span> ${w.name}`
      : `${w.name}${w.model ? ` (${w.model})` : ''}`} <span class="faint">${w.started_at ? ms(Math.max(0, now - Date.parse(w.started_at))) : ''}</span></span>`)}
    ${work.more ? html`<span class="faint">and ${work.more} more</span>` : null}</div>`;
}
