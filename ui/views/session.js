// A session: its header of totals, the tabs of its views, and the detail panel of the selected
// span. Owns the session's live model: filled by the hub's `hello`, changed by each `commit`
// and re-synced by the `hello` after a reconnect; views subscribe to it for incremental updates.
import { html, useEffect, useMemo, useState } from '../vendor/preact-htm.mjs';
import { api } from '../lib/api.js';
import { follow } from '../lib/live.js';
import { SessionModel } from '../lib/session-model.js';
import { VIEWS, go, href } from '../lib/router.js';
import { SessionHeader } from './session-header.js';
import { Detail } from './detail.js';
import { GraphView } from './graph.js';
import { TimelineView } from './timeline.js';
import { AgentsView } from './agents.js';
import { LlmView } from './llm.js';
import { ToolsView } from './tools.js';
import { FeedView } from './feed.js';
import { ScoresView } from './scores.js';
import { ErrorNotice } from '../components/badges.js';
import { ReplayBanner } from '../components/replay-banner.js';

const VIEW = { graph: GraphView, timeline: TimelineView, agents: AgentsView, llm: LlmView, tools: ToolsView, feed: FeedView, scores: ScoresView };
const LABEL = { graph: 'Graph', timeline: 'Timeline', agents: 'Agents', llm: 'LLM', tools: 'Tools', feed: 'Feed', scores: 'Scores & decisions' };

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

export function Session({ route, onTitle }) {
  const id = route.session;
  const model = useMemo(() => new SessionModel(id), [id]);
  const version = useModelVersion(model);
  const [error, setError] = useState(null);
  const [loaded, setLoaded] = useState(false);

  useEffect(() => {
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
    return () => live.stop();
  }, [id]);

  useEffect(() => onTitle(model.session?.name || id), [model.session?.name]);

  const select = (spanId) => go({ ...route, query: { ...route.query, span: spanId || undefined } }, true);
  const View = VIEW[route.view];
  const spanId = route.query.span;
  return html`
    <div class="session">
      <div class="session-head">
        <${SessionHeader} model=${model} version=${version} selected=${route.query.span} select=${select} />
        <${ReplayBanner} sessionId=${id} />
        <nav class="tabs" aria-label="Session views">
          ${VIEWS.map((v) => html`<a class=${v === route.view ? 'active' : ''} aria-current=${v === route.view ? 'page' : undefined}
              href=${href({ ...route, view: v })}>${LABEL[v]}</a>`)}
        </nav>
      </div>
      ${error && !model.spans.size ? html`<div class="page"><${ErrorNotice} error=${error} /></div>` : null}
      <div class="session-body">
        <div key=${route.view} class="view ${route.view === 'graph' || route.view === 'timeline' ? 'fill' : ''}">
          ${loaded ? html`<${View} model=${model} version=${version} select=${select} selected=${spanId} route=${route} />` : html`<div class="empty">loading…</div>`}
        </div>
        ${spanId ? html`<${Detail} key=${spanId} model=${model} version=${version} sessionId=${id} spanId=${spanId} onClose=${() => select(null)} />` : null}
      </div>
    </div>`;
}
