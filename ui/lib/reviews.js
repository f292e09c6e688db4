// The pending review gates of every session, for the panel over any page, the badge, the
// overview's "waiting on a person" mark and the Reviews page. One overview subscription keeps
// the list: its `hello` carries the pending reviews, later `review.*` frames change them.
// Decisions go to `POST /api/v1/reviews/{id}/decision` (docs/reviews.md).
import { useEffect, useState } from '../vendor/preact-htm.mjs';
import { follow } from './live.js';

let pending = [];
const listeners = new Set();
let following = null;

function publish(next) {
  pending = next.slice().sort((a, b) => Date.parse(a.deadline) - Date.parse(b.deadline));
  for (const fn of listeners) fn(pending);
}

function start() {
  if (following) return;
  following = follow({ scope: 'overview' }, {
    hello: (msg) => publish(msg.snapshot.reviews || []),
    commit: () => {},
    review: (msg) => {
      const others = pending.filter((r) => r.review_id !== msg.review.review_id);
      publish(msg.review.state === 'pending' ? [...others, msg.review] : others);
      window.dispatchEvent(new CustomEvent('flightdeck-review', { detail: msg.review }));
    },
  });
}

/** The pending reviews, soonest deadline first; re-renders when they change. */
export function usePendingReviews() {
  const [list, setList] = useState(pending);
  useEffect(() => {
    start();
    listeners.add(setList);
    setList(pending);
    return () => listeners.delete(setList);
  }, []);
  return list;
}

/** Sends a decision; resolves to the settled review, or throws the API's message. */
export async function decide(reviewId, body) {
  const res = await fetch(`/api/v1/reviews/${encodeURIComponent(reviewId)}/decision`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const answer = await res.json().catch(() => null);
  if (!res.ok) throw new Error(answer?.error?.message || `${res.status} ${res.statusText}`);
  // Settled here: take it off the list now rather than when the frame arrives.
  publish(pending.filter((r) => r.review_id !== reviewId));
  return answer;
}

/** "Auto-continue in 4:58", "Auto-exit in 0:12", "Auto-fail in 1:00". */
export function countdownText(review, now) {
  const left = Math.max(0, Date.parse(review.deadline) - now);
  const s = Math.ceil(left / 1000);
  const clock = `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
  const verb = { continue: 'Auto-continue', exit_early: 'Auto-exit', fail: 'Auto-fail' }[review.on_timeout] || 'Auto-continue';
  return `${verb} in ${clock}`;
}
