// The playground in a real browser against a real `flightdeck demo --sessions 0` (a server
// whose upstreams `fake` and `fake-anthropic` are the fake LLM): "Open in playground" on an
// LLM span, edit the prompt, add a variant, run, see both answers stream in beside the
// original with the word diff; a span with tools keeps them (the run's recorded request
// holds them) and shows the tool-call diff; broken tools JSON is refused by name.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openAt } from './browser.mjs';
import { ingest, startServer } from './harness.mjs';

let server;
let browser;

const TOOLS = [{ type: 'function', function: { name: 'search', parameters: { type: 'object', properties: { query: { type: 'string' } } } } }];

before(async () => {
  server = await startServer(['--sessions', '0', '--review-timeout', '0'], 'demo');
  browser = await launch();
  const t0 = Date.now() - 60_000;
  const at = (ms) => new Date(t0 + ms).toISOString();
  const llm = (span_id, extra) => ({ type: 'span', session_id: 'pg', span_id, kind: 'llm', name: 'plan', agent: 'planner', model: 'gpt-4o', provider: 'openai', started_at: at(0), ended_at: at(900), status: 'ok', ...extra });
  await ingest(server.origin, [
    { type: 'session.start', session_id: 'pg', name: 'playground test', started_at: at(0) },
    llm('text', { input: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Plan the bank job.' }], params: { temperature: 0.2 }, output: { role: 'assistant', content: 'Case the bank at dawn.' }, usage: { input_tokens: 20, output_tokens: 6 } }),
    llm('tools', { input: [{ role: 'user', content: 'rob the bank' }], params: { tools: TOOLS, tool_choice: 'auto' }, output: { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'search', arguments: '{"query":"rob the bank"}' } }] } }),
  ]);
});

after(async () => {
  await server?.stop();
  await browser?.close();
});

const open = (path) => openAt(browser, server.origin, path);

test('open in playground, edit, run two variants, see the word diff', async () => {
  const page = await open('#/s/pg/graph?span=text');
  await page.click('[data-test=open-playground]');
  await page.waitForSelector('[data-test=pg-message]');
  assert.equal(await page.locator('[data-test=pg-message]').count(), 2, 'system and user, as recorded');
  assert.equal(await page.inputValue('[aria-label="Message 2 content"]'), 'Plan the bank job.');
  assert.equal(await page.inputValue('[data-test=pg-model]'), 'gpt-4o');
  await page.fill('[aria-label="Message 2 content"]', 'Plan the vault job.');
  await page.click('button:has-text("+ Variant")');
  await page.fill('[aria-label="Variant 2 model"]', 'gpt-4o-mini');
  await page.fill('[aria-label="Variant 2 label"]', 'mini');
  await page.click('[data-test=pg-run]');
  await page.waitForFunction(() => document.querySelectorAll('[data-test=word-diff]').length === 2, null, { timeout: 15_000 });
  const diff = page.locator('[data-test=word-diff]').first();
  assert.deepEqual(await diff.locator('del').allTextContents(), ['bank', 'dawn.']);
  assert.deepEqual(await diff.locator('ins').allTextContents(), ['vault', 'midnight.']);
  const columns = await page.locator('[data-test=pg-column] header').allTextContents();
  assert.match(columns[1], /mini.*gpt-4o-mini/);
  assert.match(await page.textContent('[data-test=pg-original]'), /Case the bank at dawn\./);
  await page.waitForFunction(() => document.querySelectorAll('[data-test=pg-history] tbody tr').length === 2);
  // The key field is a password field, and nothing of it is kept in the page's storage.
  assert.equal(await page.getAttribute('[data-test=pg-key]', 'type'), 'password');
  assert.deepEqual(page.errors, []);
  await page.close();
  // The span lists its runs in its detail panel.
  const back = await open('#/s/pg/graph?span=text');
  await back.waitForSelector('[data-test=playground-runs] li');
  assert.equal(await back.locator('[data-test=playground-runs] li').count(), 2);
  assert.match(await back.textContent('[data-test=playground-runs]'), /mini.*answer differs/s);
  await back.close();
});

test('a span with tools keeps them, and the tool-call diff shows the edit', async () => {
  const page = await open('#/playground?session=pg&span=tools');
  await page.waitForSelector('[data-test=pg-tools]');
  assert.deepEqual(JSON.parse(await page.inputValue('[data-test=pg-tools]')), TOOLS);
  assert.equal(await page.inputValue('[data-test=pg-tool-choice]'), 'auto');
  await page.fill('[aria-label="Message 1 content"]', 'rob the vault');
  await page.click('[data-test=pg-run]');
  await page.waitForSelector('[data-test=tool-diff]', { timeout: 15_000 });
  const text = await page.textContent('[data-test=tool-diff]');
  assert.match(text, /search/);
  assert.match(text, /changed/);
  assert.deepEqual(await page.locator('[data-test=tool-diff] ins').allTextContents(), ['"rob the vault"']);
  const runs = await (await fetch(`${server.origin}/api/v1/playground/runs?session_id=pg&span_id=tools`)).json();
  const run = await (await fetch(`${server.origin}/api/v1/spans/${runs.runs[0].session_id}/${runs.runs[0].span_id}`)).json();
  assert.deepEqual(run.params.tools, TOOLS, 'the request that went upstream carried the tools');
  assert.equal(run.params.tool_choice, 'auto');

  await page.fill('[data-test=pg-tools]', '[{"type": "function",');
  await page.click('[data-test=pg-run]');
  await page.waitForSelector('[data-test=pg-problems]');
  assert.match(await page.textContent('[data-test=pg-problems]'), /tools: not valid JSON/);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('a request of your own runs on the API picked, without a diff', async () => {
  const page = await open('#/playground');
  await page.waitForSelector('[data-test=pg-api]');
  await page.selectOption('[data-test=pg-api]', 'messages');
  await page.fill('[data-test=pg-model]', 'claude-sonnet-4');
  await page.fill('[aria-label="Message 1 content"]', 'Plan the job.');
  await page.fill('[aria-label="Variant 1 temperature"]', 'hot');
  await page.click('[data-test=pg-run]');
  assert.match(await page.textContent('[data-test=pg-problems]'), /variant 1 temperature: not a number/);
  await page.fill('[aria-label="Variant 1 temperature"]', '0.5');
  await page.click('[data-test=pg-run]');
  await page.waitForSelector('[data-test=pg-column] .badge.ok', { timeout: 15_000 });
  assert.match(await page.textContent('[data-test=pg-column]'), /Case the vault at midnight\./);
  assert.equal(await page.locator('[data-test=word-diff]').count(), 0, 'no original, no diff');
  assert.deepEqual(page.errors, []);
  await page.close();
});
