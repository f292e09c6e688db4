// The trace tree's model: a session's spans flattened into the rows of an indented tree in
// start order, under an optional root span (re-rooting), with collapsed subtrees left out and
// an optional filter (matching spans and their ancestors). Every span's own and rolled-up
// tokens and cost are kept up to date from the session model's deltas, so a live session
// costs work per new span, not per span; the rows are flattened again at most once per frame.
import { startMs } from './session-model.js';
import { costUnknown } from './stats.js';
import { tokens } from './format.js';

const ZERO = Object.freeze({ tokens: 0, cost: 0, unpriced: 0, spans: 0 });

const ownOf = (s) => ({ tokens: tokens(s.usage), cost: s.cost_usd || 0, unpriced: costUnknown(s) ? 1 : 0, spans: 1 });

/** Adds `sign` times the figures of `b` to `a`. */
function add(a, b, sign) {
  a.tokens += sign * b.tokens;
  a.cost += sign * b.cost;
  a.unpriced += sign * b.unpriced;
  a.spans += sign * b.spans;
}

export class SpanTree {
  constructor(model) {
    this.model = model;
    /** Span ids whose children are hidden. */
    this.collapsed = new Set();
    /** The span the view is re-rooted at (null: the whole session). */
    this.rootId = null;
    /** A predicate over span summaries (null: every span), see `setFilter`. */
    this.filter = null;
    /** The rows: span ids and their depths, in display order. */
    this.ids = [];
    this.depths = [];
    /** Time axis of the rows' scope: first start, last end, and whether anything runs. */
    this.lo = 0;
    this.hi = 0;
    this.running = false;
    /** The span that started last among the rows (what "follow latest" shows). */
    this.latest = null;
    /** How many spans of the scope match the filter (while there is one). */
    this.matches = 0;
    this.reset();
  }

  /** Recomputes every rollup (a new snapshot). */
  reset() {
    this.own = new Map();
    this.sub = new Map();
    for (const s of this.model.spans.values()) this.own.set(s.span_id, ownOf(s));
    const sum = (id) => {
      // Iterative post-order: a deep chain of spans must not overflow the stack.
      const order = [];
      const stack = [id];
      while (stack.length) {
        const n = stack.pop();
        order.push(n);
        for (const c of this.model.childrenOf(n)) stack.push(c);
      }
      for (let i = order.length - 1; i >= 0; i -= 1) {
        const n = order[i];
        const o = this.own.get(n) || ZERO;
        const t = { ...o };
        for (const c of this.model.childrenOf(n)) add(t, this.sub.get(c), 1);
        this.sub.set(n, t);
      }
    };
    for (const r of this.model.roots()) sum(r);
    this.stale = true;
  }

  /** Follows a session-model delta: rollups now, rows at the next `rows()`. */
  update(delta) {
    if (delta.reset) return this.reset();
    // A parent that arrives after its children adopts them: recompute (rare).
    if (delta.added.some((id) => this.model.childrenOf(id).length)) return this.reset();
    for (const id of delta.added) this.account(id, true);
    for (const id of delta.changed) this.account(id, false);
    if (delta.added.length || (this.filter && delta.changed.length)) this.stale = true;
    else this.extend(delta.changed);
    return undefined;
  }

  /** Adds the difference of a span's own figures to it and its ancestors. */
  account(id, added) {
    const s = this.model.spans.get(id);
    if (!s) return;
    const now = ownOf(s);
    const was = this.own.get(id) || ZERO;
    this.own.set(id, now);
    if (added) this.sub.set(id, { ...ZERO });
    const d = { ...now };
    add(d, was, -1);
    if (!d.tokens && !d.cost && !d.unpriced && !d.spans) return;
    for (let n = id, guard = 0; n && guard < 10_000; n = this.model.spans.get(n)?.parent_id, guard += 1) {
      const t = this.sub.get(n);
      if (!t) break;
      add(t, d, 1);
    }
  }

  /** Widens the axis for spans that ended, without flattening the rows again. */
  extend(ids) {
    for (const id of ids) {
      const s = this.model.spans.get(id);
      if (s?.ended_at) this.hi = Math.max(this.hi, Date.parse(s.ended_at));
    }
    if (ids.length) this.running = this.anyRunning();
  }

  anyRunning() {
    for (let i = 0; i < this.ids.length; i += 1) if (!this.model.spans.get(this.ids[i])?.ended_at) return true;
    return false;
  }

  /** Own and subtree figures of a span: {tokens, cost, unpriced, spans}. */
  figures(id) {
    return { own: this.own.get(id) || ZERO, sub: this.sub.get(id) || ZERO };
  }

  /** The spans the rows start from: the root span when re-rooted, else the session's roots. */
  scope() {
    return this.rootId && this.model.spans.has(this.rootId) ? [this.rootId] : this.model.roots();
  }

  /** The ancestors of a span, outermost first. */
  ancestors(id) {
    const out = [];
    for (let n = this.model.spans.get(id)?.parent_id, guard = 0; n && this.model.spans.has(n) && guard < 10_000; n = this.model.spans.get(n).parent_id, guard += 1) out.unshift(n);
    return out;
  }

  setRoot(id) {
    this.rootId = id || null;
    this.stale = true;
  }

  setFilter(fn) {
    this.filter = fn || null;
    this.stale = true;
  }

  toggle(id) {
    if (this.collapsed.has(id)) this.collapsed.delete(id);
    else this.collapsed.add(id);
    this.stale = true;
  }

  expand(id) {
    if (this.collapsed.delete(id)) this.stale = true;
  }

  collapse(id) {
    if (!this.collapsed.has(id) && this.model.childrenOf(id).length) {
      this.collapsed.add(id);
      this.stale = true;
    }
  }

  /** Shows `level` levels of the scope (1: its top spans only); 0 or Infinity: everything. */
  expandToLevel(level) {
    this.collapsed = new Set();
    if (level && Number.isFinite(level)) {
      this.walk((id, depth) => {
        if (depth >= level - 1 && this.model.childrenOf(id).length) this.collapsed.add(id);
      });
    }
    this.stale = true;
  }

  /** Visits every span of the scope, depth first in start order: fn(id, depth). */
  walk(fn) {
    const ids = this.scope().reverse();
    const depths = ids.map(() => 0);
    while (ids.length) {
      const id = ids.pop();
      const depth = depths.pop();
      fn(id, depth);
      const kids = this.model.childrenOf(id);
      for (let i = kids.length - 1; i >= 0; i -= 1) {
        ids.push(kids[i]);
        depths.push(depth + 1);
      }
    }
  }

  /** The spans kept under the filter: the matches and their ancestors. */
  kept() {
    const keep = new Set();
    let matches = 0;
    this.walk((id) => {
      if (!this.filter(this.model.spans.get(id))) return;
      matches += 1;
      for (let n = id; n && !keep.has(n); n = this.model.spans.get(n)?.parent_id) keep.add(n);
    });
    this.matches = matches;
    return keep;
  }

  /** The rows, flattened again if anything changed their set or order. */
  rows() {
    if (!this.stale) return this;
    const keep = this.filter ? this.kept() : null;
    const ids = [];
    const depths = [];
    let lo = Infinity;
    let hi = -Infinity;
    let running = false;
    let latest = null;
    let latestAt = -Infinity;
    // Depth first; `hidden` counts how deep we are inside a collapsed subtree (still walked,
    // for the time axis). Under a filter, the kept spans show with their ancestors opened.
    const stack = this.scope().reverse().map((id) => [id, 0, false]);
    while (stack.length) {
      const [id, depth, hidden] = stack.pop();
      const s = this.model.spans.get(id);
      if (keep && !keep.has(id)) continue;
      const start = startMs(s);
      if (start < lo) lo = start;
      if (s.ended_at) hi = Math.max(hi, Date.parse(s.ended_at));
      else running = true;
      if (!hidden) {
        ids.push(id);
        depths.push(depth);
        if (start >= latestAt && Number.isFinite(start)) {
          latestAt = start;
          latest = id;
        }
      }
      const under = hidden || (!keep && this.collapsed.has(id));
      const kids = this.model.childrenOf(id);
      for (let i = kids.length - 1; i >= 0; i -= 1) stack.push([kids[i], depth + 1, under]);
    }
    if (!Number.isFinite(lo)) lo = Date.now();
    if (!Number.isFinite(hi)) hi = lo;
    Object.assign(this, { ids, depths, lo, hi, running, latest, stale: false });
    return this;
  }

  /** The row index of a span, -1 when it is not a row. */
  indexOf(id) {
    return id ? this.ids.indexOf(id) : -1;
  }
}
