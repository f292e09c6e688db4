// A component whose module is imported the first time it renders: the views that bring big
// libraries (cytoscape, uPlot) cost nothing to a page that does not open them.
import { html, useEffect, useState } from '../vendor/preact-htm.mjs';

/**
 * `load()` imports the module; `name` is the component it exports. `preload()` on the result
 * starts the import early (a page that opens on the view, while its data is on the way).
 */
export function lazy(load, name) {
  let Component = null;
  let loading = null;
  const preload = () => {
    loading ||= load().then((m) => { Component = m[name]; });
    return loading;
  };
  function Lazy(props) {
    const [, loaded] = useState(0);
    const [error, setError] = useState(null);
    useEffect(() => {
      if (!Component) preload().then(() => loaded(1), setError);
    }, []);
    if (error) return html`<div class="notice error" role="alert">${String(error.message || error)}</div>`;
    return Component ? html`<${Component} ...${props} />` : html`<div class="empty">loading…</div>`;
  }
  Lazy.preload = preload;
  return Lazy;
}
