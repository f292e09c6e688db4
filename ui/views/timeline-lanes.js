// The timeline's rows: one lane per agent (in order of first appearance; spans of no agent in
// "session"), and inside a lane as many rows as it has spans running at once (greedy interval
// packing, so nested and parallel work stacks). New spans are placed incrementally.
export const NO_AGENT = 'session';

export class Lanes {
  constructor() {
    this.lanes = [];
    this.byName = new Map();
    /** span id -> {lane, row} */
    this.place = new Map();
  }

  /** Places a span (started spans arrive roughly in start order, so greedy is stable). */
  add(span) {
    const name = span.agent || NO_AGENT;
    let lane = this.byName.get(name);
    if (!lane) {
      lane = { name, rows: [] };
      this.byName.set(name, lane);
      this.lanes.push(lane);
    }
    const start = Date.parse(span.started_at);
    const end = span.ended_at ? Date.parse(span.ended_at) : Infinity;
    let row = lane.rows.findIndex((r) => r.end <= start);
    if (row < 0) {
      row = lane.rows.length;
      lane.rows.push({ end, spans: [] });
    }
    lane.rows[row].end = end;
    lane.rows[row].spans.push(span);
    this.place.set(span.span_id, { lane, row });
  }

  /** A span ended: its row frees up from its end on. */
  ended(span) {
    const p = this.place.get(span.span_id);
    if (!p) return;
    const r = p.lane.rows[p.row];
    if (r.spans[r.spans.length - 1] === span && span.ended_at) r.end = Date.parse(span.ended_at);
  }

  static of(model) {
    const l = new Lanes();
    [...model.spans.values()].sort((a, b) => Date.parse(a.started_at) - Date.parse(b.started_at)).forEach((s) => l.add(s));
    return l;
  }
}
