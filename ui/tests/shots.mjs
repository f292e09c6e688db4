// Screenshots of every page and view of a running Flightdeck (the session's views, the
// playground, the Agents, System and Logs pages), for looking at the UI:
//   node ui/tests/shots.mjs http://127.0.0.1:7400 /tmp/ui-shots [session-id]
// Without a session id it takes the newest session with the most spans on the first page.
import { mkdirSync } from 'node:fs';
import { launch, newPage } from './browser.mjs';

const [origin = 'http://127.0.0.1:7329', out = '/tmp/ui-shots', wanted] = process.argv.slice(2);
mkdirSync(out, { recursive: true });
const VIEWS = ['tree', 'graph', 'timeline', 'agents', 'llm', 'tools', 'feed', 'scores'];

const browser = await launch();
for (const theme of ['dark', 'light']) {
  const page = await newPage(browser, origin, { theme });
  await page.addInitScript((t) => localStorage.setItem('flightdeck.theme', t), theme);
  await page.goto(`${origin}/#/`);
  await page.waitForSelector('[data-test=sessions] tbody tr');
  await page.waitForTimeout(500);
  await page.screenshot({ path: `${out}/${theme}-overview.png` });
  const sessions = (await (await fetch(`${origin}/api/v1/sessions`)).json()).items;
  const id = wanted || sessions.sort((a, b) => b.totals.spans - a.totals.spans)[0].session_id;
  for (const view of VIEWS) {
    await page.goto(`${origin}/#/s/${encodeURIComponent(id)}/${view}`);
    await page.waitForSelector('.tabs a.active');
    await page.waitForTimeout(1200);
    await page.screenshot({ path: `${out}/${theme}-${view}.png` });
  }
  const spans = await (await fetch(`${origin}/api/v1/sessions/${encodeURIComponent(id)}/spans`)).json();
  const llm = spans.find((s) => s.kind === 'llm');
  await page.goto(`${origin}/#/s/${encodeURIComponent(id)}/graph?span=${llm.span_id}`);
  await page.waitForSelector('[data-test=detail] .conv, [data-test=detail] .text-block');
  await page.waitForTimeout(800);
  await page.screenshot({ path: `${out}/${theme}-detail.png` });
  await page.click('[data-test=open-playground]');
  await page.waitForSelector('[data-test=pg-message]');
  await page.waitForTimeout(500);
  await page.screenshot({ path: `${out}/${theme}-playground.png` });
  await page.click('[data-test=pg-run]');
  await page.waitForSelector('[data-test=word-diff], [data-test=run-error]', { timeout: 15000 });
  await page.waitForTimeout(800);
  await page.screenshot({ path: `${out}/${theme}-playground-run.png` });
  for (const ops of ['agents', 'system', 'logs']) {
    await page.goto(`${origin}/#/${ops}`);
    await page.waitForSelector('.page');
    await page.waitForTimeout(2500);
    await page.screenshot({ path: `${out}/${theme}-page-${ops}.png` });
  }
  if (page.errors.length) console.error(`${theme}: page errors:`, page.errors.map(String));
  await page.context().close();
}
await browser.close();
console.log(`screenshots in ${out}`);
