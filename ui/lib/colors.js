// Stable colours: one hue per agent (so the feed, timeline and graphs agree), and the
// state and kind colours the graph and the timeline share. Values come from style.css.
const cache = new Map();

/** A hue for an agent name, spread around the wheel by a string hash. */
export function agentHue(name) {
  if (!name) return 220;
  if (!cache.has(name)) {
    let h = 0;
    for (const c of name) h = (h * 31 + c.charCodeAt(0)) >>> 0;
    cache.set(name, (h * 137.508) % 360);
  }
  return cache.get(name);
}

// Comma syntax: cytoscape parses only that form of hsl().
export const agentColor = (name, l = 60) => `hsl(${agentHue(name)}, 65%, ${l}%)`;

/** Reads a CSS custom property of the current theme (canvas and cytoscape need values). */
export const cssVar = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();
