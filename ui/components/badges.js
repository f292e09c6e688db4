// Small labels used everywhere: a status badge, a span kind tag, an agent chip.
import { html } from '../vendor/preact-htm.mjs';
import { agentColor } from '../lib/colors.js';

export const Status = ({ status }) => html`<span class="badge ${status}">${status || 'unknown'}</span>`;

/**
 * A session's status: "completed · 3 errors" (amber) when it completed although some of its
 * spans failed, apart from a session that failed (red).
 */
export const SessionStatus = ({ s }) => (s.status === 'completed' && s.totals?.errors
  ? html`<span class="badge with-errors" title="The session completed; ${s.totals.errors} of its spans failed">completed · ${s.totals.errors} error${s.totals.errors === 1 ? '' : 's'}</span>`
  : html`<${Status} status=${s.status} />`);

export const Kind = ({ kind }) =>
  html`<span class="kind" style="background: var(--k-${kind || 'custom'})">${kind}</span>`;

export const Agent = ({ name }) =>
  name
    ? html`<span class="chip" style="border-color:${agentColor(name)}; color:${agentColor(name)}">${name}</span>`
    : html`<span class="faint">–</span>`;

export const Empty = ({ children }) => html`<div class="empty">${children}</div>`;

export const ErrorNotice = ({ error }) =>
  error ? html`<div class="notice error" role="alert">${String(error.message || error)}</div>` : null;
