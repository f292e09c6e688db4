// On a fork session: what it replays (the original session and call), what the replay saved,
// the first call that did not match the recording with its diff, and a link to compare.
import { html, useEffect, useState } from '../vendor/preact-htm.mjs';
import { api } from '../lib/api.js';
import { replayApi, compareHref } from '../lib/replay-api.js';
import { href } from '../lib/router.js';
import { int, usd, ms } from '../lib/format.js';

function Diff({ text }) {
  return html`<pre class="review-diff">${text.split('\n').map((l) => html`<span class=${l.startsWith('+ ') ? 'add' : l.startsWith('- ') ? 'del' : ''}>${l}\n</span>`)}</pre>`;
}

export function ReplayBanner({ sessionId }) {
  const [replay, setReplay] = useState(null);
  useEffect(() => {
    let stop = false;
    let timer = 0;
    const read = async () => {
      try {
        const id = (await api.session(sessionId)).metadata?.replay?.replay_id;
        if (!id || stop) return;
        setReplay(await replayApi.replay(id));
        timer = setTimeout(read, 3000);
      } catch {
        /* not a fork, or not there yet */
      }
    };
    read();
    return () => { stop = true; clearTimeout(timer); };
  }, [sessionId]);
  if (!replay) return null;
  const s = replay.saved;
  const m = replay.mismatch;
  const agent = (a) => (a ? `agent ${a}` : 'the agent');
  return html`
    <div class="replay-banner" data-test="replay-banner">
      <div class="row">
        <span>Replay of <a href=${href({ page: 'session', session: replay.session_id, view: 'graph', query: { span: replay.span_id } })}>${replay.session_id}</a>${` from call ${replay.fork.call} of ${agent(replay.fork.agent)}`}</span>
        <span class="faint" data-test="replay-saved">${`answered from the recording: ${int(s.calls)} of ${int(replay.recorded_calls)} calls · ${int(s.input_tokens + s.output_tokens)} tokens · ${usd(s.cost_usd)} · ${ms(s.time_ms)} not spent · ${int(replay.upstream_calls)} sent upstream`}</span>
        <span class="spacer"></span>
        <a class="btn" data-test="compare-original" href=${compareHref(replay.session_id, replay.fork_session_id)}>Compare with original</a>
      </div>
      ${m ? html`<details class="replay-mismatch" data-test="replay-mismatch"><summary>Call ${m.call} of ${agent(m.agent)} did not match the recording
          (${m.outcome === 'fail' ? 'refused' : 'sent upstream'})</summary><${Diff} text=${m.diff} /></details>` : null}
    </div>`;
}
