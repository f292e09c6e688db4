// The detail panel of one span: what it is, timing, usage and cost, error, its parent and
// children (links), its input (a message list rendered as a conversation; a tool's
// arguments as a table; tool calls as name + argument table), output, parameters, scores,
// its own events and attributes. The full span is read from the API; while the span runs it
// is read again as it changes, its duration ticks and its output streams in. The panel is
// resizable by its left edge (the width is kept).
import { html, useEffect, useRef, useState } from '../vendor/preact-htm.mjs';
import { api } from '../lib/api.js';
import { int, usd, ms, timeMs, dateTime, elapsed } from '../lib/format.js';
import { costUnknown } from '../lib/stats.js';
import { useNow } from '../lib/use-now.js';
import { Status, Kind, Agent, ErrorNotice } from '../components/badges.js';
import { Payload, Json, CopyButton } from '../components/json.js';
import { toolCalls, toolUses, ToolCalls, ArgTable } from '../components/tool-calls.js';
import { SpanLinks, SpanEvents, PlaygroundRuns, useResizable } from './detail-parts.js';
import { ReplayButton } from '../components/replay-dialog.js';
import { href } from '../lib/router.js';

/** An output that is one message ({role?, content: "..."}) reads as one. */
const asMessages = (v) => (v && !Array.isArray(v) && typeof v === 'object' && typeof v.content === 'string' ? [{ role: 'assistant', ...v }] : v);

const isConversation = (v) => Array.isArray(v) && v.length > 0 && v.every((m) => m && typeof m === 'object' && 'role' in m);

function content(c) {
  if (typeof c === 'string') return c;
  // Content parts ({type: "text", text}) as the OpenAI and Anthropic formats send them; the
  // tool_use parts beside them are shown as tool calls.
  if (Array.isArray(c) && c.every((p) => p?.type === 'text' || p?.type === 'tool_use')) {
    const text = c.filter((p) => p.type === 'text').map((p) => p.text).join('\n');
    return text || null;
  }
  return null;
}

function Conversation({ messages }) {
  return html`<div class="conv">
    ${messages.map((m) => {
      const text = content(m.content);
      const uses = toolUses(m.content);
      return html`<div class="msg ${m.role}">
        <div class="role">${m.role}${m.name ? ` · ${m.name}` : ''}</div>
        ${text != null ? html`<div class="content">${text}</div>` : uses ? null : html`<${Json} value=${m.content ?? m} />`}
        ${uses ? html`<${ToolCalls} calls=${uses} />` : null}
        ${m.tool_calls ? (toolCalls(m.tool_calls) ? html`<${ToolCalls} calls=${toolCalls(m.tool_calls)} />` : html`<${Json} value=${m.tool_calls} />`) : null}
        ${m.finish_reason ? html`<div class="faint" style="font-size:12px">finish: ${m.finish_reason}</div>` : null}
      </div>`;
    })}
  </div>`;
}

function Section({ title, value, children }) {
  return html`<section>
    <div class="sec-head"><h3>${title}</h3><span class="spacer"></span>${value !== undefined ? html`<${CopyButton} value=${value} />` : null}</div>
    ${children}
  </section>`;
}

/** " · answered by gpt-4o-2024-08-06" when the model that answered is not the one asked for. */
function answeredBy(span, requested) {
  const answered = span?.attributes?.['gen_ai.response.model'];
  return answered && answered !== requested ? html` <span class="faint">· answered by ${answered}</span>` : null;
}

/** A tool's input that is one object of named values: its arguments. */
const isArgs = (s, v) => s.kind === 'tool' && v && typeof v === 'object' && !Array.isArray(v);

const inputTitle = (s, v) => (isConversation(v) ? 'Input messages' : isArgs(s, v) ? 'Arguments' : 'Input');

function Input({ span, value }) {
  if (isConversation(value)) return html`<${Conversation} messages=${value} />`;
  if (isArgs(span, value)) return html`<${ArgTable} args=${value} />`;
  return html`<${Payload} value=${value} />`;
}

const present = (v) => v != null && !(typeof v === 'object' && Object.keys(v).length === 0);

export function Detail({ model, version, sessionId, spanId, onClose, select }) {
  const [span, setSpan] = useState(null);
  const [error, setError] = useState(null);
  const summary = model.spans.get(spanId);
  // Re-read while the summary changes (a running span streams output, then ends), at most
  // five times a second.
  const stamp = summary ? `${summary.status}|${summary.ended_at}|${summary.usage?.output_tokens}|${summary.chunks}` : '';
  const last = useRef(0);
  useEffect(() => {
    const read = () => {
      last.current = Date.now();
      api.span(sessionId, spanId).then((s) => { setSpan(s); setError(null); }, setError);
    };
    const t = setTimeout(read, Math.max(0, last.current + 200 - Date.now()));
    return () => clearTimeout(t);
  }, [spanId, stamp]);
  useEffect(() => {
    const onKey = (e) => e.key === 'Escape' && onClose();
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
  const s = span || summary;
  const running = s?.status === 'running';
  const now = useNow(running);
  const [width, onResize] = useResizable();
  return html`
    <div class="detail-resize" onPointerDown=${onResize} role="separator" aria-orientation="vertical" aria-label="Resize the detail panel" title="Drag to resize"></div>
    <aside class="detail" aria-label="Span detail" data-test="detail" style=${width ? `width:${width}px` : undefined}>
      <header>
        <div style="flex:1; min-width:0">
          <div class="row" style="margin-bottom:4px">${s ? html`<${Kind} kind=${s.kind} /> <${Status} status=${s.status} /> <${Agent} name=${s.agent} />` : null}</div>
          <h2>${s?.name || spanId}</h2>
          <div class="faint mono" style="font-size:11px">${spanId}</div>
        </div>
        ${/* Span actions ("Open in playground", "Replay from here"; design section 4), beside Close. */ null}
        <${ReplayButton} sessionId=${sessionId} span=${span} />
        ${s?.kind === 'llm' ? html`<a class="btn pg-open" data-test="open-playground" href=${href({ page: 'playground', query: { session: sessionId, span: spanId } })}
          title="Run this call again, edited, and compare the answers">Open in playground</a>` : null}
        <button class="icon" onClick=${onClose} aria-label="Close the detail panel" title="Close (Esc)">✕</button>
      </header>
      <${ErrorNotice} error=${error} />
      ${s ? html`
        ${s.error ? html`<${Section} title="Error" value=${s.error}><div class="error-box">${s.error}</div><//>` : null}
        <${Section} title="Summary">
          <dl class="kv">
            ${s.model ? html`<dt>Model</dt><dd data-test="span-model">${s.model}${s.provider ? html` <span class="faint">(${s.provider})</span>` : null}${answeredBy(span, s.model)}</dd>` : null}
            <dt>Started</dt><dd>${dateTime(s.started_at)} <span class="faint">${timeMs(s.started_at).slice(-4)}</span></dd>
            <dt>Ended</dt><dd>${s.ended_at ? dateTime(s.ended_at) : html`<span class="badge running">running</span>`}</dd>
            <dt>Duration</dt><dd data-test="span-duration">${ms(running && s.started_at ? elapsed(s.started_at, null, now) : s.duration_ms)}${running ? html` <span class="faint">so far</span>` : null}</dd>
            ${s.usage ? html`<dt>Tokens</dt><dd>${int(s.usage.input_tokens)} in · ${int(s.usage.output_tokens)} out</dd>` : null}
            ${s.cost_usd != null ? html`<dt>Cost</dt><dd>${usd(s.cost_usd)}</dd>` : costUnknown(s) ? html`<dt>Cost</dt><dd title="no price for this model">unknown</dd>` : null}
            ${s.trace_id ? html`<dt>Trace</dt><dd class="mono" data-test="trace-id">${s.trace_id}</dd>` : null}
          </dl>
          <${SpanLinks} model=${model} span=${s} select=${select} />
        <//>
        ${present(span?.input) ? html`<${Section} title=${inputTitle(s, span.input)} value=${span.input}><${Input} span=${s} value=${span.input} /><//>` : null}
        ${present(span?.output) ? html`<${Section} title=${s.status === 'running' ? 'Output (streaming)' : 'Output'} value=${span.output}>
            ${toolCalls(span.output) ? html`<${ToolCalls} calls=${toolCalls(span.output)} />`
              : isConversation(asMessages(span.output)) ? html`<${Conversation} messages=${asMessages(span.output)} />` : html`<${Payload} value=${span.output} />`}<//>` : null}
        ${present(span?.params) ? html`<${Section} title="Parameters" value=${span.params}><${Json} value=${span.params} /><//>` : null}
        ${present(s.scores) ? html`<${Section} title="Scores" value=${s.scores}>
            <dl class="kv">${Object.entries(s.scores).map(([k, v]) => html`<dt>${k}</dt><dd>${typeof v === 'number' ? v.toFixed(3) : String(v)}</dd>`)}</dl><//>` : null}
        <${SpanEvents} model=${model} spanId=${spanId} version=${version} />
        ${s.kind === 'llm' ? html`<${PlaygroundRuns} sessionId=${sessionId} spanId=${spanId} />` : null}
        ${present(span?.attributes) ? html`<${Section} title="Attributes" value=${span.attributes}><${Json} value=${span.attributes} /><//>` : null}
      ` : html`<div class="empty">loading…</div>`}
    </aside>`;
}
