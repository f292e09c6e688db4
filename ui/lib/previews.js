// Prompt and response previews of LLM calls, for the views that list calls (the LLM view,
// the feed). Span summaries carry no payloads, so the full spans of the newest calls are
// read, a few at a time, and kept on the model (`model.previews`: span id -> {prompt,
// response}, null while being read).
import { useEffect, useState } from '../vendor/preact-htm.mjs';
import { api } from './api.js';
import { preview } from './format.js';

const PREVIEWS = 200;
const PARALLEL = 4;

/** Reads previews of the newest `PREVIEWS` of `calls`, re-rendering as they come. */
export function usePreviews(model, calls) {
  const [, bump] = useState(0);
  useEffect(() => {
    model.previews = model.previews || new Map();
    const want = calls.filter((s) => s.status !== 'running' && !model.previews.has(s.span_id)).slice(-PREVIEWS);
    let live = true;
    const worker = async () => {
      while (live && want.length) {
        const s = want.pop();
        model.previews.set(s.span_id, null);
        const full = await api.span(model.id, s.span_id).catch(() => null);
        if (full) model.previews.set(s.span_id, { prompt: preview(full.input), response: preview(full.output) });
        bump((n) => n + 1);
      }
    };
    for (let i = 0; i < PARALLEL; i += 1) worker();
    return () => { live = false; };
  }, [calls.length, calls.filter((s) => s.status === 'running').length]);
  return model.previews || new Map();
}
