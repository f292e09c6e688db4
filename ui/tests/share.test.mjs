// A shared session file (`flightdeck share`, and the session page's Share button) opened from
// disk in Chromium with the network off and the server stopped: the graph, the timeline and
// the detail panel work from the data inside the file, and nothing is fetched.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { launch, newPage } from './browser.mjs';
import { bin, crewSession, ingest, startServer } from './harness.mjs';

let server;
let browser;
let file;
let fromButton;

before(async () => {
  server = await startServer();
  browser = await launch();
  await ingest(server.origin, [
    ...crewSession('shared', { name: 'shared heist </script>', failTool: true, t0: Date.now() - 120_000 }),
    ...crewSession('other', { name: 'not shared' }),
  ]);
  // The page's button downloads the same file the command writes.
  const page = await newPage(browser, server.origin);
  await page.goto(`${server.origin}/#/s/shared/graph`);
  const href = await (await page.waitForSelector('[data-test=share]')).getAttribute('href');
  fromButton = await (await fetch(`${server.origin}${href}`)).text();
  await page.context().close();
  file = join(server.dir, 'run.html');
  execFileSync(bin(), ['share', 'shared', '--server', server.origin, '-o', file]);
  await server.kill();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** The file opened offline; every request but the file itself and data: URLs is an error. */
async function openOffline(html = null) {
  const page = await newPage(browser, 'file://', { offline: true });
  let path = file;
  if (html) {
    path = join(server.dir, 'button.html');
    writeFileSync(path, html);
  }
  await page.goto(`file://${path}`);
  return page;
}

test('the shared file shows the graph, the timeline and the detail panel offline', async () => {
  const page = await openOffline();
  await page.waitForFunction(() => document.querySelector('[data-test=graph]')?.__cy?.nodes().length > 0);
  assert.match(await page.textContent('[data-test=session-head]'), /shared heist <\/script>/);
  assert.match(await page.textContent('.conn'), /shared file · read-only/);
  assert.equal(await page.$('[data-test=export]'), null, 'no download buttons in a shared file');

  // Click the LLM node: the detail panel loads the span (prompt included) from the file.
  const p = await page.evaluate(() => {
    const host = document.querySelector('[data-test=graph]');
    const n = host.__cy.getElementById('shared-planner-llm');
    host.__cy.center(n);
    const r = host.getBoundingClientRect();
    return { x: r.left + n.renderedPosition().x, y: r.top + n.renderedPosition().y };
  });
  await page.mouse.click(p.x, p.y);
  await page.waitForSelector('[data-test=detail] .conv');
  assert.match(await page.textContent('[data-test=detail]'), /PROMPT for planner in shared/);

  await page.click('.tabs a[href*="/timeline"]');
  await page.waitForFunction(() => document.querySelector('[data-test=timeline]')?.__timeline?.hits.length > 0);
  const failed = await page.evaluate(() => document.querySelector('[data-test=timeline]').__timeline.hits.find((h) => h.s.span_id === 'shared-planner-tool')?.s.status);
  assert.equal(failed, 'error');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test("the page's Share button gives the same self-contained file", async () => {
  assert.match(fromButton, /<script type="importmap">/);
  assert.doesNotMatch(fromButton, /not shared/, 'other sessions stay out of the file');
  const page = await openOffline(fromButton);
  await page.waitForFunction(() => document.querySelector('[data-test=graph]')?.__cy?.nodes().length > 0);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
