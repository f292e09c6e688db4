// The review panel over any page: the soonest pending review with its task and output
// (text wraps, JSON pretty-printed, tool calls as name + argument table), Approve / Edit /
// Exit early, a countdown bar worded by the review's action, and a "+N pending" badge.
// Keys: A approve, E edit, X exit early; in the editor Ctrl+Enter sends, Escape cancels.
import { html, useEffect, useRef, useState } from '../vendor/preact-htm.mjs';
import { usePendingReviews, decide, countdownText } from '../lib/reviews.js';
import { href } from '../lib/router.js';
import { SessionName } from '../lib/session-names.js';
import { toolCalls, ToolCalls } from './tool-calls.js';

function Output({ output }) {
  const calls = toolCalls(output);
  if (calls) return html`<${ToolCalls} calls=${calls} />`;
  const text = typeof output === 'string' ? output : JSON.stringify(output, null, 2);
  return html`<pre class="review-output ${typeof output === 'string' ? 'text' : 'json'}">${text}</pre>`;
}

/** The text an editor starts from: a string as it is, anything else as pretty JSON. */
const editable = (output) => (typeof output === 'string' ? output : JSON.stringify(output, null, 2));

function Countdown({ review }) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 250);
    return () => clearInterval(t);
  }, []);
  const total = review.timeout_ms || 1;
  const left = Math.max(0, Date.parse(review.deadline) - now);
  return html`<div class="review-countdown" data-action=${review.on_timeout}>
    <div class="review-bar"><div style=${`width:${(100 * left) / total}%`}></div></div>
    <span class="review-clock">${countdownText(review, now)}</span></div>`;
}

export function ReviewPanel() {
  const pending = usePendingReviews();
  const review = pending[0];
  const [editing, setEditing] = useState(null);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const id = review?.review_id;
  useEffect(() => { setEditing(null); setError(''); }, [id]);

  // The review whose decision is on its way: a second key or click for it sends nothing.
  const deciding = useRef(null);
  const send = async (body) => {
    if (deciding.current === id) return;
    deciding.current = id;
    setBusy(true);
    setError('');
    try {
      await decide(id, body);
    } catch (e) {
      setError(e.message);
    } finally {
      deciding.current = null;
      setBusy(false);
    }
  };
  const submitEdit = () => {
    let output = editing;
    if (typeof review.output !== 'string') {
      try {
        output = JSON.parse(editing);
      } catch (e) {
        setError(`The edit is not valid JSON: ${e.message}`);
        return;
      }
    }
    send({ decision: 'edit', output });
  };

  // The keys act on what this render shows: the listener reads it from a ref set while
  // rendering, not from an effect that runs a frame later (a key pressed in between would
  // decide the review just settled a second time).
  const shown = useRef(null);
  shown.current = { review, editing, send, submitEdit };
  useEffect(() => {
    const onKey = (ev) => {
      const { review, editing, send, submitEdit } = shown.current;
      if (!review) return;
      if (editing !== null) {
        if (ev.key === 'Escape') setEditing(null);
        else if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) submitEdit();
        return;
      }
      if (ev.target.closest?.('input, textarea, select') || ev.ctrlKey || ev.metaKey || ev.altKey) return;
      const key = ev.key.toLowerCase();
      if (key === 'a') send({ decision: 'continue' });
      else if (key === 'e') setEditing(editable(review.output));
      else if (key === 'x') send({ decision: 'exit_early' });
      else return;
      ev.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  if (!review) return null;
  const [approve, edit, exit] = [0, 1, 2].map((i) => review.choices?.[i]);
  return html`<aside class="review-panel" role="dialog" aria-label="Review required" data-review=${id}>
    <header><strong>${review.title || 'Review required'}</strong>
      ${pending.length > 1 ? html`<span class="review-more" title="More reviews wait after this one">+${pending.length - 1} pending</span>` : null}
      <span class="spacer"></span>
      <a href=${href({ page: 'session', session: review.session_id, view: 'timeline', query: { span: review.review_span_id } })} title=${review.session_id}><${SessionName} id=${review.session_id} /></a>
      ${review.agent ? html`<span class="faint"> · ${review.agent}</span>` : null}
    </header>
    ${review.task ? html`<div class="review-task"><span class="faint">Task</span> ${review.task}</div>` : null}
    ${review.prompt ? html`<div class="review-prompt">${review.prompt}</div>` : null}
    <div class="review-body">${editing === null
      ? html`<${Output} output=${review.output} />`
      : html`<textarea class="review-editor" aria-label="Revised output" value=${editing} onInput=${(e) => setEditing(e.target.value)} autofocus></textarea>`}</div>
    ${error ? html`<div class="notice error" role="alert">${error}</div>` : null}
    <div class="review-actions">${editing === null
      ? html`<button class="primary" disabled=${busy} onClick=${() => send({ decision: 'continue' })} title="A">${approve || 'Approve'}</button>
        <button disabled=${busy} onClick=${() => setEditing(editable(review.output))} title="E">${edit || 'Edit'}</button>
        <button class="danger" disabled=${busy} onClick=${() => send({ decision: 'exit_early' })} title="X">${exit || 'Exit early'}</button>`
      : html`<button class="primary" disabled=${busy} onClick=${submitEdit} title="Ctrl+Enter">Submit edit</button>
        <button onClick=${() => setEditing(null)} title="Escape">Cancel</button>`}
      <span class="spacer"></span><${Countdown} review=${review} /></div>
  </aside>`;
}
