// A table sortable by any column with a `sort` key: click or press Enter on a header.
// Columns: {label, sort?: row => value, cell: row => vnode, num?: bool}.
import { html, useMemo, useState } from '../vendor/preact-htm.mjs';

/** A comparator of rows by `key(row)`, descending when `desc`; missing values go last. */
export function compareBy(key, desc) {
  const dir = desc ? -1 : 1;
  return (a, b) => {
    const x = key(a);
    const y = key(b);
    if (x === y) return 0;
    if (x == null) return 1;
    if (y == null) return -1;
    return x < y ? -dir : dir;
  };
}

export function SortTable({ columns, rows, initial, onRow, rowClass, limit }) {
  const [sort, setSort] = useState(initial || { col: -1, desc: true });
  const sorted = useMemo(() => {
    const col = columns[sort.col];
    if (!col?.sort) return rows;
    return [...rows].sort(compareBy(col.sort, sort.desc));
  }, [rows, sort, columns]);
  const toggle = (i) => setSort((s) => ({ col: i, desc: s.col === i ? !s.desc : true }));
  const shown = limit ? sorted.slice(0, limit) : sorted;
  return html`
    <div class="table-wrap">
      <table>
        <thead><tr>
          ${columns.map((c, i) =>
            c.sort
              ? html`<th class="sortable ${c.num ? 'num' : ''}" tabindex="0" aria-sort=${sort.col === i ? (sort.desc ? 'descending' : 'ascending') : 'none'}
                    onClick=${() => toggle(i)} onKeyDown=${(e) => e.key === 'Enter' && toggle(i)}>
                    ${c.label} <span class="arrow">${sort.col === i ? (sort.desc ? '▼' : '▲') : ''}</span></th>`
              : html`<th class=${c.num ? 'num' : ''}>${c.label}</th>`,
          )}
        </tr></thead>
        <tbody>
          ${shown.map(
            (r) => html`<tr class="${onRow ? 'clickable' : ''} ${rowClass ? rowClass(r) : ''}" tabindex=${onRow ? 0 : undefined}
                onClick=${onRow ? () => onRow(r) : undefined} onKeyDown=${onRow ? (e) => e.key === 'Enter' && onRow(r) : undefined}>
                ${columns.map((c) => html`<td class=${c.num ? 'num' : ''}>${c.cell(r)}</td>`)}
              </tr>`,
          )}
        </tbody>
      </table>
    </div>`;
}
