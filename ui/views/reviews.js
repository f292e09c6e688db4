// The Reviews page (#/reviews): the pending queue across sessions, and the decided history
// with who decided, when, and what an edit changed (as a diff).
import { html, useEffect, useState } from '../vendor/preact-htm.mjs';
import { usePendingReviews, countdownText } from '../lib/reviews.js';
import { href } from '../lib/router.js';
import { Empty, ErrorNotice } from '../components/badges.js';
import { useNow } from '../lib/use-now.js';
import { SessionName } from '../lib/session-names.js';

const sessionLink = (r) => href({ page: 'session', session: r.session_id, view: 'timeline', query: { span: r.review_span_id } });

function Diff({ text }) {
  if (!text) return null;
  return html`<pre class="review-diff">${text.split('\n').filter(Boolean).map((l) => html`<span class=${l[0] === '+' ? 'add' : l[0] === '-' ? 'del' : ''}>${`${l}\n`}</span>`)}</pre>`;
}

export function Reviews() {
  const pending = usePendingReviews();
  const now = useNow(pending.length > 0);
  const [history, setHistory] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    fetch('/api/v1/reviews?limit=200').then((r) => r.json()).then((b) => setHistory(b.reviews), setError);
  }, [pending.length]);
  return html`<section class="reviews-page">
    <h2>Pending <span class="faint">${pending.length}</span></h2>
    ${pending.length ? html`<table class="table pending"><thead><tr><th>Review</th><th>Session</th><th>Agent</th><th>Deadline</th></tr></thead><tbody>
      ${pending.map((r) => html`<tr data-review=${r.review_id}><td>${r.title || r.task || r.review_id}</td><td><a href=${sessionLink(r)} title=${r.session_id}><${SessionName} id=${r.session_id} /></a></td>
        <td>${r.agent || ''}</td><td>${countdownText(r, now)}</td></tr>`)}</tbody></table>`
    : html`<${Empty}>Nobody is waiting for a person.</${Empty}>`}
    <h2>Decided</h2>
    <${ErrorNotice} error=${error} />
    ${history?.length ? html`<table class="table"><thead><tr><th>Review</th><th>Session</th><th>Outcome</th><th>By</th><th>When</th><th>Change</th></tr></thead><tbody>
      ${history.map((r) => html`<tr data-review=${r.review_id}><td>${r.title || r.task || r.review_id}${r.comment ? html`<div class="faint">“${r.comment}”</div>` : null}</td>
        <td><a href=${sessionLink(r)} title=${r.session_id}><${SessionName} id=${r.session_id} /></a></td>
        <td><span class="badge ${r.state}">${r.state.replace('_', ' ')}</span> ${r.decision?.replace('_', ' ')}</td>
        <td>${r.decided_by}</td><td title=${r.decided_at}>${new Date(r.decided_at).toLocaleString()}</td>
        <td><${Diff} text=${r.diff} /></td></tr>`)}</tbody></table>`
    : html`<${Empty}>${history ? 'No review has been settled yet.' : 'Loading…'}</${Empty}>`}
  </section>`;
}
