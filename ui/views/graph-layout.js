// The graph's layout: a tidy top-down tree in start order, the same for a live session as
// for the same session reloaded (it depends only on the tree, never on arrival order). A
// parent sits centred over its children, which wrap into rows of at most `wrap` columns (a
// run of leaves, such as the ten tool calls of one agent, is one block), so a wide fan-out
// grows down instead of into a strip too wide to read. Relation edges (messages,
// dependencies) do not take part: they are drawn across the tree. O(nodes), so it runs again
// on every live update.

/** A column: the widest node (a review gate, 190 px) and the gap beside it. */
export const CELL_W = 206;
/** A node's own height with the gap under it, and the drop from a parent to its children. */
const NODE_H = 78;
const RANK_H = 110;
/** Between two rows of siblings, so each row's children read as theirs. */
const ROW_GAP = 34;

/**
 * Columns per row for a view `width` px wide: as many as it shows at the zoom `readable`, so
 * a row of siblings reads on screen without panning (docs/ui.md, "Big sessions", has the
 * measurements). It depends on the view alone, so a session reloaded in the same window lays
 * out as it did live.
 */
export const wrapFor = (width, readable) => Math.max(3, Math.floor(width / (CELL_W * readable)));

/**
 * Positions {id: {x, y}} of the visible spans: `roots` in order, `kids(id)` a node's visible
 * children in start order. A node's children are packed in rows, in start order like text:
 * a run of leaves is a block of at most `wrap` columns; each inner child brings its subtree's
 * box; a row is full at `wrap` columns (a wider box has a row of its own).
 */
export function tidyLayout(roots, kids, wrap) {
  const box = new Map();
  // Boxes bottom up, without recursion (a deep chain must not overflow the stack).
  const order = [];
  const stack = [...roots];
  while (stack.length) {
    const id = stack.pop();
    order.push(id);
    stack.push(...kids(id));
  }
  for (let i = order.length - 1; i >= 0; i -= 1) box.set(order[i], measure(order[i], kids, box, wrap));
  const pos = {};
  // Top down: a node's box at (left, top); the node centred over its box's width.
  const todo = [];
  let left = 0;
  for (const r of roots) {
    todo.push([r, left, 0]);
    left += box.get(r).w;
  }
  while (todo.length) {
    const [id, l, top] = todo.pop();
    const b = box.get(id);
    pos[id] = { x: l + b.w / 2, y: top };
    let y = top + RANK_H;
    for (const row of b.rows) {
      let x = l + (b.w - row.w) / 2;
      for (const g of row.items) {
        if (g.leaves) {
          g.leaves.forEach((leaf, k) => {
            pos[leaf] = { x: x + (k % g.cols) * CELL_W + CELL_W / 2, y: y + Math.floor(k / g.cols) * NODE_H };
          });
        } else todo.push([g.id, x, y]);
        x += g.w;
      }
      y += row.h + ROW_GAP;
    }
  }
  return pos;
}

/** A node's box {w, h, rows}: its children's groups packed in rows. */
function measure(id, kids, box, wrap) {
  const groups = [];
  let run = null;
  for (const c of kids(id)) {
    if (kids(c).length) {
      run = null;
      const b = box.get(c);
      groups.push({ id: c, w: b.w, h: b.h });
    } else {
      if (!run) groups.push((run = { leaves: [] }));
      run.leaves.push(c);
    }
  }
  for (const g of groups) {
    if (!g.leaves) continue;
    g.cols = Math.min(wrap, g.leaves.length);
    g.w = g.cols * CELL_W;
    g.h = Math.ceil(g.leaves.length / g.cols) * NODE_H;
  }
  const rows = [];
  let row = null;
  for (const g of groups) {
    if (!row || row.w + g.w > wrap * CELL_W) rows.push((row = { items: [], w: 0, h: 0 }));
    row.items.push(g);
    row.w += g.w;
    row.h = Math.max(row.h, g.h);
  }
  if (!rows.length) return { w: CELL_W, h: NODE_H, rows };
  return { w: Math.max(CELL_W, ...rows.map((r) => r.w)), h: RANK_H + rows.reduce((h, r) => h + r.h + ROW_GAP, 0), rows };
}
