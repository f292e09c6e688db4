// Flightdeck's page: the top bar (brand, where you are, connection, theme) and the route's
// page. Everything else lives in views/ (one module per page or view) and lib/.
import { html, render, useEffect, useState } from './vendor/preact-htm.mjs';
import { useRoute, href } from './lib/router.js';
import { useConnection } from './lib/connection.js';
import { Overview } from './views/overview.js';
import { Session } from './views/session.js';
import { RefusalsBanner } from './components/refusals.js';
import { ReviewPanel } from './components/review-panel.js';
import { Reviews } from './views/reviews.js';
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
  return html`<span class="conn ${c.state}" role="status" aria-live="polite" data-state=${c.state}><span class="dot"></span>${text}</span>`;
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
      </nav>
      <${ReviewsLink} />
      <div class="spacer"></div>
      <${ConnectionIndicator} />
      <${ThemeToggle} />
      <${LogoutButton} />
    </header>
    <${RefusalsBanner} />
    <main>
      ${route.page === 'session'
        ? html`<${Session} key=${route.session} route=${route} onTitle=${setTitle} />`
        : route.page === 'reviews' ? html`<${Reviews} />` : html`<${Overview} query=${route.query} />`}
    </main>
    <${ReviewPanel} />`;
}

render(html`<${App} />`, document.getElementById('app'));
