// A shared session file (`flightdeck share`, docs/files.md): the page's modules run unchanged,
// and this classic script, run before them, answers what they ask the server for from the
// data inside the file: `fetch` of the query API's GET routes, and a live socket whose
// subscription to the session gets the recorded `hello`. Writes are refused: the copy is
// read-only. Not loaded by the served page.
(() => {
  const data = JSON.parse(document.getElementById('flightdeck-shared').textContent);
  globalThis.FLIGHTDECK_SHARED = { session_id: data.session_id };
  const answer = (status, body) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

  globalThis.fetch = async (input, init = {}) => {
    const url = new URL(typeof input === 'string' ? input : input.url, 'http://shared.invalid/');
    if ((init.method || 'GET').toUpperCase() !== 'GET') {
      return answer(405, { error: { code: 'read_only', message: 'this is a read-only copy of a session' } });
    }
    const path = url.pathname.split('/').map(decodeURIComponent).join('/');
    let body = data.api[path];
    if (body === undefined) return answer(404, { error: { code: 'not_found', message: `not in this shared file: ${path}` } });
    const category = url.searchParams.get('category');
    if (category && body.items) body = { items: body.items.filter((e) => e.category === category) };
    return answer(200, body);
  };

  const emptyHello = (m) => JSON.stringify(m.scope === 'overview'
    ? { v: 1, type: 'hello', scope: 'overview', seq: 0, heartbeat_ms: 15000, snapshot: { sessions: data.api['/api/v1/sessions'], stats: data.api['/api/v1/stats/overview'], reviews: [] } }
    : { v: 1, type: 'hello', scope: 'session', session_id: m.session_id, seq: 0, heartbeat_ms: 15000, snapshot: { spans: [], edges: [], agents: [], agent_offline_after_ms: 30000, reviews: [] } });

  // The hub, as far as a page that only reads needs it: a hello per subscription, no commits.
  globalThis.WebSocket = class SharedSocket {
    constructor() {
      this.readyState = 0;
      setTimeout(() => { this.readyState = 1; this.onopen?.(); });
    }
    send(text) {
      const m = JSON.parse(text);
      if (m.type !== 'subscribe') return;
      const hello = m.scope === 'session' && m.session_id === data.session_id ? data.hello : emptyHello(m);
      setTimeout(() => this.onmessage?.({ data: hello }));
    }
    close() {}
  };

  if (!location.hash.startsWith('#/s/')) location.hash = `#/s/${encodeURIComponent(data.session_id)}/graph`;
})();
