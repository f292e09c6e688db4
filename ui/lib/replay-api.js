// The replay and compare routes (docs/replay.md): a call's recorded exchange, starting and
// reading a replay, comparing two sessions. Errors carry the API's message.
const BASE = '/api/v1';
const enc = encodeURIComponent;

async function call(path, body) {
  const init = body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
  const res = await fetch(`${BASE}${path}`, init);
  if (res.status === 401) location.assign('/login');
  const answer = await res.json().catch(() => null);
  if (!res.ok) throw new Error(answer?.error?.message || `${res.status} ${res.statusText}`);
  return answer;
}

export const replayApi = {
  exchange: (session, span) => call(`/exchanges/${enc(session)}/${enc(span)}`),
  start: (body) => call('/replays', body),
  replay: (id) => call(`/replays/${enc(id)}`),
  compare: (a, b) => call(`/compare?a=${enc(a)}&b=${enc(b)}`),
};

/** The compare page of two sessions. */
export const compareHref = (a, b) => `#/compare?a=${enc(a)}&b=${enc(b)}`;
