// The feed's items (tasks started, messages between agents, LLM answers, tool results, logs
// and decisions), kept in time order and changed by the session model's deltas: a live
// message touches the one or two items it concerns instead of rebuilding and re-sorting the
// whole feed. Items keep their identity while unchanged, so the view's keyed list re-renders
// only what changed.
import { int, ms, tokens } from './format.js';

/** The feed item of a span, or null while it says nothing yet (an LLM call still running). */
function spanItem(s) {
  const failed = s.status === 'error';
  if (s.kind === 'agent') return { at: s.started_at, type: 'task', agent: s.agent, tag: 'task', text: s.name, span: s.span_id };
  if (!s.ended_at) return null;
  if (s.kind === 'llm') {
    const text = failed
      ? `${s.name} failed${s.error ? `: ${s.error}` : ''} · ${ms(s.duration_ms)}`
      : `${s.name} answered · ${int(tokens(s.usage))} tokens · ${ms(s.duration_ms)}`;
    return { at: s.ended_at, type: 'llm', agent: s.agent, tag: s.model || 'llm', text, answer: failed ? null : s.output_preview, cls: failed ? 'error' : '', span: s.span_id };
  }
  if (s.kind === 'tool')
    return { at: s.ended_at, type: 'tool', agent: s.agent, tag: 'tool', text: `${s.name} ${failed ? 'failed' : 'ok'} · ${ms(s.duration_ms)}`, cls: failed ? 'error' : '', span: s.span_id };
  return null;
}

function edgeItem(model, e) {
  if (e.kind !== 'message' && e.kind !== 'delegation') return null;
  const from = e.from_agent || model.spans.get(e.from_span)?.agent;
  const to = e.to_agent || model.spans.get(e.to_span)?.agent;
  return { at: e.at, type: 'message', agent: from, tag: `${e.kind} → ${to || '?'}`, text: e.label || '', span: e.from_span };
}

function eventItem(e) {
  const decision = e.category === 'decision';
  return {
    at: e.at, type: decision ? 'decision' : 'log', agent: e.agent, span: e.span_id,
    tag: decision ? `decision · ${e.name || ''}` : `${e.category}${e.level ? ` · ${e.level}` : ''}`,
    text: e.message || e.name || '', cls: e.level === 'error' ? 'error' : e.level === 'warn' ? 'warn' : '',
  };
}

const same = (a, b) => a.at === b.at && a.text === b.text && a.answer === b.answer && a.tag === b.tag && a.cls === b.cls && a.agent === b.agent;

export class FeedIndex {
  constructor(model) {
    this.model = model;
    this.rebuild();
  }

  rebuild() {
    /** @type {object[]} items in time order (ties keep arrival order) */
    this.items = [];
    /** @type {Map<string, object>} item by key: `s:` span, `e:` edge, `v:` event */
    this.byKey = new Map();
    this.agents = new Set();
    this.serial = 0;
    const m = this.model;
    this.version = m.version;
    for (const s of m.spans.values()) this.keep(`s:${s.span_id}`, spanItem(s));
    for (const e of m.edges) this.keep(`e:${e.edge_id}`, edgeItem(m, e));
    for (const e of m.events) this.keep(this.eventKey(e), eventItem(e));
    this.items.sort((a, b) => a.t - b.t);
  }

  /** Applies one delta of the session model (see session-model.js). */
  update(delta) {
    if (delta.reset) return this.rebuild();
    this.version = this.model.version;
    for (const id of delta.added) this.put(`s:${id}`, spanItem(this.model.spans.get(id)));
    for (const id of delta.changed) this.put(`s:${id}`, spanItem(this.model.spans.get(id)));
    for (const e of delta.edges) this.put(`e:${e.edge_id}`, edgeItem(this.model, e));
    for (const e of delta.events) this.put(this.eventKey(e), eventItem(e));
  }

  eventKey(e) {
    return `v:${e.event_id ?? `#${++this.serial}`}`;
  }

  /** Records an item without placing it (rebuild sorts once at the end). */
  keep(key, item) {
    if (!item) return;
    item.key = key;
    item.t = Date.parse(item.at) || 0;
    if (item.agent) this.agents.add(item.agent);
    this.byKey.set(key, item);
    this.items.push(item);
  }

  /** Sets, replaces or (with null) drops the item under `key`, keeping the time order. */
  put(key, item) {
    const old = this.byKey.get(key);
    if (old && item && same(old, item)) return;
    if (old) {
      this.items.splice(this.indexOf(old), 1);
      this.byKey.delete(key);
    }
    if (!item) return;
    this.keep(key, item);
    this.items.pop();
    this.items.splice(this.after(item.t), 0, item);
  }

  /** The first position whose time is past `t`: ties keep arrival order. */
  after(t) {
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.items[mid].t <= t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Position of an item in the list (binary search on time, then a scan among equal times). */
  indexOf(item) {
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.items[mid].t < item.t) lo = mid + 1;
      else hi = mid;
    }
    while (this.items[lo] !== item) lo += 1;
    return lo;
  }
}
