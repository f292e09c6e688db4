// A session: its header of totals, the tabs of its views, and the detail panel of the selected
// span. Owns the session's live model: filled by the hub's `hello`, changed by each `commit`
// and re-synced by the `hello` after a reconnect; views subscribe to it for incremental updates.
import { html, useEffect, useMemo, useState } from '../vendor/preact-htm.mjs';
import { api } from '../lib/api.js';
import { follow } from '../lib/live.js';
import { SessionModel, startMs } from '../lib/session-model.js';
import { addSessionAgent, resetSessionAgents } from '../lib/colors.js';
import { VIEWS, go, href } from '../lib/router.js';
import { SessionHeader } from './session-header.js';
import { Detail } from './detail.js';
import { TreeView } from './tree.js';
import { TimelineView } from './timeline.js';
import { LlmView } from './llm.js';
import { ToolsView } from './tools.js';
import { FeedView } from './feed.js';
import { ErrorNotice } from '../components/badges.js';
import { lazy } from '../lib/lazy.js';
import { filterOf, spanPredicate } from '../lib/span-filter.js';
import { SessionFilter } from './session-filter.js';
import { ReplayBanner } from '../components/replay-banner.js';

// The graph, the agent network (cytoscape) and the scores (uPlot) load when first opened.
const GraphView = lazy(() => import('./graph.js'), 'GraphView');
const AgentsView = lazy(() => import('./agents.js'), 'AgentsView');
const ScoresView = lazy(() => import('./scores.js'), 'ScoresView');
const VIEW = { tree: TreeView, graph: GraphView, timeline: TimelineView, agents: AgentsView, llm: LlmView, tools: ToolsView, feed: FeedView, scores: ScoresView };
const LABEL = { tree: 'Tree', graph: 'Graph', timeline: 'Timeline', agents: 'Agents', llm: 'LLM', tools: 'Tools', feed: 'Feed', scores: 'Scores & decisions' };

/** Views that fill the page and scroll inside themselves. */
const FILL = new Set(['tree', 'graph', 'timeline']);

/** Re-renders on model changes, at most once per animation frame. */
function useModelVersion(model) {
  const [version, setVersion] = useState(model.version);
  useEffect(() => {
    let frame = 0;
    const off = model.subscribe(() => {
      if (!frame) frame = requestAnimationFrame(() => { frame = 0; setVersion(model.version); });
    });
    return () => { off(); cancelAnimationFrame(frame); };
  }, [model]);
  return version;
}

/**
 * {found, error}: the spans whose input or output holds the search text (the server searches
 * payloads; the page has only summaries), null until it answers. Spans that arrive later are
 * matched by their summaries and answers.
 */
function useFoundInPayloads(id, q) {
  const [state, setState] = useState({ found: null, error: null });
  useEffect(() => {
    setState({ found: null, error: null });
    const text = q?.trim();
    if (!text) return undefined;
    let live = true;
    api.search(id, text).then(
      (r) => live && setState({ found: new Set(r.span_ids), error: null }),
      (error) => live && setState({ found: null, error }),
    );
    return () => { live = false; };
  }, [id, q]);
  return state;
}

export function Session({ route, onTitle }) {
  const id = route.session;
  const model = useMemo(() => new SessionModel(id), [id]);
  const version = useModelVersion(model);
  const [error, setError] = useState(null);
  const [loaded, setLoaded] = useState(false);

  useEffect(() => {
    // Distinct colours for this session's agents, in the order they first start.
    resetSessionAgents();
    const offColours = model.subscribe((delta) => {
      if (delta.reset) {
        resetSessionAgents();
        const first = new Map();
        for (const s of model.spans.values()) if (s.agent && !(startMs(s) >= first.get(s.agent))) first.set(s.agent, startMs(s));
        [...first].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1)).forEach(([agent]) => addSessionAgent(agent));
      } else for (const sid of delta.added) addSessionAgent(model.spans.get(sid)?.agent);
    });
    const snapshot = (s) => {
      model.sync(s);
      setLoaded(true);
    };
    const live = follow({ scope: 'session', session_id: id }, {
      hello: (m) => snapshot(m.snapshot),
      commit: (m) => {
        // This session moved into another (its trace named its session): follow it there.
        const moved = (m.messages || []).find((x) => x.type === 'session.move' && x.session_id === id);
        if (moved) return go({ ...route, session: moved.into }, true);
        return model.apply(m.messages || [], m.sessions.find((s) => s.session_id === id));
      },
    });
    // The hub answers for a session that does not exist yet with an empty snapshot; say so
    // only when the API knows nothing of it either.
    api.session(id).catch((e) => setError(e));
    return () => { live.stop(); offColours(); resetSessionAgents(); };
  }, [id]);

  useEffect(() => onTitle(model.session?.name || id), [model.session?.name]);
  // A view that loads its library when first opened starts loading it now, beside the data.
  useEffect(() => { VIEW[route.view].preload?.().catch(() => {}); }, [route.view]);

  // Opening a span is a step in the history: Back returns to the span before.
  const select = (spanId) => go({ ...route, query: { ...route.query, span: spanId || undefined } });
  const View = VIEW[route.view];
  const spanId = route.query.span;
  const filter = filterOf(route.query);
  const filterKey = JSON.stringify(filter);
  const payloads = useFoundInPayloads(id, route.query.q);
  const pred = useMemo(() => spanPredicate(filter, payloads.found), [filterKey, payloads.found]);
  // A session the server does not know (and that has not started since): say so, and only that.
  if (error && !model.spans.size) {
    return html`<div class="page" data-test="unknown-session">
      <h1 style="margin-bottom:8px">No session “${id}”</h1>
      <${ErrorNotice} error=${error} />
      <p class="muted">It may have been deleted, or not started yet: this page shows it as soon as it sends its first span. <a href=${href({ page: 'overview' })}>All sessions</a></p>
    </div>`;
  }
  return html`
    <div class="session">
      <div class="session-head">
        <${SessionHeader} model=${model} version=${version} selected=${route.query.span} select=${select} />
        <${ReplayBanner} sessionId=${id} />
        <div class="tabs-row">
          <nav class="tabs" aria-label="Session views">
            ${VIEWS.map((v) => html`<a class=${v === route.view ? 'active' : ''} aria-current=${v === route.view ? 'page' : undefined}
                href=${href({ ...route, view: v })}>${LABEL[v]}</a>`)}
          </nav>
          ${loaded ? html`<${SessionFilter} model=${model} version=${version} route=${route} pred=${pred} selected=${spanId} select=${select} searchError=${payloads.error} />` : null}
        </div>
      </div>
      <div class="session-body">
        <div key=${route.view} class="view ${FILL.has(route.view) ? 'fill' : ''}">
          ${loaded ? html`<${View} model=${model} version=${version} select=${select} selected=${spanId} route=${route} filter=${pred} />` : html`<div class="empty">loading…</div>`}
        </div>
        ${spanId ? html`<${Detail} key=${spanId} model=${model} version=${version} sessionId=${id} spanId=${spanId} onClose=${() => select(null)} select=${select} />` : null}
      </div>
    </div>`;
}
