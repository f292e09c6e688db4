// Which spans the graph draws: a span's children are hidden while it is collapsed, and its node
// says how many descendants it hides. Big sessions start collapsed to a readable size: whole
// levels are opened breadth first while the graph stays under BUDGET nodes (a level is opened
// for all its spans or for none, so siblings look alike).
export const BUDGET = 250;

/** The collapsed set a session starts with. */
export function initialCollapsed(model, budget = BUDGET) {
  const collapsed = new Set();
  let queue = model.roots();
  let count = queue.length;
  while (queue.length) {
    const next = queue.flatMap((id) => model.childrenOf(id));
    if (count + next.length > budget) {
      for (const id of queue) if (model.childrenOf(id).length) collapsed.add(id);
      break;
    }
    count += next.length;
    queue = next;
  }
  return collapsed;
}

/** The ids of the visible spans, parents before children. */
export function visibleSpans(model, collapsed) {
  const out = [];
  const stack = model.roots().reverse();
  while (stack.length) {
    const id = stack.pop();
    out.push(id);
    if (!collapsed.has(id)) stack.push(...[...model.childrenOf(id)].reverse());
  }
  return out;
}

/** The nearest visible ancestor-or-self of a span (null if none is visible). */
export function visibleAncestor(model, collapsed, id) {
  const chain = [];
  for (let cur = id; cur && model.spans.has(cur); cur = model.spans.get(cur).parent_id) chain.push(cur);
  // From the root down: the first collapsed span hides everything under it.
  for (let i = chain.length - 1; i >= 0; i -= 1) if (collapsed.has(chain[i])) return chain[i];
  return chain.length ? id : null;
}

/** Opens every collapsed ancestor of a span, so it becomes visible. */
export function reveal(model, collapsed, id) {
  for (let cur = model.spans.get(id)?.parent_id; cur; cur = model.spans.get(cur)?.parent_id) collapsed.delete(cur);
}
