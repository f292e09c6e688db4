// The current time, ticking once a second while `active`: for durations and ages that grow
// without any message arriving (a running session, an agent's heartbeat age).
import { useEffect, useState } from '../vendor/preact-htm.mjs';

export function useNow(active = true) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!active) return undefined;
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [active]);
  return active ? now : Date.now();
}
