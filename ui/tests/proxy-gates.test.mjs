// Zero-code review gates in a real browser: an agent on the official `openai` Python client,
// which knows nothing of reviews, calls the fake LLM through Flightdeck's proxy; a
// `[[review.rules]]` gate holds the answer that calls `delete_file`; the person edits the
// proposed arguments in the review panel, and the client receives the edited arguments,
// streamed and not.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createInterface } from 'node:readline';
import { join, resolve } from 'node:path';
import { launch, newPage } from './browser.mjs';
import { startServer } from './harness.mjs';

const ROOT = resolve(import.meta.dirname, '../..');
const python = process.env.FLIGHTDECK_PYTHON || join(ROOT, '.venv/bin/python');
const fakeBin = process.env.FAKE_LLM_BIN || join(ROOT, 'target/debug/fake-llm');

let fake;
let server;
let browser;

/** Starts the fake LLM; resolves to its URL, the one line it prints. */
function startFake() {
  fake = spawn(fakeBin, [], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((ok, fail) => {
    fake.on('error', fail);
    createInterface({ input: fake.stdout }).once('line', ok);
  });
}

before(async () => {
  const upstream = await startFake();
  const config = join(mkdtempSync(join(tmpdir(), 'flightdeck-gates-')), 'flightdeck.toml');
  writeFileSync(config, `[proxy.upstreams.openai]\nbase_url = "${upstream}"\n\n[[review.rules]]\ntools = ["delete_*"]\ntimeout_secs = 120\n`);
  server = await startServer(['--config', config]);
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  fake?.kill();
});

/** Runs one case of tests/python/proxy_gates.py; resolves to what the client received. */
function agent(testCase) {
  const proc = spawn(python, [join(ROOT, 'tests/python/proxy_gates.py'), `${server.origin}/proxy`, testCase], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = [];
  createInterface({ input: proc.stdout }).on('line', (l) => lines.push(JSON.parse(l)));
  return new Promise((ok, fail) => {
    proc.on('exit', (code) => (code === 0 ? ok(lines.find((l) => l.result)?.result) : fail(new Error(`agent exited ${code}`))));
  });
}

for (const testCase of ['chat-edit', 'chat-stream-edit']) {
  test(`${testCase}: the held tool call's arguments are edited in the browser and reach the client`, async () => {
    const page = await newPage(browser, server.origin);
    await page.goto(`${server.origin}/`);
    const got = agent(testCase);
    await page.waitForSelector('.review-panel .review-call-name', { timeout: 20_000 });
    assert.equal(await page.textContent('.review-call-name'), 'delete_file');
    assert.match(await page.textContent('.review-args'), /Clean up the vault directory/);
    assert.match(await page.textContent('.review-panel'), /Tool call: delete_file/);
    await page.click('.review-panel button:has-text("Edit")');
    const proposed = JSON.parse(await page.inputValue('.review-editor'));
    proposed.tool_calls[0].arguments.query = 'Clean up /tmp/scratch only.';
    await page.fill('.review-editor', JSON.stringify(proposed, null, 2));
    await page.click('.review-panel button:has-text("Submit edit")');
    const r = await got;
    assert.deepEqual(r.calls, [{ name: 'delete_file', arguments: { query: 'Clean up /tmp/scratch only.' } }], JSON.stringify(r));
    await page.waitForSelector('.review-panel', { state: 'detached' });
    await page.close();
  });
}
