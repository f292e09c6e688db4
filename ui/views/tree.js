// The trace tree (waterfall): the session's spans as an indented tree in start order, one
// row each with kind, name, agent, model, status, a duration bar on the shared time axis,
// tokens and cost (a parent's are its subtree's). Only the rows in view are in the DOM, so
// 100,000 spans scroll like 100. New rows slot in without moving the rows being read;
// "Follow latest" keeps the newest row in view and never changes the selection. Keyboard:
// up/down move, left/right collapse/expand (or go to the parent / first child), Enter opens
// the detail, "r" re-roots the tree at the row (the route's `root=`).
import { html, useEffect, useLayoutEffect, useMemo, useRef, useState } from '../vendor/preact-htm.mjs';
import { SpanTree } from '../lib/span-tree.js';
import { useNow } from '../lib/use-now.js';
import { go } from '../lib/router.js';
import { TreeRow, TreeHeader, ROW_H } from './tree-row.js';

const OVERSCAN = 8;
const LEVELS = [1, 2, 3, 4, 5];

/** The tree's model, following the session model's deltas. */
function useSpanTree(model) {
  const tree = useMemo(() => new SpanTree(model), [model]);
  useEffect(() => model.subscribe((delta) => tree.update(delta)), [tree]);
  return tree;
}

/** Height of an element, following resizes. */
function useHeight(ref) {
  const [h, setH] = useState(600);
  useLayoutEffect(() => {
    const el = ref.current;
    const ro = new ResizeObserver(() => setH(el.clientHeight));
    ro.observe(el);
    setH(el.clientHeight);
    return () => ro.disconnect();
  }, []);
  return h;
}

function Breadcrumb({ tree, model, setRoot }) {
  if (!tree.rootId) return null;
  const path = [...tree.ancestors(tree.rootId), tree.rootId];
  return html`<nav class="tree-crumbs" aria-label="Tree root" data-test="tree-crumbs">
    <button class="linkish" onClick=${() => setRoot(null)}>Whole session</button>
    ${path.map((id) => html`<span>›</span><button class="linkish" disabled=${id === tree.rootId} onClick=${() => setRoot(id)}>${model.spans.get(id)?.name || id}</button>`)}
  </nav>`;
}

export function TreeView({ model, version, select, selected, route, filter }) {
  const tree = useSpanTree(model);
  const scroller = useRef(null);
  const height = useHeight(scroller);
  const [scrollTop, setScrollTop] = useState(0);
  const [follow, setFollow] = useState(model.session?.status === 'running');
  const [cursor, setCursor] = useState(selected || null);
  const [, redraw] = useState(0);
  const ours = useRef(false);
  const anchor = useRef(null);
  const changed = () => redraw((x) => x + 1);

  const rootId = route.query.root || null;
  if (tree.rootId !== rootId) tree.setRoot(rootId);
  if (tree.filter !== filter) tree.setFilter(filter);
  // Where the reader is, before the rows change: the first row in view and its offset.
  if (tree.stale && tree.ids.length) {
    const i = Math.min(tree.ids.length - 1, Math.floor(scrollTop / ROW_H));
    anchor.current = { id: tree.ids[i], offset: scrollTop - i * ROW_H };
  }
  tree.rows();
  const now = useNow(tree.running);
  const n = tree.ids.length;

  const scrollTo = (top) => {
    const el = scroller.current;
    const t = Math.max(0, Math.min(top, (n + 1) * ROW_H - el.clientHeight));
    if (Math.abs(el.scrollTop - t) < 1) return;
    ours.current = true;
    el.scrollTop = t;
    setScrollTop(t);
  };
  const reveal = (i) => {
    const el = scroller.current;
    if (i < 0 || !el) return;
    if (i * ROW_H < el.scrollTop) scrollTo(i * ROW_H);
    // The sticky column header is one row high.
    else if ((i + 2) * ROW_H > el.scrollTop + el.clientHeight) scrollTo((i + 2) * ROW_H - el.clientHeight);
  };

  // After the rows change: follow the latest row, or keep the anchor row where it was.
  useLayoutEffect(() => {
    const a = anchor.current;
    anchor.current = null;
    if (follow) reveal(tree.indexOf(tree.latest));
    else if (a) {
      const i = tree.indexOf(a.id);
      if (i >= 0) scrollTo(i * ROW_H + a.offset);
    }
  }, [version, tree.ids]);

  useEffect(() => {
    scroller.current.__tree = tree;
  }, [tree]);

  // A span selected elsewhere (a search match, the detail's links): open its ancestors and
  // bring it into view.
  useEffect(() => {
    if (!selected) return;
    setCursor(selected);
    for (const a of tree.ancestors(selected)) tree.expand(a);
    tree.rows();
    reveal(tree.indexOf(selected));
    changed();
  }, [selected]);

  const onScroll = (e) => {
    setScrollTop(e.currentTarget.scrollTop);
    // The reader scrolled: stop following (scrolls we make ourselves do not count).
    if (ours.current) ours.current = false;
    else if (follow) setFollow(false);
  };

  const setRoot = (id) => go({ ...route, query: { ...route.query, root: id || undefined } });
  const open = (id) => { setCursor(id); select(id); };

  const onKey = (e) => {
    if (e.target.closest('button, select, input')) return;
    const i = Math.max(0, tree.indexOf(cursor));
    const id = tree.ids[i];
    const move = (j) => {
      const k = Math.max(0, Math.min(n - 1, j));
      setCursor(tree.ids[k]);
      reveal(k);
    };
    const kids = id ? model.childrenOf(id) : [];
    const page = Math.max(1, Math.floor(height / ROW_H) - 1);
    const act = {
      ArrowDown: () => move(tree.indexOf(cursor) < 0 ? 0 : i + 1),
      ArrowUp: () => move(i - 1),
      PageDown: () => move(i + page),
      PageUp: () => move(i - page),
      Home: () => move(0),
      End: () => move(n - 1),
      ArrowRight: () => {
        if (!kids.length) return;
        if (tree.collapsed.has(id)) { tree.expand(id); changed(); } else move(i + 1);
      },
      ArrowLeft: () => {
        if (kids.length && !tree.collapsed.has(id) && !tree.filter) { tree.collapse(id); changed(); return; }
        const parent = tree.indexOf(model.spans.get(id)?.parent_id);
        if (parent >= 0) move(parent);
      },
      Enter: () => id && select(id),
      r: () => id && setRoot(id),
    }[e.key];
    if (act) {
      e.preventDefault();
      act();
    }
  };

  const first = Math.max(0, Math.floor(scrollTop / ROW_H) - OVERSCAN);
  const last = Math.min(n, Math.ceil((scrollTop + height) / ROW_H) + OVERSCAN);
  const axis = { lo: tree.lo, span: Math.max(1, (tree.running ? Math.max(tree.hi, now) : tree.hi) - tree.lo), now };
  const rows = [];
  for (let i = first; i < last; i += 1) {
    const id = tree.ids[i];
    rows.push(html`<${TreeRow} key=${id} i=${i} id=${id} depth=${tree.depths[i]} tree=${tree} model=${model} axis=${axis}
      selected=${id === selected} cursor=${id === cursor} open=${open} toggle=${(x) => { tree.toggle(x); changed(); }} setRoot=${setRoot} />`);
  }

  return html`
    <div class="view-tools">
      <button class=${follow ? 'on' : ''} aria-pressed=${follow} onClick=${() => { setFollow(!follow); if (!follow) reveal(tree.indexOf(tree.latest)); }}
        title="Keep the newest span in view; the selection stays where it is">Follow latest</button>
      <button onClick=${() => { tree.expandToLevel(0); changed(); }}>Expand all</button>
      <button onClick=${() => { tree.expandToLevel(1); changed(); }}>Collapse all</button>
      <label class="muted">Expand to level
        <select aria-label="Expand to level" onChange=${(e) => { tree.expandToLevel(Number(e.target.value)); changed(); e.target.value = ''; }}>
          <option value="">…</option>
          ${LEVELS.map((l) => html`<option value=${l}>${l}</option>`)}
        </select>
      </label>
      <${Breadcrumb} tree=${tree} model=${model} setRoot=${setRoot} />
      <span class="spacer"></span>
      <span class="muted" data-test="tree-count">${n.toLocaleString()} rows</span>
    </div>
    <div class="tree-scroll" ref=${scroller} onScroll=${onScroll} tabindex="0" role="tree" aria-label="Trace tree"
      aria-activedescendant=${cursor ? `row-${cursor}` : undefined} onKeyDown=${onKey} data-test="tree">
      <${TreeHeader} axis=${axis} />
      <div class="tree-body" style="height:${n * ROW_H}px">${rows}</div>
      ${n ? null : html`<div class="empty">no spans${tree.filter ? ' match' : ''}</div>`}
    </div>`;
}
