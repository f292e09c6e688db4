// The overview: headline stats, filters (in the URL), the sessions table with pagination into
// the full history, kept current through the hub's overview scope (running sessions tick).
import { html, useCallback, useEffect, useRef, useState } from '../vendor/preact-htm.mjs';
import { usePendingReviews } from '../lib/reviews.js';
import { api } from '../lib/api.js';
import { useNow } from '../lib/use-now.js';
import { follow } from '../lib/live.js';
import { go, href } from '../lib/router.js';
import { int, compact, usd, pct, ms, ago, elapsed, totalsCost, unpricedNote } from '../lib/format.js';
import { SessionStatus, Agent, Empty, ErrorNotice } from '../components/badges.js';
import { Stat } from '../components/stat.js';
import { compareBy } from '../components/table.js';
import { Filters, toApi, isFiltered } from './overview-filters.js';
import { SAMPLE, Trend } from './overview-trend.js';
import { compareHref } from '../lib/replay-api.js';
import { useRunningWork, RowNow } from './overview-now.js';

const PAGE = 50;

/**
 * The sessions table's columns: label, sort key (none: not sortable), numeric, and the
 * server's `sort=` key when the whole history can be listed in that order (the others sort
 * the rows shown).
 */
const COLUMNS = [
  ['Status', (s) => (s.status === 'failed' ? 0 : s.totals.errors ? 1 : s.status === 'running' ? 2 : 3)],
  ['Session', (s) => (s.name || s.session_id).toLowerCase()],
  ['Agents', (s) => s.agents.length],
  ['Spans', (s) => s.totals.spans, true, 'spans'],
  ['LLM', (s) => s.totals.llm_calls, true, 'llm_calls'],
  ['Tools', (s) => s.totals.tool_calls, true, 'tool_calls'],
  ['Errors', (s) => s.totals.errors, true, 'errors'],
  ['Tokens', (s) => s.totals.input_tokens + s.totals.output_tokens, true, 'tokens'],
  ['Cost', (s) => s.totals.cost_usd, true, 'cost'],
  ['Budget', null],
  ['Duration', (s) => s.duration_ms, true],
  ['Started', (s) => s.started_at, false, 'started_at'],
];

/** The server's order for a column sort (undefined: newest first, the rows shown sorted here). */
const serverSort = (sort) => {
  const key = sort && COLUMNS[sort.col][3];
  return key ? `${sort.desc ? '-' : ''}${key}` : undefined;
};

/** Sorts the sessions shown by a column (null: as the server lists them, newest first). */
function sortedBy(items, sort) {
  const key = sort && COLUMNS[sort.col][1];
  if (!items || !key) return items;
  return [...items].sort(compareBy(key, sort.desc));
}

/** The table's header: a click (or Enter) on a column sorts by it, again reverses it. */
function Head({ sort, setSort }) {
  const toggle = (i) => setSort((s) => (s?.col === i ? { col: i, desc: !s.desc } : { col: i, desc: true }));
  return html`<thead><tr>${COLUMNS.map(([label, key, num], i) => (key
    ? html`<th class="sortable ${num ? 'num' : ''}" tabindex="0" aria-sort=${sort?.col === i ? (sort.desc ? 'descending' : 'ascending') : 'none'}
        onClick=${() => toggle(i)} onKeyDown=${(e) => e.key === 'Enter' && toggle(i)}>${label} <span class="arrow">${sort?.col === i ? (sort.desc ? '▼' : '▲') : ''}</span></th>`
    : html`<th>${label}</th>`))}<th title="Pick two sessions to compare">Compare</th></tr></thead>`;
}

function Headline({ stats, filtered }) {
  if (!stats) return null;
  const t = stats.totals;
  return html`
    ${filtered ? html`<div class="muted" data-test="headline-scope">Figures of every session matching the filters</div>` : null}
    <div class="stats" data-test="headline">
      <${Stat} label="Sessions" value=${int(stats.sessions)} sub="${int(stats.running)} running · ${int(stats.failed)} failed" />
      <${Stat} label="Completion rate" value=${pct(stats.completion_rate)} sub="${int(stats.completed)} completed" />
      <${Stat} label="Avg steps / session" value=${stats.avg_spans_per_session.toFixed(1)} sub="spans per session" />
      <${Stat} label="LLM calls" value=${compact(t.llm_calls)} sub="${compact(t.tool_calls)} tool calls" />
      <${Stat} label="Tokens" value=${compact(t.input_tokens + t.output_tokens)} sub="${compact(t.input_tokens)} in · ${compact(t.output_tokens)} out" />
      <${Stat} label="Cost" value=${html`<span title=${unpricedNote(t.unpriced_llm_calls)}>${totalsCost(t)}</span>`} sub="${int(t.errors)} errors" />
    </div>`;
}

function Budget({ s }) {
  const b = s.budget;
  if (!b) return html`<span class="faint">–</span>`;
  const used = b.cost_usd ? s.totals.cost_usd / b.cost_usd : b.tokens ? (s.totals.input_tokens + s.totals.output_tokens) / b.tokens : null;
  if (used == null) return html`<span class="faint">–</span>`;
  const cls = used > 1 ? 'over' : used > 0.8 ? 'high' : '';
  return html`<div title="${b.cost_usd ? `${usd(s.totals.cost_usd)} of ${usd(b.cost_usd)}` : `${int(s.totals.input_tokens + s.totals.output_tokens)} of ${int(b.tokens)} tokens`}">
    ${pct(used)}<div class="budget ${cls}"><div style="width:${Math.min(100, used * 100)}%"></div></div></div>`;
}

/** A failed session is marked red; one that completed with errors in its spans amber. */
const rowMark = (s) => (s.status === 'failed' ? 'failed' : s.totals.errors ? 'with-errors' : '');

function Row({ s, now, waiting, picked, onPick, work }) {
  const t = s.totals;
  const dur = s.status === 'running' ? elapsed(s.started_at, null, now) : s.duration_ms;
  const link = href({ page: 'session', session: s.session_id, view: 'tree' });
  return html`
    <tr class=${rowMark(s)} data-session=${s.session_id}>
      <td><${SessionStatus} s=${s} />${waiting ? html` <span class="badge waiting" title="An agent waits for a person's review">waiting on a person</span>` : null}</td>
      <td class="wrap"><a href=${link}>${s.name || s.session_id}</a>
        <div class="faint mono" style="font-size:11px">${s.session_id}</div>
        ${s.status === 'running' ? html`<${RowNow} work=${work} now=${now} />` : null}</td>
      <td class="wrap">${s.agents.slice(0, 5).map((a) => html`<${Agent} name=${a} />`)}${s.agents.length > 5 ? html`<span class="faint">+${s.agents.length - 5}</span>` : null}</td>
      <td class="num">${int(t.spans)}</td>
      <td class="num">${int(t.llm_calls)}</td>
      <td class="num">${int(t.tool_calls)}</td>
      <td class="num ${t.errors ? 'err-text' : ''}">${int(t.errors)}</td>
      <td class="num">${compact(t.input_tokens + t.output_tokens)}</td>
      <td class="num" data-test="row-cost" title=${unpricedNote(t.unpriced_llm_calls)}>${totalsCost(t)}</td>
      <td><${Budget} s=${s} /></td>
      <td class="num">${ms(dur)}</td>
      <td title=${s.started_at}>${ago(s.started_at, now)}</td>
      <td><input type="checkbox" data-test="pick" checked=${picked} onChange=${() => onPick(s.session_id)} aria-label="Pick ${s.name || s.session_id} to compare" /></td>
    </tr>`;
}

/** Puts changed summaries in place; new sessions go on top when no filter could hide them. */
function merge(items, changed, prependNew) {
  const byId = new Map(changed.map((s) => [s.session_id, s]));
  const next = items.map((s) => byId.get(s.session_id) || s);
  if (!prependNew) return next;
  const known = new Set(items.map((s) => s.session_id));
  const fresh = changed.filter((s) => !known.has(s.session_id));
  return fresh.length ? [...fresh.sort((a, b) => Date.parse(b.started_at) - Date.parse(a.started_at)), ...next] : next;
}

export function Overview({ query }) {
  const [items, setItems] = useState(null);
  const [cursor, setCursor] = useState(null);
  const [stats, setStats] = useState(null);
  /** The newest SAMPLE matching sessions, for the trend. */
  const [sample, setSample] = useState(null);
  const [error, setError] = useState(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const [sort, setSort] = useState(null);
  const order = serverSort(sort);
  const filters = toApi(query);
  const key = JSON.stringify([filters, order]);
  const filtered = isFiltered(query);
  // Filtered or in another order than newest first, only the server knows where a changed
  // session goes: the first page is read again rather than new sessions put on top.
  const listed = filtered || !!order;
  const refreshTimer = useRef(0);
  /** Commits applied so far: a page read while one arrived may predate it. */
  const commits = useRef(0);

  /** Shows a first page read when `commits` was `seen`. */
  const show = (page, seen) => {
    // Past the first page, keep what was paged in; and a page that may predate a commit
    // must not drop what the commit brought: merge, new sessions on top. Else replace.
    setItems((old) => (old && (old.length > PAGE || commits.current !== seen) ? merge(old, page.items, true) : page.items));
    setCursor((c) => c ?? page.next_cursor ?? null);
    setError(null);
  };

  const loadFirst = useCallback(async () => {
    const seen = commits.current;
    const [page, st, recent] = await Promise.all([
      api.sessions({ ...filters, sort: order, limit: PAGE }),
      filtered ? api.sessionStats(filters) : api.overview({ from: filters.from, to: filters.to }),
      api.sessions({ ...filters, limit: SAMPLE }),
    ]);
    show(page, seen);
    setSample(recent);
    setStats(st);
  }, [key]);

  useEffect(() => {
    setItems(null);
    setCursor(null);
    loadFirst().catch(setError);
    // Commits change the stats, and under filters they may add sessions to the list or take
    // them out of it (only the server knows every filter's rule): re-read them at most once
    // a second rather than on every commit.
    const refresh = () => {
      if (refreshTimer.current) return;
      refreshTimer.current = setTimeout(() => {
        refreshTimer.current = 0;
        (listed ? loadFirst() : Promise.all([
          api.overview({ from: filters.from, to: filters.to }).then(setStats),
          api.sessions({ ...filters, limit: SAMPLE }).then(setSample),
        ])).catch(() => {});
      }, 1000);
    };
    const live = follow({ scope: 'overview' }, {
      hello: (m) => {
        if (listed) return loadFirst().catch(setError);
        // Unfiltered, the snapshot is the first page and the stats, exact as of its seq.
        show(m.snapshot.sessions, commits.current);
        return setStats(m.snapshot.stats);
      },
      commit: (m) => {
        commits.current += 1;
        // A session moved into another (`session.move`) is gone.
        const gone = new Set((m.messages || []).filter((x) => x.type === 'session.move').map((x) => x.session_id));
        const kept = (list) => (gone.size ? list.filter((s) => !gone.has(s.session_id)) : list);
        setItems((old) => (old ? merge(kept(old), m.sessions, !listed) : old));
        refresh();
      },
    });
    return () => {
      live.stop();
      clearTimeout(refreshTimer.current);
      refreshTimer.current = 0;
    };
  }, [key]);

  const now = useNow(!!items?.some((s) => s.status === 'running'));
  // Two sessions picked for Compare (a third pick replaces the older one).
  const [picked, setPicked] = useState([]);
  const pick = (id) => setPicked((p) => (p.includes(id) ? p.filter((x) => x !== id) : [...p, id].slice(-2)));
  const waitingOn = new Set(usePendingReviews().map((r) => r.session_id));
  const working = useRunningWork(items);

  const more = async () => {
    setLoadingMore(true);
    try {
      const page = await api.sessions({ ...filters, sort: order, limit: PAGE, cursor });
      setItems((old) => {
        const known = new Set(old.map((s) => s.session_id));
        return old.concat(page.items.filter((s) => !known.has(s.session_id)));
      });
      setCursor(page.next_cursor ?? null);
    } catch (e) {
      setError(e);
    }
    setLoadingMore(false);
  };

  // Infinite history: the sentinel under the table loads the next page when it scrolls in.
  const sentinel = useRef(null);
  useEffect(() => {
    if (!sentinel.current || !cursor) return undefined;
    const io = new IntersectionObserver((es) => es[0].isIntersecting && !loadingMore && more());
    io.observe(sentinel.current);
    return () => io.disconnect();
  }, [cursor, loadingMore]);

  return html`
    <div class="page stack">
      <${Headline} stats=${stats} filtered=${filtered} />
      ${sample ? html`<${Trend} sessions=${sample.items} partial=${!!sample.next_cursor} />` : null}
      <${Filters} query=${query} onChange=${(q) => go({ page: 'overview', query: q }, true)} />
      <${ErrorNotice} error=${error} />
      <div class="panel">
        <header><h2>Sessions</h2><span class="muted">${items ? `${int(items.length)} shown${cursor ? ', more below' : ''}` : 'loading…'}${sort && cursor && !order ? ' · sorted among those shown' : ''}</span>
          <span class="spacer"></span>
          ${picked.length === 2 ? html`<a class="btn primary" data-test="compare-picked" href=${compareHref(picked[0], picked[1])}>Compare the two picked</a>`
            : picked.length === 1 ? html`<span class="faint">pick one more session to compare</span>` : null}</header>
        ${items && !items.length
          ? html`<${Empty}>${filtered ? 'No session matches these filters.' : 'No sessions yet. Send events to POST /api/v1/events, or run flightdeck demo.'}<//>`
          : html`<div class="table-wrap"><table data-test="sessions">
              <${Head} sort=${sort} setSort=${setSort} />
              <tbody>${(sortedBy(items, sort) || []).map((s) => html`<${Row} key=${s.session_id} s=${s} now=${now} waiting=${waitingOn.has(s.session_id)}
                picked=${picked.includes(s.session_id)} onPick=${pick} work=${working[s.session_id]} />`)}</tbody>
            </table></div>`}
        ${cursor
          ? html`<div class="row" style="justify-content:center; padding:12px" ref=${sentinel}>
              <button onClick=${more} disabled=${loadingMore}>${loadingMore ? 'Loading…' : 'Load older sessions'}</button></div>`
          : null}
      </div>
    </div>`;
}
