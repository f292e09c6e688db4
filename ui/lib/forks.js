// The replays forked from a session, as its graph draws them (docs/replay.md): for each fork,
// its record and the spans the re-run did anew (those not answered from the recording), to
// hang as a branch under the span the replay started from. The original names its forks in
// its metadata (`fork.<replay id>`); each fork's record lists its served spans. Read when the
// graph opens and when the session's metadata changes (a new fork: `poke`), and again every
// few seconds while a fork runs, so it grows live; a session without running forks costs no
// requests.
import { api } from './api.js';
import { replayApi } from './replay-api.js';

/** The metadata key prefix by which a session names its forks (the server's `FORK_KEY`). */
const FORK_KEY = 'fork.';
const EVERY_MS = 2500;
/** The first read waits this long: a graph opened on a session that is moving into another
 * (`session.move`) is gone again by then, and asks nothing of the old id. */
const FIRST_MS = 1000;

/** [{replay_id, fork_session_id, span_id}] named in a session's metadata, oldest id first. */
export function forkLinks(metadata) {
  return Object.entries(metadata || {})
    .filter(([k, v]) => k.startsWith(FORK_KEY) && v?.fork_session_id && v?.span_id)
    .map(([k, v]) => ({ replay_id: k.slice(FORK_KEY.length), fork_session_id: v.fork_session_id, span_id: v.span_id }))
    .sort((a, b) => (a.replay_id < b.replay_id ? -1 : 1));
}

/** The spans of a fork the re-run did anew: all but the served ones, in start order. */
export function branchSpans(spans, served) {
  const out = new Set(served);
  return spans.filter((s) => !out.has(s.span_id)).sort((a, b) => Date.parse(a.started_at) - Date.parse(b.started_at));
}

/**
 * Follows the forks of `sessionId`, calling `onChange(forks)` when one appears or changes:
 * [{replay_id, span_id (the original's fork call), fork (the fork session's summary),
 * record (the replay's), spans (its new spans)}]. A finished fork is not read again.
 * Returns {poke (read the forks again now), stop}.
 */
export function watchForks(sessionId, onChange) {
  const known = new Map();
  let stopped = false;
  let timer = null;
  let last = '[]';
  const load = async (link) => {
    const [record, fork, spans] = await Promise.all([replayApi.replay(link.replay_id), api.session(link.fork_session_id), api.spans(link.fork_session_id)]);
    return { replay_id: link.replay_id, span_id: link.span_id, fork, record, spans: branchSpans(spans, record.served_spans || []) };
  };
  const tick = async () => {
    try {
      const links = forkLinks((await api.session(sessionId)).metadata);
      for (const link of links) {
        const had = known.get(link.replay_id);
        if (had && had.fork.status !== 'running') continue;
        known.set(link.replay_id, await load(link));
      }
      const forks = links.map((l) => known.get(l.replay_id)).filter(Boolean);
      const key = JSON.stringify(forks.map((f) => [f.replay_id, f.record.version, f.fork.status, f.spans.map((s) => [s.span_id, s.status])]));
      if (!stopped && key !== last) {
        last = key;
        onChange(forks);
      }
    } catch {
      // A fork being written or a lost connection: the next round reads it again.
    }
    const running = [...known.values()].some((f) => f.fork.status === 'running');
    if (!stopped && running) timer = setTimeout(tick, EVERY_MS);
  };
  timer = setTimeout(tick, FIRST_MS);
  return {
    poke: () => {
      clearTimeout(timer);
      tick();
    },
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
