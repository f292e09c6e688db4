// What a browser test file starts with: a real `flightdeck serve` and a headless Chromium,
// up before its tests and gone after them.
import { after, before } from 'node:test';
import { launch, newPage } from './browser.mjs';
import { ingest, startServer } from './harness.mjs';

/**
 * A real server and a browser for the tests of one file: started before them (with `seed`
 * ingested), stopped after. `suite.open(path, options)` opens a page of it at `path`.
 */
export function pageSuite(seed = []) {
  const suite = { server: null, browser: null };
  before(async () => {
    suite.server = await startServer();
    suite.browser = await launch();
    if (seed.length) await ingest(suite.server.origin, seed);
  });
  after(async () => {
    await suite.browser?.close();
    await suite.server?.stop();
  });
  suite.open = async (path, options) => {
    const page = await newPage(suite.browser, suite.server.origin, options);
    await page.goto(`${suite.server.origin}/${path}`);
    return page;
  };
  return suite;
}
