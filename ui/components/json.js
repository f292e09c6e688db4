// Readable payloads: JSON pretty printed with colours, long text wrapped, a copy button.
import { html, useState } from '../vendor/preact-htm.mjs';

/** Tokens of pretty-printed JSON, coloured by type; strings keep their escapes. */
function highlight(value) {
  const text = JSON.stringify(value, null, 2) ?? 'null';
  const out = [];
  const re = /("(?:\\.|[^"\\])*")(\s*:)?|\b(true|false|null)\b|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/g;
  let last = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m.index > last) out.push(text.slice(last, m.index));
    if (m[1]) {
      out.push(html`<span class=${m[2] ? 'j-key' : 'j-str'}>${m[1]}</span>`);
      if (m[2]) out.push(m[2]);
    } else if (m[3]) out.push(html`<span class="j-lit">${m[3]}</span>`);
    else out.push(html`<span class="j-num">${m[4]}</span>`);
    last = re.lastIndex;
  }
  out.push(text.slice(last));
  return out;
}

export const Json = ({ value }) => html`<pre class="code">${highlight(value)}</pre>`;

/** A string that holds JSON is shown as JSON; other text wrapped as it is. */
export function Payload({ value }) {
  if (typeof value === 'string') {
    const t = value.trim();
    if ((t.startsWith('{') || t.startsWith('[')) && t.length < 2_000_000) {
      try {
        return html`<${Json} value=${JSON.parse(t)} />`;
      } catch {
        /* not JSON: shown as text */
      }
    }
    return html`<div class="text-block">${value}</div>`;
  }
  return html`<${Json} value=${value} />`;
}

export function CopyButton({ value, label = 'Copy' }) {
  const [done, setDone] = useState(false);
  const copy = async () => {
    const text = typeof value === 'string' ? value : JSON.stringify(value, null, 2);
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      // Without clipboard permission (plain http on another host): select-and-copy fallback.
      const ta = Object.assign(document.createElement('textarea'), { value: text });
      document.body.append(ta);
      ta.select();
      document.execCommand('copy');
      ta.remove();
    }
    setDone(true);
    setTimeout(() => setDone(false), 1200);
  };
  return html`<button class="icon" onClick=${copy} title="Copy to the clipboard">${done ? 'Copied' : label}</button>`;
}
