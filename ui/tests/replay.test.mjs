// Replay from here and Compare in a real browser against a real `flightdeck serve` whose proxy
// forwards to a scripted upstream on loopback (it answers with the last user message and counts
// what it gets): a three-call agent is recorded through the proxy; the detail panel of its
// third call starts a replay with an edited prompt; the agent re-run against the replay's base
// URL reaches the upstream once; the fork's banner says what was saved; Compare, opened from
// the fork and from the overview, marks the divergence at call three with a word diff.
// With FLIGHTDECK_UI_SHOTS=DIR it also saves screenshots (1440x900, both themes) there.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launch, newPage } from './browser.mjs';
import { startServer } from './harness.mjs';

let upstream;
let server;
let browser;
let configDir;
const received = [];

/** An OpenAI-compatible chat completions endpoint: "You said: <last user message>". */
function startUpstream() {
  const srv = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      const r = JSON.parse(body);
      received.push(r);
      const last = [...r.messages].reverse().find((m) => m.role === 'user').content;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({
        id: `chatcmpl-${received.length}`, object: 'chat.completion', created: 1_700_000_000, model: r.model,
        choices: [{ index: 0, message: { role: 'assistant', content: `You said: ${last}` }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 12, completion_tokens: 7, total_tokens: 19 },
      }));
    });
  });
  return new Promise((ok) => srv.listen(0, '127.0.0.1', () => ok(srv)));
}

/** The agent: three calls, each after the previous answer, through `base` (OPENAI_BASE_URL). */
async function agent(base, session) {
  const messages = [{ role: 'system', content: 'You plan heists.' }];
  for (let n = 1; n <= 3; n += 1) {
    messages.push({ role: 'user', content: `step ${n} of the plan` });
    const res = await fetch(`${base}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-flightdeck-session': session, 'x-flightdeck-agent': 'planner' },
      body: JSON.stringify({ model: 'gpt-4o', messages }),
    });
    assert.equal(res.status, 200, await res.clone().text());
    messages.push((await res.json()).choices[0].message);
  }
}

async function spans(session, n) {
  for (let i = 0; i < 200; i += 1) {
    const res = await fetch(`${server.origin}/api/v1/sessions/${session}/spans`);
    const list = res.ok ? await res.json() : [];
    if (list.length >= n && list.every((s) => s.status !== 'running')) return list;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${n} spans were not recorded in ${session}`);
}

before(async () => {
  upstream = await startUpstream();
  configDir = mkdtempSync(join(tmpdir(), 'flightdeck-replay-'));
  const config = join(configDir, 'flightdeck.toml');
  writeFileSync(config, `[proxy.upstreams.openai]\nbase_url = "http://127.0.0.1:${upstream.address().port}"\n`);
  server = await startServer(['--config', config]);
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  upstream?.close();
  rmSync(configDir, { recursive: true, force: true });
});

const shots = process.env.FLIGHTDECK_UI_SHOTS;
async function shot(page, name) {
  if (!shots) return;
  mkdirSync(shots, { recursive: true });
  for (const theme of ['dark', 'light']) {
    await page.evaluate((t) => { document.documentElement.dataset.theme = t; window.dispatchEvent(new Event('themechange')); }, theme);
    await page.waitForTimeout(150);
    await page.screenshot({ path: join(shots, `${theme}-${name}.png`) });
  }
  await page.evaluate(() => { document.documentElement.dataset.theme = 'dark'; window.dispatchEvent(new Event('themechange')); });
}

test('replay from the detail panel, re-run the agent, then compare with the original', async () => {
  await agent(`${server.origin}/proxy/openai/v1`, 'ui-orig');
  const recorded = await spans('ui-orig', 3);
  assert.equal(received.length, 3);
  const third = recorded[2].span_id;

  const page = await newPage(browser, server.origin);
  await page.goto(`${server.origin}/#/s/ui-orig/graph?span=${third}`);
  await page.click('[data-test=replay-open]');
  await page.waitForFunction(() => document.querySelector('[data-test=replay-request]')?.value.includes('step 3 of the plan'));
  await shot(page, 'replay-dialog');
  const text = await page.inputValue('[data-test=replay-request]');
  await page.fill('[data-test=replay-request]', text.replace('step 3 of the plan', 'step 3 of the plan, at noon'));
  await page.click('[data-test=replay-create]');
  const command = await (await page.waitForSelector('[data-test=replay-command]')).textContent();
  const base = command.match(/^OPENAI_BASE_URL=(\S+) /)[1];
  assert.match(base, new RegExp(`^${server.origin}/replay/[0-9a-f]+/openai/v1$`));
  await shot(page, 'replay-created');

  // The agent, re-run with only its base URL changed: one call reaches the upstream, edited.
  await agent(base, 'ui-orig');
  assert.equal(received.length, 4, 'calls 1 and 2 were answered from the recording');
  assert.equal(received[3].messages.at(-1).content, 'step 3 of the plan, at noon');

  await page.click('[data-test=replay-fork-link]');
  await page.waitForFunction(() => /answered from the recording: 2 of 2 calls/.test(document.querySelector('[data-test=replay-saved]')?.textContent || ''));
  await page.waitForSelector('.tabs a.active');
  await shot(page, 'fork');
  await page.click('[data-test=compare-original]');
  await page.waitForSelector('[data-test=diverges-here]');
  assert.match(await page.textContent('[data-test=compare-divergence]'), /diverge at call 3 of planner/);
  const sameness = await page.$$eval('[data-test=compare-step]', (els) => els.map((e) => e.dataset.same));
  assert.deepEqual(sameness, ['true', 'true', 'false']);
  assert.match(await page.textContent('[data-test=answer-diff] ins'), /noon/);
  await shot(page, 'compare');

  // From the overview: pick the two sessions.
  await page.goto(`${server.origin}/#/`);
  await page.waitForSelector('[data-session=ui-orig] [data-test=pick]');
  await page.check('[data-session=ui-orig] [data-test=pick]');
  await page.check('tr[data-session^=replay-] [data-test=pick]');
  await shot(page, 'overview-picked');
  await page.click('[data-test=compare-picked]');
  await page.waitForSelector('[data-test=diverges-here]');
  assert.deepEqual(page.errors.map(String), []);
  await page.close();
});

test('the original graph draws a replay as a branch from the call it started at, growing live', async () => {
  await agent(`${server.origin}/proxy/openai/v1`, 'ui-branch');
  const recorded = await spans('ui-branch', 3);
  const second = recorded[1].span_id;
  // The graph is open before the replay exists: the fork's link reaches it live.
  const page = await newPage(browser, server.origin);
  await page.goto(`${server.origin}/#/s/ui-branch/graph`);
  await page.waitForFunction(() => document.querySelector('[data-test=graph]')?.__cy?.nodes().length === 3);
  const res = await fetch(`${server.origin}/api/v1/replays`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ session_id: 'ui-branch', span_id: second }),
  });
  const replay = await res.json();
  assert.equal(res.status, 201, JSON.stringify(replay));
  await page.waitForSelector('[data-test=fork-legend]');
  const branch = () => page.evaluate(() => {
    const cy = document.querySelector('[data-test=graph]').__cy;
    return {
      nodes: cy.nodes('.forked').map((n) => ({ type: n.data('type'), label: n.data('label') })),
      from: cy.edges('[kind = "fork"]').map((e) => e.source().id()),
    };
  });
  let b = await branch();
  assert.deepEqual(b.from, [second], 'the branch hangs from the call the replay starts at');
  assert.match(b.nodes[0].label, /replay · call 2 of planner\n0 served · 0 anew/);

  // The agent re-run against the replay: call 1 served, calls 2 and 3 upstream, drawn live.
  await agent(replay.base_urls.openai, 'ui-branch');
  await page.waitForFunction(() => document.querySelector('[data-test=graph]').__cy.nodes('.forked').length === 3, null, { timeout: 10_000 });
  b = await branch();
  assert.match(b.nodes[0].label, /1 served · 2 anew/);
  assert.deepEqual(b.nodes.slice(1).map((n) => n.type), ['llm', 'llm']);
  await shot(page, 'graph-fork');

  // A click on the fork node opens the fork.
  await page.evaluate(() => { document.querySelector('[data-test=graph]').__cy.nodes('[type = "fork"]').emit('tap'); });
  await page.waitForFunction((id) => location.hash.startsWith(`#/s/${id}/graph`), replay.fork_session_id);
  assert.deepEqual(page.errors.map(String), []);
  await page.close();
});
