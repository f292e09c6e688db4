// Small labels used everywhere: a status badge, a span kind tag, an agent chip.
import { html } from '../vendor/preact-htm.mjs';
import { agentColor } from '../lib/colors.js';

export const Status = ({ status }) => html`<span class="badge ${status}">${status || 'unknown'}</span>`;

export const Kind = ({ kind }) =>
  html`<span class="kind" style="background: var(--k-${kind || 'custom'})">${kind}</span>`;

export const Agent = ({ name }) =>
  name
    ? html`<span class="chip" style="border-color:${agentColor(name)}; color:${agentColor(name)}">${name}</span>`
    : html`<span class="faint">–</span>`;

export const Empty = ({ children }) => html`<div class="empty">${children}</div>`;

export const ErrorNotice = ({ error }) =>
  error ? html`<div class="notice error" role="alert">${String(error.message || error)}</div>` : null;
