// A component whose module is imported the first time it renders: the views that bring big
// libraries (cytoscape, uPlot) cost nothing to a page that does not open them.
import { html, useEffect, useState } from '../vendor/preact-htm.mjs';

/** `load()` imports the module; `name` is the component it exports. */
export function lazy(load, name) {
  let Component = null;
  let loading = null;
  return function Lazy(props) {
    const [, loaded] = useState(0);
    const [error, setError] = useState(null);
    useEffect(() => {
      if (Component) return;
      loading ||= load().then((m) => { Component = m[name]; });
      loading.then(() => loaded(1), setError);
    }, []);
    if (error) return html`<div class="notice error" role="alert">${String(error.message || error)}</div>`;
    return Component ? html`<${Component} ...${props} />` : html`<div class="empty">loading…</div>`;
  };
}
