// A strip under the top bar while the server has refused incoming data in the last hour
// (GET /api/v1/refusals): OTel exporters do not show partial success and SDKs log refusals
// where nobody looks, so the page says it: "412 spans refused in the last hour: …".
import { html, useEffect, useState } from '../vendor/preact-htm.mjs';
import { api } from '../lib/api.js';

const EVERY_MS = 10_000;
const SOURCES = { native: 'native API', otlp: 'OpenTelemetry', proxy: 'LLM proxy' };
// The proxy's recorder loses records (the calls went through); everything else is refused.
const verb = (r) => (r.source === 'proxy' ? 'not recorded' : 'refused');
const ONE = { batches: 'batch', spans: 'span', 'log records': 'log record', requests: 'request' };
const count = (n, unit) => `${n.toLocaleString()} ${n === 1 ? ONE[unit] || unit : unit}`;

function usePolled(load, every) {
  const [value, setValue] = useState(null);
  useEffect(() => {
    let alive = true;
    const pull = () => load().then((v) => alive && setValue(v), () => {});
    pull();
    const t = setInterval(pull, every);
    return () => { alive = false; clearInterval(t); };
  }, []);
  return value;
}

export function RefusalsBanner() {
  const list = usePolled(api.refusals, EVERY_MS);
  const [open, setOpen] = useState(false);
  const [dismissed, setDismissed] = useState('');
  if (!list || list.length === 0) return null;
  const top = list[0];
  // Dismissed until something new is refused.
  const mark = list.map((r) => `${r.reason}:${r.total}`).join('|');
  if (dismissed === mark) return null;
  const more = list.length > 1 ? ` · ${list.length - 1} more reason${list.length > 2 ? 's' : ''}` : '';
  return html`
    <section class="refusals" role="alert" data-refusals=${list.length}>
      <div class="refusals-line">
        <strong>${count(top.last_hour, top.unit)} ${verb(top)} in the last hour</strong>
        <span class="muted">(${SOURCES[top.source] || top.source}, from ${top.last_client})</span>
        <span class="refusal-reason" title=${top.example}>${top.reason}</span>
        <span class="muted">${more}</span>
        <span class="spacer"></span>
        <button class="linkish" onClick=${() => setOpen(!open)}>${open ? 'Hide' : 'Details'}</button>
        <button class="linkish" onClick=${() => setDismissed(mark)} aria-label="Dismiss">Dismiss</button>
      </div>
      ${open ? html`
        <table class="refusals-table">
          <thead><tr><th>last hour</th><th>since start</th><th>source</th><th>reason</th><th>last</th><th>example answer</th></tr></thead>
          <tbody>${list.map((r) => html`
            <tr>
              <td class="num">${count(r.last_hour, r.unit)}</td>
              <td class="num">${r.total.toLocaleString()}</td>
              <td>${SOURCES[r.source] || r.source}</td>
              <td>${r.reason}</td>
              <td class="muted">${r.last_secs_ago} s ago, ${r.last_client}</td>
              <td class="example">${r.example}</td>
            </tr>`)}</tbody>
        </table>` : null}
    </section>`;
}
