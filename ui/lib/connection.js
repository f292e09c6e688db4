// The page's one live connection state, shown by the indicator in the top bar and the stale
// banner: {state: 'connecting' | 'live' | 'reconnecting', retryAt, downSince, wasLive}.
// `downSince` is when the page stopped being live (or began connecting), `wasLive` whether
// it ever was: what is on screen may be stale since then.
import { useEffect, useState } from '../vendor/preact-htm.mjs';

let current = { state: 'connecting', retryAt: 0, downSince: Date.now(), wasLive: false };
const listeners = new Set();

export function setConnection(next) {
  const live = next.state === 'live';
  current = {
    ...next,
    downSince: live ? 0 : current.downSince || Date.now(),
    wasLive: current.wasLive || live,
  };
  for (const fn of listeners) fn(current);
}

export function useConnection() {
  const [c, setC] = useState(current);
  useEffect(() => {
    listeners.add(setC);
    return () => listeners.delete(setC);
  }, []);
  return c;
}
