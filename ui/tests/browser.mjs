// Launches Debian's Chromium headless through playwright-core (no downloaded browser).
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.FLIGHTDECK_CHROMIUM || '/usr/bin/chromium';

export function launch() {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/**
 * A page that fails loudly on script errors and on requests to any other host (`origin`
 * 'file://' allows only files; `offline` turns the network off).
 */
export async function newPage(browser, origin, { theme = 'dark', width = 1440, height = 900, offline = false } = {}) {
  const context = await browser.newContext({ viewport: { width, height }, colorScheme: theme, offline });
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e));
  page.on('console', (m) => m.type() === 'error' && page.errors.push(new Error(m.text())));
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (`${url.protocol}//${url.host}` !== origin && url.protocol !== 'data:') {
      page.errors.push(new Error(`request to another host: ${url}`));
      return route.abort();
    }
    return route.continue();
  });
  return page;
}

/** A new page (as `newPage`) at `path` of `origin`. */
export async function openAt(browser, origin, path) {
  const page = await newPage(browser, origin);
  await page.goto(`${origin}/${path}`);
  return page;
}
