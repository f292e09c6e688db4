// Compare two runs (`GET /api/v1/compare`): side by side, steps aligned by agent and call
// order, the point where they diverge marked, a word diff of each differing answer and of the
// final outputs, and the deltas of tokens, cost, LLM calls, latency and duration.
import { html, useEffect, useState } from '../vendor/preact-htm.mjs';
import { replayApi } from '../lib/replay-api.js';
import { href } from '../lib/router.js';
import { int, usd, ms } from '../lib/format.js';
import { Status, Kind, Agent, Empty, ErrorNotice } from '../components/badges.js';

const FIGURES = [
  ['input_tokens', 'Input tokens', int],
  ['output_tokens', 'Output tokens', int],
  ['cost_usd', 'Cost', usd],
  ['llm_calls', 'LLM calls', int],
  ['latency_ms', 'LLM latency (sum)', ms],
  ['duration_ms', 'Duration', ms],
];

/** A word diff: removed words struck through in red, added ones in green. */
function WordDiff({ pieces, test }) {
  return html`<div class="wdiff" data-test=${test}>${pieces.map((p) => (p.op === 'equal' ? p.text
    : p.op === 'delete' ? html`<del>${p.text}</del>` : html`<ins>${p.text}</ins>`))}</div>`;
}

function Side({ step, session }) {
  if (!step) return html`<div class="cmp-side missing">no such step in this run</div>`;
  const link = href({ page: 'session', session, view: 'graph', query: { span: step.span_id } });
  return html`<div class="cmp-side">
    <div class="row"><${Kind} kind=${step.kind} /> <a href=${link}>${step.name}</a> <${Status} status=${step.status} />
      <span class="faint">${step.model || ''} · ${ms(step.duration_ms)}${step.usage ? ` · ${int(step.usage.input_tokens + step.usage.output_tokens)} tok` : ''}</span></div>
    ${step.answer != null ? html`<div class="cmp-answer">${step.answer}</div>` : null}
  </div>`;
}

function Deltas({ deltas }) {
  return html`<table class="cmp-deltas" data-test="compare-deltas">
    <thead><tr><th>Figure</th><th class="num">A</th><th class="num">B</th><th class="num">B − A</th></tr></thead>
    <tbody>${FIGURES.map(([key, label, fmt]) => {
      const d = deltas[key];
      const cls = d.delta < 0 ? 'better' : d.delta > 0 ? 'worse' : '';
      return html`<tr><td>${label}</td><td class="num">${fmt(d.a)}</td><td class="num">${fmt(d.b)}</td>
        <td class="num ${cls}">${d.delta > 0 ? '+' : d.delta < 0 ? '−' : ''}${fmt(Math.abs(d.delta))}</td></tr>`;
    })}</tbody></table>`;
}

export function Compare({ query }) {
  const { a, b } = query;
  const [c, setC] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    setC(null);
    if (a && b) replayApi.compare(a, b).then((v) => { setC(v); setError(null); }, setError);
  }, [a, b]);
  if (!a || !b) return html`<div class="page"><${Empty}>Pick two sessions on the <a href="#/">overview</a> to compare them.<//></div>`;
  const name = (s) => s.name || s.session_id;
  const div = c?.divergence;
  return html`
    <div class="page stack compare" data-test="compare">
      <${ErrorNotice} error=${error} />
      ${c ? html`
        <div class="panel">
          <header><h2>Compare</h2>
            <span><span class="cmp-tag">A</span> <a href=${href({ page: 'session', session: c.a.session_id })}>${name(c.a)}</a></span>
            <span><span class="cmp-tag">B</span> <a href=${href({ page: 'session', session: c.b.session_id })}>${name(c.b)}</a></span>
            ${c.b.replay?.session_id === c.a.session_id ? html`<span class="faint">B replays A</span>` : null}</header>
          <div class="cmp-summary" data-test="compare-divergence">${div
            ? html`The runs diverge at <b>call ${div.call}${div.agent ? ` of ${div.agent}` : ''}</b> (step ${div.step + 1} of ${c.steps.length}).`
            : 'No divergence: the same steps with the same inputs and answers.'}</div>
          <${Deltas} deltas=${c.deltas} />
        </div>
        <div class="panel">
          <header><h2>Steps</h2><span class="muted">aligned by agent and call order</span></header>
          <div class="cmp-grid" data-test="compare-steps">
            <div class="cmp-col-head">A · ${name(c.a)}</div><div class="cmp-col-head">B · ${name(c.b)}</div>
            ${c.steps.map((s, i) => html`
              <div class="cmp-step ${s.same ? 'same' : 'differs'} ${div && div.step === i ? 'diverge' : ''}" data-test="compare-step" data-same=${String(s.same)}>
                <div class="cmp-label"><${Agent} name=${s.agent} /> call ${s.call}
                  ${div && div.step === i ? html`<span class="badge error" data-test="diverges-here">diverges here</span>` : null}
                  ${!s.same && !s.same_input && s.a && s.b ? html`<span class="faint">request differs</span>` : null}</div>
                <div class="cmp-pair"><${Side} step=${s.a} session=${c.a.session_id} /><${Side} step=${s.b} session=${c.b.session_id} /></div>
                ${s.answer_diff ? html`<${WordDiff} pieces=${s.answer_diff} test="answer-diff" />` : null}
              </div>`)}
          </div>
        </div>
        <div class="panel">
          <header><h2>Final output</h2><span class="muted">${c.final.same ? 'the same' : 'differs'}</span></header>
          <div class="cmp-final">${c.final.diff ? html`<${WordDiff} pieces=${c.final.diff} test="final-diff" />`
            : html`<div class="cmp-pair"><div class="cmp-side">${c.final.a ?? '–'}</div><div class="cmp-side">${c.final.b ?? '–'}</div></div>`}</div>
        </div>` : error ? null : html`<div class="empty">loading…</div>`}
    </div>`;
}
