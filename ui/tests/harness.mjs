// What the browser tests and the benchmark share: a real `flightdeck serve` on a free loopback
// port with a temporary database, ingest through the real API, and generated sessions.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');
/** The binary under test: FLIGHTDECK_BIN, else the debug build (read when a server starts). */
export const bin = () => process.env.FLIGHTDECK_BIN || join(ROOT, 'target/debug/flightdeck');

export function freePort() {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.on('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
  });
}

/** A server on its own port and database; `restart()` keeps both, `stop()` removes them. */
/** A real `flightdeck serve` (or `command`, e.g. `demo`) on a free port, with `extra` arguments. */
export async function startServer(extra = [], command = 'serve') {
  const dir = mkdtempSync(join(tmpdir(), 'flightdeck-ui-'));
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const server = { origin, port, dir, proc: null };
  server.start = async () => {
    // Agents fall offline after 3 s of silence, so the test of that need not wait 30 s; no
    // OTLP/gRPC port, so that servers can run side by side.
    const args = [command, '--addr', `127.0.0.1:${port}`, '--db', join(dir, 'fd.db'), '--agent-offline-secs', '3', '--no-otlp-grpc', ...extra];
    server.proc = spawn(bin(), args, { stdio: ['ignore', 'ignore', 'inherit'] });
    for (let i = 0; i < 200; i += 1) {
      if (await fetch(`${origin}/healthz`).then((r) => r.ok, () => false)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`flightdeck serve did not answer on ${origin}`);
  };
  server.kill = async () => {
    const p = server.proc;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM');
    await exited;
  };
  server.restart = async () => {
    await server.kill();
    await server.start();
  };
  server.stop = async () => {
    await server.kill();
    rmSync(dir, { recursive: true, force: true });
  };
  await server.start();
  return server;
}

/** Posts protocol messages (docs/protocol.md) in batches of 1,000. */
export async function ingest(origin, messages) {
  for (let i = 0; i < messages.length; i += 1000) {
    const res = await fetch(`${origin}/api/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(messages.slice(i, i + 1000)),
    });
    if (!res.ok) throw new Error(`ingest: ${res.status} ${await res.text()}`);
  }
}

const at = (t0, ms) => new Date(t0 + ms).toISOString();

/**
 * A finished crew session: a root, `agents` agent spans, each with an LLM call (prompt in its
 * input) and a tool call; `failTool` makes the first tool call fail; `models` names an agent's
 * model (default gpt-4o).
 */
export function crewSession(id, { name = id, agents = ['planner', 'hacker'], status = 'completed', failTool = false, t0 = Date.now() - 60_000, running = false, models = {} } = {}) {
  const m = [{ type: 'session.start', session_id: id, name, started_at: at(t0, 0), tags: ['test'] }];
  m.push({ type: 'span', session_id: id, span_id: `${id}-root`, kind: 'chain', name: `${name} root`, started_at: at(t0, 0), ended_at: at(t0, 9000) });
  agents.forEach((agent, i) => {
    const base = 1000 * (i + 1);
    const a = `${id}-${agent}`;
    m.push({ type: 'span', session_id: id, span_id: a, parent_id: `${id}-root`, kind: 'agent', name: `${agent} task`, agent, started_at: at(t0, base), ended_at: at(t0, base + 800) });
    m.push({
      type: 'span', session_id: id, span_id: `${a}-llm`, parent_id: a, kind: 'llm', name: 'think', agent, model: models[agent] || 'gpt-4o',
      started_at: at(t0, base + 50), ended_at: at(t0, base + 400),
      input: [{ role: 'system', content: `You are the ${agent}.` }, { role: 'user', content: `PROMPT for ${agent} in ${id}` }],
      output: `answer of ${agent}`, usage: { input_tokens: 20, output_tokens: 10 },
    });
    m.push({
      type: 'span', session_id: id, span_id: `${a}-tool`, parent_id: a, kind: 'tool', name: 'scan', agent,
      started_at: at(t0, base + 450), ended_at: at(t0, base + 700),
      status: failTool && i === 0 ? 'error' : 'ok', error: failTool && i === 0 ? 'scanner jammed' : undefined,
    });
  });
  if (!running) m.push({ type: 'session.end', session_id: id, status, ended_at: at(t0, 9000) });
  return m;
}

/** A session of `n` spans: a root, 50 agent spans, and LLM/tool children under them. */
export function bigSession(id, n, t0 = Date.now() - 3_600_000) {
  const m = [{ type: 'session.start', session_id: id, name: `big ${n}`, started_at: at(t0, 0) }];
  m.push({ type: 'span', session_id: id, span_id: 'root', kind: 'chain', name: 'root', started_at: at(t0, 0), ended_at: at(t0, n * 10 + 1000) });
  const agents = 50;
  for (let a = 0; a < agents; a += 1) {
    m.push({ type: 'span', session_id: id, span_id: `a${a}`, parent_id: 'root', kind: 'agent', name: `task ${a}`, agent: `agent-${a % 8}`, started_at: at(t0, a * 10), ended_at: at(t0, n * 10) });
  }
  for (let i = m.length - 1; i < n; i += 1) {
    const llm = i % 2 === 0;
    m.push({
      type: 'span', session_id: id, span_id: `s${i}`, parent_id: `a${i % agents}`, kind: llm ? 'llm' : 'tool',
      name: llm ? 'call' : 'tool', agent: `agent-${(i % agents) % 8}`, model: llm ? 'gpt-4o-mini' : undefined,
      started_at: at(t0, i * 10), ended_at: at(t0, i * 10 + 40), status: i % 97 === 0 ? 'error' : 'ok',
      usage: llm ? { input_tokens: 30, output_tokens: 12 } : undefined,
    });
  }
  m.push({ type: 'session.end', session_id: id, ended_at: at(t0, n * 10 + 1000) });
  return m;
}
