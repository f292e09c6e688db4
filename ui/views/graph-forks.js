// Replay forks drawn as branches of the original's graph (lib/forks.js reads them): under the
// span a replay started from hangs a fork node ("replay", what it served and what it ran
// anew) and, under it, the spans the re-run did anew in their own tree, dashed. Their ids are
// prefixed `fork:` so they never meet a span id of the session; a click opens the fork.
import { nodeType, spanLabel } from './graph-style.js';
import { href } from '../lib/router.js';
import { int } from '../lib/format.js';

const PREFIX = 'fork:';
const headId = (f) => `${PREFIX}${f.fork.session_id}`;
const spanId = (f, id) => `${PREFIX}${f.fork.session_id}:${id}`;

export const isForkNode = (id) => id.startsWith(PREFIX);

const state = (status) => (status === 'running' ? 'running' : status === 'failed' ? 'error' : 'ok');

/**
 * The branches of `forks`: `at` (a span id of the session: the fork nodes under it), `kids`
 * (a fork node: its children), `nodes` (a fork node: its element data) and `links` (a fork
 * node: the route it opens).
 */
export function branches(forks) {
  const at = new Map();
  const kids = new Map();
  const nodes = new Map();
  const links = new Map();
  for (const f of forks) {
    const head = headId(f);
    at.set(f.span_id, [...(at.get(f.span_id) || []), head]);
    const r = f.record;
    const anew = f.spans.length;
    nodes.set(head, {
      id: head, type: 'fork', status: state(f.fork.status), forked: true, hidden: 0,
      label: `replay · call ${r.fork.call}${r.fork.agent ? ` of ${r.fork.agent}` : ''}\n${int(r.saved.calls)} served · ${int(anew)} anew`,
    });
    links.set(head, href({ page: 'session', session: f.fork.session_id, view: 'graph' }));
    const inBranch = new Set(f.spans.map((s) => s.span_id));
    const children = new Map([[head, []]]);
    for (const s of f.spans) {
      const up = s.parent_id && inBranch.has(s.parent_id) ? spanId(f, s.parent_id) : head;
      const id = spanId(f, s.span_id);
      children.set(up, [...(children.get(up) || []), id]);
      const type = nodeType(s, false);
      nodes.set(id, { id, label: spanLabel(s, type), type, status: s.status, forked: true, hidden: 0, kind: s.kind });
      links.set(id, href({ page: 'session', session: f.fork.session_id, view: 'graph', query: { span: s.span_id } }));
    }
    for (const [k, v] of children) kids.set(k, v);
  }
  return { at, kids, nodes, links };
}

/** The elements of the branches hanging from the drawn spans `shown`, parents first. */
export function branchElements(b, shown) {
  const els = [];
  for (const [span, heads] of b.at) {
    if (!shown.has(span)) continue;
    const todo = heads.map((h) => [span, h]);
    while (todo.length) {
      const [from, id] = todo.shift();
      const data = b.nodes.get(id);
      els.push({ group: 'nodes', data, classes: 'forked' });
      const kind = data.type === 'fork' ? 'fork' : data.kind === 'agent' ? 'delegation' : 'request';
      els.push({ group: 'edges', data: { id: `t:${id}`, source: from, target: id, kind, label: data.type === 'fork' ? 'replay' : undefined }, classes: 'tree forked' });
      for (const c of b.kids.get(id) || []) todo.push([id, c]);
    }
  }
  return els;
}
