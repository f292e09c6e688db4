// The playground's answers: the original and each variant as columns side by side, the
// text streaming in and then shown as a word diff against the original (deleted words
// struck, inserted ones marked), the tool calls diffed down to each argument, and each
// answer's tokens, first token, duration and cost; then the span's earlier runs.
import { html } from '../vendor/preact-htm.mjs';
import { int, usd, ms, dateTime } from '../lib/format.js';
import { Status } from '../components/badges.js';
import { Json } from '../components/json.js';

function WordDiff({ pieces }) {
  return html`<div class="pg-text" data-test="word-diff">${pieces.map((p) =>
    p.op === 'equal' ? p.text : p.op === 'insert' ? html`<ins>${p.text}</ins>` : html`<del>${p.text}</del>`)}</div>`;
}

function ToolCalls({ calls }) {
  if (!calls?.length) return null;
  return html`<div class="pg-tools">${calls.map((c) => html`<div class="pg-call"><span class="mono">${c.name}</span><${Json} value=${c.arguments} /></div>`)}</div>`;
}

const STATUS_TEXT = { same: 'same', changed: 'changed', added: 'new call', removed: 'call dropped' };

function ToolCallDiff({ diffs }) {
  if (!diffs?.length) return null;
  return html`<div class="pg-tools" data-test="tool-diff">${diffs.map((d) => html`<div class="pg-call ${d.status}">
    <div class="row"><span class="mono">${d.new?.name ?? d.old?.name}</span><span class="chip">${STATUS_TEXT[d.status]}</span>
      ${d.old && d.new && d.old.name !== d.new.name ? html`<span class="faint">was ${d.old.name}</span>` : null}</div>
    ${d.arguments?.length ? html`<table class="pg-args"><tbody>${d.arguments.map((a) => html`<tr>
      <td class="mono">${a.key || '(arguments)'}</td>
      <td><del>${a.old === undefined || a.old === null ? '–' : JSON.stringify(a.old)}</del></td>
      <td><ins>${a.new === undefined || a.new === null ? '–' : JSON.stringify(a.new)}</ins></td></tr>`)}</tbody></table>`
    : html`<${Json} value=${(d.new ?? d.old).arguments} />`}
  </div>`)}</div>`;
}

function Figures({ call, firstToken }) {
  const u = call.usage;
  return html`<dl class="kv pg-figures">
    <dt>Tokens</dt><dd>${u ? `${int(u.input_tokens)} in · ${int(u.output_tokens)} out` : '–'}</dd>
    ${firstToken !== undefined ? html`<dt>First token</dt><dd>${ms(firstToken)}</dd>` : null}
    <dt>Duration</dt><dd>${ms(call.duration_ms)}</dd>
    <dt>Cost</dt><dd>${call.cost_usd != null ? usd(call.cost_usd) : 'unknown'}</dd>
  </dl>`;
}

/** One column: `col` is {title, model, text (streamed so far), run (when done), error}. */
function Column({ col, original }) {
  const run = col.run;
  return html`<div class="pg-col panel" data-test="pg-column">
    <header><strong>${col.title}</strong><span class="faint mono">${run?.model || col.model || ''}</span><span class="spacer"></span>
      ${run ? html`<${Status} status=${run.status} />` : col.error ? html`<${Status} status="error" />` : html`<span class="badge running">running</span>`}
      ${run?.diff ? html`<span class="chip" data-test="same">${run.diff.same ? 'same answer' : 'differs'}</span>` : null}</header>
    <div class="body">
      ${col.error ? html`<div class="error-box">${col.error}</div>` : null}
      ${run?.error ? html`<div class="error-box" data-test="run-error">${run.error}</div>` : null}
      ${run ? html`
        ${run.diff && original ? html`<${WordDiff} pieces=${run.diff.text} />` : html`<div class="pg-text">${run.answer.text}</div>`}
        ${run.diff && original ? html`<${ToolCallDiff} diffs=${run.diff.tool_calls} />` : html`<${ToolCalls} calls=${run.answer.tool_calls} />`}
        <${Figures} call=${run} firstToken=${run.first_token_ms} />`
      : html`<div class="pg-text" data-test="streaming">${col.text}</div>`}
    </div>
  </div>`;
}

function OriginalColumn({ original }) {
  return html`<div class="pg-col panel original" data-test="pg-original">
    <header><strong>Original</strong><span class="faint mono">${original.model || ''}</span><span class="spacer"></span><${Status} status=${original.status} /></header>
    <div class="body">
      ${original.error ? html`<div class="error-box">${original.error}</div>` : null}
      <div class="pg-text">${original.answer.text}</div>
      <${ToolCalls} calls=${original.answer.tool_calls} />
      <${Figures} call=${original} />
    </div>
  </div>`;
}

/** The original and the variants' columns. */
export function Results({ original, columns }) {
  if (!original && !columns.length) return null;
  return html`<div class="pg-columns" style=${`grid-template-columns: repeat(${(original ? 1 : 0) + columns.length}, minmax(280px, 1fr))`}>
    ${original ? html`<${OriginalColumn} original=${original} />` : null}
    ${columns.map((c) => html`<${Column} col=${c} original=${original} />`)}
  </div>`;
}

/** The span's earlier runs; `onShow(run)` puts one in the columns. */
export function History({ runs, onShow }) {
  if (!runs?.length) return html`<div class="faint">No runs of this span yet.</div>`;
  return html`<table class="table" data-test="pg-history"><thead><tr><th>When</th><th>Variant</th><th>Model</th><th>Status</th><th>Answer</th><th>Tokens</th><th>Duration</th><th>Cost</th><th></th></tr></thead>
    <tbody>${[...runs].reverse().map((r) => html`<tr>
      <td>${dateTime(r.started_at)}</td><td>${r.label || `#${r.variant + 1}`}</td><td class="mono">${r.model || ''}</td>
      <td><${Status} status=${r.status} /></td><td>${r.diff ? (r.diff.same ? 'same' : 'differs') : ''}</td>
      <td>${r.usage ? int(r.usage.input_tokens + r.usage.output_tokens) : '–'}</td><td>${ms(r.duration_ms)}</td>
      <td>${r.cost_usd != null ? usd(r.cost_usd) : 'unknown'}</td>
      <td><button class="linkish" onClick=${() => onShow(r)}>show</button></td></tr>`)}</tbody></table>`;
}
