// The live feed of one scope ("overview", or "session" with its id) through the hub's
// WebSocket (`GET /ws`, docs/protocol.md "Live protocol"): subscribe, take the `hello`
// snapshot, then every `commit` in order. A dead socket (closed, or silent for two heartbeats)
// is reopened with backoff 1, 2, 4 ... 30 s and the state rebuilt from the fresh `hello`;
// `resync` also rebuilds from the `hello` that follows it.
//
// A server without the live hub answers `GET /ws` with 404: the page then polls instead
// (`on.poll` every POLL_MS), so it stays current against such a server too.
import { setConnection } from './connection.js';

const MAX_BACKOFF_S = 30;
const POLL_MS = 2000;

/**
 * Follows `scope` until `stop()` is called.
 * @param {{scope: string, session_id?: string}} scope
 * @param {{hello: (msg) => void, commit: (msg) => void, poll: () => Promise<void>}} on
 */
export function follow(scope, on) {
  let socket = null;
  let stopped = false;
  let attempt = 0;
  let retryTimer = 0;
  let watchdog = 0;
  let silenceMs = 40_000;
  let pollTimer = 0;

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

  /** After a socket that never opened: poll if the server has no hub, else back off. */
  const probe = async () => {
    const status = await fetch('/ws').then((r) => r.status, () => 0);
    if (stopped) return;
    if (status !== 404) return retry();
    const tick = async () => {
      const ok = await on.poll().then(() => true, () => false);
      if (stopped) return;
      setConnection(ok ? { state: 'polling', retryAt: 0 } : { state: 'reconnecting', retryAt: Date.now() + POLL_MS });
      pollTimer = setTimeout(tick, POLL_MS);
    };
    tick();
  };

  function open() {
    if (stopped) return;
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
    const ws = new WebSocket(url);
    let opened = false;
    socket = ws;
    ws.onopen = () => {
      opened = true;
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
      else if (msg.type === 'resync') setConnection({ state: 'connecting', retryAt: 0 });
    };
    ws.onclose = () => {
      clearTimeout(watchdog);
      if (socket === ws) {
        socket = null;
        if (opened) retry();
        else probe();
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
      clearTimeout(pollTimer);
      socket?.close();
      socket = null;
    },
  };
}
