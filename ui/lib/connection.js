// The page's one live connection state, shown by the indicator in the top bar:
// {state: 'connecting' | 'live' | 'reconnecting', retryAt}.
import { useEffect, useState } from '../vendor/preact-htm.mjs';

let current = { state: 'connecting', retryAt: 0 };
const listeners = new Set();

export function setConnection(next) {
  current = next;
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
