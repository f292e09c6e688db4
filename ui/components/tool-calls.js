// Tool calls as people read them: the tool's name and its arguments as a table, whatever
// shape the LLM API sent them in (OpenAI's [{function: {name, arguments: "<JSON text>"}}],
// [{name, arguments}], Anthropic's content parts {type: "tool_use", name, input}).
import { html } from '../vendor/preact-htm.mjs';

/** One call {name, args} of any of those shapes, or null. */
function call(c) {
  const f = c?.function || c;
  if (typeof f?.name !== 'string') return null;
  let args = f.arguments ?? f.input ?? f.args;
  if (typeof args === 'string') {
    try { args = JSON.parse(args); } catch { /* shown as text */ }
  }
  return { name: f.name, args, id: c.id };
}

/** The tool calls in `value` (a list of calls, or a message with `tool_calls`), or null. */
export function toolCalls(value) {
  const list = Array.isArray(value) ? value : value?.tool_calls;
  if (!Array.isArray(list) || !list.length) return null;
  const calls = list.map(call);
  return calls.every(Boolean) ? calls : null;
}

/** The tool_use parts of a content list (Anthropic's format), or null. */
export function toolUses(content) {
  if (!Array.isArray(content)) return null;
  const uses = content.filter((p) => p?.type === 'tool_use').map(call);
  return uses.length ? uses : null;
}

/** An arguments object as a table: one row per argument, strings as they are. */
export function ArgTable({ args }) {
  return html`<table class="review-args" data-test="tool-args"><tbody>${args && typeof args === 'object'
    ? Object.entries(args).map(([k, v]) => html`<tr><th>${k}</th><td><pre>${typeof v === 'string' ? v : JSON.stringify(v, null, 2)}</pre></td></tr>`)
    : html`<tr><td><pre>${String(args ?? '')}</pre></td></tr>`}</tbody></table>`;
}

export function ToolCalls({ calls }) {
  return html`<div class="review-calls">${calls.map((c) => html`
    <div class="review-call"><div class="review-call-name" data-test="tool-call-name">${c.name}</div><${ArgTable} args=${c.args} /></div>`)}</div>`;
}
