// The live feed of one scope ("overview", or "session" with its id) through the hub's
// WebSocket (`GET /ws`, docs/protocol.md "Live protocol"): subscribe, take the `hello`
// snapshot, then every `commit` in order. A dead socket (closed, or silent for two heartbeats)
// is reopened with backoff 1, 2, 4 ... 30 s and the state rebuilt from the fresh `hello`;
// `resync` also rebuilds from the `hello` that follows it.
import { setConnection } from './connection.js';

const MAX_BACKOFF_S = 30;

/**
 * Follows `scope` until `stop()` is called.
 * @param {{scope: string, session_id?: string}} scope
 * @param {{hello: (msg) => void, commit: (msg) => void, review?: (msg) => void}} on
 *   `review` takes `review.requested` / `review.decided` / `review.timed_out` / `review.abandoned`.
 */
export function follow(scope, on) {
  let socket = null;
  let stopped = false;
  let attempt = 0;
  let retryTimer = 0;
  let watchdog = 0;
  let silenceMs = 40_000;

  const arm = () => {
    clearTimeout(watchdog);
    watchdog = setTimeout(() => socket?.close(), silenceMs);
  };

  const retry = () => {
    if (stopped) return;
    const delay = Math.min(MAX_BACKOFF_S, 2 ** attempt) * 1000;
    attempt += 1;
    setConnection({ state: 'reconnecting', retryAt: Date.now() + delay });
    retryTimer = setTimeout(open, delay);
  };

  function open() {
    if (stopped) return;
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
    const ws = new WebSocket(url);
    socket = ws;
    ws.onopen = () => {
      ws.send(JSON.stringify({ v: 1, type: 'subscribe', ...scope }));
      arm();
    };
    ws.onmessage = (ev) => {
      arm();
      const msg = JSON.parse(ev.data);
      if (msg.type === 'hello') {
        attempt = 0;
        silenceMs = 2 * (msg.heartbeat_ms || 15_000) + 5_000;
        setConnection({ state: 'live', retryAt: 0 });
        on.hello(msg);
      } else if (msg.type === 'commit') on.commit(msg);
      else if (msg.type.startsWith('review.')) on.review?.(msg);
      else if (msg.type === 'resync') setConnection({ state: 'connecting', retryAt: 0 });
    };
    ws.onclose = () => {
      clearTimeout(watchdog);
      if (socket === ws) {
        socket = null;
        retry();
      }
    };
  }

  setConnection({ state: 'connecting', retryAt: 0 });
  open();
  return {
    stop() {
      stopped = true;
      clearTimeout(retryTimer);
      clearTimeout(watchdog);
      socket?.close();
      socket = null;
    },
  };
}
