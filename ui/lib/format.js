// Number, time and money formatting shared by every view.
const nf = new Intl.NumberFormat();

export const int = (n) => (n == null ? '–' : nf.format(Math.round(n)));

/** Bytes in binary units: "512 B", "1.5 MiB", "12 GiB". */
export const bytes = (v) => {
  if (v == null) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let n = Math.abs(v);
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i += 1; }
  return `${(Math.sign(v) * n).toFixed(n >= 100 || i === 0 ? 0 : 1)} ${units[i]}`;
};

/** 1234 -> "1.2k", for tight table cells. */
export function compact(n) {
  if (n == null) return '–';
  const a = Math.abs(n);
  if (a >= 1e9) return `${(n / 1e9).toFixed(1)}G`;
  if (a >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (a >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  return nf.format(Math.round(n));
}

/** Dollars: "$1.50", "$1,234.00"; under a dollar two significant digits ("$0.15", "$0.0037"). */
export function usd(n) {
  if (n == null) return '–';
  if (n === 0) return '$0';
  if (Math.abs(n) >= 1) return `$${n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
  return `$${n.toLocaleString('en-US', { maximumSignificantDigits: 2 })}`;
}

/**
 * A summed cost beside the LLM calls whose cost is unknown (no price for the model):
 * "$1.20" when all are known, "≥ $1.20" when some are not, "unknown" when none is.
 */
export function cost(sum, unpriced) {
  if (!unpriced) return usd(sum);
  return sum ? `≥\u00a0${usd(sum)}` : 'unknown';
}

/** The tooltip beside `cost`: how many calls are not in the sum. */
export const unpricedNote = (unpriced) =>
  (unpriced ? `${nf.format(unpriced)} LLM call${unpriced === 1 ? '' : 's'} without a price (model not in the pricing table)` : undefined);

/** The cost of API totals (`cost_usd`, null when unknown, and `unpriced_llm_calls`). */
export const totalsCost = (t) => cost(t.cost_usd, t.unpriced_llm_calls);

export const pct = (r) => (r == null ? '–' : `${(r * 100).toFixed(r >= 0.995 || r === 0 ? 0 : 1)}%`);

/** Milliseconds as "340 ms", "1.0 s", "2.4 s", "3m 12s", "1h 04m". */
export function ms(v) {
  if (v == null) return '–';
  if (Math.round(v) < 1000) return `${Math.round(v)} ms`;
  const s = v / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(Math.floor(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

export const time = (iso) => (iso ? new Date(iso).toLocaleTimeString([], { hour12: false }) : '–');

/** "12:04:05.123", for feeds and tooltips. */
export function timeMs(iso) {
  if (!iso) return '–';
  const d = new Date(iso);
  return `${d.toLocaleTimeString([], { hour12: false })}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

export function dateTime(iso) {
  if (!iso) return '–';
  return new Date(iso).toLocaleString([], { hour12: false, year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

/** "5 s ago", "3 min ago", "2 h ago", or the date. */
export function ago(iso, now = Date.now()) {
  if (!iso) return '–';
  const s = (now - Date.parse(iso)) / 1000;
  if (s < 60) return `${Math.max(0, Math.round(s))} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return dateTime(iso);
}

/** Elapsed ms of something that may still run: ended, or up to now. */
export const elapsed = (startIso, endIso, now = Date.now()) =>
  (endIso ? Date.parse(endIso) : now) - Date.parse(startIso);

export const tokens = (u) => (u ? (u.input_tokens || 0) + (u.output_tokens || 0) : 0);

/** Text preview of any payload, one line. */
export function preview(value, max = 140) {
  if (value == null) return '';
  let t;
  if (typeof value === 'string') t = value;
  else if (typeof value?.content === 'string') t = value.content;
  else if (Array.isArray(value) && value.length && value[value.length - 1]?.content !== undefined) {
    const last = value[value.length - 1].content;
    t = typeof last === 'string' ? last : JSON.stringify(last);
  } else t = JSON.stringify(value);
  t = t.replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}
