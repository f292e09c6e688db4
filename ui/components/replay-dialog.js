// "Replay from here" on an LLM call the proxy recorded: a dialog with the recorded request to
// edit (or leave as it is), then the command line that re-runs the agent against the replay,
// and links to the fork session and to the comparison with the original.
import { html, useEffect, useState } from '../vendor/preact-htm.mjs';
import { replayApi, compareHref } from '../lib/replay-api.js';
import { href } from '../lib/router.js';
import { int } from '../lib/format.js';
import { ErrorNotice } from './badges.js';
import { CopyButton } from './json.js';

/** Whether the proxy recorded this span (only such calls can be replayed). */
export const replayable = (span) => span?.kind === 'llm' && !!span?.attributes?.['proxy.upstream'];

function Dialog({ sessionId, spanId, onClose }) {
  const [original, setOriginal] = useState(null);
  const [text, setText] = useState('');
  const [strict, setStrict] = useState(false);
  const [replay, setReplay] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    replayApi.exchange(sessionId, spanId).then((x) => {
      setOriginal(x.request);
      setText(JSON.stringify(x.request, null, 2));
    }, setError);
    const onKey = (e) => e.key === 'Escape' && (e.stopPropagation(), onClose());
    window.addEventListener('keydown', onKey, true);
    return () => window.removeEventListener('keydown', onKey, true);
  }, [sessionId, spanId]);

  const create = async () => {
    let request;
    try {
      request = JSON.parse(text);
    } catch (e) {
      setError(new Error(`The request is not valid JSON: ${e.message}`));
      return;
    }
    const edited = JSON.stringify(request) !== JSON.stringify(original);
    setBusy(true);
    try {
      const body = { session_id: sessionId, span_id: spanId, on_mismatch: strict ? 'fail' : 'upstream' };
      if (edited) body.request = request;
      setReplay(await replayApi.start(body));
      setError(null);
    } catch (e) {
      setError(e);
    }
    setBusy(false);
  };

  const command = replay?.env ? `${replay.env} python your_agent.py` : null;
  return html`
    <div class="modal-back" onClick=${(e) => e.target === e.currentTarget && onClose()}>
      <div class="modal" role="dialog" aria-modal="true" aria-label="Replay from here" data-test="replay-dialog">
        <header><h2>Replay from here</h2><span class="spacer"></span>
          <button class="icon" onClick=${onClose} aria-label="Close the replay dialog">✕</button></header>
        <${ErrorNotice} error=${error} />
        ${replay ? html`
          <p>${`Re-run the agent with this one change. Calls before this one are answered from the recording (${int(replay.recorded_calls)} of them, never sent upstream); this call goes upstream ${replay.request ? 'with your edit' : 'as recorded'}; every later call goes upstream. All are recorded into the fork.`}</p>
          ${command ? html`<div class="sec-head"><h3>Command line</h3><span class="spacer"></span><${CopyButton} value=${command} /></div>
            <pre class="code" data-test="replay-command">${command}</pre>` : null}
          <p class="faint">Or send <code>x-flightdeck-replay: ${replay.replay_id}</code> on calls through <code>/proxy/…</code>.</p>
          <div class="row">
            <a class="btn primary" data-test="replay-fork-link" href=${href({ page: 'session', session: replay.fork_session_id, view: 'graph' })}>Open the fork</a>
            <a class="btn" data-test="replay-compare-link" href=${compareHref(sessionId, replay.fork_session_id)}>Compare with original</a>
          </div>`
        : html`
          <p>The request as the proxy recorded it. Edit it to change this call, or leave it to run it again as it was.</p>
          <textarea class="replay-request" data-test="replay-request" spellcheck="false" value=${text}
            onInput=${(e) => setText(e.target.value)} disabled=${original == null}></textarea>
          <label class="check"><input type="checkbox" checked=${strict} onChange=${(e) => setStrict(e.target.checked)} />
            Refuse a call that does not match the recording (else it goes upstream, reported)</label>
          <div class="row">
            <button class="primary" data-test="replay-create" onClick=${create} disabled=${busy || original == null}>${busy ? 'Creating…' : 'Create replay'}</button>
            <button onClick=${onClose}>Cancel</button>
          </div>`}
      </div>
    </div>`;
}

/** The button of the detail panel, and its dialog. */
export function ReplayButton({ sessionId, span }) {
  const [open, setOpen] = useState(false);
  if (!replayable(span)) return null;
  return html`
    <button class="icon" data-test="replay-open" onClick=${() => setOpen(true)} title="Re-run the session from this call, answering earlier calls from the recording">Replay from here</button>
    ${open ? html`<${Dialog} sessionId=${sessionId} spanId=${span.span_id} onClose=${() => setOpen(false)} />` : null}`;
}
