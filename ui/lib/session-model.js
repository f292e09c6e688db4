// The client-side state of one session: spans indexed by id and by parent, edges, agents and
// events. It is loaded from a snapshot (the hub's `hello`, or the REST API) and then changed
// by protocol messages (docs/protocol.md) as they are committed. Every change is announced
// to subscribers as a delta, {reset} or {added, changed, edges, events, agents}, so views
// update what changed instead of re-rendering the session.

import { preview } from './format.js';

/** The length of the output preview kept from live messages (summaries carry no output). */
const PREVIEW = 240;

/** Protocol times are RFC 3339 strings or unix nanoseconds; the model keeps ISO strings. */
const iso = (t) => (t == null ? t : typeof t === 'number' ? new Date(t / 1e6).toISOString() : t);

export class SessionModel {
  constructor(id) {
    this.id = id;
    this.session = null;
    /** @type {Map<string, object>} span summaries by id */
    this.spans = new Map();
    /** @type {Map<string|null, string[]>} child ids by parent id, in start order */
    this.children = new Map();
    this.edges = [];
    this.edgeIds = new Set();
    this.agents = new Map();
    this.events = [];
    this.eventIds = new Set();
    /** An agent silent for longer than this is offline (the server's rule, from `hello`). */
    this.offlineAfterMs = 30_000;
    this.version = 0;
    this.listeners = new Set();
  }

  subscribe(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  emit(delta) {
    this.version += 1;
    for (const fn of this.listeners) fn(delta);
  }

  /** Replaces everything with a snapshot. */
  load(snapshot) {
    const { session, spans, edges, agents } = snapshot;
    this.session = session;
    this.spans = new Map();
    this.children = new Map();
    for (const s of spans) this.insert(s);
    this.edges = [];
    this.edgeIds = new Set();
    for (const e of edges) this.addEdge(e);
    this.agents = new Map(agents.map((a) => [a.agent, a]));
    this.offlineAfterMs = snapshot.agent_offline_after_ms ?? this.offlineAfterMs;
    this.emit({ reset: true });
  }

  /**
   * Brings the model to a newer snapshot (a `hello` after a reconnect), announcing only the
   * differences, so a resync does not redraw the session. An empty model is simply loaded.
   */
  sync(snapshot) {
    if (!this.spans.size) return this.load(snapshot);
    const delta = { added: [], changed: [], edges: [], events: [], agents: true };
    const seen = new Set();
    for (const s of snapshot.spans) {
      seen.add(s.span_id);
      const old = this.spans.get(s.span_id);
      if (!old) {
        this.insert(s);
        delta.added.push(s.span_id);
      } else if (old.status !== s.status || old.ended_at !== s.ended_at || tokensOf(old) !== tokensOf(s)) {
        Object.assign(old, s);
        delta.changed.push(s.span_id);
      }
    }
    if ([...this.spans.keys()].some((id) => !seen.has(id))) return this.load(snapshot);
    for (const e of snapshot.edges) if (this.addEdge(e)) delta.edges.push(e);
    this.agents = new Map(snapshot.agents.map((a) => [a.agent, a]));
    this.offlineAfterMs = snapshot.agent_offline_after_ms ?? this.offlineAfterMs;
    this.session = snapshot.session;
    this.emit(delta);
  }

  /** Adds events read from the API (the feed loads them once), keeping time order. */
  addEvents(events) {
    const fresh = events.filter((e) => !this.eventIds.has(e.event_id));
    for (const e of fresh) this.eventIds.add(e.event_id);
    this.events = [...this.events, ...fresh].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
    this.emit({ added: [], changed: [], edges: [], events: fresh, agents: false });
  }

  /** Applies the protocol messages of one commit, and the session's new summary. */
  apply(messages, summary) {
    const delta = { added: [], changed: [], edges: [], events: [], agents: false };
    for (const m of messages) this.applyOne(m, delta);
    if (summary) this.session = summary;
    this.emit(delta.reset ? { reset: true, metadata: delta.metadata } : delta);
  }

  /** An agent's status at `now`: what it last reported, or `offline` once it fell silent. */
  agentStatus(agent, now = Date.now()) {
    const a = this.agents.get(agent);
    if (!a?.status) return undefined;
    const silent = a.last_seen && now - Date.parse(a.last_seen) > this.offlineAfterMs;
    return silent ? 'offline' : a.status;
  }

  /** Children of `id` (null: the roots), in start order. */
  childrenOf(id) {
    return this.children.get(id ?? null) || [];
  }

  /** The roots: spans without a parent, or whose parent is not in the session, in start order. */
  roots() {
    const top = [...this.childrenOf(null)];
    for (const [parent, kids] of this.children) if (parent !== null && !this.spans.has(parent)) top.push(...kids);
    if (top.length !== this.childrenOf(null).length) top.sort((a, b) => startOrder(this.spans.get(a), this.spans.get(b)));
    return top;
  }

  /**
   * The session's traces (an OpenTelemetry trace is one user turn, typically), in start order:
   * {trace_id, root (its first span without a parent in the trace), started_at, spans, errors}.
   */
  traces() {
    const by = new Map();
    for (const s of this.spans.values()) {
      if (!s.trace_id) continue;
      const t = by.get(s.trace_id) || { trace_id: s.trace_id, root: null, started_at: null, spans: 0, errors: 0 };
      t.spans += 1;
      if (s.status === 'error') t.errors += 1;
      if (s.started_at && (!t.started_at || s.started_at < t.started_at)) t.started_at = s.started_at;
      const parent = s.parent_id && this.spans.get(s.parent_id);
      if (!parent || parent.trace_id !== s.trace_id) {
        if (!t.root || (s.started_at || '') < (this.spans.get(t.root).started_at || '')) t.root = s.span_id;
      }
      by.set(s.trace_id, t);
    }
    return [...by.values()].sort((a, b) => (a.started_at || '').localeCompare(b.started_at || ''));
  }

  /** Number of descendants of `id`. */
  subtreeSize(id) {
    let n = 0;
    const stack = [...this.childrenOf(id)];
    while (stack.length) {
      n += 1;
      stack.push(...this.childrenOf(stack.pop()));
    }
    return n;
  }

  /**
   * Indexes a span under its parent, keeping siblings in start order (ties by span id), so a
   * session reads the same live as after a reload, whatever order its spans arrived in.
   */
  insert(span) {
    this.spans.set(span.span_id, span);
    const key = span.parent_id ?? null;
    const list = this.children.get(key);
    if (!list) {
      this.children.set(key, [span.span_id]);
      return;
    }
    const before = (id) => startOrder(span, this.spans.get(id)) < 0;
    // Spans mostly arrive in start order: append without searching.
    if (!before(list[list.length - 1])) {
      list.push(span.span_id);
      return;
    }
    let lo = 0;
    let hi = list.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (before(list[mid])) hi = mid;
      else lo = mid + 1;
    }
    list.splice(lo, 0, span.span_id);
  }

  /** Forgets a span (it moved into another session's span: `span.move`). */
  remove(id) {
    const span = this.spans.get(id);
    if (!span) return false;
    this.spans.delete(id);
    const key = span.parent_id ?? null;
    const list = (this.children.get(key) || []).filter((c) => c !== id);
    if (list.length) this.children.set(key, list);
    else this.children.delete(key);
    return true;
  }

  addEdge(e) {
    if (this.edgeIds.has(e.edge_id)) return false;
    this.edgeIds.add(e.edge_id);
    this.edges.push(e);
    return true;
  }

  applyOne(m, delta) {
    const id = m.span_id;
    const existing = id ? this.spans.get(id) : null;
    switch (m.type) {
      case 'span.start':
      case 'span': {
        const base = existing || { session_id: this.id, span_id: id, status: 'running', scores: {} };
        const span = {
          ...base,
          parent_id: m.parent_id ?? base.parent_id ?? null,
          trace_id: m.trace_id ?? base.trace_id,
          kind: m.kind,
          name: m.name,
          agent: m.agent ?? base.agent,
          model: m.model ?? base.model,
          started_at: base.started_at || iso(m.started_at),
          scores: { ...base.scores, ...m.scores },
        };
        if (m.type === 'span') Object.assign(span, endFields(m, span));
        if (m.output != null) span.output_preview = preview(m.output, PREVIEW);
        if (existing) {
          Object.assign(existing, span);
          delta.changed.push(id);
        } else {
          this.insert(span);
          delta.added.push(id);
        }
        break;
      }
      case 'session.start':
        // Its metadata changed (a replay forked from it names itself there: lib/forks.js).
        if (m.metadata) delta.metadata = true;
        break;
      case 'span.update':
        if (!existing) break;
        if (m.usage && existing.status === 'running') existing.usage = m.usage;
        if (m.scores) existing.scores = { ...existing.scores, ...m.scores };
        if (m.output_delta != null) existing.chunks = (existing.chunks || 0) + 1;
        if (m.output != null) existing.output_preview = preview(m.output, PREVIEW);
        delta.changed.push(id);
        break;
      case 'span.end':
        if (!existing) break;
        Object.assign(existing, endFields(m, existing));
        if (m.output != null) existing.output_preview = preview(m.output, PREVIEW);
        delta.changed.push(id);
        break;
      case 'span.move':
        // The same call reported twice: this copy joined the other one.
        if (m.session_id === this.id && this.remove(m.span_id)) delta.reset = true;
        break;
      case 'edge': {
        const edge = { ...m, at: iso(m.at) };
        if (this.addEdge(edge)) delta.edges.push(edge);
        break;
      }
      case 'event': {
        const ev = { ...m, at: iso(m.at), category: m.category || 'log' };
        if (ev.event_id && this.eventIds.has(ev.event_id)) break;
        if (ev.event_id) this.eventIds.add(ev.event_id);
        this.events.push(ev);
        delta.events.push(ev);
        break;
      }
      case 'agent.status': {
        const a = this.agents.get(m.agent) || { agent: m.agent, totals: {} };
        this.agents.set(m.agent, {
          ...a,
          status: m.status ?? a.status,
          role: m.role ?? a.role,
          model: m.model ?? a.model,
          task: m.task ?? a.task,
          last_seen: iso(m.at) ?? a.last_seen,
        });
        delta.agents = true;
        break;
      }
      default:
        break;
    }
  }
}

/** Start time, then span id: the order of siblings. */
export function startOrder(a, b) {
  const d = startMs(a) - startMs(b);
  if (d) return d;
  return a.span_id < b.span_id ? -1 : a.span_id > b.span_id ? 1 : 0;
}

/** A span's start in ms since the epoch (cached: parsing dates is the cost of sorting). */
export function startMs(s) {
  if (s._start === undefined || s._startIso !== s.started_at) {
    s._startIso = s.started_at;
    s._start = s.started_at ? Date.parse(s.started_at) : Infinity;
  }
  return s._start;
}

const tokensOf = (s) => (s.usage ? (s.usage.input_tokens || 0) + (s.usage.output_tokens || 0) : 0);

/** The fields a `span.end` (or a whole `span`) sets on a span. */
function endFields(m, span) {
  const ended = iso(m.ended_at) || new Date().toISOString();
  return {
    status: m.status || 'ok',
    ended_at: ended,
    duration_ms: span.started_at ? Date.parse(ended) - Date.parse(span.started_at) : null,
    usage: m.usage ?? span.usage,
    cost_usd: m.cost_usd ?? span.cost_usd,
    scores: { ...span.scores, ...m.scores },
    error: m.error ?? span.error,
  };
}
