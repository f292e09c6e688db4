// The Logs page (#/logs): every log line of every session (native log events, OTLP log
// records, SDK logging handlers), newest at the bottom, with level, agent, session and text
// filters in the URL. "Follow" polls for what was stored since the last line and keeps the
// view at the end; scrolling up pauses it, and reaching the top loads older lines. The list
// is windowed (only the rows on screen exist), so 100,000 lines scroll smoothly.
import { html, useEffect, useRef, useState } from '../vendor/preact-htm.mjs';
import { href } from '../lib/router.js';
import { timeMs } from '../lib/format.js';
import { ErrorNotice } from '../components/badges.js';
import { SessionName } from '../lib/session-names.js';

const ROW = 22;
/** Lines kept in the page; older ones are dropped from the top when following for long. */
const KEEP = 100_000;
const POLL_MS = 1000;

async function fetchLogs(params) {
  const qs = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined && v !== '' && v !== null));
  const res = await fetch(`/api/v1/logs?${qs}`);
  if (res.status === 401) location.assign('/login');
  const body = await res.json();
  if (!res.ok) throw new Error(body?.error?.message || `${res.status}`);
  return body;
}

function Line({ l, top }) {
  const link = href({ page: 'session', session: l.session_id, view: 'feed', query: l.span_id ? { span: l.span_id } : {} });
  return html`<div class="log-line level-${l.level || 'info'}" style=${`top:${top}px`} data-seq=${l.seq}>
    <span class="log-time mono">${timeMs(l.at)}</span>
    <span class="log-level">${l.level || 'info'}</span>
    <span class="log-agent">${l.agent || ''}</span>
    <a class="log-session" href=${link} title=${l.session_id}><${SessionName} id=${l.session_id} /></a>
    <span class="log-text">${l.name ? html`<b>${l.name}</b> ` : null}${l.message || ''}</span></div>`;
}

export function Logs({ query, setQuery }) {
  const filters = { level: query.level, agent: query.agent, session_id: query.session, q: query.q };
  const key = JSON.stringify(filters);
  const [lines, setLines] = useState([]);
  const [follow, setFollow] = useState(true);
  const [error, setError] = useState(null);
  const [view, setView] = useState({ top: 0, height: 600 });
  const box = useRef(null);
  const state = useRef({ lines: [], loadingOlder: false, noOlder: false });

  useEffect(() => {
    let stop = false;
    state.current = { lines: [], loadingOlder: false, noOlder: false };
    setLines([]);
    const poll = async () => {
      try {
        const last = state.current.lines[state.current.lines.length - 1];
        const got = await fetchLogs({ ...filters, after: last?.seq, limit: last ? 5000 : 1000 });
        if (stop) return;
        if (got.length) {
          const next = state.current.lines.concat(got);
          state.current.lines = next.length > KEEP ? next.slice(next.length - KEEP) : next;
          setLines(state.current.lines);
        }
        setError(null);
      } catch (e) { if (!stop) setError(e); }
    };
    poll();
    const t = setInterval(poll, POLL_MS);
    return () => { stop = true; clearInterval(t); };
  }, [key]);

  // Following keeps the end in view as lines arrive.
  useEffect(() => {
    if (follow && box.current) box.current.scrollTop = box.current.scrollHeight;
  }, [lines, follow]);

  const onScroll = async (e) => {
    const el = e.currentTarget;
    setView({ top: el.scrollTop, height: el.clientHeight });
    const atEnd = el.scrollHeight - el.scrollTop - el.clientHeight < ROW * 2;
    if (follow !== atEnd) setFollow(atEnd);
    const s = state.current;
    if (el.scrollTop < ROW * 5 && !s.loadingOlder && !s.noOlder && s.lines.length) {
      s.loadingOlder = true;
      try {
        const older = await fetchLogs({ ...filters, before: s.lines[0].seq, limit: 1000 });
        if (!older.length) s.noOlder = true;
        s.lines = older.concat(s.lines);
        setLines(s.lines);
        el.scrollTop += older.length * ROW;
      } catch (err) { setError(err); }
      s.loadingOlder = false;
    }
  };

  const first = Math.max(0, Math.floor(view.top / ROW) - 20);
  const last = Math.min(lines.length, Math.ceil((view.top + view.height) / ROW) + 20);
  const set = (k) => (e) => setQuery({ ...query, [k]: e.currentTarget.value || undefined });
  return html`<section class="page logs-page">
    <div class="logs-bar">
      <select aria-label="Level" value=${query.level || ''} onChange=${set('level')}>
        <option value="">every level</option><option value="info">info and up</option><option value="warn">warn and up</option><option value="error">errors</option><option value="debug">debug and up</option></select>
      <input type="search" placeholder="Text in the message" value=${query.q || ''} onChange=${set('q')} aria-label="Search" />
      <input placeholder="Agent" value=${query.agent || ''} onChange=${set('agent')} aria-label="Agent" />
      <input placeholder="Session id" value=${query.session || ''} onChange=${set('session')} aria-label="Session" />
      <div class="spacer"></div>
      <span class="muted" data-test="log-count">${lines.length.toLocaleString()} lines</span>
      <button class=${follow ? 'on' : ''} onClick=${() => setFollow(!follow)} title="Keep the newest line in view">${follow ? 'Following' : 'Follow'}</button>
    </div>
    <${ErrorNotice} error=${error} />
    <div class="log-box" ref=${box} onScroll=${onScroll} data-test="logs">
      <div style=${`height:${lines.length * ROW}px;position:relative`}>
        ${lines.slice(first, last).map((l, i) => html`<${Line} key=${l.seq} l=${l} top=${(first + i) * ROW} />`)}
      </div>
      ${lines.length ? null : html`<div class="muted log-empty">No log line${key !== '{}' ? ' matches these filters' : ' yet'}.</div>`}
    </div>
  </section>`;
}
