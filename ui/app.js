// Flightdeck's page: the top bar (brand, where you are, connection, theme) and the route's
// page. Everything else lives in views/ (one module per page or view) and lib/.
import { html, render, useEffect, useState } from './vendor/preact-htm.mjs';
import { useRoute, href, go } from './lib/router.js';
import { useConnection } from './lib/connection.js';
import { Overview } from './views/overview.js';
import { Session } from './views/session.js';
import { RefusalsBanner } from './components/refusals.js';
import { ReviewPanel } from './components/review-panel.js';
import { Reviews } from './views/reviews.js';
import { System } from './views/system.js';
import { Logs } from './views/logs.js';
import { LiveAgents } from './views/live-agents.js';
import { Compare } from './views/compare.js';
import { Playground } from './views/playground.js';
import { usePendingReviews } from './lib/reviews.js';

function ConnectionIndicator() {
  const c = useConnection();
  if (globalThis.FLIGHTDECK_SHARED) return html`<span class="conn" data-state="shared">shared file · read-only</span>`;
  const [, tick] = useState(0);
  useEffect(() => {
    if (c.state !== 'reconnecting') return undefined;
    const t = setInterval(() => tick((n) => n + 1), 1000);
    return () => clearInterval(t);
  }, [c]);
  const text = {
    connecting: 'connecting…',
    live: 'live',
    reconnecting: `reconnecting${c.retryAt ? ` in ${Math.max(0, Math.ceil((c.retryAt - Date.now()) / 1000))} s` : '…'}`,
  }[c.state];
  return html`<span class="conn ${c.state}" role="status" aria-live="polite" data-state=${c.state} title=${c.state === 'live' ? 'Live updates are on' : 'No live updates: the page may be out of date'}><span class="dot"></span>${text}</span>`;
}

/** How long the page may be off the live feed before it says its data may be stale. */
const STALE_AFTER_MS = 3000;

/** A banner under the top bar while the page has been off the live feed for a while. */
function StaleBanner() {
  const c = useConnection();
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (c.state === 'live') return undefined;
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [c]);
  if (c.state === 'live' || !c.downSince || now - c.downSince < STALE_AFTER_MS) return null;
  const secs = Math.round((now - c.downSince) / 1000);
  return html`<div class="stale-banner" role="alert" data-test="stale">
    ${c.wasLive ? `Live updates stopped ${secs} s ago: what you see may be out of date.` : `No live connection to the server for ${secs} s: nothing new will show.`}
    ${c.retryAt ? ` Trying again in ${Math.max(0, Math.ceil((c.retryAt - now) / 1000))} s.` : ' Connecting…'}
  </div>`;
}

function ThemeToggle() {
  const [theme, setTheme] = useState(document.documentElement.dataset.theme);
  const flip = () => {
    const next = theme === 'dark' ? 'light' : 'dark';
    document.documentElement.dataset.theme = next;
    localStorage.setItem('flightdeck.theme', next);
    setTheme(next);
    window.dispatchEvent(new Event('themechange'));
  };
  return html`<button class="icon" onClick=${flip} title="Switch to the ${theme === 'dark' ? 'light' : 'dark'} theme" aria-label="Toggle theme">
    ${theme === 'dark' ? '☀ Light' : '☾ Dark'}</button>`;
}

/** "Log out", for a person who logged in (the server's readable marker cookie says so). */
function LogoutButton() {
  if (!document.cookie.split('; ').includes('flightdeck_login=1')) return null;
  return html`<form method="post" action="/logout" class="logout"><button class="icon" type="submit" title="End this login">Log out</button></form>`;
}

/** "Reviews", with the number of reviews waiting for a person. */
function ReviewsLink() {
  const pending = usePendingReviews();
  return html`<a class="reviews-link" href=${href({ page: 'reviews' })}>Reviews${pending.length ? html` <span class="count">${pending.length}</span>` : null}</a>`;
}

function App() {
  const route = useRoute();
  const [title, setTitle] = useState('');
  useEffect(() => {
    document.title = route.page === 'session' && title ? `${title} · Flightdeck` : 'Flightdeck';
  }, [route.page, title]);
  return html`
    <header class="topbar">
      <a class="brand" href="#/"><img src="/assets/favicon.svg" alt="" />Flightdeck</a>
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href=${href({ page: 'overview' })}>Sessions</a>
        ${route.page === 'session' ? html`<span>/</span><span title=${title}>${title || route.session}</span>` : null}
        ${route.page === 'compare' ? html`<span>/</span><span>Compare</span>` : null}
        ${route.page === 'playground' ? html`<span>/</span><span>Playground</span>` : null}
      </nav>
      <${ReviewsLink} />
      <a href=${href({ page: 'agents' })}>Agents</a>
      <a href=${href({ page: 'system' })}>System</a>
      <a href=${href({ page: 'logs' })}>Logs</a>
      <div class="spacer"></div>
      <${ConnectionIndicator} />
      <${ThemeToggle} />
      <${LogoutButton} />
    </header>
    <${StaleBanner} />
    <${RefusalsBanner} />
    <main>
      ${route.page === 'session'
        ? html`<${Session} key=${route.session} route=${route} onTitle=${setTitle} />`
        : route.page === 'reviews' ? html`<${Reviews} />`
          : route.page === 'system' ? html`<${System} query=${route.query} setQuery=${(q) => go({ page: 'system', query: q }, true)} />`
            : route.page === 'logs' ? html`<${Logs} query=${route.query} setQuery=${(q) => go({ page: 'logs', query: q }, true)} />`
              : route.page === 'agents' ? html`<${LiveAgents} query=${route.query} setQuery=${(q) => go({ page: 'agents', query: q }, true)} />`
                : route.page === 'compare' ? html`<${Compare} query=${route.query} />`
                  : route.page === 'playground' ? html`<${Playground} key=${`${route.query.session}/${route.query.span}`} query=${route.query} />`
                    : html`<${Overview} query=${route.query} />`}
    </main>
    <${ReviewPanel} />`;
}

render(html`<${App} />`, document.getElementById('app'));
