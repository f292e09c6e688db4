// The Playground page (#/playground?session=&span=): the request an LLM span recorded,
// prefilled and editable (messages by role, model and parameters, tools and tool choice as
// JSON, anything else as JSON), an upstream of the proxy and an optional key for this run
// (never kept: not in storage, not in the URL), variants as columns, Run; the answers stream
// in beside the original with the diffs (`playground-results.js`), and the span's runs.
import { html, useEffect, useRef, useState } from '../vendor/preact-htm.mjs';
import { playgroundApi, toForm, fromForm, blankForm, PARAMS, ROLES } from '../lib/playground.js';
import { href } from '../lib/router.js';
import { ErrorNotice } from '../components/badges.js';
import { Results, History } from './playground-results.js';

/** "3 defined", "none", or "not valid JSON" for the tools field. */
function toolCount(text) {
  if (!text.trim()) return 'none';
  try {
    const tools = JSON.parse(text);
    return Array.isArray(tools) ? `${tools.length} defined` : 'not an array';
  } catch {
    return 'not valid JSON';
  }
}

const KIND = { chat_completions: 'openai', responses: 'openai', messages: 'anthropic' };
const API_NAME = { chat_completions: 'OpenAI chat completions', responses: 'OpenAI Responses', messages: 'Anthropic messages' };

function MessageEditor({ m, i, onChange, onRemove }) {
  const set = (k) => (e) => onChange({ ...m, [k]: e.target.value });
  const images = m.json ? imagesIn(m.content) : [];
  return html`<div class="msg ${m.role} pg-msg" data-test="pg-message">
    <div class="row">
      ${m.role === 'item' ? html`<span class="role">item</span>` : html`<select aria-label="Role of message ${i + 1}" value=${m.role} onChange=${set('role')}>
        ${ROLES.map((r) => html`<option value=${r}>${r}</option>`)}</select>`}
      ${m.json ? html`<span class="faint">content as JSON (parts, images, tool results as recorded)</span>` : null}
      <span class="spacer"></span><button class="icon" onClick=${onRemove} aria-label="Remove message ${i + 1}" title="Remove">✕</button>
    </div>
    <textarea class=${m.json ? 'mono' : ''} rows=${Math.min(12, Math.max(2, m.content.split('\n').length + 1))} aria-label="Message ${i + 1} content" value=${m.content} onInput=${set('content')}></textarea>
    ${images.map((src) => html`<img class="pg-img" src=${src} alt="image in message ${i + 1}" />`)}
    ${m.extra ? html`<textarea class="mono" rows=${Math.min(10, m.extra.split('\n').length + 1)} aria-label="Message ${i + 1} fields" value=${m.extra} onInput=${set('extra')}></textarea>` : null}
  </div>`;
}

/** Image URLs in content parts (OpenAI `image_url`, Anthropic base64 `source`). */
function imagesIn(text) {
  let parts;
  try {
    parts = JSON.parse(text);
  } catch {
    return [];
  }
  if (!Array.isArray(parts)) return [];
  return parts.map((p) => {
    if (p?.type === 'image_url') return typeof p.image_url === 'string' ? p.image_url : p.image_url?.url;
    if (p?.type === 'image' && p.source?.type === 'base64') return `data:${p.source.media_type};base64,${p.source.data}`;
    if (p?.type === 'input_image') return p.image_url;
    return null;
  }).filter((u) => typeof u === 'string' && /^(https?:|data:image\/)/.test(u));
}

function NoUpstream({ api }) {
  const kind = KIND[api];
  return html`<div class="notice" data-test="no-upstream">
    No upstream of the proxy speaks ${API_NAME[api]}. Add one to <span class="mono">flightdeck.toml</span> and restart:
    <pre class="code">[proxy.upstreams.${kind}]\nkind = "${kind}"\nbase_url = "${kind === 'openai' ? 'https://api.openai.com' : 'https://api.anthropic.com'}"\napi_key_env = "${kind === 'openai' ? 'OPENAI_API_KEY' : 'ANTHROPIC_API_KEY'}"</pre>
    Or paste a key below for a built-in upstream. See docs/playground.md.</div>`;
}

export function Playground({ query }) {
  const { session, span } = query;
  const [upstreams, setUpstreams] = useState(null);
  const [prefill, setPrefill] = useState(null);
  const [form, setForm] = useState(null);
  const [upstream, setUpstream] = useState('');
  const [key, setKey] = useState('');
  const [variants, setVariants] = useState([{ model: '', temperature: '', label: '' }]);
  const [columns, setColumns] = useState([]);
  const [history, setHistory] = useState(null);
  const [error, setError] = useState(null);
  const [problems, setProblems] = useState([]);
  const [running, setRunning] = useState(false);
  const results = useRef(null);

  useEffect(() => {
    playgroundApi.upstreams().then((u) => setUpstreams(u.upstreams), setError);
    if (!session || !span) {
      setForm(blankForm());
      return;
    }
    playgroundApi.request(session, span).then((p) => {
      setPrefill(p);
      setForm(toForm(p.api, p.body));
      setUpstream(p.upstream || '');
    }, setError);
    playgroundApi.runs(session, span).then((r) => setHistory(r.runs), () => setHistory([]));
  }, [session, span]);

  if (!form) return html`<div class="page"><${ErrorNotice} error=${error} />${error ? null : html`<div class="empty">loading…</div>`}</div>`;
  const fitting = (upstreams || []).filter((u) => u.kind === KIND[form.api]);
  const chosen = fitting.find((u) => u.name === upstream);
  const edit = (patch) => setForm({ ...form, ...patch });
  const setMessage = (i, m) => edit({ messages: form.messages.map((x, j) => (j === i ? m : x)) });

  const run = async () => {
    const { body, errors } = fromForm(form);
    variants.forEach((v, i) => {
      if (v.temperature.trim() !== '' && !Number.isFinite(Number(v.temperature))) errors.push(`variant ${i + 1} temperature: not a number`);
    });
    setProblems(errors);
    if (errors.length) return;
    setError(null);
    setRunning(true);
    const cols = variants.map((v, i) => ({ title: v.label || `Variant ${i + 1}`, model: v.model || body.model, text: '', run: null, error: null }));
    setColumns(cols);
    requestAnimationFrame(() => results.current?.scrollIntoView({ behavior: 'smooth', block: 'start' }));
    const update = (i, patch) => {
      cols[i] = { ...cols[i], ...patch };
      setColumns([...cols]);
    };
    const request = {
      session_id: session, span_id: span, upstream: upstream || undefined, api: form.api, body, key: key || undefined,
      variants: variants.map((v) => ({
        model: v.model.trim() || undefined,
        temperature: v.temperature.trim() === '' ? undefined : Number(v.temperature),
        label: v.label.trim() || undefined,
      })),
    };
    try {
      await playgroundApi.run(request, (name, data) => {
        if (name === 'delta') update(data.variant, { text: cols[data.variant].text + data.text });
        else if (name === 'run') update(data.variant, { run: data });
        else if (name === 'error') update(data.variant, { error: data.message });
      });
      if (session && span) playgroundApi.runs(session, span).then((r) => setHistory(r.runs));
    } catch (e) {
      setError(e);
      setColumns([]);
    } finally {
      setRunning(false);
    }
  };

  const setVariant = (i, k) => (e) => setVariants(variants.map((v, j) => (j === i ? { ...v, [k]: e.target.value } : v)));
  const original = prefill?.original;
  return html`<div class="page playground" data-test="playground">
    <div class="row pg-title">
      <h2>Playground</h2>
      ${session && span ? html`<span class="chip">${API_NAME[form.api]}</span>` : html`<select aria-label="API" data-test="pg-api" value=${form.api} onChange=${(e) => edit({ api: e.target.value })}>
        ${Object.entries(API_NAME).map(([api, name]) => html`<option value=${api}>${name}</option>`)}</select>`}
      ${session && span ? html`<span class="faint">from <a href=${href({ page: 'session', session, view: 'llm', query: { span } })}>${original?.name || 'span'} · ${session}</a></span>` : html`<span class="faint">a request of your own</span>`}
    </div>
    <${ErrorNotice} error=${error} />
    ${problems.length ? html`<div class="notice error" role="alert" data-test="pg-problems">${problems.map((p) => html`<div>${p}</div>`)}</div>` : null}
    <div class="pg-editor">
      <section class="panel">
        <header><h3>Messages</h3><span class="spacer"></span>
          <button onClick=${() => edit({ messages: [...form.messages, { role: 'user', content: '', json: false, extra: '' }] })}>+ Message</button></header>
        <div class="body conv">
          ${form.messages.map((m, i) => html`<${MessageEditor} key=${i} m=${m} i=${i} onChange=${(x) => setMessage(i, x)} onRemove=${() => edit({ messages: form.messages.filter((_, j) => j !== i) })} />`)}
        </div>
      </section>
      <div class="stack">
        <section class="panel">
          <header><h3>Run</h3></header>
          <div class="body stack">
            ${upstreams && !fitting.length ? html`<${NoUpstream} api=${form.api} />` : null}
            <div class="toolbar">
              <label class="field">Upstream
                <select data-test="pg-upstream" value=${upstream} onChange=${(e) => setUpstream(e.target.value)}>
                  <option value="">(the span's, or the first that fits)</option>
                  ${fitting.map((u) => html`<option value=${u.name}>${u.name} · ${u.base_url}</option>`)}
                </select></label>
              <label class="field">Key for this run (never stored)
                <input type="password" autocomplete="off" data-test="pg-key" placeholder=${chosen?.key_configured ? 'configured on the server' : 'sk-…'} value=${key} onInput=${(e) => setKey(e.target.value)} /></label>
            </div>
            ${chosen && !chosen.key_configured && !key ? html`<div class="faint">No key is configured for ${chosen.name}: paste one, or set <span class="mono">api_key_env</span> in its config.</div>` : null}
            <div class="pg-variants">
              ${variants.map((v, i) => html`<div class="row" data-test="pg-variant">
                <strong>${i + 1}</strong>
                <input aria-label="Variant ${i + 1} label" placeholder="label" value=${v.label} onInput=${setVariant(i, 'label')} />
                <input aria-label="Variant ${i + 1} model" placeholder=${`model (${form.model || 'as above'})`} value=${v.model} onInput=${setVariant(i, 'model')} />
                <input aria-label="Variant ${i + 1} temperature" placeholder="temperature" size="8" value=${v.temperature} onInput=${setVariant(i, 'temperature')} />
                ${variants.length > 1 ? html`<button class="icon" aria-label="Remove variant ${i + 1}" onClick=${() => setVariants(variants.filter((_, j) => j !== i))}>✕</button>` : null}
              </div>`)}
            </div>
            <div class="row">
              <button onClick=${() => setVariants([...variants, { model: '', temperature: '', label: '' }])} disabled=${variants.length >= 8}>+ Variant</button>
              <span class="spacer"></span>
              <button class="primary" data-test="pg-run" onClick=${run} disabled=${running}>${running ? 'Running…' : 'Run'}</button>
            </div>
          </div>
        </section>
        <section class="panel">
          <header><h3>Parameters</h3></header>
          <div class="body pg-params">
            <label class="field">model<input data-test="pg-model" value=${form.model} onInput=${(e) => edit({ model: e.target.value })} /></label>
            ${PARAMS[form.api].map((k) => html`<label class="field">${k}<input class="mono" value=${form.params[k] ?? ''} onInput=${(e) => edit({ params: { ...form.params, [k]: e.target.value } })} /></label>`)}
          </div>
        </section>
        <details class="section" open=${!!form.tools.trim() || !!form.toolChoice.trim()} data-test="pg-tools-section">
          <summary>Tools <span class="faint">${toolCount(form.tools)}</span></summary>
          <div class="body stack">
            <label class="field">Definitions (JSON array)<textarea class="mono" data-test="pg-tools" rows=${Math.min(14, Math.max(3, form.tools.split('\n').length))} value=${form.tools} onInput=${(e) => edit({ tools: e.target.value })}></textarea></label>
            <label class="field">tool_choice<input class="mono" data-test="pg-tool-choice" value=${form.toolChoice} placeholder="auto" onInput=${(e) => edit({ toolChoice: e.target.value })} /></label>
          </div>
        </details>
        <details class="section" open=${!!form.other.trim()}>
          <summary>Other parameters <span class="faint">${form.other.trim() ? 'as recorded' : 'none'}</span></summary>
          <div class="body"><label class="field">JSON object, sent as it is<textarea class="mono" rows=${Math.min(10, Math.max(2, form.other.split('\n').length))} value=${form.other} onInput=${(e) => edit({ other: e.target.value })}></textarea></label></div>
        </details>
      </div>
    </div>
    <div ref=${results}><${Results} original=${original} columns=${columns} /></div>
    ${session && span ? html`<section class="panel"><header><h3>Earlier runs of this span</h3></header><div class="body">
      <${History} runs=${history} onShow=${(r) => setColumns([{ title: r.label || `Variant ${r.variant + 1}`, model: r.model, text: '', run: r, error: null }])} /></div></section>` : null}
  </div>`;
}
