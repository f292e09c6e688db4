// "What is happening now": a strip in a running session's header naming the work that runs
// at this moment, per agent (its innermost running spans: what it is on, for how long), and
// any review gate waiting on a person. Each item opens its span.
import { html } from '../vendor/preact-htm.mjs';
import { useNow } from '../lib/use-now.js';
import { ms } from '../lib/format.js';
import { startMs } from '../lib/session-model.js';
import { Agent } from '../components/badges.js';

const SHOWN = 6;

/** The running spans none of whose children runs (the work itself, not its callers), newest first. */
function innermostRunning(model) {
  const running = [...model.spans.values()].filter((s) => s.status === 'running');
  const busyParents = new Set(running.map((s) => s.parent_id));
  return running.filter((s) => !busyParents.has(s.span_id)).sort((a, b) => startMs(b) - startMs(a));
}

export function NowStrip({ model, select }) {
  const live = model.session?.status === 'running';
  const now = useNow(live);
  if (!live) return null;
  const work = innermostRunning(model);
  const waiting = work.filter((s) => s.kind === 'review');
  const doing = work.filter((s) => s.kind !== 'review');
  const item = (s, text) => html`<button class="now-item linkish" onClick=${() => select(s.span_id)} data-span=${s.span_id}>
    ${s.agent ? html`<${Agent} name=${s.agent} />` : null}${text} <span class="faint">${ms(now - startMs(s))}</span></button>`;
  return html`<div class="now-strip" data-test="now-strip" aria-live="off">
    <span class="now-label">Now</span>
    ${!work.length ? html`<span class="muted">nothing running at this moment</span>` : null}
    ${waiting.map((s) => item(s, html`<span class="badge waiting">waiting on a person</span> ${s.name}`))}
    ${doing.slice(0, SHOWN).map((s) => item(s, `${s.name}${s.model ? ` (${s.model})` : ''}`))}
    ${doing.length > SHOWN ? html`<span class="faint">and ${doing.length - SHOWN} more</span>` : null}
  </div>`;
}
