// A headline figure: label, value and an optional line under it.
import { html } from '../vendor/preact-htm.mjs';

export const Stat = ({ label, value, sub }) => html`
  <div class="stat">
    <div class="label">${label}</div>
    <div class="value">${value}</div>
    ${sub ? html`<div class="sub">${sub}</div>` : null}
  </div>`;
